import { describe, it, expect } from 'vitest';
import { isIP } from 'node:net';
import { TsnetError } from '../errors.js';
import { parseIPv4, parseSubnet } from './ipv4.js';
import {
  DNS_FLAG_OPTIONS,
  DNS_MODES,
  DNS_NUMERIC_OPTIONS,
  isDomainName,
  validateAddHost,
  validateCreate,
  validateDnsMode,
  validateDnsOption,
  validateHostname,
  validateName,
  validateNetworkName,
  type CreateRequest,
} from './validate.js';
import { mulberry32, intBelow, pick, randomJunk } from '../../test/support/random.js';
import { outcome, usageErrorOf } from '../../test/support/usage.js';


const PIECES = [
  'a', 'web', 'db', 'x', 'Z', '0', '9', '_', '-', '.', '..', '/', '../', ':', '::', '::1', '[', ']', ' ', '\t', '\n',
  '#', ';', '\0', '\u00ff', '\u2028', 'é', 'ndots', 'timeout', 'attempts', 'rotate', 'edns0', ':2', ':999', ':x',
  '10.89.0.77', '256.1.1.1', 'glibc', 'musl', 'direct', 'files', 'dns', '[NOTFOUND=return]', 'hosts:',
];
const junk = (rand: () => number) => randomJunk(rand, PIECES, 40);

const noGenerate = () => {
  throw new Error('generateName must not be called when a name is given');
};

describe('validateName', () => {
  it('accepts names of letters, digits, "_", "." and "-" up to 63 characters', () => {
    for (const ok of ['web', 'a', '0', 'my_app.v2-1', 'A'.repeat(63), 'x..y']) expect(validateName(ok)).toBe(ok);
  });

  it('rejects path-like, empty, 64+ character, spaced and badly-started names with a usage error', () => {
    for (const bad of ['../x', '..', '.', '', 'a'.repeat(64), 'a'.repeat(300), 'has space', 'tab\there', 'a/b', '-x', '_x', '.x', 'x\n', 'naïve']) {
      const e = usageErrorOf(() => validateName(bad));
      expect(e.message, JSON.stringify(bad)).toContain('invalid container name');
      expect(e.message).toContain('1-63 characters');
    }
  });

  it('names what was being validated in the message', () => {
    expect(usageErrorOf(() => validateName('../x', 'peer name')).message).toContain('invalid peer name "../x"');
  });
});

describe('validateNetworkName', () => {
  it('accepts lower-case names up to 32 characters', () => {
    for (const ok of ['tsnet', 'net_1', 'a-b', 'n'.repeat(32)]) expect(validateNetworkName(ok)).toBe(ok);
  });

  it('rejects upper case, dots, paths, empty and 33+ characters', () => {
    for (const bad of ['Tsnet', 'a.b', '../x', '', 'n'.repeat(33), '-net', 'has space']) {
      expect(usageErrorOf(() => validateNetworkName(bad)).message).toContain('invalid network name');
    }
  });
});

describe('validateHostname / isDomainName', () => {
  it('accepts RFC 1123 host names up to 64 characters', () => {
    for (const ok of ['web', 'web-1', '1web', 'web.corp.example', 'a'.repeat(63), `${'a'.repeat(31)}.${'b'.repeat(32)}`]) {
      expect(validateHostname(ok)).toBe(ok);
    }
  });

  it('rejects labels with leading/trailing "-", underscores, empty labels, a trailing dot and 65+ characters', () => {
    for (const bad of ['-web', 'web-', 'we_b', 'a..b', 'web.', '.web', '', 'has space', 'a'.repeat(64), `${'a'.repeat(32)}.${'b'.repeat(32)}`]) {
      const e = usageErrorOf(() => validateHostname(bad));
      expect(e.message, JSON.stringify(bad)).toContain(`invalid hostname "${bad}"`);
    }
  });

  it('isDomainName allows one trailing dot, 253 characters and 63-character labels', () => {
    expect(isDomainName('corp.example.')).toBe(true);
    expect(isDomainName('corp.example..')).toBe(false);
    expect(isDomainName('.')).toBe(false);
    expect(isDomainName(`${'a'.repeat(63)}.b`)).toBe(true);
    expect(isDomainName(`${'a'.repeat(64)}.b`)).toBe(false);
    const name253 = Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.').slice(0, 253);
    expect(name253.length).toBe(253);
    expect(isDomainName(name253)).toBe(true);
    expect(isDomainName(`${name253}b`)).toBe(false);
  });
});

