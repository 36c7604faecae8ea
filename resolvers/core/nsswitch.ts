// The nsswitch.conf `hosts:` line as glibc's nss/nss_action_parse.c reads it. Lenient like
// glibc: a bad criterion is skipped, not fatal. Pure.

export interface NssCriterion {
  negate: boolean;
  status: 'SUCCESS' | 'NOTFOUND' | 'UNAVAIL' | 'TRYAGAIN';
  action: 'return' | 'continue' | 'merge';
}

export interface NssSource {
  name: string;
  criteria: NssCriterion[];
}

const STATUSES = ['SUCCESS', 'NOTFOUND', 'UNAVAIL', 'TRYAGAIN'];
const ACTIONS = ['return', 'continue', 'merge'];

/** undefined text (no file) or no hosts line → glibc 2.36's built-in "files dns". */
export function parseNssHosts(text: string | undefined, warn: (m: string) => void): NssSource[] {
  const line = text
    ?.split('\n')
    .map((l) => l.replace(/#.*$/s, ''))
    .find((l) => /^\s*hosts\s*:/.test(l));
  if (line === undefined) return [{ name: 'files', criteria: [] }, { name: 'dns', criteria: [] }];
  const sources: NssSource[] = [];
  for (const tok of line.replace(/^\s*hosts\s*:/, '').match(/\[[^\]]*\]|[^\s[]+/g) ?? []) {
    if (!tok.startsWith('[')) {
      sources.push({ name: tok, criteria: [] });
      if (tok !== 'files' && tok !== 'dns') warn(`nsswitch: source "${tok}" is not emulated; it counts as UNAVAIL`);
      continue;
    }
    for (const item of tok.slice(1, -1).trim().split(/\s+/).filter(Boolean)) {
      const m = /^(!?)(\w+)=(\w+)$/.exec(item);
      const status = m?.[2]?.toUpperCase();
      const action = m?.[3]?.toLowerCase();
      if (!m || !STATUSES.includes(status!) || !ACTIONS.includes(action!) || sources.length === 0) {
        warn(`nsswitch: criterion "${item}" is not valid; glibc ignores it`);
        continue;
      }
      sources.at(-1)!.criteria.push({ negate: m[1] === '!', status: status as NssCriterion['status'], action: action as NssCriterion['action'] });
    }
  }
  return sources;
}

/** A `hosts:` source as Go reads it: criteria lower-cased, kept as written. */
export interface GoNssSource {
  name: string;
  criteria: Array<{ negate: boolean; status: string; action: string }>;
}

/**
 * Go 1.19 net/nss.go parseNSSConf: every `db: sources` line (the last `hosts:` line's sources are
 * appended to earlier ones), a `[...]` block after a source holds its criteria. A line without a
 * colon, an unclosed bracket or a criterion without '=' (or shorter than 3 characters) is an error
 * for the whole file. undefined text = no file. Returns the hosts sources, or an error message.
 */
export function parseGoNssHosts(text: string | undefined): GoNssSource[] | { error: string } | undefined {
  if (text === undefined) return undefined;
  // parse.go trimSpace: only " \t\n\r" (not the other Unicode spaces String.trim would take)
  const trim = (x: string) => x.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
  const hosts: GoNssSource[] = [];
  for (const raw of text.split('\n')) {
    const line = trim(raw.replace(/#.*$/s, ''));
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) return { error: `nsswitch.conf: no colon on line "${line}"` };
    // every line is parsed (a bad criterion on a passwd: line is an error for the whole file)
    const sources: GoNssSource[] = [];
    for (let rest = trim(line.slice(colon + 1)); rest !== ''; rest = trim(rest)) {
      const sp = rest.indexOf(' ');
      const source: GoNssSource = { name: sp < 0 ? rest : rest.slice(0, sp), criteria: [] };
      rest = sp < 0 ? '' : trim(rest.slice(sp + 1));
      if (rest.startsWith('[')) {
        const close = rest.indexOf(']');
        if (close < 0) return { error: 'nsswitch.conf: unclosed criterion bracket' };
        for (const f of rest.slice(1, close).split(/[ \t\n\r]+/).filter(Boolean)) {
          const negate = f.startsWith('!');
          const body = (negate ? f.slice(1) : f).toLowerCase();
          const eq = body.indexOf('=');
          if (body.length < 3 || eq < 0) return { error: `nsswitch.conf: invalid criteria "${rest.slice(1, close)}"` };
          source.criteria.push({ negate, status: body.slice(0, eq), action: body.slice(eq + 1) });
        }
        rest = rest.slice(close + 1);
      }
      sources.push(source);
    }
    if (trim(line.slice(0, colon)) === 'hosts') hosts.push(...sources);
  }
  return hosts;
}
