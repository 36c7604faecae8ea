// rtnetlink message encoding and decoding (linux/rtnetlink.h, linux/if_link.h). Pure: builds and
// reads Buffers; rtnl.ts does the socket I/O. We speak netlink directly instead of spawning `ip`
// because one create needs ~8 requests and each `ip` process costs ~3 ms.

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_GETROUTE = 26;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_LINKINFO = 18;
export const IFLA_NET_NS_FD = 28;
export const IFLA_LINK_NETNSID = 37;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const VETH_INFO_PEER = 1;
export const IFF_UP = 0x1;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_BROADCAST = 4;

export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_TABLE = 15;
export const RT_TABLE_MAIN = 254;
export const RTPROT_BOOT = 3;
export const RT_SCOPE_UNIVERSE = 0;
export const RTN_UNICAST = 1;

export const AF_UNSPEC = 0;
export const AF_INET = 2;

const NLA_F_NESTED = 0x8000;

const align4 = (n: number) => (n + 3) & ~3;

/** One route attribute (struct rtattr + payload, padded to 4 bytes). */
export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const buf = Buffer.alloc(align4(len));
  buf.writeUInt16LE(len, 0);
  buf.writeUInt16LE(type, 2);
  payload.copy(buf, 4);
  return buf;
}

export const attrString = (type: number, s: string) => attr(type, Buffer.from(`${s}\0`));
export const attrU32 = (type: number, v: number) => attr(type, struct(4, [['u32', 0, v]]));
export const attrNested = (type: number, children: Buffer[]) => attr(type | NLA_F_NESTED, Buffer.concat(children));
export const attrIPv4 = (type: number, addr: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(addr >>> 0);
  return attr(type, b);
};

type Field = ['u8' | 'u16' | 'u32' | 'i32', number, number]; // kind, byte offset, value

/** A C struct of `size` bytes, zero-filled, with these little-endian (host order) fields set. */
function struct(size: number, fields: Field[]): Buffer {
  const b = Buffer.alloc(size);
  for (const [kind, at, v] of fields) {
    if (kind === 'u8') b.writeUInt8(v, at);
    else if (kind === 'u16') b.writeUInt16LE(v, at);
    else if (kind === 'u32') b.writeUInt32LE(v >>> 0, at);
    else b.writeInt32LE(v, at);
  }
  return b;
}

/** struct ifinfomsg */
export const ifinfomsg = (index: number, flags = 0, change = 0) =>
  struct(16, [['u8', 0, AF_UNSPEC], ['i32', 4, index], ['u32', 8, flags], ['u32', 12, change]]);

/** struct ifaddrmsg */
export const ifaddrmsg = (prefix: number, index: number) =>
  struct(8, [['u8', 0, AF_INET], ['u8', 1, prefix], ['u8', 3, RT_SCOPE_UNIVERSE], ['u32', 4, index]]);

/** struct rtmsg for an IPv4 unicast route in the main table */
export const rtmsg = (dstLen: number) =>
  struct(12, [['u8', 0, AF_INET], ['u8', 1, dstLen], ['u8', 4, RT_TABLE_MAIN], ['u8', 5, RTPROT_BOOT], ['u8', 6, RT_SCOPE_UNIVERSE], ['u8', 7, RTN_UNICAST]]);

/** struct nlmsghdr + body */
export function message(type: number, flags: number, seq: number, body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([struct(16, [['u32', 0, 16 + payload.length], ['u16', 4, type], ['u16', 6, flags], ['u32', 8, seq]]), payload]);
}

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  /** the payload after the header */
  data: Buffer;
}

export function* splitMessages(buf: Buffer): Generator<NlMessage> {
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < 16 || off + len > buf.length) return;
    yield {
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      data: buf.subarray(off + 16, off + len),
    };
    off += align4(len);
  }
}

