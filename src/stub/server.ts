// The stub's listeners and query pipeline: UDP and TCP on each listen address, local answers,
// forwarding with the client's strategy, limits, and one timing-log line per client query.
import * as net from 'node:net';
import { decide, fitUdp, parseQuery, reply, unanswerableSourcePort, withId, RCODE, type ParsedQuery } from './answer.js';
import { AnswerCache } from './cache.js';
import { ClientForwarders, randomQueryId, type ForwardCounters } from './forward.js';
import type { StubClient, StubNetwork, StubView } from './view.js';
import { FrameDecoder, frame } from '../../resolvers/core/tcp-framing.js';
import type { TraceQuery } from '../../resolvers/core/types.js';
import { BatchedUdp } from '../net/udp-batch.js';
import { UpstreamSockets } from './upstream-sockets.js';

export interface QueryLogLine {
  time: string;
  container: string | null;
  client: string;
  transport: 'udp' | 'tcp';
  qname: string;
  qtype: string;
  rcode: string;
  answers: number;
  latency_ms: number;
  source: 'container' | 'add-host' | 'reverse' | 'upstream' | 'cache' | 'refused' | 'limit' | 'error';
  mode: string | null;
  upstream: TraceQuery[];
}

export interface Limits {
  /** forwarded queries in flight, per client address and overall (excess: SERVFAIL) */
  perClientInflight: number;
  totalInflight: number;
  /** open TCP connections per client address and overall */
  tcpPerClient: number;
  tcpTotal: number;
  /** a connection with no complete query and no reply for this long, and nothing pending, is closed */
  tcpIdleMs: number;
  /** every connection is closed this long after it opened, whatever it does */
  tcpLifetimeMs: number;
  /** queries of one connection answered at once; the socket is not read while this many are */
  tcpPipeline: number;
  /** replies waiting in user space for a client that does not read: over this, the connection is closed */
  tcpOutputBytes: number;
  /** queries read from one connection; then it is read no more and ends once they are answered */
  tcpMaxQueries: number;
}

/**
 * The stub's limits, in one place (docs/stub.md has them beside dnsmasq's, unbound's and
 * aardvark-dns's). Worst case held for TCP clients: tcpTotal x (tcpOutputBytes + a 64 KiB reply
 * + one partial frame + one read chunk) ~ 128 x 450 KiB = 56 MiB over an idle daemon's ~55 MiB.
 */
export const DEFAULT_LIMITS: Limits = {
  perClientInflight: 100,
  totalInflight: 2000,
  tcpPerClient: 8,
  tcpTotal: 128,
  tcpIdleMs: 10_000,
  tcpLifetimeMs: 120_000,
  tcpPipeline: 16,
  tcpOutputBytes: 256 * 1024,
  tcpMaxQueries: 4096,
};

export interface UpstreamHealth {
  queries: number;
  failures: number;
  timeouts: number;
  lastRttMs: number | null;
}

export interface StubStats {
  queries: number;
  local: number;
  forwarded: number;
  cached: number;
  refused: number;
  limited: number;
  malformed: number;
  spoofed: number;
  /** datagrams dropped unread: from source port 0 or a privileged port other than 53 */
  dropped: number;
  /** datagrams and TCP connections from outside the allow list (`stub serve`), dropped unanswered */
  denied: number;
  /** replies whose send failed or threw (counted, never fatal) */
  sendErrors: number;
  tcp: TcpStats;
  upstreams: Record<string, UpstreamHealth>;
  /** upstream UDP sockets made, and exchanges that reused one (src/stub/upstream-sockets.ts) */
  upstreamSockets: { made: number; reused: number };
}

export interface TcpStats {
  open: number;
  /** the most connections open at once */
  peak: number;
  /** closed at accept, over the global cap with every connection busy (also counted in `limited`) */
  refused: number;
  /** closed at accept, over the per-client cap (also counted in `limited`) */
  refusedPerClient: number;
  /** closed to make room for a new connection under the global cap (the one idle longest) */
  evicted: number;
  closedIdle: number;
  closedLifetime: number;
  /** closed because its replies backed up (the client does not read) */
  closedOutput: number;
}

