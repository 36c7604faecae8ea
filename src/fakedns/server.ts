// The sockets of `tsnet fake-dns`. Every decision (what to answer, drop or delay) is made by the
// pure responder in resolvers/core, which the simulated driver shares; this module only moves
// bytes, frames TCP, keeps the delay timers and logs what it received.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isIPv6 } from '../../resolvers/core/address.js';
import { ConntrackRace, readQuery, respond, type Decision, type ServerBehaviour, type Zone } from '../../resolvers/core/responder.js';
import { FrameDecoder, frame } from '../../resolvers/core/tcp-framing.js';

export interface FakeDnsListener {
  address: string;
  /** 0 = let the kernel pick (UDP and TCP then share the port it picked) */
  port: number;
  behaviour: ServerBehaviour;
}

export interface FakeDnsLogLine {
  /** epoch ms with sub-ms precision */
  ts: number;
  /** the listener's address */
  server: string;
  transport: 'udp' | 'tcp';
  client_port: number;
  id: number;
  /** lower-case, no trailing dot; '' for a malformed query */
  qname: string;
  qtype: string;
  /** the responder's action: answer, nodata, nxdomain, servfail, refused, truncate, blackhole, ... */
  action: string;
}

export interface FakeDnsOptions {
  listeners: FakeDnsListener[];
  zone: Zone;
  onLog: (line: FakeDnsLogLine) => void;
  /** idle TCP connections are closed after this long (default 10 s) */
  tcpIdleMs?: number;
}

export interface FakeDns {
  close(): Promise<void>;
  /** what is listening, as ADDR:PORT or [V6]:PORT with the real ports (closed listeners are absent) */
  addresses: string[];
}

/** A listener could not be bound; the message names the address and says why. */
export class BindError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'BindError';
    this.code = code;
  }
}

const TCP_IDLE_MS = 10_000;

