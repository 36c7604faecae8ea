// The real driver: carries out an emulator's actions on real UDP/TCP sockets with the monotonic
// clock. It runs in whatever network namespace the calling thread is in (the CLI enters the
// target namespace first), so "real" means the container's own network path.
//
// UDP is sent the way the libraries send it, by direct syscalls (native/udp.ts): socket and
// connect at once, back-to-back sends of one batch on a connected socket in one sendmmsg (glibc's
// A and AAAA), sendto on an unconnected one (musl, dnspython). A send is recorded in the trace
// only when the kernel took it; one that fails (a pending ICMP port unreachable on a connected
// socket, no route) is an event for the emulator instead, as it is an error return for the
// library. Node's dgram would send asynchronously (an ICMP error could land between the A and
// the AAAA) and queues sends behind an asynchronous connect; receiving stays with it: the
// descriptor is handed to dgram, whose recvmsg reports replies and ICMP errors on the loop.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { closeFd, errnoName, scopeIdOf, prepareClock, prepareUdp, sleepUntil, sockAddr, udpConnect, udpDualStackSocket, udpSend, udpSendMany, udpSendTo, udpSocket, type SockAddr } from '../../native/index.js';
import { ipv4Bytes, ipv6Bytes, splitZone } from '../../resolvers/core/address.js';
import { FrameDecoder, frame } from '../../resolvers/core/tcp-framing.js';
import { MAX_LOOKUP_MS, MAX_LOOKUP_QUERIES, stoppedWarning, TraceRecorder } from '../../resolvers/core/trace.js';
import { PoolQueue } from '../../resolvers/core/pool.js';
import type { EmulatedProcess, LookupRequest, LookupResult, MachineAction, MachineEvent, ResolverMachine, Trace } from '../../resolvers/core/types.js';

export interface RealRunOptions {
  mode: string;
  /** DNS port of the servers (53; tests of unprivileged setups may use another) */
  port: number;
  warnings: string[];
  /** give up with EAI_AGAIN after this long (the stub's bound on a TCP exchange, which has no resolver timeout) */
  deadlineMs?: number | undefined;
  /** where UDP sockets come from when not made for the lookup (the stub's pool: src/stub/upstream-sockets.ts) */
  udpSockets?: UdpSocketSource | undefined;
}

/** A socket lent for one lookup: made (and connected) already, Node receiving on it. */
export interface LentSocket {
  readonly fd: number;
  /** the lookup's handlers, until it gives the socket back */
  attach(onMessage: (bytes: Buffer, rinfo: dgram.RemoteInfo) => void, onError: (err: NodeJS.ErrnoException) => void): void;
  /** `clean`: every query sent on it was answered and nothing failed (it may serve another lookup) */
  giveBack(clean: boolean): void;
}

export interface UdpSocketSource {
  /** A socket connected to `connect` (or unconnected: of `family`, or dual-stack); undefined: make one. Throws SyscallError. */
  take(want: { connect: SockAddr | undefined; family: 'udp4' | 'udp6'; dualStack: boolean }): LentSocket | undefined;
}

const family = (addr: string) => (addr.includes(':') ? 'udp6' : 'udp4');

export function lookupReal(process: EmulatedProcess, request: LookupRequest, opts: RealRunOptions): Promise<Trace> {
  return runMachine(() => process.lookup(request), request, opts, undefined, false);
}

/** `calledAt`: when the caller asked (the trace counts from there); `queued`: it waited for a worker since. */
function runMachine(make: () => ResolverMachine, request: LookupRequest, opts: RealRunOptions, calledAt: number | undefined, queued: boolean): Promise<Trace> {
  warmUp();
  return new Promise((resolve, reject) => new RealRun(make(), request, opts, calledAt, queued, resolve, reject).start());
}

/**
 * Lookups called at the same moment in one process (resolve --concurrency), on real sockets. A
 * pooled process (Node) runs each on a worker as core/pool.ts hands them out — a queued lookup's
 * trace counts from the call, its wait in queued_ms; any other runs them all at once, a thread each.
 */