describe('validateDnsOption', () => {
  it('accepts ndots:2 and the other numeric options, normalising the number', () => {
    expect(validateDnsOption('ndots:2')).toBe('ndots:2');
    expect(validateDnsOption('ndots:02')).toBe('ndots:2');
    expect(validateDnsOption('timeout:30')).toBe('timeout:30');
    expect(validateDnsOption('attempts:5')).toBe('attempts:5');
  });

  it('accepts every flag option as is', () => {
    for (const flag of DNS_FLAG_OPTIONS) expect(validateDnsOption(flag)).toBe(flag);
  });

  it('rejects an unknown option with a message listing every valid one', () => {
    for (const bad of ['foo', 'inet6x', 'rotate:1', 'ROTATE', '', 'ndots=2']) {
      const e = usageErrorOf(() => validateDnsOption(bad));
      expect(e.message).toContain(`unknown --dns-option "${bad}"`);
      for (const o of DNS_NUMERIC_OPTIONS) expect(e.message).toContain(`${o}:N`);
      for (const o of DNS_FLAG_OPTIONS) expect(e.message).toContain(o);
    }
  });

  it('rejects a numeric option without a proper number, with an example', () => {
    for (const bad of ['ndots', 'ndots:', 'ndots:x', 'ndots:1:2', 'ndots:1000', 'ndots:-1', 'timeout:1.5']) {
      const e = usageErrorOf(() => validateDnsOption(bad));
      expect(e.message, bad).toMatch(/needs a number, like \w+:\d/);
    }
    expect(usageErrorOf(() => validateDnsOption('ndots')).message).toContain('like ndots:1');
  });
});

describe('validateAddHost', () => {
  it('parses NAME:IPv4', () => {
    expect(validateAddHost('db:10.89.0.77')).toEqual({ address: '10.89.0.77', names: ['db'] });
    expect(validateAddHost('db.corp.example:10.0.0.1')).toEqual({ address: '10.0.0.1', names: ['db.corp.example'] });
  });

  it('parses IPv6 addresses with or without brackets (h:::1 and h:[::1])', () => {
    expect(validateAddHost('h:::1')).toEqual({ address: '::1', names: ['h'] });
    expect(validateAddHost('h:[::1]')).toEqual({ address: '::1', names: ['h'] });
    expect(validateAddHost('h:[2001:db8::5]')).toEqual({ address: '2001:db8::5', names: ['h'] });
  });

  it('rejects malformed specs with a NAME:IP example', () => {
    for (const bad of ['db', 'db:', ':10.0.0.1', 'db:notanip', 'db:10.0.0.256', 'bad_name:1.2.3.4', 'db.:1.2.3.4', 'db:10.0.0.1 ', ' db:10.0.0.1', '10.0.0.1:db', 'h:[::1', 'db=10.0.0.1']) {
      const e = usageErrorOf(() => validateAddHost(bad));
      expect(e.message, bad).toContain(`invalid --add-host "${bad}"`);
      expect(e.message).toContain('NAME:IP');
    }
  });
});

describe('validateDnsMode', () => {
  it('accepts glibc, musl and direct', () => {
    for (const m of DNS_MODES) expect(validateDnsMode(m)).toBe(m);
    expect([...DNS_MODES].sort()).toEqual(['direct', 'glibc', 'musl']);
  });

  it('rejects an unknown mode with a message listing glibc, musl, direct', () => {
    for (const bad of ['systemd', 'GLIBC', '', 'glibc ']) {
      const e = usageErrorOf(() => validateDnsMode(bad));
      expect(e.message).toContain(`unknown --dns-mode "${bad}"`);
      expect(e.message).toContain('glibc, musl, direct');
    }
  });
});

