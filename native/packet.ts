// AF_PACKET capture sockets: the calls a packet capture needs and nothing else. The socket is
// cooked (SOCK_DGRAM: each packet starts at its network header) and non-blocking; every packet
// carries the kernel's receive timestamp (CLOCK_REALTIME), read with SIOCGSTAMPNS, so the time
// a reader takes to drain the socket never shows in the timings.
import { check, errno, fn, loadKoffi } from './koffi.js';
import { SyscallError } from './errno.js';
import { SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from './constants.js';

const AF_PACKET = 17;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL = 3)
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const SO_RCVBUFFORCE = 33;
const SO_RCVBUF = 8;
const SIOCGSTAMPNS = 0x8907;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const ENOENT = 2;

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

let fprogType: unknown;
function setFilter(): (...args: unknown[]) => number {
  if (!fprogType) {
    const koffi = loadKoffi();
    const filter = koffi.struct('tsnet_sock_filter', { code: 'uint16_t', jt: 'uint8_t', jf: 'uint8_t', k: 'uint32_t' });
    fprogType = koffi.struct('tsnet_sock_fprog', { len: 'uint16_t', filter: koffi.pointer(filter) });
  }
  return fn('int setsockopt(int fd, int level, int name, const tsnet_sock_fprog *prog, uint32_t len)');
}

const decl = {
  socket: 'int socket(int domain, int type, int protocol)',
  setsockoptInt: 'int setsockopt(int fd, int level, int name, const int *value, uint32_t len)',
  recvfrom: 'long recvfrom(int fd, void *buf, size_t len, int flags, void *addr, void *addrlen)',
  ioctl: 'int ioctl(int fd, unsigned long request, void *arg)',
  close: 'int close(int fd)',
  getsockopt: 'int getsockopt(int fd, int level, int name, void *value, uint32_t *len)',
} as const;

const SOL_PACKET = 263;
const PACKET_STATISTICS = 6;

/**
 * Opens a capture socket in the calling thread's network namespace (the caller enters the
 * namespace around this call), with `program` attached as its kernel filter and a receive
 * buffer of `bufferBytes`. Timestamping is switched on before any packet is queued.
 */
export function openPacketSocket(program: BpfInstruction[], bufferBytes: number): number {
  const fd = check(fn(decl.socket)(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, ETH_P_ALL_BE), 'socket(AF_PACKET)');
  try {
    // The filter goes on before the first packet can be queued unfiltered... almost: packets
    // that arrived between socket() and here are drained by the caller's first read and judged
    // by its own decoder, which never trusts the filter alone.
    check(setFilter()(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: program.length, filter: program }, 16), 'setsockopt(SO_ATTACH_FILTER)');
    const size = [bufferBytes];
    if (fn(decl.setsockoptInt)(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4) < 0) check(fn(decl.setsockoptInt)(fd, SOL_SOCKET, SO_RCVBUF, size, 4), 'setsockopt(SO_RCVBUF)');
    // The first SIOCGSTAMPNS switches receive timestamps on (and fails: no packet yet).
    if (fn(decl.ioctl)(fd, SIOCGSTAMPNS, Buffer.alloc(16)) < 0 && errno() !== ENOENT) throw new SyscallError('ioctl(SIOCGSTAMPNS)', errno());
    return fd;
  } catch (err) {
    fn(decl.close)(fd);
    throw err;
  }
}

export interface RawPacket {
  /** the packet from its network header on (a view into `buf`: copy what you keep) */
  bytes: Buffer;
  /** the packet's length on the wire (longer than `bytes` when the buffer truncated it) */
  length: number;
  /** ETH_P_IP (0x0800), ETH_P_IPV6 (0x86dd), ... */
  protocol: number;
  /** PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3, OUTGOING 4 */
  pktType: number;
  ifIndex: number;
  /** kernel receive time, ms since the epoch (CLOCK_REALTIME), µs resolution */
  tsMs: number;
}

const MSG_TRUNC = 0x20;

/** The next queued packet, or null when none is queued. `buf` is reused between calls. */
export function readPacket(fd: number, buf: Buffer, addr: Buffer, addrLen: Buffer, stamp: Buffer): RawPacket | null {
  addrLen.writeUInt32LE(addr.length, 0);
  const n = fn(decl.recvfrom)(fd, buf, buf.length, MSG_DONTWAIT | MSG_TRUNC, addr, addrLen);
  if (n < 0) {
    if (errno() === EAGAIN) return null;
    throw new SyscallError('recvfrom(AF_PACKET)', errno());
  }
  check(fn(decl.ioctl)(fd, SIOCGSTAMPNS, stamp), 'ioctl(SIOCGSTAMPNS)');
  // struct sockaddr_ll: family u16, protocol be16, ifindex i32, hatype u16, pkttype u8, ...
  return {
    bytes: buf.subarray(0, Math.min(n, buf.length)),
    length: n,
    protocol: addr.readUInt16BE(2),
    ifIndex: addr.readInt32LE(4),
    pktType: addr.readUInt8(10),
    tsMs: Number(stamp.readBigInt64LE(0)) * 1000 + Number(stamp.readBigInt64LE(8)) / 1e6,
  };
}

/**
 * Packets the kernel dropped for want of room in the socket's buffer since the last call
 * (PACKET_STATISTICS: reading resets the counters).
 */
export function packetDrops(fd: number): number {
  const stats = Buffer.alloc(8); // struct tpacket_stats { unsigned tp_packets, tp_drops; }
  check(fn(decl.getsockopt)(fd, SOL_PACKET, PACKET_STATISTICS, stats, [8]), 'getsockopt(PACKET_STATISTICS)');
  return stats.readUInt32LE(4);
}

export function closePacketSocket(fd: number): void {
  fn(decl.close)(fd);
}
