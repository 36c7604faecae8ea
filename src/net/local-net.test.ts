// readLocalNet's pure half: hand-built rtnetlink dumps (as the kernel sends them) → decodeLinkEntry,
// decodeAddrEntry, decodeRouteEntry → localNetFrom. No root, no sockets.
import { describe, expect, it } from 'vitest';
import { ipv4Bytes, ipv6Bytes } from '../../resolvers/core/address.js';
import { routeSource } from '../../resolvers/core/addrsort.js';
import { localNetFrom } from './local-net.js';
import {
  AF_INET,
  AF_INET6,
  ARPHRD_SIT,
  IFA_ADDRESS,
  IFA_FLAGS,
  IFA_F_DEPRECATED,
  IFA_F_HOMEADDRESS,
  IFA_F_NODAD,
  IFA_F_OPTIMISTIC,
  IFA_F_PERMANENT,
  IFA_F_TENTATIVE,
  IFA_LOCAL,
  IFF_UP,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  NLM_F_MULTI,
  RTA_DST,
  RTA_GATEWAY,
  RTA_MULTIPATH,
  RTA_OIF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_TABLE,
  RTM_F_CLONED,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RT_TABLE_MAIN,
  attr,
  attrNested,
  attrString,
  attrU32,
  decodeAddr,
  decodeAddrEntry,
  decodeLinkEntry,
  decodeRoute,
  decodeRouteEntry,
  message,
  splitMessages,
} from './netlink.js';

const RTN_LOCAL = 2;
const RTN_UNREACHABLE = 7;
const RT_TABLE_LOCAL = 255;
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

const bytes = (text: string) => Buffer.from((ipv4Bytes(text) ?? ipv6Bytes(text))!);

/** struct ifinfomsg with ifi_type */
function link(index: number, name: string, flags: number, type: number, kind?: string): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16LE(type, 2);
  h.writeInt32LE(index, 4);
  h.writeUInt32LE(flags, 8);
  const attrs = [attrString(IFLA_IFNAME, name)];
  if (kind) attrs.push(attrNested(IFLA_LINKINFO, [attrString(IFLA_INFO_KIND, kind)]));
  return Buffer.concat([h, ...attrs]);
}

/** struct ifaddrmsg + attributes, the way the kernel fills them */
function addr(family: number, index: number, prefixLen: number, flags: number, attrs: Buffer[], scope = 0): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt8(family, 0);
  h.writeUInt8(prefixLen, 1);
  h.writeUInt8(flags & 0xff, 2);
  h.writeUInt8(scope, 3);
  h.writeUInt32LE(index, 4);
  return Buffer.concat([h, ...attrs]);
}

/** struct rtmsg + attributes */
function route(family: number, dstLen: number, type: number, table: number, attrs: Buffer[], flags = 0): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt8(family, 0);
  h.writeUInt8(dstLen, 1);
  h.writeUInt8(Math.min(table, 255), 4);
  h.writeUInt8(2, 5); // RTPROT_KERNEL
  h.writeUInt8(type, 7);
  h.writeUInt32LE(flags, 8);
  return Buffer.concat([h, attrU32(RTA_TABLE, table), ...attrs]);
}

/** through the wire format: one dump of several messages, split again */
const dump = (type: number, bodies: Buffer[]) => [...splitMessages(Buffer.concat(bodies.map((b, i) => message(type, NLM_F_MULTI, 7, [b]))))].map((m) => {
  expect(m.seq).toBe(7);
  expect(m.type).toBe(type);
  return m.data;
});

