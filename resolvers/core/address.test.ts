import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  addressBytes, addressText, canonicalAddress, inetAton, inetAtonExact, ipv4Bytes, ipv6Bytes, ipVersion, isIPv4, isIPv6, splitZone, v4MappedBytes,
} from './address.js';
import { seededRandom } from './sim.js';

const randomString = (rand: () => number, alphabet: string, max: number) =>
  Array.from({ length: Math.floor(rand() * max) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');

const SAMPLES = [
  '::1', '::', '1::', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%a_b', 'fe80::1%a:b.c-d', '2001:db8::8a2e:370:7334', '2001:0db8:0000:0000:0000:ff00:0042:8329',
  '::ffff:192.0.2.1', '::ffff:010.0.0.1', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '12345::', 'g::1',
  '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '::1:2:3:4:5:6:7:8', '1:2:3:4:5:6::1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4::', '::1.2.3', ':1::', '1:',
  '10.89.0.1', '10.89.0.256', '01.2.3.4', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4\n', '', 'localhost', '0x7f.0.0.1', '10.1', '-1.2.3.4', '١.٢.٣.٤',
];

describe('syntax checks agree with node:net', () => {
  it('on typical and edge-case addresses', () => {
    for (const s of SAMPLES) expect(ipVersion(s), s).toBe(isIP(s));
  });

  it('on random strings over the address alphabet (with zones)', () => {
    const rand = seededRandom(11);
    const wrong: string[] = [];
    for (let i = 0; i < 30000; i++) {
      const s = randomString(rand, '0123456789abcdefABCDEFx:.%', 2 + Math.floor(rand() * 4) * 8);
      const v = isIP(s);
      if (ipVersion(s) !== v || isIPv4(s) !== (v === 4) || isIPv6(s) !== (v === 6)) wrong.push(s);
    }
    expect(wrong).toEqual([]);
  });

  it('on random well-formed addresses and their mutations', () => {
    const rand = seededRandom(12);
    const wrong: string[] = [];
    for (let i = 0; i < 10000; i++) {
      const bytes = Uint8Array.from({ length: rand() < 0.3 ? 4 : 16 }, () => (rand() < 0.5 ? 0 : Math.floor(rand() * 256)));
      let s = addressText(bytes);
      if (ipVersion(s) !== (bytes.length === 4 ? 4 : 6)) wrong.push(s);
      if (rand() < 0.5) {
        const at = Math.floor(rand() * (s.length + 1));
        s = s.slice(0, at) + '0123456789abcdef:.%g '[Math.floor(rand() * 21)]! + s.slice(at + (rand() < 0.5 ? 1 : 0));
      }
      if (ipVersion(s) !== isIP(s)) wrong.push(s);
    }
    expect(wrong).toEqual([]);
  });
});

describe('to bytes and canonical text', () => {
  it('reads strict dotted quads', () => {
    expect([...ipv4Bytes('10.0.0.1')!]).toEqual([10, 0, 0, 1]);
    expect([...ipv4Bytes('255.255.255.255')!]).toEqual([255, 255, 255, 255]);
    for (const bad of ['10.1', '010.0.0.1', '1.2.3.256', '1.2.3.4 ', '0x7f.0.0.1', '1..2.3']) expect(ipv4Bytes(bad), bad).toBeUndefined();
  });

  it('reads IPv6 with an embedded dotted quad, and a zone only through addressBytes', () => {
    const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);
    expect(hex(ipv6Bytes('::ffff:10.0.0.1'))).toBe('00000000000000000000ffff0a000001');
    expect(hex(ipv6Bytes('::'))).toBe('0'.repeat(32));
    expect(hex(ipv6Bytes('::1'))).toBe(`${'0'.repeat(31)}1`);
    expect(hex(ipv6Bytes('FD00:50::5'))).toBe('fd000050000000000000000000000005');
    expect(hex(ipv6Bytes('1:2:3:4:5:6:7::'))).toBe('00010002000300040005000600070000');
    expect(ipv6Bytes('fe80::1%eth0')).toBeUndefined();
    expect(hex(addressBytes('fe80::1%eth0'))).toBe('fe800000000000000000000000000001');
    expect(hex(addressBytes('10.0.0.1'))).toBe('0a000001');
    expect(addressBytes('10.1')).toBeUndefined();
    expect(splitZone('fe80::1%eth0')).toEqual({ address: 'fe80::1', zone: 'eth0' });
    expect(splitZone('::1')).toEqual({ address: '::1', zone: undefined });
  });

  it('writes IPv6 as RFC 5952 does', () => {
    const cases: Array<[string, string]> = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // §4.1, §4.2.1
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: one zero group stays
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3: the first of equal runs
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3: the longest run
      ['2001:DB8::AB', '2001:db8::ab'], // §4.3
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['::ffff:0a00:0001', '::ffff:10.0.0.1'], // §5: IPv4-mapped in mixed notation
      ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
      ['::0a00:0001', '::a00:1'],
      ['fe80::1%eth0', 'fe80::1'],
      ['10.0.0.1', '10.0.0.1'],
    ];
    for (const [input, want] of cases) expect(canonicalAddress(input), input).toBe(want);
    expect(canonicalAddress('10.1')).toBeUndefined();
  });

  it('agrees with the WHATWG URL parser (an independent IPv6 reader) on random addresses', () => {
    const rand = seededRandom(13);
    const wrong: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const words = Array.from({ length: 8 }, () => (rand() < 0.4 ? 0 : Math.floor(rand() * 65536)));
      // a random spelling: full, upper case, leading zeros, or compressed at a random zero run
      const full = words.map((w) => w.toString(16).padStart(rand() < 0.5 ? 4 : 1, '0')).join(':');
      const text = rand() < 0.3 ? full.toUpperCase() : full;
      const url = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
      const bytesOk = Buffer.from(ipv6Bytes(text)!).toString('hex') === words.map((w) => w.toString(16).padStart(4, '0')).join('');
      if (!bytesOk || (!mapped && canonicalAddress(text) !== url) || canonicalAddress(url) !== canonicalAddress(text)) wrong.push(text);
    }
    expect(wrong).toEqual([]);
  });

  it('finds the IPv4 address inside ::ffff:a.b.c.d', () => {
    expect([...v4MappedBytes(ipv6Bytes('::ffff:10.0.0.1')!)!]).toEqual([10, 0, 0, 1]);
    expect(v4MappedBytes(ipv6Bytes('::10.0.0.1')!)).toBeUndefined();
    expect(v4MappedBytes(ipv4Bytes('10.0.0.1')!)).toBeUndefined();
  });
});