/** Attributes after a fixed-size header, as type → payload (nested flag cleared). */
export function parseAttrs(buf: Buffer, offset: number): Map<number, Buffer> {
  const attrs = new Map<number, Buffer>();
  let off = offset;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    attrs.set(buf.readUInt16LE(off + 2) & ~NLA_F_NESTED, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return attrs;
}

export const cString = (b: Buffer | undefined) => (b ? b.toString('utf8').replace(/\0.*$/s, '') : undefined);

export interface LinkInfo {
  index: number;
  name: string;
  flags: number;
  kind: string | undefined;
  master: number | undefined;
  /** ifindex of the peer (veth) — in the peer's namespace when linkNetnsId is set */
  link: number | undefined;
  linkNetnsId: number | undefined;
  /** hardware address, "aa:bb:cc:dd:ee:ff" (undefined for links without one) */
  mac: string | undefined;
}

export function decodeLink(data: Buffer): LinkInfo {
  const attrs = parseAttrs(data, 16);
  const linkinfo = attrs.get(IFLA_LINKINFO);
  const master = attrs.get(IFLA_MASTER);
  const link = attrs.get(IFLA_LINK);
  const nsid = attrs.get(IFLA_LINK_NETNSID);
  const hw = attrs.get(IFLA_ADDRESS);
  return {
    index: data.readInt32LE(4),
    flags: data.readUInt32LE(8),
    name: cString(attrs.get(IFLA_IFNAME)) ?? '',
    kind: linkinfo ? cString(parseAttrs(linkinfo, 0).get(IFLA_INFO_KIND)) : undefined,
    master: master ? master.readUInt32LE(0) : undefined,
    link: link ? link.readUInt32LE(0) : undefined,
    linkNetnsId: nsid ? nsid.readInt32LE(0) : undefined,
    mac: hw && hw.length > 0 ? [...hw].map((b) => b.toString(16).padStart(2, '0')).join(':') : undefined,
  };
}

export interface AddrInfo {
  index: number;
  prefix: number;
  address: number;
}

export function decodeAddr(data: Buffer): AddrInfo | undefined {
  if (data.readUInt8(0) !== AF_INET) return undefined;
  const attrs = parseAttrs(data, 8);
  const a = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS);
  if (!a) return undefined;
  return { index: data.readUInt32LE(4), prefix: data.readUInt8(1), address: a.readUInt32BE(0) };
}

export interface RouteInfo {
  dst: number;
  dstLen: number;
  table: number;
  oif: number | undefined;
}

export function decodeRoute(data: Buffer): RouteInfo | undefined {
  if (data.readUInt8(0) !== AF_INET) return undefined;
  const attrs = parseAttrs(data, 12);
  const dst = attrs.get(RTA_DST);
  const table = attrs.get(RTA_TABLE);
  const oif = attrs.get(RTA_OIF);
  return {
    dst: dst ? dst.readUInt32BE(0) : 0,
    dstLen: data.readUInt8(1),
    table: table ? table.readUInt32LE(0) : data.readUInt8(4),
    oif: oif ? oif.readUInt32LE(0) : undefined,
  };
}

// ---- both families: addresses, routes and link types for readLocalNet (src/net/local-net.ts) ----
// decodeAddr/decodeRoute above stay IPv4-only (the IPAM reads them); these decode every family.

export const AF_INET6 = 10;

export const IFA_FLAGS = 8;
export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_OPTIMISTIC = 0x04;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_HOMEADDRESS = 0x10;
export const IFA_F_DEPRECATED = 0x20;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;

export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_MULTIPATH = 9;
export const RTM_F_CLONED = 0x200;

/** ifinfomsg.ifi_type (linux/if_arp.h) of the tunnels glibc's check_native.c calls not native */
export const ARPHRD_TUNNEL = 768;
export const ARPHRD_TUNNEL6 = 769;
export const ARPHRD_SIT = 776;

/** struct ifaddrmsg of an address dump: one family, or AF_UNSPEC for all */
export const ifaddrmsgDump = (family: number) => struct(8, [['u8', 0, family]]);

/** struct rtmsg of a route dump: one family, or AF_UNSPEC for all (every table) */
export const rtmsgDump = (family: number) => struct(12, [['u8', 0, family]]);

/** A link as decodeLink reads it, with ifi_type (ARPHRD_*). */
export interface LinkEntry extends LinkInfo {
  type: number;
}