describe('decodeAddrEntry', () => {
  it('an IPv6 address: IFA_ADDRESS (no IFA_LOCAL), prefix, scope, and the 32-bit IFA_FLAGS attribute over ifa_flags', () => {
    // ifa_flags holds only the low 8 bits; IFA_FLAGS carries all 32 (here DEPRECATED and a high bit)
    const flags = IFA_F_DEPRECATED | IFA_F_NODAD | IFA_F_PERMANENT | 0x100;
    const msg = addr(AF_INET6, 3, 64, 0, [attr(IFA_ADDRESS, bytes('fd00:1:2::2')), attrU32(IFA_FLAGS, flags)]);
    const e = decodeAddrEntry(msg)!;
    expect({ ...e, address: [...e.address] }).toEqual({ family: AF_INET6, index: 3, prefixLen: 64, address: [...bytes('fd00:1:2::2')], flags, scope: 0 });
    expect(decodeAddr(msg)).toBeUndefined(); // the IPv4-only reader of the IPAM is unchanged
  });

  it('without IFA_FLAGS the flags are ifa_flags; IFA_LOCAL wins over IFA_ADDRESS (the peer of a point-to-point link)', () => {
    const msg = addr(AF_INET, 2, 32, IFA_F_PERMANENT, [attr(IFA_ADDRESS, bytes('10.9.9.9')), attr(IFA_LOCAL, bytes('10.1.1.1'))]);
    const e = decodeAddrEntry(msg)!;
    expect([...e.address]).toEqual([10, 1, 1, 1]);
    expect(e.flags).toBe(IFA_F_PERMANENT);
    expect(e.family).toBe(AF_INET);
    expect(decodeAddr(msg)).toEqual({ index: 2, prefix: 32, address: 0x0a010101 });
  });

  it('an address of another family, or a message without an address or too short, is undefined', () => {
    expect(decodeAddrEntry(addr(17, 1, 0, 0, [attr(IFA_ADDRESS, Buffer.alloc(6))]))).toBeUndefined();
    expect(decodeAddrEntry(addr(AF_INET6, 1, 64, 0, []))).toBeUndefined();
    expect(decodeAddrEntry(addr(AF_INET6, 1, 64, 0, [attr(IFA_ADDRESS, Buffer.alloc(4))]))).toBeUndefined();
    expect(decodeAddrEntry(Buffer.alloc(4))).toBeUndefined();
  });
});

describe('decodeRouteEntry', () => {
  it('the IPv6 default route: no RTA_DST (::/0), gateway, oif, metric, table from RTA_TABLE', () => {
    const msg = route(AF_INET6, 0, RTN_UNICAST, RT_TABLE_MAIN, [attr(RTA_GATEWAY, bytes('fd00::1')), attrU32(RTA_OIF, 4), attrU32(RTA_PRIORITY, 1024)]);
    const r = decodeRouteEntry(msg)!;
    expect(r.family).toBe(AF_INET6);
    expect([...r.dst]).toEqual(Array(16).fill(0));
    expect(r.dstLen).toBe(0);
    expect([...r.gateway!]).toEqual([...bytes('fd00::1')]);
    expect(r).toMatchObject({ table: RT_TABLE_MAIN, type: RTN_UNICAST, oif: 4, priority: 1024, prefsrc: undefined, flags: 0 });
    expect(decodeRoute(msg)).toBeUndefined(); // IPv4-only, unchanged
  });

  it('an IPv4 connected route with RTA_PREFSRC', () => {
    const msg = route(AF_INET, 24, RTN_UNICAST, RT_TABLE_MAIN, [attr(RTA_DST, bytes('10.5.0.0')), attr(RTA_PREFSRC, bytes('10.5.0.2')), attrU32(RTA_OIF, 2)]);
    const r = decodeRouteEntry(msg)!;
    expect([...r.dst]).toEqual([10, 5, 0, 0]);
    expect([...r.prefsrc!]).toEqual([10, 5, 0, 2]);
    expect(r).toMatchObject({ family: AF_INET, dstLen: 24, oif: 2, gateway: undefined });
    expect(decodeRoute(msg)).toEqual({ dst: 0x0a050000, dstLen: 24, table: RT_TABLE_MAIN, oif: 2 });
  });

  it('a multipath route without RTA_OIF takes its first next hop\'s interface', () => {
    const hop = (ifindex: number) => {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(8, 0);
      h.writeInt32LE(ifindex, 4);
      return h;
    };
    const r = decodeRouteEntry(route(AF_INET6, 0, RTN_UNICAST, RT_TABLE_MAIN, [attr(RTA_MULTIPATH, Buffer.concat([hop(5), hop(6)]))]))!;
    expect(r.oif).toBe(5);
  });
});

