import { describe, it, expect } from 'vitest';
import { TsnetError } from '../errors.js';
import { ipVersion, isIPv4 } from '../../resolvers/core/address.js';
import {
  broadcastOf,
  contains,
  formatIPv4,
  formatSubnet,
  gatewayOf,
  isLoopback,
  maskOf,
  overlaps,
  parseIPv4,
  parseSubnet,
  type Subnet,
} from './ipv4.js';
import { mulberry32, intBelow, pick } from '../../test/support/random.js';
import { outcome, usageErrorOf } from '../../test/support/usage.js';

const randomU32 = (rand: () => number) => intBelow(rand, 0x100000000);

function randomSubnet(rand: () => number): Subnet {
  const prefix = 8 + intBelow(rand, 23); // 8..30
  return { network: (randomU32(rand) & maskOf(prefix)) >>> 0, prefix };
}

const PIECES = [
  '0', '1', '9', '10', '25', '255', '256', '300', '01', '00', '999', '4294967296', '.', '..', '/', '/8', '/30',
  '/31', '/7', '/08', '/123', ' ', '\t', '\n', '-', '+', 'x', '0x7f', ':', '::1', '#', '\0', '\u00ff', '\u2028', 'é',
  '10.89.0.0', '192.168.1.1', '1e3',
];
function randomJunk(rand: () => number): string {
  const n = intBelow(rand, 12);
  let s = '';
  for (let i = 0; i < n; i++) {
    s += rand() < 0.7 ? pick(rand, PIECES) : String.fromCharCode(intBelow(rand, 0x3000));
  }
  if (rand() < 0.02) s = s.repeat(200); // long inputs
  return s;
}

describe('isIPv4 / parseIPv4', () => {
  it('accepts dotted quads and converts them to unsigned 32-bit numbers', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('10.89.0.5')).toBe(((10 << 24) | (89 << 16) | 5) >>> 0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('192.168.1.1')).toBe(0xc0a80101);
    expect(parseIPv4('128.0.0.0')).toBeGreaterThan(0);
  });

  it('rejects leading zeros, out-of-range octets, wrong part counts and surrounding whitespace', () => {
    for (const bad of ['01.2.3.4', '1.2.3.256', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4\n', '1..2.3', '', '::1', '0x7f.0.0.1', '-1.2.3.4']) {
      expect(isIPv4(bad), bad).toBe(false);
    }
  });

  it('parseIPv4 throws a usage error naming what was being parsed', () => {
    const e = usageErrorOf(() => parseIPv4('10.0.0.300', '--ip address'));
    expect(e.message).toContain('--ip address');
    expect(e.message).toContain('"10.0.0.300"');
  });

  it('formatIPv4 inverts parseIPv4 for random addresses (both directions)', () => {
    const rand = mulberry32(1);
    for (let i = 0; i < 3000; i++) {
      const n = randomU32(rand);
      const text = formatIPv4(n);
      expect(isIPv4(text)).toBe(true);
      expect(parseIPv4(text)).toBe(n);
      const dotted = [0, 0, 0, 0].map(() => intBelow(rand, 256)).join('.');
      expect(formatIPv4(parseIPv4(dotted))).toBe(dotted);
    }
  });

  it('on random junk either parses to a value that formats back to the input or throws only a usage error', () => {
    const rand = mulberry32(2);
    const seen = { ok: 0, usage: 0 };
    for (let i = 0; i < 4000; i++) {
      const text = rand() < 0.3 ? formatIPv4(randomU32(rand)) : randomJunk(rand);
      const r = outcome(() => parseIPv4(text));
      seen[r]++;
      expect(isIPv4(text)).toBe(r === 'ok');
      if (r === 'ok') expect(formatIPv4(parseIPv4(text))).toBe(text);
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.usage).toBeGreaterThan(100);
  });
});

describe('maskOf', () => {
  it('builds unsigned netmasks for prefixes 0..32', () => {
    expect(maskOf(0)).toBe(0);
    expect(maskOf(8)).toBe(0xff000000);
    expect(maskOf(16)).toBe(0xffff0000);
    expect(maskOf(30)).toBe(0xfffffffc);
    expect(maskOf(32)).toBe(0xffffffff);
    for (let p = 0; p <= 32; p++) {
      const m = maskOf(p);
      expect(m).toBeGreaterThanOrEqual(0);
      // exactly p leading one bits
      expect(m.toString(2).replace(/0+$/, '').length).toBe(p);
    }
  });
});

