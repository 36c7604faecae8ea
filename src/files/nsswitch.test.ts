import { describe, it, expect } from 'vitest';
import { TsnetError } from '../errors.js';
import {
  KNOWN_HOSTS_SOURCES,
  formatHostsLine,
  hostsLineOf,
  parseHostsLine,
  renderNsswitch,
  type NssAction,
  type NssSource,
  type NssStatus,
} from './nsswitch.js';
import { mulberry32, intBelow, pick } from '../../test/support/random.js';
import { usageErrorOf } from '../../test/support/usage.js';


const STATUSES: NssStatus[] = ['SUCCESS', 'NOTFOUND', 'UNAVAIL', 'TRYAGAIN'];
const ACTIONS: NssAction[] = ['return', 'continue', 'merge'];

function randomSources(rand: () => number): NssSource[] {
  return Array.from({ length: 1 + intBelow(rand, 5) }, () => ({
    name: pick(rand, KNOWN_HOSTS_SOURCES),
    criteria: Array.from({ length: rand() < 0.5 ? 0 : 1 + intBelow(rand, 3) }, () => ({
      negate: rand() < 0.3,
      status: pick(rand, STATUSES),
      action: pick(rand, ACTIONS),
    })),
  }));
}

const PIECES = [
  'files', 'dns', 'myhostname', 'mdns4_minimal', 'bogus', 'hosts:', 'hosts', ':', '[', ']', '[NOTFOUND=return]',
  '[!UNAVAIL=continue]', '[success=MERGE]', '[NOTFOUND=explode]', '[=]', '!', '=', ' ', '  ', '\t', '\n', '\r', '#', '# comment',
  'passwd:', '\0', '\u00ff', '\u2028', 'é',
];
function randomJunk(rand: () => number): string {
  const n = intBelow(rand, 10);
  let s = '';
  for (let i = 0; i < n; i++) s += rand() < 0.75 ? pick(rand, PIECES) : String.fromCharCode(intBelow(rand, 0x3000));
  if (rand() < 0.03) s = s.repeat(100); // long lines
  return s;
}

describe('parseHostsLine', () => {
  it('parses plain sources in order', () => {
    expect(parseHostsLine('files dns')).toEqual([
      { name: 'files', criteria: [] },
      { name: 'dns', criteria: [] },
    ]);
  });

  it('attaches [STATUS=ACTION] criteria, with negation, to the preceding source', () => {
    expect(parseHostsLine('files [NOTFOUND=return] mdns4_minimal [!UNAVAIL=continue SUCCESS=merge] dns')).toEqual([
      { name: 'files', criteria: [{ negate: false, status: 'NOTFOUND', action: 'return' }] },
      {
        name: 'mdns4_minimal',
        criteria: [
          { negate: true, status: 'UNAVAIL', action: 'continue' },
          { negate: false, status: 'SUCCESS', action: 'merge' },
        ],
      },
      { name: 'dns', criteria: [] },
    ]);
  });

  it('accepts a "hosts:" prefix, tabs, criteria glued to the source and any letter case in criteria', () => {
    expect(parseHostsLine('hosts:\tfiles[notfound=RETURN]\tdns')).toEqual([
      { name: 'files', criteria: [{ negate: false, status: 'NOTFOUND', action: 'return' }] },
      { name: 'dns', criteria: [] },
    ]);
  });

  it('rejects an unknown source and lists the known ones', () => {
    const e = usageErrorOf(() => parseHostsLine('files bogus dns'));
    expect(e.message).toContain('unknown nsswitch hosts source "bogus"');
    for (const s of KNOWN_HOSTS_SOURCES) expect(e.message).toContain(s);
  });

  it('rejects an unclosed "[", a criterion before any source, bad criteria and an empty line', () => {
    expect(usageErrorOf(() => parseHostsLine('files [NOTFOUND=return')).message).toContain('unclosed "["');
    expect(usageErrorOf(() => parseHostsLine('[NOTFOUND=return] files')).message).toContain('must follow a source');
    for (const bad of ['files [NOTFOUND=explode]', 'files [WHATEVER=return]', 'files [NOTFOUND]', 'files [=]', 'files [!!NOTFOUND=return]']) {
      expect(usageErrorOf(() => parseHostsLine(bad)).message, bad).toContain('invalid nsswitch criterion');
    }
    for (const empty of ['', '   ', 'hosts:', 'hosts:   ']) {
      expect(usageErrorOf(() => parseHostsLine(empty)).message).toContain('empty nsswitch hosts line');
    }
  });

  it('formatHostsLine and parseHostsLine round-trip random models', () => {
    const rand = mulberry32(21);
    for (let i = 0; i < 2000; i++) {
      const model = randomSources(rand);
      const text = formatHostsLine(model);
      expect(parseHostsLine(text)).toEqual(model);
      expect(formatHostsLine(parseHostsLine(text))).toBe(text);
    }
  });

  it('on random input returns at least one known source or throws only a usage error', () => {
    const rand = mulberry32(22);
    const seen = { ok: 0, usage: 0 };
    for (let i = 0; i < 4000; i++) {
      const text = randomJunk(rand);
      let sources: NssSource[] | undefined;
      try {
        sources = parseHostsLine(text);
        seen.ok++;
      } catch (err) {
        expect(err).toBeInstanceOf(TsnetError);
        expect((err as TsnetError).code).toBe('TSNET_USAGE');
        expect((err as TsnetError).exitCode).toBe(2);
        seen.usage++;
      }
      if (sources) {
        expect(sources.length).toBeGreaterThan(0);
        for (const s of sources) expect(KNOWN_HOSTS_SOURCES).toContain(s.name);
        // normalised form is a fixed point
        expect(parseHostsLine(formatHostsLine(sources))).toEqual(sources);
      }
    }
    expect(seen.ok).toBeGreaterThan(50);
    expect(seen.usage).toBeGreaterThan(50);
  });
});

