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
  const machine = process.lookup(request);
  const start = performance.now();
  const recorder = new TraceRecorder(start);
  // A connected socket cannot send until connect() completes: sends wait in `pending`.
  const udp = new Map<number, { sock: dgram.Socket | undefined; connect: string | null; connected: boolean; pending: Buffer[] }>();
  const tcp = new Map<number, { sock: net.Socket; to: string; frames: FrameDecoder }>();
  const timers = new Map<number, NodeJS.Timeout>();

  return new Promise((resolve, reject) => {
    let result: LookupResult | undefined;
    let failed = false;

    const deliver = (ev: MachineEvent) => {
      if (result !== undefined || failed) return;
      const now = performance.now();
      if (ev.type === 'udp') recorder.received(now, `u${ev.socket}`, ev.bytes, ev.from);
      else if (ev.type === 'tcp') recorder.received(now, `t${ev.conn}`, ev.bytes);
      else if (ev.type === 'udp-error') recorder.failed(now, `u${ev.socket}`, 'icmp-unreachable');
      else if (ev.type === 'tcp-error') recorder.failed(now, `t${ev.conn}`, ev.code === 'ECONNREFUSED' ? 'connection-refused' : 'timeout');
      apply(machine.handle(now, ev));
    };

    // On a connected socket the kernel reports an earlier ICMP port unreachable as the error of
    // the NEXT send (ECONNREFUSED) — A and AAAA go out back to back — so send errors are events too.
    const sendConnected = (sock: dgram.Socket, bytes: Buffer) => {
      const id = [...udp].find(([, e]) => e.sock === sock)?.[0];
      sock.send(bytes, (err) => {
        if (err && id !== undefined) deliver({ type: 'udp-error', socket: id, code: (err as NodeJS.ErrnoException).code ?? 'EIO' });
      });
    };

    const udpSocket = (id: number, to: string) => {
      const entry = udp.get(id);
      if (!entry) return undefined;
      if (!entry.sock) {
        const sock = dgram.createSocket(family(entry.connect ?? to));
        sock.on('message', (bytes, rinfo) => {
          // An unconnected socket hears anyone. Every emulated library ignores a reply that does
          // not come from the DNS port (musl and dnspython compare the whole address); the
          // emulator decides about the rest.
          if (rinfo.port !== opts.port) return;
          deliver({ type: 'udp', socket: id, from: rinfo.address, bytes });
        });
        sock.on('error', (err: NodeJS.ErrnoException) => deliver({ type: 'udp-error', socket: id, code: err.code ?? 'EIO' }));
        if (entry.connect) {
          sock.connect(opts.port, entry.connect, () => {
            entry.connected = true;
            for (const b of entry.pending.splice(0)) sendConnected(sock, b);
          });
        }
        entry.sock = sock;
      }
      return entry.sock;
    };

    const release = () => {
      for (const t of timers.values()) clearTimeout(t);
      for (const { sock } of udp.values()) sock?.close();
      for (const { sock } of tcp.values()) sock.destroy();
    };
    const finish = () => {
      release();
      const end = performance.now();
      resolve(recorder.finish(end, opts.mode, request.name, request.family, result!, opts.warnings));
    };

    // Whatever goes wrong (a socket call throwing, an emulator bug), nothing is left open.
    const apply = (actions: MachineAction[]) => {
      try {
        carryOut(actions);
      } catch (err) {
        failed = true;
        release();
        reject(err);
      }
    };

    const carryOut = (actions: MachineAction[]) => {
      for (const a of actions) {
        switch (a.type) {
          case 'udp-open':
            udp.set(a.socket, { sock: undefined, connect: a.connect, connected: false, pending: [] });
            if (a.connect) udpSocket(a.socket, a.connect);
            break;
          case 'udp-send': {
            const sock = udpSocket(a.socket, a.to);
            if (!sock) break;
            recorder.sent(performance.now(), `u${a.socket}`, a.to, 'udp', a.query.qname, a.query.qtype, a.query.id);
            const entry = udp.get(a.socket)!;
            if (!entry.connect) sock.send(a.bytes, opts.port, a.to);
            else if (entry.connected) sendConnected(sock, a.bytes);
            else entry.pending.push(a.bytes);
            break;
          }
          case 'udp-close': {
            udp.get(a.socket)?.sock?.close();
            udp.delete(a.socket);
            break;
          }
          case 'tcp-open': {
            const sock = net.connect({ host: a.to, port: opts.port, noDelay: true });
            // No limits: every frame, an empty one too, goes to the emulator, which judges the reply.
            const entry = { sock, to: a.to, frames: new FrameDecoder() };
            tcp.set(a.conn, entry);
            sock.on('data', (chunk: Buffer) => {
              for (const f of entry.frames.push(chunk)) if (f.kind === 'message') deliver({ type: 'tcp', conn: a.conn, bytes: f.bytes });
            });
            sock.on('error', (err: NodeJS.ErrnoException) => deliver({ type: 'tcp-error', conn: a.conn, code: err.code ?? 'EIO' }));
            sock.on('end', () => deliver({ type: 'tcp-error', conn: a.conn, code: 'ECONNRESET' }));
            break;
          }
          case 'tcp-send': {
            const entry = tcp.get(a.conn);
            if (!entry) break;
            recorder.sent(performance.now(), `t${a.conn}`, entry.to, 'tcp', a.query.qname, a.query.qtype, a.query.id);
            entry.sock.write(frame(a.bytes));
            break;
          }
          case 'tcp-close':
            tcp.get(a.conn)?.sock.destroy();
            tcp.delete(a.conn);
            break;
          case 'timer': {
            // Node timers may fire up to ~1 ms early; a library's poll() never returns before its
            // deadline, and emulators compare elapsed time with limits (dnspython's lifetime).
            const arm = () =>
              setTimeout(() => {
                if (performance.now() < a.at) {
                  timers.set(a.id, arm());
                  return;
                }
                timers.delete(a.id);
                deliver({ type: 'timer', id: a.id });
              }, Math.max(0, Math.ceil(a.at - performance.now())));
            clearTimeout(timers.get(a.id));
            timers.set(a.id, arm());
            break;
          }
          case 'cancel':
            clearTimeout(timers.get(a.id));
            timers.delete(a.id);
            break;
          case 'done':
            result = a.result;
            break;
        }
      }
      if (result !== undefined) finish();
    };

    apply(machine.start(start));
    if (opts.deadlineMs !== undefined && result === undefined && !failed) {
      const t = setTimeout(() => {
        if (result !== undefined || failed) return;
        result = { addresses: [], error: 'EAI_AGAIN' };
        finish();
      }, opts.deadlineMs);
      timers.set(-1, t);
    }
  });
}