export const formatAddress = (address: string, port: number) => (isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`);

function bindError(address: string, port: number, transport: string, err: unknown): BindError {
  const code = (err as { code?: string }).code;
  const where = `${formatAddress(address, port)} (${transport})`;
  const message =
    code === 'EADDRNOTAVAIL' ? `cannot listen on ${where}: address ${address} is not configured in this network namespace`
    : code === 'EADDRINUSE' ? `cannot listen on ${where}: the port is already in use`
    : code === 'EACCES' ? `cannot listen on ${where}: ports below 1024 need root (CAP_NET_BIND_SERVICE)`
    : `cannot listen on ${where}: ${(err as Error).message}`;
  return new BindError(message, code, { cause: err });
}

/** Everything one server holds, so close() can let go of all of it (and the process can exit). */
class Resources {
  readonly udp = new Set<UdpSocket>();
  readonly tcp = new Set<Server>();
  readonly conns = new Set<Socket>();
  readonly timers = new Set<NodeJS.Timeout>();
  closed = false;

  /**
   * Runs fn ms from now; 0 runs it at once, so an undelayed reply never waits for a timer tick.
   * Timers count from the event loop's cached, whole-ms clock and can fire a little early; a
   * delay:MS reply must never come before MS, so an early timer is re-armed for the rest.
   */
  later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const deadline = performance.now() + ms;
    const arm = (wait: number) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        const left = deadline - performance.now();
        if (left > 0) arm(Math.ceil(left));
        else fn();
      }, wait);
      this.timers.add(t);
    };
    arm(ms);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.conns) c.destroy();
    await Promise.all([
      ...[...this.tcp].map((s) => new Promise<void>((done) => s.close(() => done()))),
      ...[...this.udp].map((s) => new Promise<void>((done) => {
        try {
          s.close(() => done());
        } catch {
          done(); // already closed
        }
      })),
    ]);
  }
}

interface Context {
  zone: Zone;
  onLog: (line: FakeDnsLogLine) => void;
  res: Resources;
  tcpIdleMs: number;
}

/** Logs one received message with what was done with it. */
function logReceived(ctx: Context, l: FakeDnsListener, transport: 'udp' | 'tcp', clientPort: number, bytes: Buffer, action: string, ts: number): void {
  const q = readQuery(bytes);
  ctx.onLog({
    ts,
    server: l.address,
    transport,
    client_port: clientPort,
    id: q?.id ?? (bytes.length >= 2 ? bytes.readUInt16BE(0) : 0),
    qname: q ? q.qname.replace(/\.$/, '').toLowerCase() : '',
    qtype: q?.qtype ?? '',
    action,
  });
}

/**
 * Decides and logs one received message (at receive time, before any delay). A response (QR=1)
 * is never answered: the responder reads only queries and calls anything else malformed.
 */
function decide(ctx: Context, l: FakeDnsListener, transport: 'udp' | 'tcp', clientPort: number, bytes: Buffer): Decision {
  const ts = performance.timeOrigin + performance.now();
  let decision: Decision;
  try {
    decision = respond(l.behaviour, ctx.zone, bytes, transport);
  } catch {
    // A reply the encoder cannot build must not take the whole server down mid-reproduction.
    decision = { kind: 'drop', action: 'error' };
  }
  logReceived(ctx, l, transport, clientPort, bytes, decision.action, ts);
  return decision;
}

/**
 * The socket wrong-port replies leave from: the listener's address, a port the kernel picks
 * (never the listener's). Bound when the listener is, so a reply never waits for it.
 */
function bindWrongPort(ctx: Context, l: FakeDnsListener): Promise<UdpSocket> {
  const sock = createSocket(isIPv6(l.address) ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
  return new Promise((ok, fail) => {
    sock.once('error', (err) => {
      try {
        sock.close();
      } catch {
        // never bound
      }
      fail(bindError(l.address, 0, 'udp, wrong-port source', err));
    });
    sock.bind({ address: l.address, port: 0, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', () => undefined);
      // Whatever comes back to it (the client's ICMP, a stray datagram) is not a query to answer.
      sock.on('message', () => undefined);
      ctx.res.udp.add(sock);
      ok(sock);
    });
  });
}

function bindUdp(ctx: Context, l: FakeDnsListener, port: number): Promise<UdpSocket> {
  const v6 = isIPv6(l.address);
  // ipv6Only: "::" must not also take the IPv4 wildcard another listener may want.
  const sock = createSocket(v6 ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
  // Bound once the listener is (below); a query that arrives in between waits for it.
  let wrongPort: Promise<UdpSocket> | undefined;
  const sendFrom = (from: UdpSocket, bytes: Buffer, to: { port: number; address: string }) => {
    try {
      from.send(bytes, to.port, to.address, () => undefined);
    } catch {
      // a send that throws loses this reply, never the server
    }
  };
  const race = l.behaviour.raceDropMs === undefined ? undefined : new ConntrackRace(l.behaviour.raceDropMs);
  sock.on('message', (msg, rinfo) => {
    // Source port 0: no reply can be addressed to it (Node's send throws); logged, not answered.
    if (rinfo.port === 0) return logReceived(ctx, l, 'udp', 0, msg, 'source-port-0', performance.timeOrigin + performance.now());
    const flow = `${rinfo.address} ${rinfo.port}`;
    if (race && !race.admit(flow, performance.now())) return logReceived(ctx, l, 'udp', rinfo.port, msg, 'race-drop', performance.timeOrigin + performance.now());
    const d = decide(ctx, l, 'udp', rinfo.port, msg);
    if (d.kind !== 'reply') return;
    ctx.res.later(d.delayMs, () => {
      if (ctx.res.closed) return;
      if (d.source === 'right') return sendFrom(sock, d.bytes, rinfo);
      if (wrongPort === undefined) return; // not bound yet: cannot happen once 'listening' has run
      // The wrong one first, then (for wrong-then-right) the right one: one path, in this order.
      void wrongPort.then((other) => {
        if (ctx.res.closed) return;
        sendFrom(other, d.bytes, rinfo);
        if (d.source === 'wrong-then-right') sendFrom(sock, d.bytes, rinfo);
      }, () => undefined);
    });
  });
  return new Promise((ok, fail) => {
    sock.once('error', (err) => {
      try {
        sock.close();
      } catch {
        // never bound
      }
      fail(bindError(l.address, port, 'udp', err));
    });
    sock.bind({ address: l.address, port, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', () => undefined); // send errors to vanished clients are not ours to handle
      if (l.behaviour.wrongPort === undefined) return ok(sock);
      wrongPort = bindWrongPort(ctx, l);
      wrongPort.then(() => ok(sock), (err: unknown) => {
        sock.close();
        fail(err);
      });
    });
  });
}

/** One TCP connection: 2-byte length framing, any number of queries, replies in arrival order. */
function serveTcp(ctx: Context, l: FakeDnsListener, conn: Socket): void {
  const { res } = ctx;
  res.conns.add(conn);
  conn.on('close', () => res.conns.delete(conn));
  conn.on('error', () => undefined); // resets are routine for DNS clients
  let pending = 0;
  let ended = false;
  // allowHalfOpen: a client may send its queries and shut its side; answer them, then close.
  conn.on('end', () => {
    ended = true;
    if (pending === 0) conn.end();
  });
  // A connection waiting for a delayed reply is not idle ('on', not setTimeout's once-callback,
  // so the check survives a timeout that fired while a reply was pending).
  conn.setTimeout(ctx.tcpIdleMs);
  conn.on('timeout', () => {
    if (pending === 0) conn.destroy();
  });
  // No frame limits: an empty frame is a message too, and respond calls it malformed (logged).
  const frames = new FrameDecoder();
  conn.on('data', (chunk: Buffer) => {
    for (const f of frames.push(chunk)) {
      if (conn.destroyed || f.kind !== 'message') return;
      const d = decide(ctx, l, 'tcp', conn.remotePort ?? 0, f.bytes);
      if (d.action === 'malformed') {
        // The stream has lost its framing: nothing after this can be trusted.
        conn.destroy();
        return;
      }
      if (d.kind !== 'reply') continue;
      pending++;
      res.later(d.delayMs, () => {
        pending--;
        if (conn.destroyed) return;
        try {
          conn.write(frame(d.bytes));
        } catch {
          conn.destroy(); // a reply too big to frame: this connection, not the server
          return;
        }
        if (ended && pending === 0) conn.end();
        else conn.setTimeout(ctx.tcpIdleMs); // idle from now on, even if the timer already fired
      });
    }
  });
}

function bindTcp(ctx: Context, l: FakeDnsListener, port: number): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (conn) => serveTcp(ctx, l, conn));
  return new Promise((ok, fail) => {
    server.once('error', (err) => fail(bindError(l.address, port, 'tcp', err)));
    server.listen({ host: l.address, port, ipv6Only: isIPv6(l.address), exclusive: true }, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      ok(server);
    });
  });
}

/** UDP and TCP on one address and port. Port 0: TCP takes the port UDP got, retrying if taken. */
async function bindListener(ctx: Context, l: FakeDnsListener): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(ctx, l, l.port);
    ctx.res.udp.add(udp);
    const port = udp.address().port;
    try {
      ctx.res.tcp.add(await bindTcp(ctx, l, port));
      return formatAddress(l.address, port);
    } catch (err) {
      if (l.port !== 0 || (err as BindError).code !== 'EADDRINUSE' || attempt >= 10) throw err;
      ctx.res.udp.delete(udp);
      await new Promise<void>((done) => udp.close(() => done()));
    }
  }
}

/**
 * Starts the listeners. A `closed` listener binds nothing, so the kernel itself refuses: ICMP port
 * unreachable for UDP, RST for TCP. Rejects with a BindError (and holds nothing) if any bind fails.
 */
export async function startFakeDns(opts: FakeDnsOptions): Promise<FakeDns> {
  const res = new Resources();
  const ctx: Context = { zone: opts.zone, onLog: opts.onLog, res, tcpIdleMs: opts.tcpIdleMs ?? TCP_IDLE_MS };
  const addresses: string[] = [];
  try {
    for (const l of opts.listeners) {
      if (l.behaviour.base !== 'closed') addresses.push(await bindListener(ctx, l));
    }
  } catch (err) {
    await res.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return { addresses, close: () => (closing ??= res.close()) };
}
