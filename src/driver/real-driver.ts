// The real driver: carries out an emulator's actions on real UDP/TCP sockets with the monotonic
// clock. It runs in whatever network namespace the calling thread is in (the CLI enters the
// target namespace first), so "real" means the container's own network path.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { FrameDecoder, frame } from '../../resolvers/core/tcp-framing.js';
import { TraceRecorder } from '../../resolvers/core/trace.js';
import type { EmulatedProcess, LookupRequest, LookupResult, MachineAction, MachineEvent, Trace } from '../../resolvers/core/types.js';

export interface RealRunOptions {
  mode: string;
  /** DNS port of the servers (53; tests of unprivileged setups may use another) */
  port: number;
  warnings: string[];
  /** give up with EAI_AGAIN after this long (the stub's bound on a TCP exchange, which has no resolver timeout) */
  deadlineMs?: number | undefined;
}

const family = (addr: string) => (addr.includes(':') ? 'udp6' : 'udp4');

export function lookupReal(process: EmulatedProcess, request: LookupRequest, opts: RealRunOptions): Promise<Trace> {
  return new Promise((resolve, reject) => new RealRun(process, request, opts, resolve, reject).start());
}

interface UdpEntry {
  sock: dgram.Socket | undefined;
  connect: string | null;
  connected: boolean;
  /** a connected socket cannot send until connect() completes: sends wait here */
  pending: Buffer[];
}

type ActionOf<T extends MachineAction['type']> = Extract<MachineAction, { type: T }>;

/** One lookup on real sockets: the emulator's actions carried out, the kernel's answers fed back. */
class RealRun {
  private readonly machine: ReturnType<EmulatedProcess['lookup']>;
  private readonly started = performance.now();
  private readonly recorder = new TraceRecorder(this.started);
  private readonly udp = new Map<number, UdpEntry>();
  private readonly tcp = new Map<number, { sock: net.Socket; to: string; frames: FrameDecoder }>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private result: LookupResult | undefined;
  private failed = false;

  constructor(
    process: EmulatedProcess,
    private readonly request: LookupRequest,
    private readonly opts: RealRunOptions,
    private readonly resolve: (t: Trace) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.machine = process.lookup(request);
  }

  start(): void {
    this.apply(this.machine.start(this.started));
    if (this.opts.deadlineMs === undefined || this.over()) return;
    this.timers.set(-1, setTimeout(() => {
      if (this.over()) return;
      this.result = { addresses: [], error: 'EAI_AGAIN' };
      this.finish();
    }, this.opts.deadlineMs));
  }

  private over = () => this.result !== undefined || this.failed;

  private deliver(ev: MachineEvent): void {
    if (this.over()) return;
    const now = performance.now();
    if (ev.type === 'udp') this.recorder.received(now, `u${ev.socket}`, ev.bytes, ev.from);
    else if (ev.type === 'tcp') this.recorder.received(now, `t${ev.conn}`, ev.bytes);
    else if (ev.type === 'udp-error') this.recorder.failed(now, `u${ev.socket}`, 'icmp-unreachable');
    else if (ev.type === 'tcp-error') this.recorder.failed(now, `t${ev.conn}`, ev.code === 'ECONNREFUSED' ? 'connection-refused' : 'timeout');
    this.apply(this.machine.handle(now, ev));
  }

  /** Whatever goes wrong (a socket call throwing, an emulator bug), nothing is left open. */
  private apply(actions: MachineAction[]): void {
    try {
      for (const a of actions) (this.carryOut[a.type] as (a: MachineAction) => void)(a);
      if (this.result !== undefined) this.finish();
    } catch (err) {
      this.failed = true;
      this.release();
      this.reject(err);
    }
  }