const text = (b: Uint8Array | undefined) => (b ? addressText(b) : undefined);

describe('inet_aton (glibc resolv/inet_addr.c, musl inet_aton.c)', () => {
  it('reads the shorthand forms of the man page', () => {
    const cases: Array<[string, string | undefined]> = [
      ['10.1', '10.0.0.1'], // a.b: b fills 24 bits
      ['0x7f.1', '127.0.0.1'],
      ['010.0.0.1', '8.0.0.1'], // octal
      ['127.1', '127.0.0.1'],
      ['10.1.2', '10.1.0.2'], // a.b.c: c fills 16 bits
      ['1.2.3.4', '1.2.3.4'],
      ['0', '0.0.0.0'],
      ['00', '0.0.0.0'],
      ['4294967295', '255.255.255.255'],
      ['0xffffffff', '255.255.255.255'],
      ['037777777777', '255.255.255.255'],
      ['0XA.0Xb.0xC.0xd', '10.11.12.13'],
      ['1.0xffffff', '1.255.255.255'],
      ['1.2.0xffff', '1.2.255.255'],
      ['1.2.3.0377', '1.2.3.255'],
      ['0000000000000000000001.2.3.4', '1.2.3.4'], // leading zeros are octal, not overflow
      ['1.2.3.4.5', undefined], // at most 4 parts
      ['256.1', undefined], // every part but the last is a byte
      ['1.16777216', undefined], // the last of 2 parts is at most 0xffffff
      ['1.2.65536', undefined],
      ['1.2.3.256', undefined],
      ['4294967296', undefined],
      ['99999999999999999999999', undefined], // strtoul's ERANGE
      ['08', undefined], // 8 is no octal digit: the parse stops before it
      ['0x', undefined], // "0x" without a hex digit is 0, then 'x'
      ['0xg', undefined],
      ['1e3', undefined],
      ['', undefined],
      ['.1', undefined],
      ['1.', undefined],
      ['1..2', undefined],
      ['1.2.3.4.', undefined],
      [' 1.2.3.4', undefined], // isdigit before strtoul: no leading space
      ['+1.2.3.4', undefined],
      ['-1', undefined],
      ['1.-2', undefined],
      ['١٢٣', undefined], // isdigit is ASCII only
    ];
    for (const [input, want] of cases) {
      expect(text(inetAton(input)), JSON.stringify(input)).toBe(want);
      expect(text(inetAtonExact(input)), JSON.stringify(input)).toBe(want);
    }
  });

  it('inet_aton stops at whitespace; the exact form (getaddrinfo, musl) rejects anything after', () => {
    for (const [input, want] of [['1.2.3.4 x', '1.2.3.4'], ['10.1\t', '10.0.0.1'], ['10.1\ngarbage', '10.0.0.1'], ['1.2.3.4\v', '1.2.3.4'], ['1.2.3.4\r', '1.2.3.4']] as const) {
      expect(text(inetAton(input)), JSON.stringify(input)).toBe(want);
      expect(inetAtonExact(input), JSON.stringify(input)).toBeUndefined();
    }
    for (const bad of ['1.2.3.4x', '1.2.3.4/8', '10.1:53', '1.2.3.4\u00a0']) {
      expect(inetAton(bad), JSON.stringify(bad)).toBeUndefined();
      expect(inetAtonExact(bad), JSON.stringify(bad)).toBeUndefined();
    }
    // a C string ends at its NUL
    expect(text(inetAtonExact('10.1\0junk'))).toBe('10.0.0.1');
  });

  it('agrees with node:net on what is a strict dotted quad: each one means itself', () => {
    const rand = seededRandom(14);
    const wrong: string[] = [];
    let quads = 0;
    for (let i = 0; i < 20000; i++) {
      const s = Array.from({ length: 3 + Math.floor(rand() * 3) }, () => randomString(rand, '0123456789', 5)).join('.');
      if (isIP(s) !== 4) continue;
      quads++;
      if (text(inetAtonExact(s)) !== s) wrong.push(s);
    }
    expect(quads).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
  });

  it('agrees with a BigInt model of the grammar on random strings', () => {
    // The grammar restated: parts split at '.', each decimal | 0 octal | 0x hex, sizes by count.
    const model = (s: string): string | undefined => {
      const parts = s.split('.');
      if (parts.length > 4 || !parts.every((p) => /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.test(p))) return undefined;
      const v = parts.map((p) => (/^0[xX]/.test(p) ? BigInt(p) : /^0./.test(p) ? BigInt(`0o${p.slice(1)}`) : BigInt(p)));
      const last = v.pop()!;
      if (v.some((x) => x > 255n) || last >= 1n << BigInt(8 * (4 - v.length))) return undefined;
      let n = last;
      v.forEach((x, k) => (n += x << BigInt(8 * (3 - k))));
      return [24n, 16n, 8n, 0n].map((sh) => (n >> sh) & 255n).join('.');
    };
    const rand = seededRandom(15);
    const wrong: string[] = [];
    let valid = 0;
    for (let i = 0; i < 30000; i++) {
      const s = randomString(rand, '0123456789.xXafgAF', 3 + Math.floor(rand() * 14));
      const want = model(s);
      if (want !== undefined) valid++;
      if (text(inetAtonExact(s)) !== want) wrong.push(s);
    }
    expect(valid).toBeGreaterThan(1000);
    expect(wrong).toEqual([]);
  });
});