export function decodeLinkEntry(data: Buffer): LinkEntry {
  return { ...decodeLink(data), type: data.readUInt16LE(2) };
}

/** One RTM_NEWADDR of either family. */
export interface AddrEntry {
  family: typeof AF_INET | typeof AF_INET6;
  index: number;
  prefixLen: number;
  /** IFA_LOCAL, else IFA_ADDRESS (on a point-to-point link IFA_ADDRESS is the peer): 4 or 16 bytes */
  address: Uint8Array;
  /** the IFA_FLAGS attribute when present (32 bits), else ifa_flags (the low 8) */
  flags: number;
  scope: number;
}

export function decodeAddrEntry(data: Buffer): AddrEntry | undefined {
  if (data.length < 8) return undefined;
  const family = data.readUInt8(0);
  if (family !== AF_INET && family !== AF_INET6) return undefined;
  const attrs = parseAttrs(data, 8);
  const a = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS);
  const size = family === AF_INET ? 4 : 16;
  if (!a || a.length < size) return undefined;
  const flagsAttr = attrs.get(IFA_FLAGS);
  return {
    family,
    index: data.readUInt32LE(4),
    prefixLen: data.readUInt8(1),
    address: Uint8Array.from(a.subarray(0, size)),
    flags: flagsAttr && flagsAttr.length >= 4 ? flagsAttr.readUInt32LE(0) : data.readUInt8(2),
    scope: data.readUInt8(3),
  };
}

/** One RTM_NEWROUTE of either family. */
export interface RouteEntry {
  family: typeof AF_INET | typeof AF_INET6;
  /** RTA_DST, or all zeros (a default route has none): 4 or 16 bytes */
  dst: Uint8Array;
  dstLen: number;
  /** RTA_TABLE when present, else rtm_table */
  table: number;
  /** rtm_type: RTN_UNICAST, RTN_LOCAL, RTN_UNREACHABLE... */
  type: number;
  protocol: number;
  scope: number;
  /** rtm_flags (RTM_F_CLONED marks a cached exception, not a route of the table) */
  flags: number;
  /** RTA_OIF, else the first next hop's interface of RTA_MULTIPATH */
  oif: number | undefined;
  gateway: Uint8Array | undefined;
  prefsrc: Uint8Array | undefined;
  priority: number | undefined;
}

/** struct rtnexthop: rtnh_len u16, rtnh_flags u8, rtnh_hops u8, rtnh_ifindex i32 */
function firstHopOif(mp: Buffer | undefined): number | undefined {
  return mp && mp.length >= 8 ? mp.readInt32LE(4) : undefined;
}

export function decodeRouteEntry(data: Buffer): RouteEntry | undefined {
  if (data.length < 12) return undefined;
  const family = data.readUInt8(0);
  if (family !== AF_INET && family !== AF_INET6) return undefined;
  const size = family === AF_INET ? 4 : 16;
  const attrs = parseAttrs(data, 12);
  const bytes = (b: Buffer | undefined) => (b && b.length >= size ? Uint8Array.from(b.subarray(0, size)) : undefined);
  const table = attrs.get(RTA_TABLE);
  const oif = attrs.get(RTA_OIF);
  const prio = attrs.get(RTA_PRIORITY);
  return {
    family,
    dst: bytes(attrs.get(RTA_DST)) ?? new Uint8Array(size),
    dstLen: data.readUInt8(1),
    table: table && table.length >= 4 ? table.readUInt32LE(0) : data.readUInt8(4),
    protocol: data.readUInt8(5),
    scope: data.readUInt8(6),
    type: data.readUInt8(7),
    flags: data.readUInt32LE(8),
    oif: oif && oif.length >= 4 ? oif.readUInt32LE(0) : firstHopOif(attrs.get(RTA_MULTIPATH)),
    gateway: bytes(attrs.get(RTA_GATEWAY)),
    prefsrc: bytes(attrs.get(RTA_PREFSRC)),
    priority: prio && prio.length >= 4 ? prio.readUInt32LE(0) : undefined,
  };
}