  private readonly carryOut: { [T in MachineAction['type']]: (a: ActionOf<T>) => void } = {
    'udp-open': (a) => {
      this.udp.set(a.socket, { sock: undefined, connect: a.connect, connected: false, pending: [] });
      if (a.connect) this.udpSocket(a.socket, a.connect);
    },
    'udp-send': (a) => {
      const sock = this.udpSocket(a.socket, a.to);
      if (!sock) return;
      this.recorder.sent(performance.now(), `u${a.socket}`, a.to, 'udp', a.query.qname, a.query.qtype, a.query.id);
      const entry = this.udp.get(a.socket)!;
      if (!entry.connect) sock.send(a.bytes, this.opts.port, a.to);
      else if (entry.connected) this.sendConnected(a.socket, sock, a.bytes);
      else entry.pending.push(a.bytes);
    },
    'udp-close': (a) => {
      this.udp.get(a.socket)?.sock?.close();
      this.udp.delete(a.socket);
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
      this.recorder.sent(performance.now(), `t${a.conn}`, entry.to, 'tcp', a.query.qname, a.query.qtype, a.query.id);
      entry.sock.write(frame(a.bytes));
    },
    'tcp-close': (a) => {
      this.tcp.get(a.conn)?.sock.destroy();
      this.tcp.delete(a.conn);
    },
    timer: (a) => {
      clearTimeout(this.timers.get(a.id));
      this.timers.set(a.id, this.arm(a.id, a.at));
    },
    cancel: (a) => {
      clearTimeout(this.timers.get(a.id));
      this.timers.delete(a.id);
    },
    done: (a) => {
      this.result = a.result;
    },
  };

  /**
   * Node timers may fire up to ~1 ms early; a library's poll() never returns before its deadline,
   * and emulators compare elapsed time with limits (dnspython's lifetime): re-arm until it is due.
   */
  private arm(id: number, at: number): NodeJS.Timeout {
    return setTimeout(() => {
      if (performance.now() < at) {
        this.timers.set(id, this.arm(id, at));
        return;
      }
      this.timers.delete(id);
      this.deliver({ type: 'timer', id });
    }, Math.max(0, Math.ceil(at - performance.now())));
  }

  private udpSocket(id: number, to: string): dgram.Socket | undefined {
    const entry = this.udp.get(id);
    if (!entry) return undefined;
    if (entry.sock) return entry.sock;
    const sock = dgram.createSocket(family(entry.connect ?? to));
    sock.on('message', (bytes, rinfo) => {
      // An unconnected socket hears anyone. Every emulated library ignores a reply that does not
      // come from the DNS port (musl and dnspython compare the whole address); the emulator
      // decides about the rest.
      if (rinfo.port !== this.opts.port) return;
      this.deliver({ type: 'udp', socket: id, from: rinfo.address, bytes });
    });
    sock.on('error', (err: NodeJS.ErrnoException) => this.deliver({ type: 'udp-error', socket: id, code: err.code ?? 'EIO' }));
    if (entry.connect) {
      sock.connect(this.opts.port, entry.connect, () => {
        entry.connected = true;
        for (const b of entry.pending.splice(0)) this.sendConnected(id, sock, b);
      });
    }
    entry.sock = sock;
    return sock;
  }

  /**
   * On a connected socket the kernel reports an earlier ICMP port unreachable as the error of the
   * NEXT send (ECONNREFUSED) — A and AAAA go out back to back — so send errors are events too.
   */
  private sendConnected(id: number, sock: dgram.Socket, bytes: Buffer): void {
    sock.send(bytes, (err) => {
      if (err) this.deliver({ type: 'udp-error', socket: id, code: (err as NodeJS.ErrnoException).code ?? 'EIO' });
    });
  }

  private release(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const { sock } of this.udp.values()) sock?.close();
    for (const { sock } of this.tcp.values()) sock.destroy();
  }

  private finish(): void {
    this.release();
    const { request, opts } = this;
    this.resolve(this.recorder.finish(performance.now(), opts.mode, request.name, request.family, this.result!, opts.warnings));
  }
}
