// Batched datagram I/O: recvmmsg(2) and sendmmsg(2) over a ring of message slots in native memory
// allocated once (koffi.alloc: a stable address the kernel reads and writes, seen from JS through
// a Buffer over the same bytes — no copy, no per-call marshalling of structs). One module for both
// users: the stub's listeners (many datagrams per call; docs/benchmarks.md measured one sendmsg per
// reply through Node's dgram at 44 % of a local answer) and the real driver (two queries in one
// sendmmsg, as glibc sends A and AAAA).
//
// Layout of a ring of n slots (x86_64 / aarch64 LP64 ABI): n struct mmsghdr (64 bytes: msghdr 56
// + msg_len 4 + padding), n struct iovec (16), n address slots (32: a sockaddr_in6 is 28), then
// n data slots of `slotBytes` each.
import { SyscallError } from './errno.js';
import { errno, fn, loadKoffi } from './koffi.js';
import { MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from './constants.js';

const MMSGHDR = 64;
const IOVEC = 16;
const NAME = 32;
const MSG_DONTWAIT = 0x40;
/** msg_flags: the datagram was longer than its slot */
export const MSG_TRUNC = 0x20;
const EAGAIN = 11;

const decl = {
  recv: 'long recv(int fd, void *buf, size_t len, int flags)',
  setsockopt: 'int setsockopt(int fd, int level, int name, const void *value, uint32_t len)',
  recvmmsg: 'int recvmmsg(int fd, void *msgs, unsigned int vlen, int flags, void *timeout)',
  sendmmsg: 'int sendmmsg(int fd, void *msgs, unsigned int vlen, int flags)',
  socket: 'int socket(int domain, int type, int protocol)',
  bind: 'int bind(int fd, const void *addr, uint32_t len)',
  close: 'int close(int fd)',
} as const;

/** The layout above is the LP64 little-endian ABI's (x86_64, aarch64): anything else is refused, not guessed. */
function checkAbi(): void {
  if ((process.arch !== 'x64' && process.arch !== 'arm64') || new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) {
    throw new Error(`native/mmsg.ts: struct mmsghdr is laid out for 64-bit little-endian Linux (x64, arm64), not ${process.arch}`);
  }
}

/** n message slots in native memory, each with an address and `slotBytes` of data. */
export class MsgRing {
  /** the native block (a koffi pointer), handed to the kernel */
  readonly ptr: unknown;
  /** the same bytes, for JS */
  readonly mem: Buffer;
  private readonly iovAt: number;
  private readonly nameAt: number;
  private readonly dataAt: number;

  constructor(readonly slots: number, readonly slotBytes: number) {
    checkAbi();
    const koffi = loadKoffi();
    const size = slots * (MMSGHDR + IOVEC + NAME) + slots * slotBytes;
    this.ptr = koffi.alloc('uint8_t', size);
    this.mem = Buffer.from(koffi.view(this.ptr, size));
    this.mem.fill(0);
    this.iovAt = slots * MMSGHDR;
    this.nameAt = this.iovAt + slots * IOVEC;
    this.dataAt = this.nameAt + slots * NAME;
    const base = koffi.address(this.ptr);
    for (let i = 0; i < slots; i++) {
      const h = i * MMSGHDR;
      this.mem.writeBigUInt64LE(base + BigInt(this.nameAt + i * NAME), h); // msg_name
      this.mem.writeBigUInt64LE(base + BigInt(this.iovAt + i * IOVEC), h + 16); // msg_iov
      this.mem.writeBigUInt64LE(1n, h + 24); // msg_iovlen
      this.mem.writeBigUInt64LE(base + BigInt(this.dataAt + i * slotBytes), this.iovAt + i * IOVEC); // iov_base
      this.mem.writeBigUInt64LE(BigInt(slotBytes), this.iovAt + i * IOVEC + 8); // iov_len (put() sets a send's)
      this.mem.writeUInt32LE(NAME, h + 8); // msg_namelen
    }
  }


  /** Slot i's data bytes (a view: valid until the slot is used again). */
  data(i: number, length: number): Buffer {
    const at = this.dataAt + i * this.slotBytes;
    return this.mem.subarray(at, at + length);
  }

  /** Slot i's bytes to send, as put() set them. */
  payload(i: number): Buffer {
    const at = this.dataAt + i * this.slotBytes;
    return this.mem.subarray(at, at + Number(this.mem.readBigUInt64LE(this.iovAt + i * IOVEC + 8)));
  }

  /** Slot i's address as the kernel wrote it (recv) or as set (send). */
  name(i: number): Buffer {
    const at = this.nameAt + i * NAME;
    return this.mem.subarray(at, at + this.mem.readUInt32LE(i * MMSGHDR + 8));
  }

  /** The datagram's length as received (msg_len), and its msg_flags (MSG_TRUNC). */
  length(i: number): number {
    return this.mem.readUInt32LE(i * MMSGHDR + 56);
  }

  flags(i: number): number {
    return this.mem.readInt32LE(i * MMSGHDR + 48);
  }

  /**
   * Makes the ring ready to receive again: the kernel shortens msg_namelen to each sender's
   * address (iov_len it leaves alone), so only the slots the last receive filled are reset. A
   * ring serves one direction: put() (sending) sets lengths of its own.
   */
  rearm(): void {
    for (let i = 0; i < this.received; i++) this.mem.writeUInt32LE(NAME, i * MMSGHDR + 8);
    this.received = 0;
  }

  /** How many slots the last receive filled. */
  received = 0;

  /**
   * Fills slot i for sending: `bytes` (at most slotBytes) to `to` (a sockaddr, or undefined on a
   * connected socket).
   */
  put(i: number, bytes: Uint8Array, to: Uint8Array | undefined): void {
    const h = i * MMSGHDR;
    if (to) this.mem.set(to, this.nameAt + i * NAME);
    this.mem.writeUInt32LE(to ? to.length : 0, h + 8);
    this.mem.set(bytes, this.dataAt + i * this.slotBytes);
    this.mem.writeBigUInt64LE(BigInt(bytes.length), this.iovAt + i * IOVEC + 8);
  }
}

/** An errno, when a call failed. */
export type Failed = { errno: number };

/**
 * recvmmsg(2) without blocking into slots [0, n): the number received (0 when nothing waits), or
 * the errno of a failure other than EAGAIN.
 */
export function recvMany(fd: number, ring: MsgRing, n = ring.slots): number | Failed {
  ring.rearm();
  const got = fn(decl.recvmmsg)(fd, ring.ptr, n, MSG_DONTWAIT, null);
  if (got >= 0) return (ring.received = got);
  const e = errno();
  return e === EAGAIN ? 0 : { errno: e };
}

/**
 * sendmmsg(2) of slots [from, to), MSG_NOSIGNAL (and MSG_DONTWAIT: a full socket buffer fails
 * the rest rather than blocking the caller): the number of datagrams the kernel took — it stops at
 * the first that fails and reports that failure only when none went — or the errno.
 */
export function sendMany(fd: number, ring: MsgRing, from: number, to: number): number | Failed {
  // A Buffer argument is passed as its address (koffi copies nothing for a synchronous call):
  // the view from `from` on is the ring's own memory.
  const at = from === 0 ? ring.ptr : ring.mem.subarray(from * MMSGHDR);
  const sent = fn(decl.sendmmsg)(fd, at, to - from, MSG_NOSIGNAL | MSG_DONTWAIT);
  return sent >= 0 ? sent : { errno: errno() };
}

let connectedRing: MsgRing | undefined;

/**
 * sendmmsg(2) on a connected socket (the real driver: A and AAAA in one call, as glibc sends
 * them), MSG_NOSIGNAL: the number of datagrams the kernel took — it stops at the first that fails
 * and reports that failure only when none went — or the errno.
 */
export function udpSendMany(fd: number, bufs: readonly Buffer[]): { sent: number; errno: number } {
  const longest = Math.max(0, ...bufs.map((b) => b.length));
  if (!connectedRing || bufs.length > connectedRing.slots || longest > connectedRing.slotBytes) {
    connectedRing = new MsgRing(Math.max(4, bufs.length), Math.max(2048, longest));
  }
  const ring = connectedRing;
  bufs.forEach((b, i) => ring.put(i, b, undefined));
  const sent = fn(decl.sendmmsg)(fd, ring.ptr, bufs.length, MSG_NOSIGNAL);
  return sent >= 0 ? { sent, errno: 0 } : { sent: 0, errno: errno() };
}

const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const MSG_PEEK = 2;

/**
 * Whether anything waits on a socket nobody reads yet: a datagram, or a pending error (an ICMP
 * error on a connected socket), which this consumes. One recv(MSG_PEEK | MSG_DONTWAIT).
 */
export function udpHasPending(fd: number): boolean {
  return fn(decl.recv)(fd, null, 0, MSG_PEEK | MSG_DONTWAIT) >= 0 || errno() !== EAGAIN;
}

/** SO_REUSEADDR off: libuv turns it on for a descriptor it is given, so another socket could bind the same port. */
export function noReuseAddr(fd: number): void {
  const off = Buffer.alloc(4);
  if (fn(decl.setsockopt)(fd, SOL_SOCKET, SO_REUSEADDR, off, 4) < 0) throw new SyscallError('setsockopt(SO_REUSEADDR)', errno());
}

/** A bound, non-blocking, close-on-exec UDP socket on `sa` (a sockaddr: native/udp.ts's sockAddr). Throws SyscallError. */
export function udpBound(sa: Buffer): number {
  const fd = fn(decl.socket)(sa.readUInt16LE(0), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError('socket', errno());
  if (fn(decl.bind)(fd, sa, sa.length) < 0) {
    const code = errno();
    fn(decl.close)(fd);
    throw new SyscallError('bind', code);
  }
  return fd;
}


/** Declares the calls now (a first declaration costs ~0.5 ms). */
export function prepareMmsg(): void {
  for (const d of Object.values(decl)) fn(d);
  connectedRing ??= new MsgRing(4, 2048);
}
