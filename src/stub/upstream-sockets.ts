// The stub's upstream sockets: connected UDP sockets (glibc's kind) lent to one exchange at a
// time and reused by a few more, instead of made, wrapped by Node, connected and closed for every
// forwarded query (measured: a third of a forwarded query's CPU). What the emulated library does
// per query does not change — the plan, its timers, which server — only where the descriptor
// comes from. musl's unconnected sockets (they hear anyone who finds the port) are not pooled.
//
// Anti-spoofing stays per exchange: a fresh random id (forward.ts) and the question matched, and
// the port is the kernel's random ephemeral one, living for at most MAX_USES exchanges and
// IDLE_MS between them; a connected socket hears only its server's address and port. A socket
// goes back to the pool only clean — every query sent on it answered, nothing else received, no
// error — and is checked again when lent (a datagram or an ICMP error the kernel holds for it and
// Node has not read yet): a late reply or an error meant for one exchange never reaches another.
import * as dgram from 'node:dgram';
import { closeFd, udpConnect, udpHasPending, udpSocket, type SockAddr } from '../../native/index.js';
import type { LentSocket, UdpSocketSource } from '../driver/real-driver.js';

/** Exchanges one socket serves before it is closed (a new random port). */
export const MAX_USES = 32;
/** An idle socket is closed after this long. */
export const IDLE_MS = 1000;
/** Idle sockets kept per destination (the rest are closed when given back). */
const MAX_IDLE = 512;

class Pooled implements LentSocket {
  uses = 0;
  idleSince = 0;
  /** it heard something while nobody held it */
  stray = false;
  closed = false;
  private onMessage: ((bytes: Buffer, rinfo: dgram.RemoteInfo) => void) | undefined;
  private onError: ((err: NodeJS.ErrnoException) => void) | undefined;

  constructor(readonly fd: number, private readonly sock: dgram.Socket, private readonly pool: UpstreamSockets, readonly key: string) {
    sock.on('message', (bytes, rinfo) => (this.onMessage ? this.onMessage(bytes, rinfo) : (this.stray = true)));
    sock.on('error', (err: NodeJS.ErrnoException) => (this.onError ? this.onError(err) : (this.stray = true)));
  }

  attach(onMessage: (bytes: Buffer, rinfo: dgram.RemoteInfo) => void, onError: (err: NodeJS.ErrnoException) => void): void {
    this.onMessage = onMessage;
    this.onError = onError;
  }

  giveBack(clean: boolean): void {
    this.onMessage = undefined;
    this.onError = undefined;
    this.pool.back(this, clean);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}

export class UpstreamSockets implements UdpSocketSource {
  private readonly idle = new Map<string, Pooled[]>();
  private readonly sweeper: NodeJS.Timeout;
  /** `counts`: sockets made, and exchanges served by one made earlier (status: what the pool saves) */
  constructor(
    readonly counts: { made: number; reused: number } = { made: 0, reused: 0 },
    private readonly limits = { maxUses: MAX_USES, idleMs: IDLE_MS },
  ) {
    this.sweeper = setInterval(() => this.sweep(performance.now()), limits.idleMs);
    this.sweeper.unref();
  }

  take(want: { connect: SockAddr | undefined; family: 'udp4' | 'udp6'; dualStack: boolean }): LentSocket | undefined {
    if (!want.connect || this.closed) return undefined;
    const key = want.connect.toString('hex');
    const list = this.idle.get(key);
    for (let p = list?.pop(); p; p = list!.pop()) {
      // a datagram or an ICMP error the kernel holds for it and Node has not read yet counts too
      if (p.stray || performance.now() - p.idleSince > this.limits.idleMs || udpHasPending(p.fd)) {
        p.close();
        continue;
      }
      p.uses++;
      this.counts.reused++;
      return p;
    }
    return this.make(key, { connect: want.connect, family: want.family });
  }

  back(p: Pooled, clean: boolean): void {
    if (this.closed || !clean || p.stray || p.uses >= this.limits.maxUses) return p.close();
    const list = this.idle.get(p.key) ?? [];
    if (list.length >= MAX_IDLE) return p.close();
    p.idleSince = performance.now();
    list.push(p);
    this.idle.set(p.key, list);
  }

  private closed = false;

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const list of this.idle.values()) for (const p of list) p.close();
    this.idle.clear();
  }

  private make(key: string, want: { connect: SockAddr; family: 'udp4' | 'udp6' }): Pooled {
    const fd = udpSocket(want.connect);
    try {
      udpConnect(fd, want.connect);
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    const sock = dgram.createSocket(want.family);
    sock.bind({ fd });
    this.counts.made++;
    const p = new Pooled(fd, sock, this, key);
    p.uses = 1;
    return p;
  }

  private sweep(now: number): void {
    for (const [key, list] of this.idle) {
      const keep = list.filter((p) => {
        const live = !p.stray && now - p.idleSince <= this.limits.idleMs;
        if (!live) p.close();
        return live;
      });
      if (keep.length > 0) this.idle.set(key, keep);
      else this.idle.delete(key);
    }
  }
}
