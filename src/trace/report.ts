// PURE: a trace's report — per lookup what it asked, where, how each attempt ended and how long it
// all took; a summary (lookups, slow ones, p50/p95/p99, per-server health); and the fingerprint.
import type { CaptureStats } from '../capture/capture.js';
import type { Family, LibraryInput, QType, Trace } from '../../resolvers/core/types.js';
import { quantiles } from '../quantile.js';
import type { Exchange } from './exchanges.js';
import { fingerprint, observedPlan, type Fingerprint } from './fingerprint.js';
import type { Lookup } from './lookups.js';

/** A lookup this long waited on at least one resolver timeout (the shortest is 1 s): a stall, not latency. */
export const SLOW_MS = 1000;

const FINAL = new Set<Exchange['outcome']>(['answer', 'nodata', 'nxdomain']);
const round = (ms: number) => Math.round(ms * 10) / 10;

export interface AttemptReport {
  /** ms since the lookup's first query */
  t_ms: number;
  server: string;
  transport: 'udp' | 'tcp';
  qname: string;
  qtype: string;
  outcome: Exchange['outcome'];
  rtt_ms: number | null;
  /** the client socket, numbered by first use within the lookup (shared by A and AAAA or not) */
  socket: number;
  /** its port (to find the query in a server's log or a conntrack table) */
  client_port: number;
}

export interface LookupReport {
  /** ms since the capture began */
  start_ms: number;
  /** first query to last packet; a lookup that ended on a timeout waited longer than the wire shows */
  elapsed_ms: number;
  /** the name as the program asked it (search domain taken off), and each name sent */
  name: string;
  names: string[];
  types: string[];
  /** servers in the order first tried */
  servers: string[];
  /** 'answer' when a type got records, else the last final reply ('nodata', 'nxdomain'), else 'no-answer' */
  result: 'answer' | 'nodata' | 'nxdomain' | 'no-answer';
  attempts: AttemptReport[];
  /** strategies that send exactly this lookup's plan */
  matching: string[];
  /** why it was not replayed, when it was not (a PTR or SRV query; past the first 2000 lookups) */
  not_replayed?: string;
}

export interface ServerHealth {
  server: string;
  queries: number;
  answered: number;
  timeouts: number;
  /** SERVFAIL, REFUSED, FORMERR, ICMP unreachable, ... */
  errors: number;
  rtt_p50_ms: number | null;
}

export interface TraceReport {
  target: string;
  started: string;
  duration_ms: number;
  ports: number[];
  capture: CaptureStats & { kept: number };
  lookups: LookupReport[];
  summary: {
    lookups: number;
    slow: number;
    p50_ms: number | null;
    p95_ms: number | null;
    p99_ms: number | null;
    servers: ServerHealth[];
  };
  fingerprint: Fingerprint;
}

function resultOf(l: Lookup): LookupReport['result'] {
  if (l.exchanges.some((e) => e.outcome === 'answer')) return 'answer';
  const last = [...l.exchanges].reverse().find((e) => FINAL.has(e.outcome));
  return last ? (last.outcome as 'nodata' | 'nxdomain') : 'no-answer';
}

function health(exchanges: Exchange[]): ServerHealth[] {
  const by = new Map<string, Exchange[]>();
  for (const e of exchanges) {
    const list = by.get(e.server);
    if (list) list.push(e);
    else by.set(e.server, [e]);
  }
  return [...by].map(([server, es]) => ({
    server,
    queries: es.length,
    answered: es.filter((e) => FINAL.has(e.outcome) || e.outcome === 'truncated').length,
    timeouts: es.filter((e) => e.outcome === 'timeout').length,
    errors: es.filter((e) => !FINAL.has(e.outcome) && e.outcome !== 'truncated' && e.outcome !== 'timeout').length,
    rtt_p50_ms: ((v) => (v === null ? null : round(v)))(quantiles(es.filter((e) => e.rtt !== null).map((e) => e.rtt!), [0.5])[0]!),
  }));
}

export interface ReportInput {
  target: string;
  startedAt: number;
  endedAt: number;
  ports: number[];
  capture: CaptureStats & { kept: number };
  lookups: Lookup[];
  /** the files the target's libraries read (the fingerprint replays with them) */
  input: LibraryInput;
}

export function buildReport(r: ReportInput): TraceReport {
  const fp = fingerprint(r.lookups, r.input);
  const lookups = r.lookups.map((l, i): LookupReport => {
    const plan = observedPlan(l);
    return {
      start_ms: round(l.start - r.startedAt),
      elapsed_ms: round(l.end - l.start),
      name: fp.lookups[i]?.name ?? l.names[0]!,
      names: l.names,
      types: l.types,
      servers: [...new Set(l.exchanges.map((e) => e.server))],
      result: resultOf(l),
      attempts: l.exchanges.map((e, j) => ({
        t_ms: round(e.t - l.start), server: e.server, transport: e.transport, qname: e.qname, qtype: e.qtype, outcome: e.outcome, rtt_ms: e.rtt === null ? null : round(e.rtt), socket: plan[j]!.socket, client_port: e.clientPort,
      })),
      matching: fp.lookups[i]?.matching ?? [],
      ...(fp.lookups[i]?.notReplayed ? { not_replayed: fp.lookups[i]!.notReplayed } : {}),
    };
  });
  const [p50, p95, p99] = quantiles(lookups.map((l) => l.elapsed_ms), [0.5, 0.95, 0.99]);
  return {
    target: r.target,
    started: new Date(r.startedAt).toISOString(),
    duration_ms: Math.round(r.endedAt - r.startedAt),
    ports: r.ports,
    capture: r.capture,
    lookups,
    summary: { lookups: lookups.length, slow: lookups.filter((l) => l.elapsed_ms >= SLOW_MS).length, p50_ms: p50!, p95_ms: p95!, p99_ms: p99!, servers: health(r.lookups.flatMap((l) => l.exchanges)) },
    fingerprint: fp,
  };
}

/**
 * The observed lookups in the emulators' trace shape (docs/resolvers.md), mode "observed": what
 * diagnose's rules read. The result has no addresses (the capture keeps counts, not records) and
 * an error only when nothing was answered.
 */
export function observedTraces(r: TraceReport): Trace[] {
  return r.lookups.map((l) => ({
    mode: 'observed',
    name: l.name,
    family: (l.types.includes('A') && l.types.includes('AAAA') ? 'any' : l.types.includes('AAAA') ? 'inet6' : 'inet') as Family,
    result: { addresses: [], error: l.result === 'answer' ? null : l.result === 'nxdomain' ? 'EAI_NONAME' : l.result === 'nodata' ? 'EAI_NODATA' : 'EAI_AGAIN' },
    elapsed_ms: l.elapsed_ms,
    queries: l.attempts.map((a) => ({ t_ms: a.t_ms, server: a.server, transport: a.transport, qname: a.qname, qtype: a.qtype as QType, outcome: a.outcome, rtt_ms: a.rtt_ms })),
    warnings: [],
  }));
}