/** One client TCP connection. */
interface TcpConn {
  sock: net.Socket;
  client: string;
  listener: Listener;
  /** queries being answered */
  pending: number;
  /** complete queries read and not started yet (the pipelining bound or a backed-up output) */
  backlog: Buffer[];
  /** replies over the socket's high-water mark: no new query starts until 'drain' */
  blocked: boolean;
  /** when a query last arrived or a reply last left: the eviction order */
  lastActive: number;
  /** queries this connection may still send (tcpMaxQueries); at 0 it is read no more */
  budget: number;
  /** its last query answered: our side is shut */
  ended: boolean;
  idle: NodeJS.Timeout;
  life: NodeJS.Timeout;
  gone: boolean;
}

interface Listener {
  /** the UDP socket's descriptor (BatchedUdp's) */
  udp: number;
  tcp: net.Server;
  conns: Set<TcpConn>;
}

/** The time as an ISO string, made once per millisecond (a busy stub logs many queries in one). */
let isoMs = 0;
let isoText = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const rcodeOf = (b: Buffer) => (b.length >= 4 ? RCODE_NAMES[b.readUInt8(3) & 0xf] ?? `RCODE${b.readUInt8(3) & 0xf}` : 'NONE');
const ancountOf = (b: Buffer) => (b.length >= 8 ? b.readUInt16BE(6) : 0);

export class StubServer {
  private view: StubView = { networks: new Map(), clients: new Map() };
  private readonly forwarders = new Map<string, ClientForwarders>();
  private readonly caches = new Map<string, AnswerCache>();
  private readonly listeners = new Map<string, Listener>();
  private udp: BatchedUdp | undefined;
  private upstreamSockets: UpstreamSockets | undefined;
  /** every open client connection, of every listener */
  private readonly conns = new Set<TcpConn>();
  private readonly inflight = new Map<string, number>();
  private totalInflight = 0;
  private readonly tcpCount = new Map<string, number>();
  readonly stats: StubStats = {
    queries: 0, local: 0, forwarded: 0, cached: 0, refused: 0, limited: 0, malformed: 0, spoofed: 0, dropped: 0, denied: 0, sendErrors: 0,
    tcp: { open: 0, peak: 0, refused: 0, refusedPerClient: 0, evicted: 0, closedIdle: 0, closedLifetime: 0, closedOutput: 0 },
    upstreams: {},
    upstreamSockets: { made: 0, reused: 0 },
  };

  constructor(
    private readonly log: (line: QueryLogLine) => void,
    private readonly limits: Limits = DEFAULT_LIMITS,
    private readonly port = 53,
  ) {}

  /** undefined: every address may ask (the daemon, which refuses non-containers itself). */
  private allowed: ((address: string) => boolean) | undefined;

  /**
   * Only clients `allowed` accepts are answered (`tsnet stub serve --allow`); the others get
   * nothing at all — a datagram is dropped, a connection closed — so a spoofed source learns
   * nothing and gets no reflection (counted in `stats.denied`).
   */
  setAllow(allowed: ((address: string) => boolean) | undefined): void {
    this.allowed = allowed;
  }

  setView(view: StubView): void {
    this.view = view;
    // Strategies follow the containers' configuration; unchanged ones keep their state (rotate).
    for (const [addr, f] of this.forwarders) {
      const c = view.clients.get(addr);
      if (!c || c.mode !== f.mode || c.upstreamConf !== f.conf) this.forwarders.delete(addr);
    }
    for (const addr of this.caches.keys()) if (!view.clients.has(addr)) this.caches.delete(addr);
  }

  addresses(): string[] {
    return [...this.listeners.keys()];
  }

  async listen(address: string): Promise<void> {
    if (this.listeners.has(address)) return;
    const udp = await this.datagrams().open(address, this.port, (msg, from, port) => this.datagram(msg, from, port));
    const conns = new Set<TcpConn>();
    const tcp = net.createServer((sock) => this.serveTcp(sock, listener));
    const listener: Listener = { udp, tcp, conns };
    await new Promise<void>((ok, fail) => {
      tcp.once('error', fail);
      tcp.listen(this.port, address, () => {
        tcp.off('error', fail);
        ok();
      });
    }).catch(async (err) => {
      await this.datagrams().close(udp);
      throw err;
    });
    // An accept that fails (EMFILE under a flood) is the kernel's problem to retry, not a reason to exit.
    tcp.on('error', () => {});
    this.listeners.set(address, listener);
  }

