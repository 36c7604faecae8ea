import { describe, it, expect } from 'vitest';
import {
  AF_INET,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_LINK_NETNSID,
  IFLA_MASTER,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_TABLE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RTPROT_BOOT,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  VETH_INFO_PEER,
  attr,
  attrIPv4,
  attrNested,
  attrString,
  attrU32,
  cString,
  decodeAddr,
  decodeLink,
  decodeRoute,
  ifaddrmsg,
  ifinfomsg,
  message,
  parseAttrs,
  rtmsg,
  splitMessages,
  type NlMessage,
} from './netlink.js';
import { mulberry32, intBelow } from '../../test/support/random.js';

const randomBytes = (rand: () => number, n: number) => Buffer.from(Array.from({ length: n }, () => intBelow(rand, 256)));

const ip = (text: string) => text.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
const plain = (m: NlMessage) => ({ type: m.type, flags: m.flags, seq: m.seq, data: [...m.data] });

describe('attributes', () => {
  it('attr writes length (unpadded) and type, then the payload, zero-padded to 4 bytes', () => {
    for (let n = 0; n <= 9; n++) {
      const payload = Buffer.alloc(n, 0xab);
      const a = attr(42, payload);
      expect(a.length % 4).toBe(0);
      expect(a.length).toBe(4 + n + ((4 - (n % 4)) % 4));
      expect(a.readUInt16LE(0)).toBe(4 + n);
      expect(a.readUInt16LE(2)).toBe(42);
      expect(a.subarray(4, 4 + n).equals(payload)).toBe(true);
      expect([...a.subarray(4 + n)].every((b) => b === 0)).toBe(true);
    }
  });

  it('attrString NUL-terminates, attrU32 is little-endian, attrIPv4 is network order', () => {
    const s = attrString(IFLA_IFNAME, 'tsv1');
    expect(s.readUInt16LE(0)).toBe(4 + 5);
    expect(s.subarray(4, 9).toString('latin1')).toBe('tsv1\0');
    expect(s.length).toBe(12);

    const u = attrU32(IFLA_MASTER, 0x01020304);
    expect([...u.subarray(4)]).toEqual([4, 3, 2, 1]);
    expect(attrU32(1, -1).readUInt32LE(4)).toBe(0xffffffff);

    const a = attrIPv4(IFA_LOCAL, ip('10.89.0.2'));
    expect([...a.subarray(4)]).toEqual([10, 89, 0, 2]);
    expect(attrIPv4(1, ip('255.255.255.255')).readUInt32BE(4)).toBe(0xffffffff);
  });

  it('attrNested sets NLA_F_NESTED on the type and wraps the children; parseAttrs clears the flag', () => {
    const nested = attrNested(IFLA_LINKINFO, [attrString(IFLA_INFO_KIND, 'veth'), attrU32(IFLA_INFO_DATA, 7)]);
    expect(nested.readUInt16LE(2)).toBe(IFLA_LINKINFO | 0x8000);
    expect(nested.readUInt16LE(0)).toBe(4 + 12 + 8);
    const outer = parseAttrs(nested, 0);
    expect([...outer.keys()]).toEqual([IFLA_LINKINFO]);
    const inner = parseAttrs(outer.get(IFLA_LINKINFO)!, 0);
    expect(cString(inner.get(IFLA_INFO_KIND))).toBe('veth');
    expect(inner.get(IFLA_INFO_DATA)!.readUInt32LE(0)).toBe(7);
  });

  it('parseAttrs starts after the fixed header, skips padding, and returns payloads without it', () => {
    const buf = Buffer.concat([Buffer.alloc(8, 0xee), attr(1, Buffer.from([1])), attr(2, Buffer.from([1, 2, 3, 4, 5])), attr(3, Buffer.alloc(0))]);
    const attrs = parseAttrs(buf, 8);
    expect([...attrs.keys()]).toEqual([1, 2, 3]);
    expect([...attrs.get(1)!]).toEqual([1]);
    expect([...attrs.get(2)!]).toEqual([1, 2, 3, 4, 5]);
    expect(attrs.get(3)!.length).toBe(0);
  });

  it('parseAttrs stops at a truncated attribute or one with length < 4, keeping those before it', () => {
    const good = attrU32(1, 5);
    const truncated = Buffer.concat([good, attrU32(2, 6).subarray(0, 6)]);
    expect([...parseAttrs(truncated, 0).keys()]).toEqual([1]);
    const tooShort = Buffer.concat([good, Buffer.from([2, 0, 9, 0]), attrU32(3, 7)]);
    expect([...parseAttrs(tooShort, 0).keys()]).toEqual([1]);
    expect(parseAttrs(Buffer.alloc(3), 0).size).toBe(0);
    expect(parseAttrs(good, 100).size).toBe(0);
  });

  it('round-trips random attribute lists through attr and parseAttrs', () => {
    const rand = mulberry32(71);
    for (let i = 0; i < 2000; i++) {
      const n = intBelow(rand, 8);
      const types = [...new Set(Array.from({ length: n }, () => 1 + intBelow(rand, 0x3fff)))];
      const payloads = types.map(() => randomBytes(rand, intBelow(rand, 41)));
      const buf = Buffer.concat(types.map((t, k) => attr(t, payloads[k]!)));
      expect(buf.length % 4).toBe(0);
      const parsed = parseAttrs(buf, 0);
      expect([...parsed.keys()]).toEqual(types);
      types.forEach((t, k) => expect(parsed.get(t)!.equals(payloads[k]!)).toBe(true));
    }
  });

  it('parseAttrs never throws on random bytes and returns payloads that lie inside the buffer', () => {
    const rand = mulberry32(72);
    let found = 0;
    for (let i = 0; i < 4000; i++) {
      // mix junk with real attributes so that some parse
      const parts: Buffer[] = [];
      for (let k = intBelow(rand, 5); k >= 0; k--) {
        parts.push(rand() < 0.5 ? attr(intBelow(rand, 0x10000), randomBytes(rand, intBelow(rand, 20))) : randomBytes(rand, intBelow(rand, 12)));
      }
      const buf = Buffer.concat(parts);
      const offset = rand() < 0.6 ? 0 : intBelow(rand, 8);
      const attrs = parseAttrs(buf, offset);
      found += attrs.size;
      let total = 0;
      for (const [type, payload] of attrs) {
        expect(type & 0x8000).toBe(0);
        expect(payload.buffer).toBe(buf.buffer);
        expect(payload.byteOffset).toBeGreaterThanOrEqual(buf.byteOffset + offset + 4);
        expect(payload.byteOffset + payload.length).toBeLessThanOrEqual(buf.byteOffset + buf.length);
        total += 4 + payload.length;
      }
      expect(total).toBeLessThanOrEqual(Math.max(0, buf.length - offset));
    }
    expect(found).toBeGreaterThan(800);
  });

  it('cString cuts at the first NUL and maps undefined to undefined', () => {
    expect(cString(Buffer.from('eth0\0junk'))).toBe('eth0');
    expect(cString(Buffer.from('lo'))).toBe('lo');
    expect(cString(Buffer.from('\0'))).toBe('');
    expect(cString(undefined)).toBeUndefined();
  });
});