export async function lookupBurstReal(process: EmulatedProcess, requests: LookupRequest[], opts: RealRunOptions): Promise<Trace[]> {
  const calledAt = performance.now();
  const w = process.workers;
  if (!w) return Promise.all(requests.map((r) => runMachine(() => (process.thread?.() ?? process).lookup(r), r, opts, calledAt, false)));
  const queue = new PoolQueue<number>(w.pool);
  const out: Promise<Trace>[] = new Array(requests.length);
  const settle = new Map<number, (t: Promise<Trace>) => void>();
  const start = (list: Array<{ job: number; thread: number }>, queued: boolean) => {
    for (const { job, thread } of list) {
      const run = runMachine(() => w.lookupOn(thread, requests[job]!), requests[job]!, opts, calledAt, queued);
      // the thread is free when its lookup ends, however it ends; what it takes next has waited
      void run.then(() => start(queue.finished(thread), true), () => start(queue.finished(thread), true));
      settle.get(job)!(run);
    }
  };
  requests.forEach((r, i) => {
    const direct = w.direct(r);
    if (direct) out[i] = runMachine(() => direct, r, opts, calledAt, false);
    else {
      out[i] = new Promise<Trace>((res) => settle.set(i, (t) => res(t)));
      queue.submit(i);
    }
  });
  start(queue.startable(), false);
  return Promise.all(out);
}

let warm = false;
/**
 * Once per process, before the first lookup's clock starts: what a first use would otherwise put
 * between the emulator's first decision and its query on the wire (measured 4-8 ms): koffi's
 * declarations of the socket calls, and Node's first dgram socket over a descriptor (its
 * constructor's lazy loads, the cluster check of bind({ fd })) — one socket, never sent on.
 */
function warmUp(): void {
  if (warm) return;
  warm = true;
  try {
    prepareUdp();
    prepareClock();
    const fd = udpSocket(sockAddr(new Uint8Array(4), 0));
    const sock = dgram.createSocket('udp4');
    sock.bind({ fd });
    sock.close();
  } catch {
    // best effort: the lookup's own socket calls report what is wrong
  }
}

/**
 * Socket addresses by "address port": every query of a lookup goes to one of a few servers.
 * Undefined for text no address reader takes (the emulators only pass addresses they parsed).
 */
const addresses = new Map<string, SockAddr | undefined>();
function sockAddrOf(to: string, port: number, v4Mapped = false): SockAddr | undefined {
  const key = `${to} ${port} ${v4Mapped}`;
  if (addresses.has(key)) return addresses.get(key);
  if (addresses.size >= 256) addresses.clear();
  const { address, zone } = splitZone(to);
  const bytes = ipv4Bytes(to) ?? ipv6Bytes(address);
  // A zone is an interface name or index (node:net's rule); an unknown one gives scope 0, and the
  // kernel refuses the link-local send.
  const sa = bytes && sockAddr(bytes, port, scopeIdOf(zone), v4Mapped);
  addresses.set(key, sa);
  return sa;
}

interface UdpEntry {
  /** -1 until the socket exists (an unconnected one is made at its first send, of that family) */
  fd: number;
  /** Node's side of the descriptor, for receiving; it owns (closes) the descriptor once set */
  sock: dgram.Socket | undefined;
  connect: string | null;
  /** an unconnected AF_INET6 socket sending to IPv4 servers as ::ffff:a.b.c.d */
  dualStack: boolean;
  /** why the socket could not be made or connected: every send on it fails with this */
  broken: string | undefined;
  /**
   * A socket lent by opts.udpSockets (connected: only its server reaches it); the ids of the
   * queries sent on it and not answered yet, and whether anything else happened on it (an error,
   * a datagram that answers none of them): only a socket with neither goes back for another lookup.
   */
  lent?: LentSocket | undefined;
  awaiting?: Set<number> | undefined;
  failed: boolean;
}

type ActionOf<T extends MachineAction['type']> = Extract<MachineAction, { type: T }>;
type UdpSend = ActionOf<'udp-send'>;

const EINTR = 4;
const EAGAIN = 11;
const EINVAL = 22;