describe('localNetFrom', () => {
  const links = dump(RTM_NEWLINK, [
    link(1, 'lo', IFF_UP, ARPHRD_LOOPBACK),
    link(2, 'd0', IFF_UP, ARPHRD_ETHER, 'veth'),
    link(3, 'd1', IFF_UP, ARPHRD_ETHER, 'veth'),
    link(4, 'down0', 0, ARPHRD_ETHER, 'veth'),
    link(5, 'sit1', IFF_UP, ARPHRD_SIT, 'sit'),
  ]).map(decodeLinkEntry);
  const addrs = dump(RTM_NEWADDR, [
    addr(AF_INET, 1, 8, IFA_F_PERMANENT, [attr(IFA_ADDRESS, bytes('127.0.0.1')), attr(IFA_LOCAL, bytes('127.0.0.1'))], 254),
    addr(AF_INET, 2, 24, IFA_F_PERMANENT, [attr(IFA_ADDRESS, bytes('10.5.0.2')), attr(IFA_LOCAL, bytes('10.5.0.2'))]),
    addr(AF_INET, 4, 24, IFA_F_PERMANENT, [attr(IFA_ADDRESS, bytes('10.6.0.2')), attr(IFA_LOCAL, bytes('10.6.0.2'))]),
    addr(AF_INET6, 1, 128, IFA_F_PERMANENT, [attr(IFA_ADDRESS, bytes('::1')), attrU32(IFA_FLAGS, IFA_F_PERMANENT)], 254),
    addr(AF_INET6, 2, 64, 0, [attr(IFA_ADDRESS, bytes('fd00:5:0:0:0:0:0:2')), attrU32(IFA_FLAGS, IFA_F_DEPRECATED | IFA_F_NODAD | IFA_F_PERMANENT)]),
    addr(AF_INET6, 2, 64, 0, [attr(IFA_ADDRESS, bytes('fe80::a8c1:abff:fe00:2')), attrU32(IFA_FLAGS, IFA_F_PERMANENT)], 253),
    addr(AF_INET6, 3, 64, 0, [attr(IFA_ADDRESS, bytes('fd00:7::2')), attrU32(IFA_FLAGS, IFA_F_HOMEADDRESS)]),
    addr(AF_INET6, 3, 64, 0, [attr(IFA_ADDRESS, bytes('fd00:8::2')), attrU32(IFA_FLAGS, IFA_F_OPTIMISTIC | IFA_F_TENTATIVE)]),
    addr(AF_INET6, 3, 64, 0, [attr(IFA_ADDRESS, bytes('fd00:9::2')), attrU32(IFA_FLAGS, IFA_F_TENTATIVE)]),
    addr(AF_INET6, 5, 64, 0, [attr(IFA_ADDRESS, bytes('2002:a05:2::1')), attrU32(IFA_FLAGS, IFA_F_PERMANENT)]),
    addr(AF_INET6, 9, 64, 0, [attr(IFA_ADDRESS, bytes('fd00:99::2')), attrU32(IFA_FLAGS, IFA_F_PERMANENT)]), // no such link (gone between the dumps)
  ]).map((d) => decodeAddrEntry(d)!);
  const routes = dump(RTM_NEWROUTE, [
    route(AF_INET, 0, RTN_UNICAST, RT_TABLE_MAIN, [attr(RTA_GATEWAY, bytes('10.5.0.1')), attrU32(RTA_OIF, 2)]),
    route(AF_INET, 24, RTN_UNICAST, RT_TABLE_MAIN, [attr(RTA_DST, bytes('10.5.0.0')), attr(RTA_PREFSRC, bytes('10.5.0.2')), attrU32(RTA_OIF, 2)]),
    route(AF_INET, 32, RTN_LOCAL, RT_TABLE_LOCAL, [attr(RTA_DST, bytes('10.5.0.2')), attr(RTA_PREFSRC, bytes('10.5.0.2')), attrU32(RTA_OIF, 2)]),
    route(AF_INET, 24, RTN_UNREACHABLE, RT_TABLE_MAIN, [attr(RTA_DST, bytes('192.0.2.0'))]),
    route(AF_INET6, 64, RTN_UNICAST, RT_TABLE_MAIN, [attr(RTA_DST, bytes('fd00:5::')), attrU32(RTA_OIF, 2)]),
    route(AF_INET6, 128, RTN_UNICAST, RT_TABLE_MAIN, [attr(RTA_DST, bytes('2001:db8::9')), attr(RTA_GATEWAY, bytes('fd00:5::1')), attrU32(RTA_OIF, 2)], RTM_F_CLONED),
    route(AF_INET6, 48, RTN_UNICAST, RT_TABLE_MAIN, [attr(RTA_DST, bytes('2001:db8:5::')), attr(RTA_PREFSRC, bytes('fd00:7::2')), attrU32(RTA_OIF, 3)]),
    route(AF_INET6, 0, RTN_UNICAST, RT_TABLE_MAIN, [attr(RTA_GATEWAY, bytes('fd00:5::1')), attrU32(RTA_OIF, 2)]),
    route(AF_INET6, 0, RTN_UNICAST, 100, [attr(RTA_GATEWAY, bytes('fd00:7::1')), attrU32(RTA_OIF, 3)]),
  ]).map((d) => decodeRouteEntry(d)!);
  const net = localNetFrom(links, addrs, routes);

  it('addresses: every interface, down ones too; no tentative ones (optimistic ones stay, deprecated); names from the link dump, canonical text, flags, tunnels by ifi_type', () => {
    expect(net.addresses).toEqual([
      { address: '127.0.0.1', prefixLen: 8, dev: 'lo' },
      { address: '10.5.0.2', prefixLen: 24, dev: 'd0' },
      { address: '10.6.0.2', prefixLen: 24, dev: 'down0' },
      { address: '::1', prefixLen: 128, dev: 'lo' },
      { address: 'fd00:5::2', prefixLen: 64, dev: 'd0', deprecated: true },
      { address: 'fe80::a8c1:abff:fe00:2', prefixLen: 64, dev: 'd0' },
      { address: 'fd00:7::2', prefixLen: 64, dev: 'd1', home: true },
      { address: 'fd00:8::2', prefixLen: 64, dev: 'd1', deprecated: true },
      { address: '2002:a05:2::1', prefixLen: 64, dev: 'sit1', tunnel: true },
    ]);
  });

  it('routes: main-table unicast, no cached exceptions; default and ::/0, dst/len, dev, src from RTA_PREFSRC', () => {
    expect(net.routes).toEqual([
      { dst: 'default', dev: 'd0' },
      { dst: '10.5.0.0/24', dev: 'd0', src: '10.5.0.2' },
      { dst: 'fd00:5::/64', dev: 'd0' },
      { dst: '2001:db8:5::/48', dev: 'd1', src: 'fd00:7::2' },
      { dst: '::/0', dev: 'd0' },
    ]);
  });

  it('is what the pure model reads: routeSource follows the decoded routes and prefsrc', () => {
    expect(routeSource(net, '192.0.2.7')).toBe('10.5.0.2');
    expect(routeSource(net, '2001:db8:5::1')).toBe('fd00:7::2');
    expect(routeSource(net, '2001:db8:1::1')).toBe('fd00:7::2'); // ::/0 on d0, whose only global source is deprecated
  });
});
