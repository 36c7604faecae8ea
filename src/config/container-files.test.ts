import { describe, it, expect } from 'vitest';
import { isLoopback } from './ipv4.js';
import { validateCreate, type CreateRequest, type CreateSpec } from './validate.js';
import { renderContainerFiles, resolveDnsConfig } from './container-files.js';
import { parseHosts } from '../files/hosts.js';
import { hostsLineOf } from '../files/nsswitch.js';
import { parseResolvConf } from '../files/resolvconf.js';
import { mulberry32, intBelow, pick } from '../../test/support/random.js';

const few = <T>(rand: () => number, xs: readonly T[], max: number) => Array.from({ length: intBelow(rand, max + 1) }, () => pick(rand, xs));

const spec = (req: CreateRequest): CreateSpec => validateCreate(req, () => 'generated');
const HOST_PATH = '/etc/resolv.conf';
const host = (text: string) => ({ path: HOST_PATH, text });

/** Lines of a rendered file. */
const linesOf = (text: string) => text.split('\n');

/** Asserts each nameserver line is directly preceded by a comment and returns those comments. */
function nameserverComments(resolvConf: string): string[] {
  const lines = linesOf(resolvConf);
  const comments: string[] = [];
  lines.forEach((l, i) => {
    if (l.startsWith('nameserver ')) {
      expect(i).toBeGreaterThan(0);
      expect(lines[i - 1]).toMatch(/^# \S/);
      comments.push(lines[i - 1]!);
    }
  });
  return comments;
}

describe('resolveDnsConfig', () => {
  it('uses --dns over the host, marking each nameserver "from --dns"', () => {
    const dns = resolveDnsConfig(spec({ name: 'web', dns: ['1.1.1.1', '2001:db8::53'] }), host('nameserver 8.8.8.8\n'));
    expect(dns.nameservers).toEqual([
      { address: '1.1.1.1', source: 'from --dns' },
      { address: '2001:db8::53', source: 'from --dns' },
    ]);
  });

  it('keeps --dns loopback addresses: only the host\'s loopback nameservers are skipped', () => {
    const dns = resolveDnsConfig(spec({ name: 'web', dns: ['127.0.0.1'], dnsMode: 'direct' }), host('nameserver 8.8.8.8\n'));
    expect(dns.nameservers.map((n) => n.address)).toEqual(['127.0.0.1']);
  });

  it('takes the host\'s nameservers minus loopback ones and says which were skipped', () => {
    const dns = resolveDnsConfig(
      spec({ name: 'web' }),
      host('nameserver 127.0.0.53\nnameserver 1.1.1.1\nnameserver ::1\nnameserver not-an-ip\nnameserver 8.8.8.8\n'),
    );
    expect(dns.nameservers.map((n) => n.address)).toEqual(['1.1.1.1', '8.8.8.8']);
    for (const n of dns.nameservers) expect(n.source).toBe(`from the host's ${HOST_PATH}`);
    expect(dns.notes).toHaveLength(1);
    expect(dns.notes[0]).toMatch(/^host nameserver 127\.0\.0\.53, ::1 skipped: loopback/);
  });

  it('does not mention skipping when the host has no loopback nameserver', () => {
    const dns = resolveDnsConfig(spec({ name: 'web' }), host('nameserver 1.1.1.1\n'));
    expect(dns.nameservers).toEqual([{ address: '1.1.1.1', source: `from the host's ${HOST_PATH}` }]);
    expect(dns.notes).toEqual([]);
  });

  it('inherits search and options from the host only when they are not given', () => {
    const hostText = 'nameserver 1.1.1.1\nsearch host.example\noptions ndots:5 edns0\n';
    const inherited = resolveDnsConfig(spec({ name: 'web' }), host(hostText));
    expect(inherited.search).toEqual({ values: ['host.example'], source: `from the host's ${HOST_PATH}` });
    expect(inherited.options).toEqual({ values: ['ndots:5', 'edns0'], source: `from the host's ${HOST_PATH}` });

    const given = resolveDnsConfig(spec({ name: 'web', dnsSearch: ['corp.example'], dnsOptions: ['ndots:2'] }), host(hostText));
    expect(given.search).toEqual({ values: ['corp.example'], source: 'from --dns-search' });
    expect(given.options).toEqual({ values: ['ndots:2'], source: 'from --dns-option' });

    // --dns alone does not stop search/options from being inherited
    const dnsOnly = resolveDnsConfig(spec({ name: 'web', dns: ['9.9.9.9'] }), host(hostText));
    expect(dnsOnly.search.values).toEqual(['host.example']);
    expect(dnsOnly.options.values).toEqual(['ndots:5', 'edns0']);
  });

  it('without a host resolv.conf has no nameservers and only the given search/options', () => {
    const dns = resolveDnsConfig(spec({ name: 'web', dnsOptions: ['rotate'] }), undefined);
    expect(dns.nameservers).toEqual([]);
    expect(dns.search.values).toEqual([]);
    expect(dns.options).toEqual({ values: ['rotate'], source: 'from --dns-option' });
  });
});

describe('renderContainerFiles: resolv.conf', () => {
  it('puts a provenance comment above each nameserver line', () => {
    const s = spec({ name: 'web', dnsSearch: ['corp.example'] });
    const dns = resolveDnsConfig(s, host('nameserver 127.0.0.53\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n'));
    const rc = renderContainerFiles(s, dns, '10.89.0.2')['resolv.conf'];
    const comments = nameserverComments(rc);
    expect(comments).toHaveLength(2);
    for (const c of comments) expect(c).toContain(`from the host's ${HOST_PATH}`);
    expect(linesOf(rc).some((l) => l.startsWith('# host nameserver 127.0.0.53 skipped'))).toBe(true);
    expect(rc).not.toMatch(/^nameserver 127\./m);
    expect(linesOf(rc)).toContain('# from --dns-search');
    expect(rc.startsWith('# Generated by tsnet for container web')).toBe(true);
  });

  it('--dns overrides the host\'s nameservers in the rendered file', () => {
    const s = spec({ name: 'web', dns: ['10.89.255.250'] });
    const rc = renderContainerFiles(s, resolveDnsConfig(s, host('nameserver 1.1.1.1\n')), '10.89.0.2')['resolv.conf'];
    expect(parseResolvConf(rc).nameservers.map((n) => n.address)).toEqual(['10.89.255.250']);
    expect(nameserverComments(rc)).toEqual(['# from --dns']);
  });

  it('notes the dns mode in the header', () => {
    const direct = spec({ name: 'web', dnsMode: 'direct', dns: ['1.1.1.1'] });
    expect(renderContainerFiles(direct, resolveDnsConfig(direct, undefined), '10.89.0.2')['resolv.conf']).toContain('# dns-mode direct:');
    const musl = spec({ name: 'web', dnsMode: 'musl', dns: ['1.1.1.1'] });
    expect(renderContainerFiles(musl, resolveDnsConfig(musl, undefined), '10.89.0.2', '10.89.0.1')['resolv.conf']).toContain('# dns-mode musl: the tsnet stub resolver');
  });

  it('points a stub-mode container at the stub, keeps search and ndots, and waits out the stub', () => {
    const s = spec({ name: 'web', dnsMode: 'glibc', dns: ['10.9.0.1', '10.9.0.2'], dnsSearch: ['corp.example'], dnsOptions: ['ndots:3', 'timeout:2', 'rotate'] });
    const rc = renderContainerFiles(s, resolveDnsConfig(s, undefined), '10.89.0.2', '10.89.0.1')['resolv.conf'];
    const lines = linesOf(rc).filter((l) => l !== '' && !l.startsWith('#'));
    // glibc with 2 servers, timeout:2, attempts 2: 2 × (2 + 2) = 8 s worst case → the client waits 9 s
    expect(lines).toEqual(['nameserver 10.89.0.1', 'search corp.example', 'options ndots:3 timeout:9 attempts:1']);
    expect(rc).toContain('#   upstream 10.9.0.1 (from --dns)');
    expect(rc).toMatch(/worst case \(8 s\)/);
  });

  it('says which host loopback nameservers were skipped even when none is left', () => {
    const s = spec({ name: 'web' });
    const rc = renderContainerFiles(s, resolveDnsConfig(s, host('nameserver 127.0.0.53\n')), '10.89.0.2')['resolv.conf'];
    expect(rc).toContain('no nameserver');
    expect(rc).toContain('127.0.0.53');
    expect(rc).toContain('skipped');
  });
});

describe('renderContainerFiles: hosts, nsswitch.conf, hostname', () => {
  it('hosts has localhost lines, the container\'s address with hostname, short name and container name, and --add-host entries', () => {
    const s = spec({ name: 'c1', hostname: 'web.corp.example', addHosts: ['db:10.89.0.77', 'h:[::1]'] });
    const files = renderContainerFiles(s, resolveDnsConfig(s, undefined), '10.89.0.2');
    expect(parseHosts(files.hosts)).toEqual([
      { address: '127.0.0.1', names: ['localhost'] },
      { address: '::1', names: ['localhost', 'ip6-localhost', 'ip6-loopback'] },
      { address: '10.89.0.2', names: ['web.corp.example', 'web', 'c1'] },
      { address: '10.89.0.77', names: ['db'] },
      { address: '::1', names: ['h'] },
    ]);
    const lines = linesOf(files.hosts);
    expect(lines).toContain('# from --add-host');
    expect(lines).toContain('# this container');
    expect(lines[0]).toBe('# Generated by tsnet for container c1; tsnet rewrites it');
  });

  it('lists each of the container\'s own names once when hostname, short name and name coincide', () => {
    const s = spec({ name: 'web' });
    const files = renderContainerFiles(s, resolveDnsConfig(s, undefined), '10.89.0.9');
    expect(parseHosts(files.hosts).find((e) => e.address === '10.89.0.9')).toEqual({ address: '10.89.0.9', names: ['web'] });
    expect(files.hosts).not.toContain('from --add-host');
  });

  it('nsswitch.conf carries the given hosts line and hostname holds the hostname', () => {
    const s = spec({ name: 'web', hostname: 'api', nsswitch: 'files [NOTFOUND=return] myhostname dns' });
    const files = renderContainerFiles(s, resolveDnsConfig(s, undefined), '10.89.0.2');
    expect(hostsLineOf(files['nsswitch.conf'])).toBe('files [NOTFOUND=return] myhostname dns');
    expect(hostsLineOf(renderContainerFiles(spec({ name: 'web' }), resolveDnsConfig(spec({ name: 'web' }), undefined), '10.89.0.2')['nsswitch.conf'])).toBe('files dns');
    expect(files.hostname).toBe('api\n');
    expect(Object.keys(files).sort()).toEqual(['hostname', 'hosts', 'nsswitch.conf', 'resolv.conf']);
  });
});

describe('renderContainerFiles round trip on random configurations', () => {
  it('parse(render(x)) recovers nameservers, search, options, hosts entries and the nsswitch hosts line', () => {
    const rand = mulberry32(51);
    const hostNs = ['127.0.0.53', '127.0.0.1', '::1', '1.1.1.1', '8.8.8.8', '2001:db8::53', 'bogus'];
    const domains = ['corp.example', 'lan', 'example.org.'];
    const options = ['ndots:2', 'rotate', 'edns0', 'timeout:3'];
    for (let i = 0; i < 1000; i++) {
      const req: CreateRequest = {
        name: pick(rand, ['web', 'c1', 'my.app', 'db-2']),
        ...(rand() < 0.5 ? { hostname: pick(rand, ['api', 'api.corp.example', 'x-1.y']) } : {}),
        ...(rand() < 0.4 ? { dns: few(rand, ['10.89.255.250', '9.9.9.9', 'fd00::53'], 3) } : {}),
        ...(rand() < 0.4 ? { dnsSearch: few(rand, domains, 3) } : {}),
        ...(rand() < 0.4 ? { dnsOptions: few(rand, options, 3) } : {}),
        addHosts: few(rand, ['db:10.89.0.77', 'h:::1', 'cache.corp.example:[fd00::7]'], 3),
        nsswitch: pick(rand, ['files dns', 'files [NOTFOUND=return] dns', 'dns files myhostname']),
        dnsMode: pick(rand, ['glibc', 'musl', 'direct']),
      };
      const s = spec(req);
      const hostText =
        rand() < 0.2
          ? undefined
          : few(rand, hostNs, 4).map((a) => `nameserver ${a}`).join('\n') +
            (rand() < 0.5 ? `\nsearch ${few(rand, domains, 2).join(' ')}` : '') +
            (rand() < 0.5 ? `\noptions ${few(rand, options, 2).join(' ')}` : '') +
            '\n';
      const hostRc = hostText === undefined ? undefined : host(hostText);
      const dns = resolveDnsConfig(s, hostRc);
      const address = `10.89.${intBelow(rand, 256)}.${2 + intBelow(rand, 250)}`;
      const files = renderContainerFiles(s, dns, address);

      const parsed = parseResolvConf(files['resolv.conf']);
      expect(parsed.warnings).toEqual([]);
      const rc = { nameservers: parsed.nameservers.map((n) => n.address), search: parsed.search.values, options: parsed.options.values };
      expect(rc.nameservers).toEqual(dns.nameservers.map((n) => n.address));
      expect(rc.search).toEqual(dns.search.values);
      expect(rc.options).toEqual(dns.options.values);
      expect(nameserverComments(files['resolv.conf'])).toHaveLength(dns.nameservers.length);

      // where the values came from
      if (s.dns !== undefined) expect(rc.nameservers).toEqual(s.dns);
      else if (hostText !== undefined) {
        const expected = parseResolvConf(hostText).nameservers.map((n) => n.address).filter((a) => a !== 'bogus' && !isLoopback(a));
        expect(rc.nameservers).toEqual(expected);
      } else expect(rc.nameservers).toEqual([]);
      if (s.search.length > 0 || hostText === undefined) expect(rc.search).toEqual(s.search);
      else expect(rc.search).toEqual(parseResolvConf(hostText).search.values);
      if (s.options.length > 0 || hostText === undefined) expect(rc.options).toEqual(s.options);
      else expect(rc.options).toEqual(parseResolvConf(hostText).options.values);

      const own = [...new Set([s.hostname, s.hostname.split('.')[0]!, s.name])];
      expect(parseHosts(files.hosts)).toEqual([
        { address: '127.0.0.1', names: ['localhost'] },
        { address: '::1', names: ['localhost', 'ip6-localhost', 'ip6-loopback'] },
        { address, names: own },
        ...s.addHosts,
      ]);
      expect(hostsLineOf(files['nsswitch.conf'])).toBe(s.nsswitch);
      expect(files.hostname).toBe(`${s.hostname}\n`);
    }
  });
});
