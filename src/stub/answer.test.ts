// `tsnet stub serve`'s allow list: which client addresses a sidecar answers (CIDRs, IPv4 and IPv6).
import { describe, expect, it } from 'vitest';
import * as answer from './answer.js';

type AllowList = (cidrs: readonly string[]) => (address: string) => boolean;
const allowList = (cidrs: readonly string[]) => (answer as unknown as { allowList: AllowList }).allowList(cidrs);
const parseCidr = (text: string) => (answer as unknown as { parseCidr: (t: string) => unknown }).parseCidr(text);

describe('the allow list of `tsnet stub serve`', () => {
  it('matches IPv4 and IPv6 clients against CIDRs, prefix by prefix', () => {
    const allowed = allowList(['10.89.0.0/16', '192.0.2.7/32', 'fd00:1::/64', '127.0.0.0/8']);
    for (const a of ['10.89.0.1', '10.89.255.254', '192.0.2.7', 'fd00:1::5', 'fd00:1:0:0:ffff::1', '127.0.0.53']) expect(allowed(a), a).toBe(true);
    for (const a of ['10.90.0.1', '10.88.255.255', '192.0.2.8', 'fd00:2::5', '::1', '8.8.8.8', 'not-an-address', '']) expect(allowed(a), a).toBe(false);
  });

  it('reads an IPv4 client on a dual-stack socket (::ffff:a.b.c.d) as IPv4 and ignores an IPv6 zone', () => {
    const allowed = allowList(['10.89.0.0/16', 'fe80::/64']);
    expect(allowed('::ffff:10.89.3.4')).toBe(true);
    expect(allowed('::ffff:10.90.3.4')).toBe(false);
    expect(allowed('fe80::1%eth0')).toBe(true);
  });

  it('the whole address space and nothing', () => {
    expect(allowList(['0.0.0.0/0'])('203.0.113.9')).toBe(true);
    expect(allowList(['0.0.0.0/0'])('2001:db8::1')).toBe(false);
    expect(allowList(['::/0'])('2001:db8::1')).toBe(true);
    expect(allowList([])('10.0.0.1')).toBe(false);
  });

  it('parseCidr takes ADDR/PREFIX and a bare address (a host), and refuses the rest', () => {
    for (const ok of ['10.0.0.0/8', '10.1.2.3', 'fd00::/8', '::1', '0.0.0.0/0', 'fd00::1/128']) expect(parseCidr(ok), ok).toBeDefined();
    for (const bad of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0/8', 'fd00::/129', '10.0.0.0/8/8', 'x/8', '10.0.0.0/', '10.0.0.0/08x', '']) expect(parseCidr(bad), bad).toBeUndefined();
  });
});