describe('renderNsswitch / hostsLineOf', () => {
  it('renders a complete nsswitch.conf whose only non-"files" line is the given hosts line', () => {
    const text = renderNsswitch(['Generated by tsnet'], 'files [NOTFOUND=return] dns');
    const lines = text.split('\n');
    expect(lines[0]).toBe('# Generated by tsnet');
    expect(text.endsWith('\n')).toBe(true);
    expect(lines).toContain('hosts:          files [NOTFOUND=return] dns');
    const databases = lines.filter((l) => /^\w+:/.test(l));
    for (const db of ['passwd', 'group', 'shadow', 'hosts', 'networks', 'protocols', 'services', 'ethers', 'rpc']) {
      expect(databases.filter((l) => l.startsWith(`${db}:`))).toHaveLength(1);
    }
    for (const l of databases.filter((l) => !l.startsWith('hosts:'))) expect(l).toMatch(/:\s+files$/);
  });

  it('hostsLineOf recovers the hosts line of a rendered file (round trip on random lines)', () => {
    const rand = mulberry32(23);
    for (let i = 0; i < 1000; i++) {
      const line = formatHostsLine(randomSources(rand));
      expect(hostsLineOf(renderNsswitch(['hosts: not this one', 'tsnet'], line))).toBe(line);
    }
  });

  it('hostsLineOf ignores comments, takes the first hosts line and allows space before ":"', () => {
    expect(hostsLineOf('# hosts: commented\nhosts : files # trailing\nhosts: dns\n')).toBe('files');
    expect(hostsLineOf('  hosts:\tfiles dns')).toBe('files dns');
    expect(hostsLineOf('passwd: files\n')).toBeUndefined();
    expect(hostsLineOf('')).toBeUndefined();
    expect(hostsLineOf('myhosts: files')).toBeUndefined();
  });

  it('hostsLineOf reads the hosts line of a CRLF file', () => {
    expect(hostsLineOf('passwd: files\r\nhosts: files dns\r\n')).toBe('files dns');
  });

  it('hostsLineOf never throws on random text and returns a trimmed, comment-free value', () => {
    const rand = mulberry32(24);
    let found = 0;
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: intBelow(rand, 6) }, () => randomJunk(rand)).join('\n');
      const line = hostsLineOf(text);
      if (line !== undefined) {
        found++;
        expect(line).toBe(line.trim());
        expect(line).not.toContain('#');
        expect(line).not.toContain('\n');
      }
    }
    expect(found).toBeGreaterThan(50);
  });
});