describe('parseSubnet', () => {
  it('parses a CIDR into network and prefix', () => {
    expect(parseSubnet('10.89.0.0/16')).toEqual({ network: parseIPv4('10.89.0.0'), prefix: 16 });
    expect(parseSubnet('192.168.4.0/30')).toEqual({ network: parseIPv4('192.168.4.0'), prefix: 30 });
    expect(parseSubnet('10.0.0.0/8')).toEqual({ network: parseIPv4('10.0.0.0'), prefix: 8 });
  });

  it('rejects host bits and suggests the network address', () => {
    const e = usageErrorOf(() => parseSubnet('10.89.3.7/16'));
    expect(e.message).toContain('host bits');
    expect(e.message).toContain('did you mean 10.89.0.0/16?');
  });

  it('rejects prefixes outside /8../30, missing prefixes and bad addresses', () => {
    for (const bad of ['10.0.0.0/7', '10.0.0.0/31', '10.0.0.0/32', '10.0.0.0/0', '10.0.0.0', '10.0.0.0/', '10.0.0.0/100', '10.0.0/16', '10.0.0.256/24', 'a.b.c.d/16', '10.0.0.0/16 ', '/16']) {
      const e = usageErrorOf(() => parseSubnet(bad));
      expect(e.message, bad).toContain('/8 to /30');
    }
  });

  it('formatSubnet and parseSubnet round-trip random valid subnets', () => {
    const rand = mulberry32(3);
    for (let i = 0; i < 3000; i++) {
      const s = randomSubnet(rand);
      const text = formatSubnet(s);
      expect(parseSubnet(text)).toEqual(s);
    }
  });

  it('on random junk returns a subnet without host bits or throws only a usage error', () => {
    const rand = mulberry32(4);
    const seen = { ok: 0, usage: 0 };
    for (let i = 0; i < 4000; i++) {
      let text: string;
      const r = rand();
      if (r < 0.2) text = formatSubnet(randomSubnet(rand));
      else if (r < 0.4) text = `${formatIPv4(randomU32(rand))}/${intBelow(rand, 40)}`;
      else text = randomJunk(rand);
      const res = outcome(() => parseSubnet(text));
      seen[res]++;
      if (res === 'ok') {
        const s = parseSubnet(text);
        expect(s.prefix).toBeGreaterThanOrEqual(8);
        expect(s.prefix).toBeLessThanOrEqual(30);
        expect((s.network & maskOf(s.prefix)) >>> 0).toBe(s.network);
        expect(parseSubnet(formatSubnet(s))).toEqual(s);
      }
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.usage).toBeGreaterThan(100);
  });
});

describe('contains / broadcastOf / gatewayOf', () => {
  it('computes gateway and broadcast of a subnet', () => {
    const s = parseSubnet('10.89.0.0/16');
    expect(formatIPv4(gatewayOf(s))).toBe('10.89.0.1');
    expect(formatIPv4(broadcastOf(s))).toBe('10.89.255.255');
    const top = parseSubnet('255.255.255.252/30');
    expect(broadcastOf(top)).toBe(0xffffffff);
  });

  it('a subnet contains exactly the addresses from its network to its broadcast address', () => {
    const rand = mulberry32(5);
    for (let i = 0; i < 3000; i++) {
      const s = randomSubnet(rand);
      const b = broadcastOf(s);
      expect(contains(s, s.network)).toBe(true);
      expect(contains(s, b)).toBe(true);
      expect(contains(s, gatewayOf(s))).toBe(true);
      expect(b - s.network + 1).toBe(2 ** (32 - s.prefix));
      if (s.network > 0) expect(contains(s, s.network - 1)).toBe(false);
      if (b < 0xffffffff) expect(contains(s, b + 1)).toBe(false);
      const inside = s.network + intBelow(rand, b - s.network + 1);
      expect(contains(s, inside)).toBe(true);
    }
  });
});

describe('overlaps', () => {
  it('detects nested and disjoint subnets', () => {
    expect(overlaps(parseSubnet('10.0.0.0/8'), parseSubnet('10.89.0.0/16'))).toBe(true);
    expect(overlaps(parseSubnet('10.89.0.0/16'), parseSubnet('10.90.0.0/16'))).toBe(false);
    expect(overlaps(parseSubnet('192.168.0.0/30'), parseSubnet('192.168.0.4/30'))).toBe(false);
  });

  it('is symmetric, reflexive and agrees with "one contains the other\'s network" on random subnets', () => {
    const rand = mulberry32(6);
    let hits = 0;
    for (let i = 0; i < 4000; i++) {
      const a = randomSubnet(rand);
      // bias towards related subnets so that overlaps are common
      const b = rand() < 0.5 ? randomSubnet(rand) : { network: (a.network & maskOf(8)) >>> 0, prefix: 8 + intBelow(rand, 23) };
      b.network = (b.network & maskOf(b.prefix)) >>> 0;
      const o = overlaps(a, b);
      expect(overlaps(b, a)).toBe(o);
      expect(overlaps(a, a)).toBe(true);
      expect(o).toBe(contains(a, b.network) || contains(b, a.network));
      if (o) hits++;
    }
    expect(hits).toBeGreaterThan(100);
  });
});

describe('isLoopback', () => {
  it('recognises 127/8 and ::1 in its spellings', () => {
    for (const a of ['127.0.0.1', '127.0.0.53', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001', '::0:1']) {
      expect(isLoopback(a), a).toBe(true);
    }
  });

  it('does not flag ordinary addresses', () => {
    for (const a of ['10.0.0.1', '1.1.1.1', '128.0.0.1', '12.7.0.0.1', '::', '::2', 'fe80::1', '2001:db8::1', '::10']) {
      expect(isLoopback(a), a).toBe(false);
    }
  });
});

describe('ipVersion (node:net isIP without loading node:net)', () => {
  it('agrees with node:net isIP on typical and edge-case addresses', async () => {
    const { isIP } = await import('node:net');
    const samples = [
      '::1', '::', '1::', 'fe80::1%eth0', '2001:db8::8a2e:370:7334', '2001:0db8:0000:0000:0000:ff00:0042:8329',
      '::ffff:192.0.2.1', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::',
      '12345::', 'g::1', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '1:2:3:4:5:6::1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
      '10.89.0.1', '10.89.0.256', '', 'localhost', '::1.2.3', '1.2.3.4::',
    ];
    for (const s of samples) expect(ipVersion(s), s).toBe(isIP(s));
  });

  it('agrees with node:net isIP on random strings over the address alphabet', async () => {
    const { isIP } = await import('node:net');
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const alphabet = '0123456789abcdef:.';
    for (let i = 0; i < 20000; i++) {
      const s = Array.from({ length: 2 + Math.floor(rnd() * 20) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
      expect(ipVersion(s), s).toBe(isIP(s));
    }
  });
});
