// The simulated driver: runs an emulator against a scripted network on a virtual clock. A lookup
// that would take 28 s of real time takes microseconds here (what-if answers, fast tests).
import { ConntrackRace, respond, scriptedReply, type Decision } from './responder.js';
import type { Scenario } from './scenario.js';
import { MAX_LOOKUP_MS, MAX_LOOKUP_QUERIES, stoppedWarning, TraceRecorder } from './trace.js';
import { PoolQueue } from './pool.js';
import type { Emulator, EmulatedProcess, LibraryInput, LookupRequest, LookupResult, MachineAction, MachineEvent, ResolverMachine, Trace } from './types.js';

/** Linux's connect() gives up on an unanswered SYN after 1+2+4+8+16+32+64 s (tcp_syn_retries=6). */
const TCP_SYN_TIMEOUT_MS = 127_000;

interface Scheduled {
  at: number;
  seq: number;
  event: MachineEvent;
}

export interface SimOptions {
  mode: string;
  /** virtual start time, so repeated lookups in one process keep advancing the clock */
  startAt?: number;
  /** when the caller asked, if the lookup then waited for a worker thread (the trace counts from here) */
  calledAt?: number;
  warnings?: string[];
}

export interface SimRun {
  trace: Trace;
  /** virtual time when the lookup finished */
  endAt: number;
  /** per query of the trace: the socket or connection it left on ("u3", "t1") */
  sockets: string[];
}

export function simulateLookup(process: EmulatedProcess, request: LookupRequest, scenario: Scenario, opts: SimOptions): SimRun {
  return simulateMachine(process.lookup(request), request, scenario, opts);
}