  /** The UDP sockets of every listener, read and answered in batches (src/net/udp-batch.ts). */
  private datagrams(): BatchedUdp {
    if (!this.udp) {
      const stats = this.stats;
      this.udp = new BatchedUdp({
        get sendErrors() { return stats.sendErrors; },
        set sendErrors(n: number) { stats.sendErrors = n; },
        // longer than any query the stub reads (4096 bytes): not a DNS query
        get oversized() { return stats.malformed; },
        set oversized(n: number) { stats.malformed = n; },
      });
    }
    return this.udp;
  }

  /** One UDP datagram: dropped (unanswerable source port, not allowed), or handled. Never throws. */
  private datagram(msg: Buffer, from: string, port: number): Buffer | undefined | Promise<Buffer | undefined> {
    if (unanswerableSourcePort(port)) {
      this.stats.dropped++;
      return undefined;
    }
    if (this.allowed && !this.allowed(from)) {
      this.stats.denied++;
      return undefined;
    }
    return this.handle(msg, from, 'udp');
  }

  /**
   * Stops answering on `address`. Its client connections are closed, not waited for: a reload
   * (which create and rm wait for) must not hang on a client that lingers.
   */
  async unlisten(address: string): Promise<void> {
    const l = this.listeners.get(address);
    if (!l) return;
    this.listeners.delete(address);
    const closed = new Promise<void>((ok) => l.tcp.close(() => ok()));
    for (const c of [...l.conns]) this.dropConn(c);
    await Promise.all([closed, this.datagrams().close(l.udp)]);
  }

  async close(): Promise<void> {
    for (const a of [...this.listeners.keys()]) await this.unlisten(a);
    this.upstreamSockets?.close(); // exchanges still under way give their sockets back to a closed pool: closed
    this.upstreamSockets = undefined;
    this.forwarders.clear();
  }

  /**
   * One client connection: 2-byte framed queries, answered concurrently up to tcpPipeline and
   * replied in completion order. Reading stops (the socket is paused, so the kernel's window
   * pushes back on the client) while the pipeline is full or replies back up; the connection ends
   * when idle, at its lifetime, when its replies outgrow tcpOutputBytes, or at the first frame that
   * cannot be a DNS message.
   */
  private serveTcp(sock: net.Socket, listener: Listener): void {
    sock.on('error', () => sock.destroy()); // resets are routine; never an unhandled 'error'
    const client = sock.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    if (this.allowed && !this.allowed(client)) {
      this.stats.denied++;
      sock.destroy();
      return;
    }
    const tcp = this.stats.tcp;
    const mine = this.tcpCount.get(client) ?? 0;
    const over = mine >= this.limits.tcpPerClient ? 'refusedPerClient' : this.conns.size >= this.limits.tcpTotal && !this.evictOne() ? 'refused' : undefined;
    if (over) {
      this.stats.limited++;
      tcp[over]++;
      sock.destroy();
      return;
    }
    // Read again: the eviction may have closed one of this client's own connections.
    this.tcpCount.set(client, (this.tcpCount.get(client) ?? 0) + 1);
    const c: TcpConn = {
      sock, client, listener, pending: 0, backlog: [], blocked: false, lastActive: performance.now(), gone: false,
      budget: this.limits.tcpMaxQueries, ended: false,
      // Idle: no query read and no reply sent for tcpIdleMs. A query waiting on its upstream keeps
      // the connection (each exchange has its own deadline), unless its replies are backed up.
      idle: setTimeout(() => {
        if (c.pending > 0 && !c.blocked) c.idle.refresh();
        else this.dropConn(c, c.blocked ? 'closedOutput' : 'closedIdle');
      }, this.limits.tcpIdleMs),
      life: setTimeout(() => this.dropConn(c, 'closedLifetime'), this.limits.tcpLifetimeMs),
    };
    this.conns.add(c);
    listener.conns.add(c);
    tcp.open = this.conns.size;
    tcp.peak = Math.max(tcp.peak, tcp.open);
    sock.on('close', () => this.dropConn(c));
    sock.on('drain', () => {
      c.blocked = false;
      this.active(c);
      this.pump(c);
    });
    // A frame that cannot hold a DNS header ends the connection: no spinning on garbage. The
    // decoder holds at most one incomplete frame (65537 bytes); bytes that complete no query are
    // not activity (a client dripping a byte at a time is idle). Past its query budget nothing
    // more of a connection is read: a client that never reads can make the stub answer (and log)
    // tcpMaxQueries queries per connection, not whatever the kernel's buffers take.
    const frames = new FrameDecoder({ minLength: 12 });
    sock.on('data', (chunk: Buffer) => {
      for (const f of frames.push(chunk)) {
        if (f.kind === 'bad-frame') {
          this.stats.malformed++;
          this.dropConn(c);
          return;
        }
        if (c.budget === 0) break;
        c.budget--;
        c.backlog.push(f.bytes);
      }
      this.pump(c);
    });
  }