describe('fixed headers', () => {
  it('ifinfomsg is 16 bytes: family AF_UNSPEC, index, flags, change', () => {
    const b = ifinfomsg(7, IFF_UP, IFF_UP);
    expect(b.length).toBe(16);
    expect(b.readUInt8(0)).toBe(0);
    expect(b.readUInt16LE(2)).toBe(0);
    expect(b.readInt32LE(4)).toBe(7);
    expect(b.readUInt32LE(8)).toBe(IFF_UP);
    expect(b.readUInt32LE(12)).toBe(IFF_UP);
  });

  it('ifaddrmsg is 8 bytes: AF_INET, prefix, flags 0, scope universe, index', () => {
    const b = ifaddrmsg(24, 5);
    expect([...b]).toEqual([AF_INET, 24, 0, RT_SCOPE_UNIVERSE, 5, 0, 0, 0]);
  });

  it('rtmsg is 12 bytes for an IPv4 unicast boot-protocol route in the main table', () => {
    const b = rtmsg(16);
    expect([...b]).toEqual([AF_INET, 16, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0, 0, 0, 0]);
  });
});

describe('messages', () => {
  it('message writes nlmsghdr (len, type, flags, seq, pid 0) followed by the body', () => {
    const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    const body = [ifinfomsg(0), attrString(IFLA_IFNAME, 'tsv1')];
    const m = message(RTM_NEWLINK, flags, 1234, body);
    expect(m.length).toBe(16 + 16 + 12);
    expect(m.readUInt32LE(0)).toBe(m.length);
    expect(m.readUInt16LE(4)).toBe(RTM_NEWLINK);
    expect(m.readUInt16LE(6)).toBe(flags);
    expect(m.readUInt32LE(8)).toBe(1234);
    expect(m.readUInt32LE(12)).toBe(0);
    expect(m.subarray(16).equals(Buffer.concat(body))).toBe(true);
  });

  it('encodes a message and decodes it back with splitMessages', () => {
    const body = [ifaddrmsg(24, 5), attrIPv4(IFA_LOCAL, ip('10.89.0.2')), attrIPv4(IFA_ADDRESS, ip('10.89.0.2'))];
    const out = [...splitMessages(message(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK, 9, body))];
    expect(out).toHaveLength(1);
    expect(out[0]!.type).toBe(RTM_NEWADDR);
    expect(out[0]!.flags).toBe(NLM_F_REQUEST | NLM_F_ACK);
    expect(out[0]!.seq).toBe(9);
    expect(out[0]!.data.equals(Buffer.concat(body))).toBe(true);
    expect(decodeAddr(out[0]!.data)).toEqual({ index: 5, prefix: 24, address: ip('10.89.0.2') });
  });

  it('splitMessages reads several messages from one buffer, honouring 4-byte alignment between them', () => {
    const a = message(RTM_NEWLINK, NLM_F_MULTI, 1, [Buffer.from([1, 2, 3, 4, 5])]); // 21 bytes: next starts at 24
    const b = message(RTM_NEWLINK, NLM_F_MULTI, 2, [ifinfomsg(3)]);
    const done = message(NLMSG_DONE, NLM_F_MULTI, 3, [Buffer.alloc(4)]);
    const out = [...splitMessages(Buffer.concat([pad4(a), b, done]))];
    expect(out.map((m) => [m.type, m.seq, m.data.length])).toEqual([
      [RTM_NEWLINK, 1, 5],
      [RTM_NEWLINK, 2, 16],
      [NLMSG_DONE, 3, 4],
    ]);
    expect([...out[0]!.data]).toEqual([1, 2, 3, 4, 5]);
  });

  it('splitMessages on input truncated at any byte yields exactly the complete messages before the cut', () => {
    const msgs = [
      message(RTM_NEWLINK, NLM_F_MULTI, 1, [ifinfomsg(1), attrString(IFLA_IFNAME, 'lo')]),
      message(RTM_NEWADDR, NLM_F_MULTI, 2, [ifaddrmsg(8, 1), attrIPv4(IFA_LOCAL, ip('127.0.0.1'))]),
      message(NLMSG_DONE, NLM_F_MULTI, 3, [Buffer.alloc(4)]),
    ];
    const buf = Buffer.concat(msgs);
    const ends = msgs.map((_, i) => msgs.slice(0, i + 1).reduce((n, m) => n + m.length, 0));
    for (let cut = 0; cut <= buf.length; cut++) {
      const out = [...splitMessages(buf.subarray(0, cut))];
      expect(out.map((m) => m.seq)).toEqual(ends.filter((e) => e <= cut).map((_, i) => i + 1));
    }
  });

  it('splitMessages stops at a header whose length is below 16 or beyond the buffer', () => {
    const ok = message(NLMSG_DONE, 0, 1, [Buffer.alloc(4)]);
    const short = Buffer.from(ok);
    short.writeUInt32LE(8, 0);
    expect([...splitMessages(Buffer.concat([ok, short, ok]))].map((m) => m.seq)).toEqual([1]);
    const huge = Buffer.from(ok);
    huge.writeUInt32LE(0xffffffff, 0);
    expect([...splitMessages(Buffer.concat([ok, huge]))]).toHaveLength(1);
    expect([...splitMessages(Buffer.alloc(0))]).toEqual([]);
    expect([...splitMessages(Buffer.alloc(15))]).toEqual([]);
  });

  it('splitMessages round-trips random message sequences', () => {
    const rand = mulberry32(73);
    for (let i = 0; i < 1000; i++) {
      const n = 1 + intBelow(rand, 6);
      const specs = Array.from({ length: n }, () => ({
        type: intBelow(rand, 0x10000),
        flags: intBelow(rand, 0x10000),
        seq: intBelow(rand, 0x100000000),
        data: randomBytes(rand, intBelow(rand, 60)),
      }));
      const buf = Buffer.concat(specs.map((s) => pad4(message(s.type, s.flags, s.seq, [s.data]))));
      expect([...splitMessages(buf)].map(plain)).toEqual(specs.map((s) => ({ ...s, data: [...s.data] })));
    }
  });

  it('splitMessages never throws on random bytes and yields only in-bounds messages', () => {
    const rand = mulberry32(74);
    let yielded = 0;
    for (let i = 0; i < 4000; i++) {
      const parts: Buffer[] = [];
      for (let k = intBelow(rand, 4); k >= 0; k--) {
        parts.push(rand() < 0.5 ? pad4(message(intBelow(rand, 40), 0, k, [randomBytes(rand, intBelow(rand, 30))])) : randomBytes(rand, intBelow(rand, 40)));
      }
      const buf = Buffer.concat(parts);
      let consumed = 0;
      for (const m of splitMessages(buf)) {
        yielded++;
        expect(m.data.byteOffset - buf.byteOffset).toBeGreaterThanOrEqual(consumed + 16);
        expect(m.data.byteOffset - buf.byteOffset + m.data.length).toBeLessThanOrEqual(buf.length);
        consumed = m.data.byteOffset - buf.byteOffset + m.data.length;
      }
    }
    expect(yielded).toBeGreaterThan(1000);
  });
});