/** One lookup's machine (already made by its process) on the simulated network. */
export function simulateMachine(machine: ResolverMachine, request: LookupRequest, scenario: Scenario, opts: SimOptions): SimRun {
  const start = opts.startAt ?? 0;
  const calledAt = opts.calledAt ?? start;
  const recorder = new TraceRecorder(calledAt);
  const queue: Scheduled[] = [];
  const timers = new Map<number, number>(); // timer id → seq of its live entry
  const udp = new Map<number, string | null>(); // socket → connected server or null
  const tcp = new Map<number, { to: string; open: boolean }>();
  let seq = 0;
  let now = start;
  let result: LookupResult | undefined;
  let stopped: string | undefined;

  const schedule = (at: number, event: MachineEvent) => {
    queue.push({ at, seq: seq++, event });
    return seq - 1;
  };
  const rtt = scenario.rttMs;
  const behaviourOf = (addr: string) => scenario.servers.get(addr) ?? { base: 'blackhole' as const, delayMs: 0 };
  // race-drop servers: per server, the flows (one per socket) conntrack has seen
  const races = new Map<string, ConntrackRace>();
  const sockets: string[] = [];
  const asked = new Map<string, number>();
  /** A replayed server's outcome for this query (tsnet trace), else undefined. */
  const scripted = (to: string, transport: 'udp' | 'tcp', bytes: Buffer, qname: string, qtype: string): Decision | 'closed' | undefined => {
    if (!scenario.script) return undefined;
    const key = `${to} ${transport} ${qname.replace(/\.$/, '').toLowerCase()} ${qtype}`;
    const nth = asked.get(key) ?? 0;
    asked.set(key, nth + 1);
    const o = scenario.script(to, transport, qname.replace(/\.$/, '').toLowerCase(), qtype, nth);
    if (!o) return undefined;
    if (o.kind === 'closed') return 'closed';
    const reply = o.kind === 'reply' ? scriptedReply(bytes, o.rcode, o.answered, o.truncated) : undefined;
    return o.kind === 'reply' && reply ? { kind: 'reply', bytes: reply, action: 'scripted', delayMs: o.delayMs, source: 'right' } : { kind: 'drop', action: 'scripted' };
  };
  const raceOf = (addr: string, windowMs: number) => races.get(addr) ?? races.set(addr, new ConntrackRace(windowMs)).get(addr)!;

  const apply = (actions: MachineAction[]) => {
    for (const a of actions) {
      switch (a.type) {
        case 'udp-open':
          udp.set(a.socket, a.connect);
          break;
        case 'udp-close':
          udp.delete(a.socket);
          for (const r of races.values()) r.forget(`u${a.socket}`);
          break;
        case 'udp-send': {
          recorder.sent(now, `u${a.socket}`, a.to, 'udp', a.query.qname, a.query.qtype, a.query.id);
          sockets.push(`u${a.socket}`);
          const b = behaviourOf(a.to);
          const replay = scripted(a.to, 'udp', a.bytes, a.query.qname, a.query.qtype);
          if (replay === 'closed' || (replay === undefined && b.base === 'closed')) {
            if (udp.get(a.socket) === a.to) schedule(now + rtt, { type: 'udp-error', socket: a.socket, code: 'ECONNREFUSED' });
            break;
          }
          const race = replay !== undefined || b.raceDropMs === undefined ? undefined : raceOf(a.to, b.raceDropMs);
          if (race && !race.admit(`u${a.socket}`, now)) break;
          const d = replay ?? respond(b, scenario.zone, a.bytes, 'udp');
          if (d.kind !== 'reply') break;
          // A reply from another source port: a connected socket never sees it (the kernel has no
          // socket for that 4-tuple), an unconnected one does. 'wrong-then-right': the right one follows.
          const at = now + rtt + d.delayMs;
          if (d.source !== 'right' && udp.get(a.socket) === null) schedule(at, { type: 'udp', socket: a.socket, from: a.to, bytes: d.bytes, wrongPort: true });
          if (d.source !== 'wrong') schedule(at, { type: 'udp', socket: a.socket, from: a.to, bytes: d.bytes });
          break;
        }
        case 'tcp-open': {
          tcp.set(a.conn, { to: a.to, open: true });
          const b = behaviourOf(a.to);
          if (b.base === 'closed') schedule(now + rtt, { type: 'tcp-error', conn: a.conn, code: 'ECONNREFUSED' });
          else if (b.base === 'blackhole') schedule(now + TCP_SYN_TIMEOUT_MS, { type: 'tcp-error', conn: a.conn, code: 'ETIMEDOUT' });
          break;
        }
        case 'tcp-send': {
          const c = tcp.get(a.conn);
          if (!c) break;
          recorder.sent(now, `t${a.conn}`, c.to, 'tcp', a.query.qname, a.query.qtype, a.query.id);
          sockets.push(`t${a.conn}`);
          const b = behaviourOf(c.to);
          const replay = scripted(c.to, 'tcp', a.bytes, a.query.qname, a.query.qtype);
          if (replay === 'closed' || (replay === undefined && (b.base === 'closed' || b.base === 'blackhole'))) break;
          const d = replay ?? respond(b, scenario.zone, a.bytes, 'tcp');
          // the handshake costs one round trip before the query's own
          if (d.kind === 'reply') schedule(now + 2 * rtt + d.delayMs, { type: 'tcp', conn: a.conn, bytes: d.bytes });
          break;
        }
        case 'tcp-close':
          tcp.delete(a.conn);
          break;
        case 'timer':
          timers.set(a.id, schedule(a.at, { type: 'timer', id: a.id }));
          break;
        case 'cancel':
          timers.delete(a.id);
          break;
        case 'done':
          result = a.result;
          break;
      }
    }
  };

  apply(machine.start(now));
  while (result === undefined) {
    if (queue.length === 0) throw new Error(`${opts.mode} emulator is waiting with nothing scheduled (a bug in the emulator)`);
    queue.sort((x, y) => x.at - y.at || x.seq - y.seq);
    const next = queue.shift()!;
    const ev = next.event;
    if (ev.type === 'timer' && timers.get(ev.id) !== next.seq) continue; // cancelled or re-armed
    if (ev.type === 'timer') timers.delete(ev.id);
    if ((ev.type === 'udp' || ev.type === 'udp-error') && !udp.has(ev.socket)) continue; // socket closed meanwhile
    if ((ev.type === 'tcp' || ev.type === 'tcp-error') && !tcp.has(ev.conn)) continue;
    now = Math.max(now, next.at);
    const over = now - start > MAX_LOOKUP_MS ? `${MAX_LOOKUP_MS / 1000} s` : recorder.count > MAX_LOOKUP_QUERIES ? `${MAX_LOOKUP_QUERIES} queries` : undefined;
    if (over !== undefined) {
      stopped = stoppedWarning(over);
      now = Math.min(now, start + MAX_LOOKUP_MS);
      result = { addresses: [], error: 'EAI_AGAIN' };
      break;
    }
    if (ev.type === 'udp') recorder.received(now, `u${ev.socket}`, ev.bytes, ev.from, ev.wrongPort);
    else if (ev.type === 'tcp') recorder.received(now, `t${ev.conn}`, ev.bytes);
    else if (ev.type === 'udp-error') recorder.failed(now, `u${ev.socket}`, 'icmp-unreachable');
    else if (ev.type === 'tcp-error') recorder.failed(now, `t${ev.conn}`, ev.code === 'ECONNREFUSED' ? 'connection-refused' : 'timeout');
    apply(machine.handle(now, ev));
  }
  const trace = recorder.finish(now, opts.mode, request.name, request.family, result!, stopped ? [...(opts.warnings ?? []), stopped] : (opts.warnings ?? []));
  return { trace: start > calledAt ? { ...trace, queued_ms: start - calledAt } : trace, endAt: now, sockets };
}