/** One lookup on real sockets: the emulator's actions carried out, the kernel's answers fed back. */
class RealRun {
  private readonly started = performance.now();
  private readonly recorder: TraceRecorder;
  private readonly udp = new Map<number, UdpEntry>();
  private readonly tcp = new Map<number, { sock: net.Socket; to: string; frames: FrameDecoder }>();
  /** how to cancel each armed timer (a Node timeout or an immediate) */
  private readonly timers = new Map<number, () => void>();
  /** when each emulator timer is due (a Node timer may be set for an earlier moment: it re-arms) */
  private readonly due = new Map<number, number>();
  /** when each Node timer was set to fire */
  private readonly fires = new Map<number, number>();
  /**
   * Work of a batch of actions that can wait until its queries are on the wire (a reply cannot
   * come sooner): handing new descriptors to Node, closing sockets, arming timers. Measured on
   * the wire: ~30-50 us of each step (Node's dgram wrap and close, timers) no longer in front of
   * the next query.
   */
  private readonly after: Array<() => void> = [];
  /** sends that failed while a batch of actions was carried out: told to the emulator after it */
  private readonly sendErrors: Array<{ socket: number; code: string }> = [];
  private result: LookupResult | undefined;
  private failed = false;
  /** why the driver ended the lookup itself (a warning in the trace) */
  private stopped: string | undefined;
  /**
   * How late the timer being delivered woke (0 otherwise): the emulator's clock runs that much
   * behind during the step, so its decisions (musl's whole-ms budget, glibc's next deadline) are
   * the library's on an on-time wake-up; what it sends is stamped with the real time.
   */
  private lag = 0;

  constructor(
    private readonly machine: ResolverMachine,
    private readonly request: LookupRequest,
    private readonly opts: RealRunOptions,
    /** when the caller asked (the trace counts from there) */
    private readonly calledAt: number | undefined,
    /** it waited for a worker thread since (queued_ms) */
    private readonly queued: boolean,
    private readonly resolve: (t: Trace) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.recorder = new TraceRecorder(calledAt ?? this.started);
  }

  start(): void {
    this.apply(this.machine.start(this.started, () => performance.now() - this.lag));
    if (this.over()) return;
    // every lookup has a deadline: the caller's (the stub's bound), else MAX_LOOKUP_MS
    const ms = this.opts.deadlineMs ?? MAX_LOOKUP_MS;
    const deadline = setTimeout(() => this.stop(this.opts.deadlineMs === undefined ? stoppedWarning(`${ms / 1000} s`) : undefined), ms);
    this.timers.set(-1, () => clearTimeout(deadline));
  }

  /** Ends the lookup now with EAI_AGAIN (a deadline, a runaway query count), saying why when `why`. */
  private stop(why: string | undefined): void {
    if (this.over()) return;
    if (why) this.stopped = why;
    this.result = { addresses: [], error: 'EAI_AGAIN' };
    this.finish();
  }

  private over = () => this.result !== undefined || this.failed;

  private deliver(ev: MachineEvent): void {
    if (this.over()) return;
    const now = performance.now();
    if (ev.type === 'udp') this.recorder.received(now, `u${ev.socket}`, ev.bytes, ev.from, ev.wrongPort);
    else if (ev.type === 'tcp') this.recorder.received(now, `t${ev.conn}`, ev.bytes);
    else if (ev.type === 'udp-error') this.recorder.failed(now, `u${ev.socket}`, 'icmp-unreachable');
    else if (ev.type === 'tcp-error') this.recorder.failed(now, `t${ev.conn}`, ev.code === 'ECONNREFUSED' ? 'connection-refused' : 'timeout');
    this.apply(this.machine.handle(now - this.lag, ev));
  }

  /** Whatever goes wrong (a socket call throwing, an emulator bug), nothing is left open. */
  private apply(actions: MachineAction[]): void {
    try {
      for (let i = 0; i < actions.length; i++) {
        const a = actions[i]!;
        if (a.type !== 'udp-send') {
          (this.carryOut[a.type] as (a: MachineAction) => void)(a);
          continue;
        }
        // What the library sends in one syscall goes in one: back-to-back sends on one connected
        // socket (glibc's A and AAAA, send_dg's sendmmsg).
        const batch: UdpSend[] = [a];
        if (this.udp.get(a.socket)?.connect) {
          for (let next = actions[i + 1]; next?.type === 'udp-send' && next.socket === a.socket; next = actions[i + 1]) {
            batch.push(next);
            i++;
          }
        }
        this.udpSend(batch);
      }
      for (let f = this.after.shift(); f; f = this.after.shift()) f();
      if (this.result !== undefined) this.finish();
      else if (this.recorder.count > MAX_LOOKUP_QUERIES) this.stop(stoppedWarning(`${MAX_LOOKUP_QUERIES} queries`));
    } catch (err) {
      this.after.length = 0;
      this.failed = true;
      this.release();
      this.reject(err);
      return;
    }
    // A failed send is the library's error return, seen once the batch is out.
    for (let e = this.sendErrors.shift(); e; e = this.sendErrors.shift()) this.sendFailed(e.socket, e.code);
  }

