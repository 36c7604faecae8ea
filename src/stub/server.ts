// The stub's listeners and query pipeline: UDP and TCP on each listen address, local answers,
// forwarding with the client's strategy, limits, and one timing-log line per client query.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { decide, fitUdp, parseQuery, reply, unanswerableSourcePort, withId, RCODE, type ParsedQuery } from './answer.js';
import { AnswerCache } from './cache.js';
import { ClientForwarders, type ForwardCounters } from './forward.js';
import type { StubClient, StubNetwork, StubView } from './view.js';
import { FrameDecoder, frame } from '../../resolvers/core/tcp-framing.js';
import type { TraceQuery } from '../../resolvers/core/types.js';

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
  perClientInflight: number;
  totalInflight: number;
  tcpPerClient: number;
  tcpIdleMs: number;
}

export const DEFAULT_LIMITS: Limits = { perClientInflight: 100, totalInflight: 2000, tcpPerClient: 8, tcpIdleMs: 10_000 };

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
  /** replies whose send failed or threw (counted, never fatal) */
  sendErrors: number;
  upstreams: Record<string, UpstreamHealth>;
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const rcodeOf = (b: Buffer) => (b.length >= 4 ? RCODE_NAMES[b.readUInt8(3) & 0xf] ?? `RCODE${b.readUInt8(3) & 0xf}` : 'NONE');
const ancountOf = (b: Buffer) => (b.length >= 8 ? b.readUInt16BE(6) : 0);

export class StubServer {
  private view: StubView = { networks: new Map(), clients: new Map() };
  private readonly forwarders = new Map<string, ClientForwarders>();
  private readonly caches = new Map<string, AnswerCache>();
  private readonly listeners = new Map<string, { udp: dgram.Socket; tcp: net.Server }>();
  private readonly inflight = new Map<string, number>();
  private totalInflight = 0;
  private readonly tcpCount = new Map<string, number>();
  readonly stats: StubStats = {
    queries: 0, local: 0, forwarded: 0, cached: 0, refused: 0, limited: 0, malformed: 0, spoofed: 0, dropped: 0, sendErrors: 0, upstreams: {},
  };

  constructor(
    private readonly log: (line: QueryLogLine) => void,
    private readonly limits: Limits = DEFAULT_LIMITS,
    private readonly port = 53,
  ) {}

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
    const udp = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    // No datagram may end the process: whatever a reply's send throws (port 0, a socket closed by
    // a reload while the query was forwarded) is counted instead.
    udp.on('message', (msg, rinfo) => {
      if (unanswerableSourcePort(rinfo.port)) {
        this.stats.dropped++;
        return;
      }
      const send = (out: Buffer | undefined) => {
        if (!out) return;
        try {
          udp.send(out, rinfo.port, rinfo.address, (err) => {
            if (err) this.stats.sendErrors++;
          });
        } catch {
          this.stats.sendErrors++;
        }
      };
      try {
        const out = this.handle(msg, rinfo.address, 'udp');
        if (out instanceof Promise) void out.then(send, () => this.stats.sendErrors++);
        else send(out);
      } catch {
        this.stats.sendErrors++;
      }
    });
    udp.on('error', () => {}); // ICMP from a client that went away: nothing to do
    const tcp = net.createServer((sock) => this.serveTcp(sock));
    await new Promise<void>((ok, fail) => {
      udp.once('error', fail);
      udp.bind(this.port, address, () => {
        udp.off('error', fail);
        ok();
      });
    });
    await new Promise<void>((ok, fail) => {
      tcp.once('error', fail);
      tcp.listen(this.port, address, () => {
        tcp.off('error', fail);
        ok();
      });
    }).catch((err) => {
      udp.close();
      throw err;
    });
    // An accept that fails (EMFILE under a flood) is the kernel's problem to retry, not a reason to exit.
    tcp.on('error', () => {});
    this.listeners.set(address, { udp, tcp });
  }

  async unlisten(address: string): Promise<void> {
    const l = this.listeners.get(address);
    if (!l) return;
    this.listeners.delete(address);
    l.udp.close();
    await new Promise<void>((ok) => l.tcp.close(() => ok()));
  }

  async close(): Promise<void> {
    for (const a of [...this.listeners.keys()]) await this.unlisten(a);
  }

  private serveTcp(sock: net.Socket): void {
    const client = sock.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    const open = (this.tcpCount.get(client) ?? 0) + 1;
    if (open > this.limits.tcpPerClient) {
      this.stats.limited++;
      sock.destroy();
      return;
    }
    this.tcpCount.set(client, open);
    sock.once('close', () => {
      const n = (this.tcpCount.get(client) ?? 1) - 1;
      if (n <= 0) this.tcpCount.delete(client);
      else this.tcpCount.set(client, n);
    });
    // Idle means nothing to read AND nothing being answered: a query waiting on a slow upstream
    // keeps its connection.
    let pending = 0;
    sock.setTimeout(this.limits.tcpIdleMs, () => {
      if (pending === 0) sock.destroy();
    });
    sock.on('error', () => sock.destroy());
    // A frame that cannot hold a DNS header ends the connection: no spinning on garbage. The
    // decoder holds at most one incomplete frame (65537 bytes).
    const frames = new FrameDecoder({ minLength: 12 });
    sock.on('data', (chunk: Buffer) => {
      for (const f of frames.push(chunk)) {
        if (f.kind === 'bad-frame') {
          this.stats.malformed++;
          sock.destroy();
          return;
        }
        const send = (out: Buffer | undefined) => {
          pending--;
          if (!out || sock.destroyed) return;
          try {
            sock.write(frame(out));
          } catch {
            this.stats.sendErrors++;
            sock.destroy();
          }
        };
        pending++;
        try {
          const out = this.handle(f.bytes, client, 'tcp');
          if (out instanceof Promise) void out.then(send, () => send(undefined));
          else send(out);
        } catch {
          send(undefined);
        }
      }
    });
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
        time: new Date().toISOString(), container: client?.name ?? null, client: clientAddr, transport, qname: q.qname, qtype: q.qtype,
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
    return this.forward(q, client!, clientAddr, transport, done);
  }

  private async forward(
    q: ParsedQuery, client: StubClient, clientAddr: string, transport: 'udp' | 'tcp',
    done: (out: Buffer, source: QueryLogLine['source'], upstream?: TraceQuery[]) => Buffer,
  ): Promise<Buffer> {
    const key = `${q.qname}/${q.qtype}`;
    const cache = client.cacheSize > 0 ? this.cacheFor(client) : undefined;
    const hit = cache?.get(key, Date.now());
    if (hit) {
      this.stats.cached++;
      return done(withId(hit, q.id), 'cache');
    }
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
        f = new ClientForwarders(client.mode, client.upstreamConf, client.upstreams);
        this.forwarders.set(client.address, f);
      }
      // A fresh random id upstream; the client's own packet otherwise (flags, EDNS size).
      const id = Math.floor(Math.random() * 65536);
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