/**
 * Lookups called at the same moment in one process (resolve --concurrency). A pooled process
 * (Node) runs each on a worker as core/pool.ts hands them out, the rest wait; any other runs them
 * all at once, each on a thread of its own. Lookups of a burst do not meet on the simulated
 * network (own sockets, own flows), so each is simulated alone from its start, in start order.
 * Not modelled: process-wide state shared by lookups that overlap in time (glibc's rotate
 * counter advances in start order).
 */
export function simulateBurst(process: EmulatedProcess, requests: LookupRequest[], scenario: Scenario, opts: SimOptions): SimRun[] {
  const calledAt = opts.startAt ?? 0;
  const runs: SimRun[] = new Array(requests.length);
  const w = process.workers;
  const run = (i: number, machine: ResolverMachine, at: number) => (runs[i] = simulateMachine(machine, requests[i]!, scenario, { ...opts, startAt: at, calledAt }));
  if (!w) {
    // one lookup: the process's own thread; several at once: a thread each
    requests.forEach((r, i) => run(i, (requests.length > 1 ? (process.thread?.() ?? process) : process).lookup(r), calledAt));
    return runs;
  }
  const queue = new PoolQueue<number>(w.pool);
  requests.forEach((r, i) => (w.direct(r) ? run(i, w.direct(r)!, calledAt) : queue.submit(i)));
  const active: Array<{ end: number; job: number; thread: number }> = [];
  const start = (list: Array<{ job: number; thread: number }>, at: number) => {
    for (const { job, thread } of list) active.push({ end: run(job, w.lookupOn(thread, requests[job]!), at).endAt, job, thread });
  };
  start(queue.startable(), calledAt);
  while (active.length > 0) {
    active.sort((a, b) => a.end - b.end || a.job - b.job);
    const done = active.shift()!;
    start(queue.finished(done.thread), done.end);
  }
  return runs;
}

/** Several lookups in one emulated process, back to back on one virtual clock. */
export function simulateLookups(emulator: Emulator, input: LibraryInput, scenario: Scenario, requests: LookupRequest[], random: () => number): Trace[] {
  return simulateRounds(emulator, input, scenario, requests.map((r) => [r]), random);
}

/** Rounds of lookups called at once (resolve --repeat × --concurrency), one after another in one process. */
export function simulateRounds(emulator: Emulator, input: LibraryInput, scenario: Scenario, rounds: LookupRequest[][], random: () => number): Trace[] {
  const warnings: string[] = [];
  const process = emulator.createProcess({ input, random, warn: (m) => warnings.push(m) });
  const traces: Trace[] = [];
  let at = 0;
  for (const round of rounds) {
    const runs = simulateBurst(process, round, scenario, { mode: emulator.mode, startAt: at, warnings: [...warnings] });
    traces.push(...runs.map((r) => r.trace));
    at = Math.max(...runs.map((r) => r.endAt));
  }
  return traces;
}

/** A small deterministic PRNG (mulberry32) for simulated runs and tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
