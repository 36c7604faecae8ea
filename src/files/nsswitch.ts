// The nsswitch.conf "hosts:" line: sources with optional [STATUS=ACTION] criteria. Pure.
import { usageError } from '../errors.js';

export type NssStatus = 'SUCCESS' | 'NOTFOUND' | 'UNAVAIL' | 'TRYAGAIN';
export type NssAction = 'return' | 'continue' | 'merge';

export interface NssCriterion {
  negate: boolean;
  status: NssStatus;
  action: NssAction;
}

export interface NssSource {
  name: string;
  criteria: NssCriterion[];
}

export const KNOWN_HOSTS_SOURCES = [
  'files', 'dns', 'myhostname', 'mymachines', 'resolve', 'mdns', 'mdns4', 'mdns6', 'mdns_minimal',
  'mdns4_minimal', 'mdns6_minimal', 'nis', 'nisplus', 'db', 'wins', 'libvirt', 'libvirt_guest', 'sss',
] as const;

const STATUSES = new Set(['SUCCESS', 'NOTFOUND', 'UNAVAIL', 'TRYAGAIN']);
const ACTIONS = new Set(['return', 'continue', 'merge']);

/** Parses the service list of a hosts line ("files [NOTFOUND=return] dns"). Throws on anything glibc would not accept. */
export function parseHostsLine(text: string): NssSource[] {
  const sources: NssSource[] = [];
  const tokens = text.trim().replace(/^hosts:\s*/, '').match(/\[[^\]]*\]?|[^\s[]+/g) ?? [];
  for (const token of tokens) {
    if (token.startsWith('[')) {
      const last = sources.at(-1);
      if (!token.endsWith(']')) throw usageError(`invalid nsswitch hosts line "${text}": unclosed "["`);
      if (!last) throw usageError(`invalid nsswitch hosts line "${text}": "${token}" must follow a source`);
      for (const item of token.slice(1, -1).trim().split(/\s+/).filter(Boolean)) {
        const m = /^(!?)([A-Za-z]+)=([A-Za-z]+)$/.exec(item);
        const status = m?.[2]?.toUpperCase();
        const action = m?.[3]?.toLowerCase();
        if (!m || !STATUSES.has(status!) || !ACTIONS.has(action!)) {
          throw usageError(
            `invalid nsswitch criterion "${item}": expected [!]STATUS=ACTION with STATUS one of SUCCESS, NOTFOUND, UNAVAIL, TRYAGAIN and ACTION one of return, continue, merge`,
          );
        }
        last.criteria.push({ negate: m[1] === '!', status: status as NssStatus, action: action as NssAction });
      }
    } else {
      if (!(KNOWN_HOSTS_SOURCES as readonly string[]).includes(token)) {
        throw usageError(
          `unknown nsswitch hosts source "${token}": use one of ${KNOWN_HOSTS_SOURCES.join(', ')}`,
        );
      }
      sources.push({ name: token, criteria: [] });
    }
  }
  if (sources.length === 0) throw usageError('empty nsswitch hosts line: use e.g. --nsswitch "files dns"');
  return sources;
}

export function formatHostsLine(sources: NssSource[]): string {
  return sources
    .map((s) =>
      s.criteria.length === 0
        ? s.name
        : `${s.name} [${s.criteria.map((c) => `${c.negate ? '!' : ''}${c.status}=${c.action}`).join(' ')}]`,
    )
    .join(' ');
}

/** A complete nsswitch.conf for a container: only the hosts line is the user's; the rest are plain files. */
export function renderNsswitch(header: string[], hostsLine: string): string {
  const out = header.map((h) => `# ${h}`);
  out.push(
    'passwd:         files',
    'group:          files',
    'shadow:         files',
    `hosts:          ${hostsLine}`,
    'networks:       files',
    'protocols:      files',
    'services:       files',
    'ethers:         files',
    'rpc:            files',
  );
  return out.join('\n') + '\n';
}

/** The hosts line of an nsswitch.conf text, or undefined when there is none. */
export function hostsLineOf(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const m = /^\s*hosts\s*:(.*)$/s.exec(raw.replace(/#.*$/s, ''));
    if (m) return m[1]!.trim();
  }
  return undefined;
}