  private readonly carryOut: { [T in Exclude<MachineAction['type'], 'udp-send'>]: (a: ActionOf<T>) => void } = {
    'udp-open': (a) => {
      const entry: UdpEntry = { fd: -1, sock: undefined, connect: a.connect, dualStack: a.dualStack === true, broken: undefined, failed: false };
      this.udp.set(a.socket, entry);
      if (a.connect) this.open(a.socket, entry, a.connect);
    },
    'udp-close': (a) => {
      const entry = this.udp.get(a.socket);
      this.udp.delete(a.socket);
      if (entry) this.after.push(() => this.closeUdp(entry));
    },
    'tcp-open': (a) => {
      const sock = net.connect({ host: a.to, port: this.opts.port, noDelay: true });
      // No limits: every frame, an empty one too, goes to the emulator, which judges the reply.
      const entry = { sock, to: a.to, frames: new FrameDecoder() };
      this.tcp.set(a.conn, entry);
      sock.on('data', (chunk: Buffer) => {
        for (const f of entry.frames.push(chunk)) if (f.kind === 'message') this.deliver({ type: 'tcp', conn: a.conn, bytes: f.bytes });
      });
      sock.on('error', (err: NodeJS.ErrnoException) => this.deliver({ type: 'tcp-error', conn: a.conn, code: err.code ?? 'EIO' }));
      sock.on('end', () => this.deliver({ type: 'tcp-error', conn: a.conn, code: 'ECONNRESET' }));
    },
    'tcp-send': (a) => {
      const entry = this.tcp.get(a.conn);
      if (!entry) return;
      // Recorded when the kernel gets the bytes: a write on a connection still being made waits
      // for its handshake (Node flushes it on 'connect', right after this listener), as the
      // library's send() after its blocking connect() does; under load that was 12 ms later.
      const record = () => this.recorder.sent(performance.now(), `t${a.conn}`, entry.to, 'tcp', a.query.qname, a.query.qtype, a.query.id);
      if (entry.sock.connecting) entry.sock.once('connect', record);
      else record();
      entry.sock.write(frame(a.bytes));
    },
    'tcp-close': (a) => {
      this.tcp.get(a.conn)?.sock.destroy();
      this.tcp.delete(a.conn);
    },
    // Emulators move a deadline on at every step (glibc: a new query, a new wait): the Node timer
    // already set for an earlier moment is kept and re-armed when it fires, instead of a
    // clearTimeout + setTimeout per step (measured ~9 us of each step's work).
    timer: (a) => {
      this.due.set(a.id, a.at);
      const fires = this.fires.get(a.id);
      if (fires !== undefined && fires <= a.at) return;
      this.after.push(() => {
        this.timers.get(a.id)?.();
        this.arm(a.id, a.at);
      });
    },
    cancel: (a) => {
      this.due.delete(a.id);
    },
    done: (a) => {
      this.result = a.result;
    },
  };

