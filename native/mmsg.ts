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
  recvmmsg: 'int recvmmsg(int fd, void *msgs, unsigned int vlen, int flags, void *timeout)',
  sendmmsg: 'int sendmmsg(int fd, void *msgs, unsigned int vlen, int flags)',
  socket: 'int socket(int domain, int type, int protocol)',
  bind: 'int bind(int fd, const void *addr, uint32_t len)',
  close: 'int close(int fd)',
} as const;

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

/**
 * Sends every slot of [0, n), going past a datagram the kernel refuses (one bad destination does
 * not cost the others): the number that failed.
 */
export function sendAll(fd: number, ring: MsgRing, n: number): number {
  let failed = 0;
  for (let i = 0; i < n; ) {
    const r = sendMany(fd, ring, i, n);
    if (typeof r === 'number' && r > 0) i += r;
    else {
      failed++;
      i++;
    }
  }
  return failed;
}

let connectedRing: MsgRing | undefined;

/**
 * sendmmsg(2) on a connected socket (the real driver: A and AAAA in one call, as glibc sends
 * them), MSG_NOSIGNAL: the number of datagrams the kernel took — it stops at the first that fails
 * and reports that failure only when none went — or the errno. At most 4 datagrams of 2048 bytes.
 */
export function udpSendMany(fd: number, bufs: readonly Buffer[]): { sent: number; errno: number } {
  const ring = (connectedRing ??= new MsgRing(4, 2048));
  if (bufs.length > ring.slots || bufs.some((b) => b.length > ring.slotBytes)) throw new RangeError('udpSendMany: at most 4 datagrams of 2048 bytes');
  bufs.forEach((b, i) => ring.put(i, b, undefined));
  const sent = fn(decl.sendmmsg)(fd, ring.ptr, bufs.length, MSG_NOSIGNAL);
  return sent >= 0 ? { sent, errno: 0 } : { sent: 0, errno: errno() };
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

/** close(2) of a descriptor nobody else owns yet. */
export function closeQuietly(fd: number): void {
  fn(decl.close)(fd);
}

/** Declares the calls now (a first declaration costs ~0.5 ms). */
export function prepareMmsg(): void {
  for (const d of Object.values(decl)) fn(d);
  connectedRing ??= new MsgRing(4, 2048);
}