describe('decoders', () => {
  it('decodeLink reads index, flags, name, kind, master, peer link, netns id and hardware address', () => {
    const data = Buffer.concat([
      ifinfomsg(7, IFF_UP),
      attr(IFLA_ADDRESS, Buffer.from([2, 0, 0, 0, 0, 1])), // 6 bytes: padding follows
      attrString(IFLA_IFNAME, 'tsv0a1b2c'),
      attrNested(IFLA_LINKINFO, [attrString(IFLA_INFO_KIND, 'veth'), attrNested(IFLA_INFO_DATA, [attrNested(VETH_INFO_PEER, [ifinfomsg(0)])])]),
      attrU32(IFLA_MASTER, 3),
      attrU32(IFLA_LINK, 9),
      attrU32(IFLA_LINK_NETNSID, 0xffffffff), // -1 as a signed 32-bit value
      attr(999, Buffer.from('ignored')),
    ]);
    expect(decodeLink(data)).toEqual({ index: 7, name: 'tsv0a1b2c', flags: IFF_UP, kind: 'veth', master: 3, link: 9, linkNetnsId: -1, mac: '02:00:00:00:00:01' });
  });

  it('decodeLink leaves optional fields undefined when their attributes are absent', () => {
    expect(decodeLink(ifinfomsg(1))).toEqual({ index: 1, name: '', flags: 0, kind: undefined, master: undefined, link: undefined, linkNetnsId: undefined });
    const bridge = Buffer.concat([ifinfomsg(4, IFF_UP), attrString(IFLA_IFNAME, 'tsnet0'), attrNested(IFLA_LINKINFO, [attrString(IFLA_INFO_KIND, 'bridge')])]);
    expect(decodeLink(bridge)).toMatchObject({ index: 4, name: 'tsnet0', kind: 'bridge', master: undefined });
  });

  it('decodeLink decodes a link message that went through message and splitMessages', () => {
    const m = message(RTM_NEWLINK, NLM_F_MULTI, 5, [ifinfomsg(12, IFF_UP), attrString(IFLA_IFNAME, 'eth0'), attrU32(IFLA_LINK_NETNSID, 2)]);
    const [out] = [...splitMessages(m)];
    expect(decodeLink(out!.data)).toMatchObject({ index: 12, name: 'eth0', flags: IFF_UP, linkNetnsId: 2 });
  });

  it('decodeAddr prefers IFA_LOCAL, falls back to IFA_ADDRESS, and skips non-IPv4 or address-less messages', () => {
    const both = Buffer.concat([ifaddrmsg(16, 3), attrIPv4(IFA_ADDRESS, ip('10.0.0.9')), attrIPv4(IFA_LOCAL, ip('10.89.0.1'))]);
    expect(decodeAddr(both)).toEqual({ index: 3, prefix: 16, address: ip('10.89.0.1') });
    const onlyAddress = Buffer.concat([ifaddrmsg(30, 8), attrIPv4(IFA_ADDRESS, ip('192.168.4.2'))]);
    expect(decodeAddr(onlyAddress)).toEqual({ index: 8, prefix: 30, address: ip('192.168.4.2') });
    expect(decodeAddr(ifaddrmsg(24, 1))).toBeUndefined();
    const v6 = Buffer.from(onlyAddress);
    v6.writeUInt8(10, 0); // AF_INET6
    expect(decodeAddr(v6)).toBeUndefined();
  });

  it('decodeRoute reads dst, prefix length, table (attribute or header) and output interface', () => {
    const withTable = Buffer.concat([rtmsg(16), attrIPv4(RTA_DST, ip('10.89.0.0')), attrU32(RTA_TABLE, 1000), attrU32(RTA_OIF, 6), attrIPv4(RTA_GATEWAY, ip('10.89.0.1'))]);
    expect(decodeRoute(withTable)).toEqual({ dst: ip('10.89.0.0'), dstLen: 16, table: 1000, oif: 6 });
    const defaultRoute = Buffer.concat([rtmsg(0), attrIPv4(RTA_GATEWAY, ip('10.0.0.1'))]);
    expect(decodeRoute(defaultRoute)).toEqual({ dst: 0, dstLen: 0, table: RT_TABLE_MAIN, oif: undefined });
    const v6 = Buffer.from(withTable);
    v6.writeUInt8(10, 0);
    expect(decodeRoute(v6)).toBeUndefined();
  });

  it('decodeRoute decodes a route request built with message', () => {
    const m = message(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE, 77, [rtmsg(24), attrIPv4(RTA_DST, ip('192.168.7.0')), attrU32(RTA_OIF, 4)]);
    const [out] = [...splitMessages(m)];
    expect(out!.seq).toBe(77);
    expect(decodeRoute(out!.data)).toEqual({ dst: ip('192.168.7.0'), dstLen: 24, table: RT_TABLE_MAIN, oif: 4 });
  });
});