  /**
   * A library's poll() returns within microseconds of its deadline (the kernel's slack the
   * emulators model themselves); Node timers have whole-ms resolution and fire up to ~1 ms early
   * or late. So: sleep on a Node timer until ~2.5 ms before the deadline, then on a thread that
   * sleeps until the deadline itself (native/clock.ts: a sleeping thread is woken as promptly as
   * the library's poll(), where turning the loop was preempted by any CPU hog for milliseconds);
   * turning the loop (setImmediate, I/O still served) only when no thread is free. Never early:
   * emulators compare elapsed time with limits (dnspython's lifetime); rarely late: musl's
   * whole-ms clock decides whether one more resend fits (fidelity scenario musl-overshoot-7).
   */
  private arm(id: number, at: number): void {
    this.fires.set(id, at);
    let live = true;
    const check = () => {
      if (!live) return; // cancelled or re-armed while a thread slept for it
      live = false;
      this.timers.delete(id);
      this.fires.delete(id);
      const due = this.due.get(id);
      if (due === undefined) return; // cancelled
      if (performance.now() < due) {
        this.arm(id, due);
        return;
      }
      this.due.delete(id);
      // The emulator decides as the library would on waking at its deadline: the driver's own
      // lateness (its thread woken a few ms late now and then) is not the library's.
      this.lag = Math.max(0, performance.now() - due);
      try {
        this.deliver({ type: 'timer', id });
      } finally {
        this.lag = 0;
      }
    };
    const remaining = at - performance.now();
    if (remaining > 3) {
      // Node's timers take at most 2^31 - 1 ms (a longer delay fires at once): a far deadline re-arms
      const t = setTimeout(check, Math.min(2 ** 31 - 1, Math.floor(remaining - 2.5)));
      this.timers.set(id, () => ((live = false), clearTimeout(t)));
    } else if (sleepUntil(at, check)) {
      this.timers.set(id, () => (live = false));
    } else {
      const t = setImmediate(check);
      this.timers.set(id, () => ((live = false), clearImmediate(t)));
    }
  }

  /**
   * Makes the socket (and connects it, for a connected one) by syscalls; Node gets the descriptor
   * for receiving once the batch's queries are out. A failure (no route, out of descriptors)
   * breaks the socket: its sends fail with that error, as the library's would.
   */
  private open(id: number, entry: UdpEntry, to: string): void {
    const sa = sockAddrOf(to, this.opts.port);
    if (!sa) {
      entry.broken = 'EINVAL';
      return;
    }
    const kind = entry.dualStack ? 'udp6' : family(to);
    try {
      entry.lent = this.opts.udpSockets?.take({ connect: entry.connect ? sa : undefined, family: kind, dualStack: entry.dualStack });
      if (entry.lent) {
        entry.fd = entry.lent.fd;
        entry.awaiting = new Set();
        entry.lent.attach((bytes, rinfo) => this.udpMessage(id, entry, bytes, rinfo), (err) => this.udpError(id, entry, err));
        return;
      }
      entry.fd = entry.dualStack ? udpDualStackSocket() : udpSocket(sa);
      if (entry.connect) udpConnect(entry.fd, sa);
    } catch (err) {
      entry.broken = (err as NodeJS.ErrnoException).code ?? 'EIO';
      this.closeUdp(entry);
      return;
    }
    this.after.push(() => {
      if (this.udp.get(id) !== entry) return; // closed in the same batch: closeUdp has the descriptor
      const sock = dgram.createSocket(kind);
      sock.bind({ fd: entry.fd }); // synchronous for a descriptor: uv_udp_open, then recvmsg
      entry.sock = sock;
      sock.on('message', (bytes, rinfo) => this.udpMessage(id, entry, bytes, rinfo));
      sock.on('error', (err: NodeJS.ErrnoException) => this.udpError(id, entry, err));
    });
  }

  private udpMessage(id: number, entry: UdpEntry, bytes: Buffer, rinfo: dgram.RemoteInfo): void {
    if (entry.awaiting) {
      const answers = rinfo.port === this.opts.port && bytes.length >= 2 && entry.awaiting.delete(bytes.readUInt16BE(0));
      if (!answers) entry.failed = true;
    }
    // An unconnected socket hears anyone: the emulator decides (musl ignores another source
    // port, dnspython's UnexpectedSource ends the try). A connected one only hears its server.
    // A dual-stack socket hears IPv4 servers as ::ffff:a.b.c.d: the emulator knows them as a.b.c.d.
    const from = entry.dualStack && rinfo.address.startsWith('::ffff:') && rinfo.address.includes('.') ? rinfo.address.slice(7) : rinfo.address;
    if (rinfo.port !== this.opts.port) this.deliver({ type: 'udp', socket: id, from, bytes, wrongPort: true });
    else this.deliver({ type: 'udp', socket: id, from, bytes });
  }

  /** recvmsg's error: an ICMP error on a connected socket (ECONNREFUSED = port unreachable). */
  private udpError(id: number, entry: UdpEntry, err: NodeJS.ErrnoException): void {
    entry.failed = true;
    this.deliver({ type: 'udp-error', socket: id, code: err.code ?? 'EIO' });
  }