  /** Starts the connection's waiting queries while there is room; reads on only while there is. */
  private pump(c: TcpConn): void {
    let next = 0;
    while (next < c.backlog.length && c.pending < this.limits.tcpPipeline && !c.blocked && !c.gone) {
      const bytes = c.backlog[next++]!;
      this.active(c);
      c.pending++;
      let out: ReturnType<StubServer['handle']>;
      try {
        out = this.handle(bytes, c.client, 'tcp');
      } catch {
        out = undefined;
      }
      if (out instanceof Promise) {
        void out.then(
          (o) => {
            this.reply(c, o);
            this.pump(c);
          },
          () => {
            this.reply(c, undefined);
            this.pump(c);
          },
        );
      } else this.reply(c, out);
    }
    c.backlog = next === 0 ? c.backlog : c.backlog.slice(next);
    if (c.gone) return;
    if (c.budget === 0 || c.backlog.length > 0 || c.blocked || c.pending >= this.limits.tcpPipeline) c.sock.pause();
    else c.sock.resume();
    if (c.budget === 0 && c.backlog.length === 0 && c.pending === 0 && !c.ended) {
      c.ended = true;
      c.sock.end(); // after the replies written so far; the idle timer ends a client that never reads them
    }
  }

  private reply(c: TcpConn, out: Buffer | undefined): void {
    c.pending--;
    if (!out || c.gone) return;
    try {
      const flowing = c.sock.write(frame(out));
      if (c.sock.writableLength > this.limits.tcpOutputBytes) return this.dropConn(c, 'closedOutput');
      if (flowing) this.active(c);
      else c.blocked = true;
    } catch {
      this.stats.sendErrors++;
      this.dropConn(c);
    }
  }

  private active(c: TcpConn): void {
    c.lastActive = performance.now();
    c.idle.refresh();
  }

  /** Under the global cap: closes the connection idle longest (nothing pending, nothing queued). */
  private evictOne(): boolean {
    let victim: TcpConn | undefined;
    for (const c of this.conns) {
      if (c.pending === 0 && c.backlog.length === 0 && !c.blocked && (!victim || c.lastActive < victim.lastActive)) victim = c;
    }
    if (!victim) return false;
    this.dropConn(victim, 'evicted');
    return true;
  }

  /** Forgets and closes a connection (at once: its slot is free for the next one); idempotent. */
  private dropConn(c: TcpConn, why?: 'evicted' | 'closedIdle' | 'closedLifetime' | 'closedOutput'): void {
    if (c.gone) return;
    c.gone = true;
    clearTimeout(c.idle);
    clearTimeout(c.life);
    c.backlog = [];
    this.conns.delete(c);
    c.listener.conns.delete(c);
    this.stats.tcp.open = this.conns.size;
    if (why) this.stats.tcp[why]++;
    const n = (this.tcpCount.get(c.client) ?? 1) - 1;
    if (n <= 0) this.tcpCount.delete(c.client);
    else this.tcpCount.set(c.client, n);
    c.sock.destroy();
  }

