// UDP service sockets read and written in batches. Node's dgram owns each socket and wakes us
// with its first datagram (libuv's epoll: no extra thread, so a lone query costs what it cost
// before); from that event on, recvmmsg takes every datagram waiting (a ring at a time) and one
// sendmmsg sends the replies. Under load one wake-up answers hundreds of queries with two system
// calls per ring instead of two per query (Node's dgram: recvmsg and sendmsg through libuv and a
// JS callback each — 44 % of a local answer in docs/benchmarks.md's profile).
import * as dgram from 'node:dgram';
import { MSG_TRUNC, MsgRing, noReuseAddr, recvMany, sendMany, udpBound } from '../../native/mmsg.js';
import { closeFd, ifIndexToName, scopeIdOf, sockAddr } from '../../native/index.js';
import { addressBytes, addressText, splitZone } from '../../resolvers/core/address.js';

export type Reply = Buffer | undefined;
/** One datagram in (its own copy: the handler may keep it), its reply out (undefined: none). */
export type DatagramHandler = (msg: Buffer, address: string, port: number) => Reply | Promise<Reply>;

export interface BatchCounters {
  /** replies the kernel refused, handlers that threw, replies too large for a slot */
  sendErrors: number;
  /** datagrams longer than a slot: not answered */
  oversized: number;
}

interface Sock {
  fd: number;
  udp: dgram.Socket;
  handler: DatagramHandler;
  closed: boolean;
}

/** Datagrams per recvmmsg / sendmmsg, and the bytes of a slot (the stub caps EDNS sizes at 4096). */
const SLOTS = 64;
const SLOT_BYTES = 4096;
/** Rings read per wake-up before the loop gets a turn (timers, TCP, upstream replies). */
const ROUNDS = 4;
const EAGAIN = 11;
const ENOBUFS = 105;

export class BatchedUdp {
  private readonly socks = new Map<number, Sock>();
  private readonly recv = new MsgRing(SLOTS, SLOT_BYTES);
  private readonly send = new MsgRing(SLOTS, SLOT_BYTES);
  private queued = 0;
  /** replies that came later (forwarded queries), sent together at the next turn */
  private later: Array<{ s: Sock; to: Buffer; bytes: Buffer }> = [];
  /** sender address text by its 4 bytes (most datagrams come from a few containers) */
  private readonly v4Names = new Map<number, string>();

  constructor(readonly counters: BatchCounters) {}

  /** A socket on address:port answered by `handler`. Rejects with the bind's error (EADDRINUSE, EADDRNOTAVAIL...). */
  async open(address: string, port: number, handler: DatagramHandler): Promise<number> {
    const { address: plain, zone } = splitZone(address);
    const bytes = addressBytes(plain);
    if (!bytes) throw new Error(`not an address: ${address}`);
    const fd = udpBound(sockAddr(bytes, port, scopeIdOf(zone)));
    const udp = dgram.createSocket(bytes.length === 4 ? 'udp4' : 'udp6');
    const s: Sock = { fd, udp, handler, closed: false };
    let owned = false;
    await new Promise<void>((ok, fail) => {
      udp.once('error', fail);
      udp.bind({ fd }, () => {
        owned = true;
        udp.off('error', fail);
        noReuseAddr(fd); // libuv set it: another socket could then bind this address and port too
        ok();
      });
    }).catch((err) => {
      if (owned) udp.close();
      else closeFd(fd);
      throw err;
    });
    udp.on('error', () => {}); // ICMP from a client that went away: nothing to do
    udp.on('message', (msg, rinfo) => this.wake(s, msg, rinfo.address, rinfo.port));
    this.socks.set(fd, s);
    return fd;
  }

  close(fd: number): Promise<void> {
    const s = this.socks.get(fd);
    if (!s) return Promise.resolve();
    this.socks.delete(fd);
    s.closed = true;
    return new Promise<void>((ok) => s.udp.close(() => ok()));
  }

  /**
   * dgram's datagram, then whatever else waits, answered together. The first is answered through
   * dgram itself (its sender as Node spells it, a %zone included), the rest through the ring.
   */
  private wake(s: Sock, first: Buffer, address: string, port: number): void {
    this.queued = 0;
    this.answer(s, first, address, port, undefined);
    for (let round = 0; round < ROUNDS && !s.closed; round++) {
      const n = recvMany(s.fd, this.recv);
      if (typeof n !== 'number' || n === 0) break;
      for (let i = 0; i < n; i++) {
        if (this.recv.flags(i) & MSG_TRUNC) {
          this.counters.oversized++;
          continue;
        }
        const name = this.recv.name(i);
        const from = this.peer(name);
        if (from) this.answer(s, Buffer.from(this.recv.data(i, this.recv.length(i))), from, name.readUInt16BE(2), name);
      }
      if (n < SLOTS) break;
    }
    this.flush(s);
  }