  private closeUdp(entry: UdpEntry): void {
    if (entry.lent) entry.lent.giveBack(!entry.failed && entry.awaiting?.size === 0);
    else if (entry.sock) entry.sock.close();
    else if (entry.fd >= 0) closeFd(entry.fd);
    entry.sock = undefined;
    entry.lent = undefined;
    entry.awaiting = undefined;
    entry.fd = -1;
  }

  /**
   * Sends a batch (one query, or back-to-back queries on one connected socket) the way the
   * library does, and records each query the kernel took. glibc's send_dg: two queries go in one
   * sendmmsg; when it takes only the first (an ICMP error for the first, handled while it was
   * sent, fails the second), the second goes in a send() of its own (its "just_one" path); the
   * first failing call ends the batch and is the library's error. EAGAIN/EINTR are retried, as
   * send_dg goes back to poll() for them.
   */
  private udpSend(batch: UdpSend[]): void {
    const first = batch[0]!;
    const entry = this.udp.get(first.socket);
    if (!entry) return;
    if (!entry.connect && entry.fd < 0 && !entry.broken) this.open(first.socket, entry, first.to);
    if (entry.broken) {
      this.sendErrors.push({ socket: first.socket, code: entry.broken });
      return;
    }
    let done = 0;
    let err = 0;
    for (let tries = 0; done < batch.length && tries < 8; tries++) {
      const at = performance.now();
      let sent = 0;
      if (!entry.connect) {
        const sa = sockAddrOf(first.to, this.opts.port, entry.dualStack);
        err = sa ? udpSendTo(entry.fd, first.bytes, sa) : EINVAL;
        sent = err ? 0 : 1;
      } else if (batch.length - done >= 2) {
        const bufs: Buffer[] = [];
        for (let k = done; k < batch.length; k++) bufs.push(batch[k]!.bytes);
        ({ sent, errno: err } = udpSendMany(entry.fd, bufs));
      } else {
        err = udpSend(entry.fd, batch[done]!.bytes);
        sent = err ? 0 : 1;
      }
      // sendmmsg may yield the CPU between datagrams (the kernel's cond_resched per message): on a
      // busy machine the second leaves milliseconds after the first. The first is recorded when the
      // call began, a later one when the call returned (it left in between, after any such pause).
      const returned = sent > 1 ? performance.now() : at;
      for (let k = 0; k < sent; k++) this.recordSent(k === 0 ? at : returned, batch[done + k]!);
      if (entry.awaiting) for (let k = 0; k < sent; k++) entry.awaiting.add(batch[done + k]!.query.id);
      done += sent;
      if (err && err !== EAGAIN && err !== EINTR) break;
    }
    if (done < batch.length) {
      entry.failed = true;
      this.sendErrors.push({ socket: first.socket, code: err ? errnoName(err) : 'EAGAIN' });
    }
  }

  private recordSent(at: number, a: UdpSend): void {
    this.recorder.sent(at, `u${a.socket}`, a.to, 'udp', a.query.qname, a.query.qtype, a.query.id);
  }

  /**
   * A send the kernel refused. On a connected socket ECONNREFUSED is the ICMP port unreachable an
   * earlier query drew: the queries waiting there end as unreachable. The emulator hears of it
   * as the library does (glibc: next server; musl ignores sendto's result).
   */
  private sendFailed(socket: number, code: string): void {
    if (this.over() || !this.udp.has(socket)) return;
    if (this.udp.get(socket)!.connect && code === 'ECONNREFUSED') this.recorder.failed(performance.now(), `u${socket}`, 'icmp-unreachable');
    this.apply(this.machine.handle(performance.now(), { type: 'udp-error', socket, code }));
  }

  private release(): void {
    for (const cancel of this.timers.values()) cancel();
    for (const entry of this.udp.values()) this.closeUdp(entry);
    for (const { sock } of this.tcp.values()) sock.destroy();
  }

  private finish(): void {
    this.release();
    const { request, opts } = this;
    const trace = this.recorder.finish(performance.now(), opts.mode, request.name, request.family, this.result!, this.stopped ? [...opts.warnings, this.stopped] : opts.warnings);
    const queued = this.queued && this.calledAt !== undefined ? Math.round((this.started - this.calledAt) * 1000) / 1000 : 0;
    this.resolve(queued > 0 ? { ...trace, queued_ms: queued } : trace);
  }
}
