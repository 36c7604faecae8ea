// UDP sockets made and written by direct syscalls, synchronously, in the calling thread's network
// namespace: what a resolver library does (socket, connect, send / sendmmsg / sendto), so the real
// driver puts on the wire what the library would — two datagrams in one sendmmsg, a send that
// fails on a pending ICMP error failing then and there — and knows the outcome before it records
// anything. Receiving stays with Node: the driver hands the descriptor to dgram
// (`bind({ fd })`), whose recvmsg reports replies and ICMP errors on the event loop.
import { SyscallError } from './errno.js';
import { errno, fn } from './koffi.js';
import { prepareMmsg } from './mmsg.js';
import { AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from './constants.js';

const decl = {
  socket: 'int socket(int domain, int type, int protocol)',
  connect: 'int connect(int fd, const void *addr, uint32_t len)',
  setsockopt: 'int setsockopt(int fd, int level, int name, const void *value, uint32_t len)',
  send: 'long send(int fd, const void *buf, size_t len, int flags)',
  sendto: 'long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)',
  close: 'int close(int fd)',
  getsockname: 'int getsockname(int fd, void *addr, void *len)',
  ifNameToIndex: 'unsigned int if_nametoindex(const char *name)',
  ifIndexToName: 'void *if_indextoname(unsigned int index, void *name)',
} as const;

/** A socket address as the kernel takes it (struct sockaddr_in / sockaddr_in6). */
export type SockAddr = Buffer;

/**
 * sockaddr_in (4 address bytes) or sockaddr_in6 (16 bytes, with the scope id of a link-local
 * address) for `port`; v4Mapped: 4 bytes as a sockaddr_in6 ::ffff:a.b.c.d (for a dual-stack socket).
 */
export function sockAddr(address: Uint8Array, port: number, scopeId = 0, v4Mapped = false): SockAddr {
  if (address.length === 4 && v4Mapped) return sockAddr(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...address]), port);
  if (address.length === 4) {
    const sa = Buffer.alloc(16);
    sa.writeUInt16LE(AF_INET, 0);
    sa.writeUInt16BE(port, 2);
    sa.set(address, 4);
    return sa;
  }
  if (address.length !== 16) throw new Error(`an address has 4 or 16 bytes, not ${address.length}`);
  const sa = Buffer.alloc(28);
  sa.writeUInt16LE(AF_INET6, 0);
  sa.writeUInt16BE(port, 2);
  sa.set(address, 8);
  sa.writeUInt32LE(scopeId, 24);
  return sa;
}

/** if_nametoindex(3): the index of an interface, 0 when there is none of that name. */
export function ifNameToIndex(name: string): number {
  return fn(decl.ifNameToIndex)(name);
}

/** if_indextoname(3): the interface's name, undefined when there is none of that index. */
export function ifIndexToName(index: number): string | undefined {
  const out = Buffer.alloc(16); // IF_NAMESIZE
  if ((fn(decl.ifIndexToName) as unknown as (i: number, b: Buffer) => unknown)(index, out) === null) return undefined;
  const end = out.indexOf(0);
  return out.toString('latin1', 0, end < 0 ? out.length : end);
}

/** The scope id of an IPv6 %zone: a number as written, else the interface's index (0 when there is none: the kernel then refuses a link-local address). */
export function scopeIdOf(zone: string | undefined): number {
  return zone === undefined ? 0 : /^\d+$/.test(zone) ? Number(zone) >>> 0 : ifNameToIndex(zone);
}

/** A non-blocking, close-on-exec UDP socket of the address's family (glibc's send_dg flags). */
export function udpSocket(sa: SockAddr): number {
  const fd = fn(decl.socket)(sa.readUInt16LE(0), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError('socket', errno());
  return fd;
}

/** An AF_INET6 UDP socket that also reaches IPv4 addresses as ::ffff:a.b.c.d (IPV6_V6ONLY off, as musl sets it). Throws SyscallError. */
export function udpDualStackSocket(): number {
  const fd = fn(decl.socket)(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError('socket', errno());
  const off = Buffer.alloc(4);
  if (fn(decl.setsockopt)(fd, IPPROTO_IPV6, IPV6_V6ONLY, off, 4) < 0) {
    const code = errno();
    fn(decl.close)(fd);
    throw new SyscallError('setsockopt(IPV6_V6ONLY)', code);
  }
  return fd;
}

/** connect(2) on a UDP socket: a route lookup, no packet. Throws SyscallError. */
export function udpConnect(fd: number, sa: SockAddr): void {
  if (fn(decl.connect)(fd, sa, sa.length) < 0) throw new SyscallError('connect', errno());
}

/**
 * The local address the kernel picks for `sa`, asked as glibc, musl and Go ask it while sorting
 * getaddrinfo results: a UDP socket of the address's family, connect() (a route lookup and a
 * source address choice; a UDP connect sends no packet), getsockname(), close. `bytes` has 4 or
 * 16 bytes; `scopeId` is the sockaddr_in6 scope id (0 for IPv4). Throws SyscallError naming the
 * call that failed ('socket', 'connect' or 'getsockname'); the socket is closed either way.
 */
export function udpSourceFor(sa: SockAddr): { bytes: Uint8Array; scopeId: number } {
  const fd = udpSocket(sa);
  try {
    udpConnect(fd, sa);
    const out = Buffer.alloc(28);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(out.length);
    if (fn(decl.getsockname)(fd, out, len) < 0) throw new SyscallError('getsockname', errno());
    const v6 = out.readUInt16LE(0) === AF_INET6;
    return v6 ? { bytes: Uint8Array.from(out.subarray(8, 24)), scopeId: out.readUInt32LE(24) } : { bytes: Uint8Array.from(out.subarray(4, 8)), scopeId: 0 };
  } finally {
    fn(decl.close)(fd);
  }
}

/** Closes a descriptor nobody else owns yet (one Node has not taken over). */
export function closeFd(fd: number): void {
  fn(decl.close)(fd);
}

/** The errno of a failed call, 0 on success. */
export type Errno = number;

/** send(2) on a connected socket, MSG_NOSIGNAL like glibc. */
export function udpSend(fd: number, buf: Buffer): Errno {
  return fn(decl.send)(fd, buf, buf.length, MSG_NOSIGNAL) < 0 ? errno() : 0;
}

/** sendto(2) on an unconnected socket (musl, dnspython). */
export function udpSendTo(fd: number, buf: Buffer, sa: SockAddr): Errno {
  return fn(decl.sendto)(fd, buf, buf.length, MSG_NOSIGNAL, sa, sa.length) < 0 ? errno() : 0;
}

/** Declares every call of this module now (the first declarations cost ~1 ms), loading koffi if needed. */
export function prepareUdp(): void {
  for (const d of Object.values(decl)) fn(d);
  prepareMmsg();
}
