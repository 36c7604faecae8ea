import { describe, it, expect } from 'vitest';
import { broadcastOf, gatewayOf, maskOf, parseIPv4, parseSubnet, type Subnet } from '../config/ipv4.js';
import { candidates, isAssignable } from './ipam.js';
import { mulberry32, intBelow } from '../../test/support/random.js';


/** Random subnet small enough to enumerate (/20../30), anywhere in the address space. */
function randomSmallSubnet(rand: () => number): Subnet {
  const prefix = 20 + intBelow(rand, 11);
  return { network: (intBelow(rand, 0x100000000) & maskOf(prefix)) >>> 0, prefix };
}

describe('isAssignable', () => {
  it('excludes the network, gateway and broadcast addresses and everything outside the subnet', () => {
    const s = parseSubnet('10.89.0.0/24');
    expect(isAssignable(s, parseIPv4('10.89.0.0'))).toBe(false);
    expect(isAssignable(s, parseIPv4('10.89.0.1'))).toBe(false);
    expect(isAssignable(s, parseIPv4('10.89.0.2'))).toBe(true);
    expect(isAssignable(s, parseIPv4('10.89.0.254'))).toBe(true);
    expect(isAssignable(s, parseIPv4('10.89.0.255'))).toBe(false);
    expect(isAssignable(s, parseIPv4('10.89.1.5'))).toBe(false);
    expect(isAssignable(s, parseIPv4('10.88.255.200'))).toBe(false);
  });

  it('leaves exactly one address in a /30 and 2^(32-p) - 3 in general', () => {
    const rand = mulberry32(61);
    for (let i = 0; i < 200; i++) {
      const s = randomSmallSubnet(rand);
      let n = 0;
      for (let a = Math.max(0, s.network - 2); a <= Math.min(0xffffffff, broadcastOf(s) + 2); a++) if (isAssignable(s, a)) n++;
      expect(n).toBe(2 ** (32 - s.prefix) - 3);
    }
  });
});

describe('candidates', () => {
  it('starts at the first host address after the gateway when nothing was reserved', () => {
    const s = parseSubnet('10.89.0.0/29');
    expect([...candidates(s, undefined)]).toEqual([2, 3, 4, 5, 6].map((h) => s.network + h));
  });

  it('starts after the last reserved address and wraps around once', () => {
    const s = parseSubnet('10.89.0.0/29'); // hosts .2 .. .6
    expect([...candidates(s, s.network + 4)]).toEqual([5, 6, 2, 3, 4].map((h) => s.network + h));
    // last is the final host address: wrap straight to the first
    expect([...candidates(s, s.network + 6)]).toEqual([2, 3, 4, 5, 6].map((h) => s.network + h));
  });

  it('ignores a `last` outside the assignable range (gateway, broadcast, another subnet)', () => {
    const s = parseSubnet('10.89.0.0/29');
    const fromStart = [...candidates(s, undefined)];
    for (const last of [s.network, gatewayOf(s), broadcastOf(s), parseIPv4('192.168.0.3'), 0, 0xffffffff]) {
      expect([...candidates(s, last)]).toEqual(fromStart);
    }
  });

  it('is lazy: the first candidate of a /8 comes without enumerating the subnet', () => {
    const s = parseSubnet('10.0.0.0/8');
    const it = candidates(s, parseIPv4('10.1.2.3'));
    expect(it.next().value).toBe(parseIPv4('10.1.2.4'));
    expect(it.next().value).toBe(parseIPv4('10.1.2.5'));
  });

  it('on random subnets yields each assignable address exactly once, never network/gateway/broadcast, starting after `last` and wrapping', () => {
    const rand = mulberry32(62);
    for (let i = 0; i < 2000; i++) {
      const s = randomSmallSubnet(rand);
      const first = gatewayOf(s) + 1;
      const end = broadcastOf(s) - 1;
      const r = rand();
      const last =
        r < 0.15 ? undefined : r < 0.25 ? [s.network, gatewayOf(s), broadcastOf(s), end][intBelow(rand, 4)]! : first + intBelow(rand, end - first + 1);
      const got = [...candidates(s, last)];

      expect(got).toHaveLength(2 ** (32 - s.prefix) - 3);
      expect(new Set(got).size).toBe(got.length);
      // (plain checks first, one expect each: per-address expects make this test slow)
      const bad = got.filter((a) => !isAssignable(s, a) || a === s.network || a === gatewayOf(s) || a === broadcastOf(s));
      expect(bad).toEqual([]);
      const start = last !== undefined && last >= first && last < end ? last + 1 : first;
      expect(got[0]).toBe(start);
      // ascending up to the end of the range, then ascending again from the first host address
      const wrapAt = got.indexOf(first);
      expect(wrapAt).toBeGreaterThanOrEqual(0);
      const breaks = got.flatMap((a, k) => (k > 0 && a !== got[k - 1]! + 1 ? [k] : []));
      expect(breaks).toEqual(wrapAt === 0 ? [] : [wrapAt]);
      if (wrapAt > 0) expect(got[wrapAt - 1]).toBe(end);
      if (last !== undefined && isAssignable(s, last)) expect(got.at(-1)).toBe(last);
    }
  });
});

