// Nameservers inherited from the host's resolv.conf (no --dns) leave in the one form --dns
// addresses have (RFC 5952, a %zone kept): the stub's anti-spoofing guard compares them with the
// kernel-given reply source as text, and records and resolv.conf show them.
import { describe, expect, it } from 'vitest';
import { validateCreate, type CreateRequest } from './validate.js';
import { renderContainerFiles, resolveDnsConfig } from './container-files.js';
import { parseResolvConf } from '../files/resolvconf.js';

const spec = (req: CreateRequest) => validateCreate(req, () => 'generated');
const host = (text: string) => ({ path: '/tmp/host-resolv.conf', text });
const HOST_TEXT = [
  'nameserver FD12:3456:789A:1:0:0:0:0053',
  'nameserver 2001:DB8::0001%eth0',
  'nameserver 10.0.0.1',
  'nameserver 0:0:0:0:0:FFFF:0A00:0002',
  '',
].join('\n');
const CANONICAL = ['fd12:3456:789a:1::53', '2001:db8::1%eth0', '10.0.0.1', '::ffff:10.0.0.2'];

describe('resolveDnsConfig: nameservers inherited from the host, canonical', () => {
  for (const dnsMode of ['glibc', 'musl', 'direct'] as const) {
    it(`dns-mode ${dnsMode}: the record's nameservers are RFC 5952 text, whatever the host wrote`, () => {
      const dns = resolveDnsConfig(spec({ name: 'web', dnsMode }), host(HOST_TEXT));
      expect(dns.nameservers.map((n) => n.address)).toEqual(CANONICAL);
      for (const n of dns.nameservers) expect(n.source).toBe("from the host's /tmp/host-resolv.conf");
    });
  }

  it('the rendered resolv.conf shows the canonical form: stub upstream comments and direct nameserver lines', () => {
    const stub = spec({ name: 'web', dnsMode: 'glibc' });
    const rc = renderContainerFiles(stub, resolveDnsConfig(stub, host(HOST_TEXT)), '10.89.0.2', '10.89.0.1')['resolv.conf'];
    for (const a of CANONICAL) expect(rc).toContain(`#   upstream ${a} (from the host's /tmp/host-resolv.conf)`);
    expect(rc).not.toMatch(/FD12|DB8|0053|FFFF/);
    const direct = spec({ name: 'web', dnsMode: 'direct' });
    const drc = renderContainerFiles(direct, resolveDnsConfig(direct, host(HOST_TEXT)), '10.89.0.2')['resolv.conf'];
    expect(parseResolvConf(drc).nameservers.map((n) => n.address)).toEqual(CANONICAL);
  });

  it('loopback however the host writes it is skipped, the IPv4 loopback mapped into IPv6 too, and named canonically', () => {
    const dns = resolveDnsConfig(
      spec({ name: 'web' }),
      host('nameserver 0:0:0:0:0:0:0:1\nnameserver ::FFFF:127.0.0.53\nnameserver 0:0:0:0:0:ffff:7f00:1\nnameserver 1.1.1.1\n'),
    );
    expect(dns.nameservers.map((n) => n.address)).toEqual(['1.1.1.1']);
    expect(dns.notes).toHaveLength(1);
    expect(dns.notes[0]).toMatch(/^host nameserver ::1, ::ffff:127\.0\.0\.53, ::ffff:127\.0\.0\.1 skipped: loopback/);
  });

  it('--dns is unaffected (validation already makes it canonical)', () => {
    const dns = resolveDnsConfig(spec({ name: 'web', dns: ['2001:DB8:0:0:0:0:0:53'] }), host(HOST_TEXT));
    expect(dns.nameservers).toEqual([{ address: '2001:db8::53', source: 'from --dns' }]);
  });
});