describe('validateCreate', () => {
  it('fills in defaults: network tsnet, dns-mode glibc, nsswitch "files dns", hostname = name', () => {
    const spec = validateCreate({ name: 'web' }, noGenerate);
    expect(spec).toEqual({
      name: 'web',
      network: 'tsnet',
      subnet: undefined,
      ip: undefined,
      hostname: 'web',
      dns: undefined,
      search: [],
      options: [],
      addHosts: [],
      nsswitch: 'files dns',
      dnsMode: 'glibc',
      dnsCache: 0,
    });
  });

  it('calls generateName only when no name is given, and validates the generated name', () => {
    let calls = 0;
    const spec = validateCreate({}, () => {
      calls++;
      return 'gen_name';
    });
    expect(calls).toBe(1);
    expect(spec.name).toBe('gen_name');
    expect(spec.hostname).toBe('gen-name'); // "_" is not allowed in host names
    expect(() => validateCreate({}, () => '../x')).toThrow(TsnetError);
  });

  it('keeps every given option in validated, normalised form', () => {
    const spec = validateCreate(
      {
        name: 'api',
        network: 'backend',
        subnet: '10.90.0.0/24',
        ip: '10.90.0.9',
        hostname: 'api.corp.example',
        dns: ['1.1.1.1', '2606:4700:4700::1111'],
        dnsSearch: ['corp.example.', 'example.org'],
        dnsOptions: ['ndots:02', 'rotate'],
        addHosts: ['db:10.90.0.7', 'h:[::1]'],
        nsswitch: 'hosts: files [notfound=RETURN] dns',
        dnsMode: 'musl',
      dnsCache: 0,
      },
      noGenerate,
    );
    expect(spec).toEqual({
      name: 'api',
      network: 'backend',
      subnet: parseSubnet('10.90.0.0/24'),
      ip: parseIPv4('10.90.0.9'),
      hostname: 'api.corp.example',
      dns: ['1.1.1.1', '2606:4700:4700::1111'],
      search: ['corp.example', 'example.org'],
      options: ['ndots:2', 'rotate'],
      addHosts: [
        { address: '10.90.0.7', names: ['db'] },
        { address: '::1', names: ['h'] },
      ],
      nsswitch: 'files [NOTFOUND=return] dns',
      dnsMode: 'musl',
      dnsCache: 0,
    });
  });

  const badRequests: Array<[string, CreateRequest, string]> = [
    ['name ../x', { name: '../x' }, 'invalid container name'],
    ['empty name', { name: '' }, 'invalid container name'],
    ['64-character name', { name: 'a'.repeat(64) }, 'invalid container name'],
    ['name with a space', { name: 'my web' }, 'invalid container name'],
    ['bad network name', { name: 'web', network: 'Bad/Net' }, 'invalid network name'],
    ['bad subnet', { name: 'web', subnet: '10.89.0.1/16' }, 'did you mean 10.89.0.0/16?'],
    ['bad --ip', { name: 'web', ip: '10.89.0.300' }, 'invalid --ip address "10.89.0.300"'],
    ['IPv6 --ip', { name: 'web', ip: '::1' }, 'invalid --ip address'],
    ['bad --dns', { name: 'web', dns: ['1.1.1.1', 'dns.google'] }, 'invalid --dns "dns.google"'],
    ['bad --dns-search', { name: 'web', dnsSearch: ['bad_domain'] }, 'invalid --dns-search "bad_domain"'],
    ['unknown --dns-option', { name: 'web', dnsOptions: ['ndots:2', 'bogus'] }, 'unknown --dns-option "bogus"'],
    ['malformed --add-host', { name: 'web', addHosts: ['db=10.0.0.1'] }, 'invalid --add-host "db=10.0.0.1"'],
    ['unknown --dns-mode', { name: 'web', dnsMode: 'systemd' }, 'glibc, musl, direct'],
    ['bad hostname', { name: 'web', hostname: '-web' }, 'invalid hostname "-web"'],
    ['hostname with underscore', { name: 'web', hostname: 'my_host' }, 'invalid hostname'],
    ['nsswitch unknown source', { name: 'web', nsswitch: 'files bogus' }, 'unknown nsswitch hosts source "bogus"'],
    ['nsswitch unclosed [', { name: 'web', nsswitch: 'files [NOTFOUND=return dns' }, 'unclosed "["'],
    ['nsswitch criterion first', { name: 'web', nsswitch: '[NOTFOUND=return] files' }, 'must follow a source'],
    ['nsswitch bad action', { name: 'web', nsswitch: 'files [NOTFOUND=explode] dns' }, 'invalid nsswitch criterion'],
    ['nsswitch empty', { name: 'web', nsswitch: '' }, 'empty nsswitch hosts line'],
  ];
  for (const [what, req, message] of badRequests) {
    it(`rejects ${what} with a TSNET_USAGE error (exit 2)`, () => {
      expect(usageErrorOf(() => validateCreate(req, noGenerate)).message).toContain(message);
    });
  }

  it('every valid container name works without --hostname (the default hostname is derived safely)', () => {
    for (const name of ['web_', 'web-', 'a..b', 'x.-y', 'db.']) {
      expect(validateName(name)).toBe(name);
      const spec = validateCreate({ name }, noGenerate);
      expect(() => validateHostname(spec.hostname)).not.toThrow();
    }
  });
});