  /** `name`: the sender's sockaddr from the ring; undefined for dgram's datagram (replied through dgram). */
  private answer(s: Sock, msg: Buffer, address: string, port: number, name: Buffer | undefined): void {
    let r: Reply | Promise<Reply>;
    try {
      r = s.handler(msg, address, port);
    } catch {
      this.counters.sendErrors++;
      return;
    }
    if (r instanceof Promise) {
      const to = name && Buffer.from(name);
      r.then(
        (bytes) => bytes && (to ? this.sendLater(s, to, bytes) : this.viaDgram(s, bytes, address, port)),
        () => this.counters.sendErrors++,
      );
    } else if (r) {
      if (name) this.queue(s, r, name);
      else this.viaDgram(s, r, address, port);
    }
  }

  /** One reply through Node's dgram (queued by libuv when the socket buffer is full, never fatal). */
  private viaDgram(s: Sock, bytes: Buffer, address: string, port: number): void {
    if (s.closed) {
      this.counters.sendErrors++;
      return;
    }
    try {
      s.udp.send(bytes, port, address, (err) => {
        if (err) this.counters.sendErrors++;
      });
    } catch {
      this.counters.sendErrors++;
    }
  }

  private queue(s: Sock, bytes: Buffer, to: Buffer): void {
    if (bytes.length > SLOT_BYTES) {
      this.counters.sendErrors++;
      return;
    }
    this.send.put(this.queued++, bytes, to);
    if (this.queued === SLOTS) this.flush(s);
  }

  /**
   * Sends the queued replies in one sendmmsg where it can. Past a datagram the kernel refuses, the
   * rest go on; a full socket buffer (EAGAIN, ENOBUFS) hands the rest to dgram, which queues them
   * until the socket is writable, as it did for every reply before.
   */
  private flush(s: Sock): void {
    const n = this.queued;
    this.queued = 0;
    if (s.closed) {
      this.counters.sendErrors += n;
      return;
    }
    for (let i = 0; i < n; ) {
      const r = sendMany(s.fd, this.send, i, n);
      if (typeof r === 'number' && r > 0) {
        i += r;
        continue;
      }
      const code = typeof r === 'number' ? 0 : r.errno;
      if (code === EAGAIN || code === ENOBUFS) {
        for (; i < n; i++) {
          const to = this.peerOf(this.send.name(i));
          if (to) this.viaDgram(s, Buffer.from(this.send.payload(i)), to.address, to.port);
          else this.counters.sendErrors++;
        }
        return;
      }
      this.counters.sendErrors++;
      i++;
    }
  }

  private sendLater(s: Sock, to: Buffer, bytes: Buffer): void {
    this.later.push({ s, to, bytes });
    if (this.later.length > 1) return;
    setImmediate(() => {
      const batch = this.later;
      this.later = [];
      this.queued = 0;
      let current: Sock | undefined;
      for (const r of batch) {
        if (r.s !== current && current) this.flush(current);
        current = r.s;
        this.queue(r.s, r.bytes, r.to);
      }
      if (current) this.flush(current);
    });
  }

  private peerOf(sa: Buffer): { address: string; port: number } | undefined {
    const address = this.peer(sa);
    return address === undefined ? undefined : { address, port: sa.readUInt16BE(2) };
  }

  /** A sender's address as Node's dgram spells it (the stub's view is keyed by it): a.b.c.d, or IPv6 with %zone when scoped. */
  private peer(sa: Buffer): string | undefined {
    if (sa.length >= 8 && sa.readUInt16LE(0) === 2) {
      const key = sa.readUInt32BE(4);
      let address = this.v4Names.get(key);
      if (address === undefined) {
        address = `${sa[4]}.${sa[5]}.${sa[6]}.${sa[7]}`;
        if (this.v4Names.size >= 4096) this.v4Names.clear();
        this.v4Names.set(key, address);
      }
      return address;
    }
    if (sa.length < 28) return undefined;
    const address = addressText(sa.subarray(8, 24));
    const scope = sa.readUInt32LE(24);
    return scope === 0 ? address : `${address}%${ifIndexToName(scope) ?? scope}`;
  }
}
