import { describe, expect, it } from 'vitest';
import { LIBRARY_RULES, parseResolverConfig } from './config.js';

const servers = (text: string, library: keyof typeof LIBRARY_RULES) => parseResolverConfig(text, LIBRARY_RULES[library], () => {}).nameservers;
const LIBRARIES = Object.keys(LIBRARY_RULES) as Array<keyof typeof LIBRARY_RULES>;

describe('parseResolverConfig: IPv6 nameservers in the form the kernel reports replies from', () => {
  // A driver compares a reply's kernel-given source (RFC 5952 text) with the server it sent to;
  // real musl, glibc and dnspython compare addresses by value, so any spelling must end up the same.
  it.each(LIBRARIES)('%s: RFC 5952 text whatever the spelling', (library) => {
    const text = [
      'nameserver FD12:3456:789A:1:0:0:0:0053',
      'nameserver 2001:DB8::0001',
      'nameserver 0:0:0:0:0:FFFF:0A00:0001',
    ].join('\n');
    expect(servers(text, library)).toEqual(['fd12:3456:789a:1::53', '2001:db8::1', '::ffff:10.0.0.1']);
  });

  it.each(LIBRARIES)('%s: a %%zone is kept as written after the canonical address', (library) => {
    expect(servers('nameserver FE80:0:0:0:0:0:0:1%eth0\n', library)).toEqual(['fe80::1%eth0']);
  });

  it('names beyond the limit are canonical too', () => {
    const cfg = parseResolverConfig(['1', '2', '3', '4'].map((n) => `nameserver 2001:DB8:0:0:0:0:0:${n}`).join('\n'), LIBRARY_RULES.glibc, () => {});
    expect(cfg.nameservers).toEqual(['2001:db8::1', '2001:db8::2', '2001:db8::3']);
    expect(cfg.ignoredNameservers).toEqual(['2001:db8::4']);
  });

  it('canonical text and IPv4 lines are unchanged', () => {
    for (const library of LIBRARIES) expect(servers('nameserver 2001:db8::53\nnameserver 10.0.0.1\n', library)).toEqual(['2001:db8::53', '10.0.0.1']);
    expect(servers('nameserver 10.1\n', 'glibc')).toEqual(['10.0.0.1']);
  });
});