describe('validators on random input', () => {
  it('validateName / validateNetworkName / validateHostname / validateDnsMode throw only usage errors', () => {
    const rand = mulberry32(11);
    const seen = { ok: 0, usage: 0 };
    for (let i = 0; i < 3000; i++) {
      const s = junk(rand);
      const r1 = outcome(() => validateName(s));
      seen[r1]++;
      if (r1 === 'ok') {
        expect(s.length).toBeGreaterThan(0);
        expect(s.length).toBeLessThanOrEqual(63);
        expect(s).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
      }
      if (outcome(() => validateNetworkName(s)) === 'ok') expect(s).toMatch(/^[a-z0-9][a-z0-9_-]{0,31}$/);
      if (outcome(() => validateHostname(s)) === 'ok') {
        expect(s.length).toBeLessThanOrEqual(64);
        expect(s).not.toMatch(/[^A-Za-z0-9.-]|^[.-]|[.-]$|\.\./);
      }
      if (outcome(() => validateDnsMode(s)) === 'ok') expect(DNS_MODES).toContain(s);
    }
    expect(seen.ok).toBeGreaterThan(50);
    expect(seen.usage).toBeGreaterThan(50);
  });

  it('validateDnsOption accepts only known options and throws only usage errors', () => {
    const rand = mulberry32(12);
    const seen = { ok: 0, usage: 0 };
    const known = new Set<string>(DNS_FLAG_OPTIONS);
    for (let i = 0; i < 3000; i++) {
      const s = rand() < 0.4 ? `${pick(rand, [...DNS_NUMERIC_OPTIONS, ...DNS_FLAG_OPTIONS])}${rand() < 0.5 ? `:${intBelow(rand, 2000)}` : ''}` : junk(rand);
      const r = outcome(() => validateDnsOption(s));
      seen[r]++;
      if (r === 'ok') {
        const v = validateDnsOption(s);
        expect(known.has(v) || /^(ndots|timeout|attempts):\d{1,3}$/.test(v)).toBe(true);
        expect(validateDnsOption(v)).toBe(v); // idempotent
      }
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.usage).toBeGreaterThan(100);
  });

  it('validateAddHost returns a real IP and a domain name, or throws only usage errors', () => {
    const rand = mulberry32(13);
    const seen = { ok: 0, usage: 0 };
    for (let i = 0; i < 3000; i++) {
      const s = rand() < 0.4 ? `${pick(rand, ['db', 'h', 'a.b', 'x_y', ''])}:${pick(rand, ['10.0.0.1', '::1', '[::1]', '[fe80::1]', '1.2.3', ''])}` : junk(rand);
      const r = outcome(() => validateAddHost(s));
      seen[r]++;
      if (r === 'ok') {
        const e = validateAddHost(s);
        expect(isIP(e.address)).not.toBe(0);
        expect(e.names).toHaveLength(1);
        expect(isDomainName(e.names[0]!)).toBe(true);
      }
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.usage).toBeGreaterThan(100);
  });

  it('validateCreate on random requests returns a spec or throws only usage errors', () => {
    const rand = mulberry32(14);
    const seen = { ok: 0, usage: 0 };
    const maybe = <T>(good: T[]): T | undefined => {
      const r = rand();
      return r < 0.5 ? undefined : r < 0.85 ? pick(rand, good) : (junk(rand) as unknown as T);
    };
    for (let i = 0; i < 2000; i++) {
      const req: CreateRequest = {
        name: maybe(['web', 'db-1', 'my.app']),
        network: maybe(['tsnet', 'backend']),
        subnet: maybe(['10.89.0.0/16', '192.168.7.0/24']),
        ip: maybe(['10.89.0.9']),
        hostname: maybe(['web.corp.example']),
        dns: rand() < 0.5 ? undefined : [pick(rand, ['1.1.1.1', '::1', junk(rand)])],
        dnsSearch: rand() < 0.5 ? undefined : [pick(rand, ['corp.example', junk(rand)])],
        dnsOptions: rand() < 0.5 ? undefined : [pick(rand, ['ndots:2', 'edns0', junk(rand)])],
        addHosts: rand() < 0.5 ? undefined : [pick(rand, ['db:10.0.0.1', 'h:::1', junk(rand)])],
        nsswitch: maybe(['files dns', 'files [NOTFOUND=return] dns']),
        dnsMode: maybe(['glibc', 'musl', 'direct']),
      };
      const r = outcome(() => validateCreate(req, () => 'generated'));
      seen[r]++;
      if (r === 'ok') {
        const spec = validateCreate(req, () => 'generated');
        expect(validateName(spec.name)).toBe(spec.name);
        expect(validateHostname(spec.hostname)).toBe(spec.hostname);
        expect(DNS_MODES).toContain(spec.dnsMode);
        expect(spec.nsswitch.length).toBeGreaterThan(0);
      }
    }
    expect(seen.ok).toBeGreaterThan(50);
    expect(seen.usage).toBeGreaterThan(50);
  });
});

describe('stub-mode upstreams', () => {
  it('refuses a loopback --dns in the stub modes (it would be the host\'s own loopback) but keeps it in direct mode', () => {
    for (const dnsMode of ['glibc', 'musl']) {
      expect(() => validateCreate({ name: 'web', dns: ['127.0.0.1'], dnsMode }, () => 'x')).toThrow(/--dns 127\.0\.0\.1 is a loopback address/);
    }
    expect(validateCreate({ name: 'web', dns: ['127.0.0.1'], dnsMode: 'direct' }, () => 'x').dns).toEqual(['127.0.0.1']);
  });

  it('takes --dns-cache only with the stub', () => {
    expect(validateCreate({ name: 'web', dnsCache: '100' }, () => 'x').dnsCache).toBe(100);
    expect(() => validateCreate({ name: 'web', dnsCache: '100', dnsMode: 'direct' }, () => 'x')).toThrow(/--dns-cache needs the stub resolver/);
    expect(() => validateCreate({ name: 'web', dnsCache: '-1' }, () => 'x')).toThrow(/invalid --dns-cache "-1"/);
  });
});