  /**
   * One client packet in, the reply out (undefined: no reply). Local answers come back at once;
   * only forwarding is asynchronous (no promise per query on the hot path). Never throws.
   */
  handle(bytes: Buffer, clientAddr: string, transport: 'udp' | 'tcp'): Buffer | undefined | Promise<Buffer | undefined> {
    const start = performance.now();
    this.stats.queries++;
    const parsed = parseQuery(bytes);
    if (!parsed.ok) {
      this.stats.malformed++;
      return parsed.reply;
    }
    const q = parsed.query;
    const client = this.view.clients.get(clientAddr) ?? this.view.fallback;
    const network = client ? this.view.networks.get(client.network) : undefined;
    const done = (out: Buffer, source: QueryLogLine['source'], upstream: TraceQuery[] = []): Buffer => {
      this.log({
        time: isoNow(), container: client?.name ?? null, client: clientAddr, transport, qname: q.qname, qtype: q.qtype,
        rcode: rcodeOf(out), answers: ancountOf(out), latency_ms: Math.round((performance.now() - start) * 1000) / 1000,
        source, mode: client?.mode ?? null, upstream,
      });
      return transport === 'udp' ? fitUdp(out, q.udpSize) : out;
    };
    const d = decide(q, client, network);
    if (d.kind === 'refuse') {
      this.stats.refused++;
      return done(reply(q, RCODE.REFUSED, [], false), 'refused');
    }
    if (d.kind === 'local') {
      this.stats.local++;
      return done(reply(q, d.rcode, d.answers, true), d.source);
    }
    // A cached answer comes back at once, like a local one: no promise for it either.
    const key = `${q.qname}/${q.qtype}`;
    const cache = client!.cacheSize > 0 ? this.cacheFor(client!) : undefined;
    const hit = cache?.get(key, Date.now());
    if (hit) {
      this.stats.cached++;
      return done(withId(hit, q.id), 'cache');
    }
    return this.forward(q, client!, clientAddr, transport, done, key, cache);
  }

  private async forward(
    q: ParsedQuery, client: StubClient, clientAddr: string, transport: 'udp' | 'tcp',
    done: (out: Buffer, source: QueryLogLine['source'], upstream?: TraceQuery[]) => Buffer,
    key: string, cache: AnswerCache | undefined,
  ): Promise<Buffer> {
    const mine = this.inflight.get(clientAddr) ?? 0;
    if (mine >= this.limits.perClientInflight || this.totalInflight >= this.limits.totalInflight || client.upstreams.length === 0) {
      this.stats.limited++;
      return done(reply(q, RCODE.SERVFAIL, [], false), client.upstreams.length === 0 ? 'error' : 'limit');
    }
    this.inflight.set(clientAddr, mine + 1);
    this.totalInflight++;
    try {
      this.stats.forwarded++;
      let f = this.forwarders.get(client.address);
      if (!f) {
        f = new ClientForwarders(client.mode, client.upstreamConf, client.upstreams, (this.upstreamSockets ??= new UpstreamSockets(this.stats.upstreamSockets)));
        this.forwarders.set(client.address, f);
      }
      // A fresh random id upstream (cryptographic: forward.ts); the client's own packet otherwise (flags, EDNS size).
      const id = randomQueryId();
      const counters: ForwardCounters = { spoofed: 0 };
      const trace = await f.exchange({ qname: q.qname, qtype: q.qtype, id, bytes: withId(q.bytes, id) }, transport === 'tcp', counters);
      this.stats.spoofed += counters.spoofed;
      this.account(trace.queries);
      const upstreamReply = trace.result.reply;
      if (!upstreamReply) return done(reply(q, RCODE.SERVFAIL, [], false), 'upstream', trace.queries);
      cache?.put(key, upstreamReply, Date.now());
      return done(withId(upstreamReply, q.id), 'upstream', trace.queries);
    } catch {
      return done(reply(q, RCODE.SERVFAIL, [], false), 'error');
    } finally {
      const left = (this.inflight.get(clientAddr) ?? 1) - 1;
      if (left <= 0) this.inflight.delete(clientAddr);
      else this.inflight.set(clientAddr, left);
      this.totalInflight--;
    }
  }

  private cacheFor(client: StubClient): AnswerCache {
    let c = this.caches.get(client.address);
    if (!c) {
      c = new AnswerCache(client.cacheSize);
      this.caches.set(client.address, c);
    }
    return c;
  }

  private account(queries: TraceQuery[]): void {
    for (const tq of queries) {
      const h = (this.stats.upstreams[tq.server] ??= { queries: 0, failures: 0, timeouts: 0, lastRttMs: null });
      h.queries++;
      if (tq.outcome === 'timeout') h.timeouts++;
      else if (tq.outcome !== 'answer' && tq.outcome !== 'nodata' && tq.outcome !== 'nxdomain') h.failures++;
      if (tq.rtt_ms !== null) h.lastRttMs = tq.rtt_ms;
    }
  }
}

export type { StubNetwork };
