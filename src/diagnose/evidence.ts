// The stub's recent query log for one container, summarised: per upstream, per name, per rcode.
import { readFileSync } from 'node:fs';
import { quantiles } from '../quantile.js';
import { logFiles } from '../stub/querylog.js';
import type { QueryLogLine } from '../stub/server.js';

export interface UpstreamStats {
  server: string;
  queries: number;
  failures: number;
  timeouts: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export interface StubEvidence {
  queries: number;
  servfail_rate: number;
  nxdomain_rate: number;
  upstreams: UpstreamStats[];
  slowest: Array<{ qname: string; qtype: string; latency_ms: number }>;
  /** most recent forwarded names first */
  recentNames: string[];
}


export function readStubEvidence(logPath: string, container: string, limit = 5000): StubEvidence | undefined {
  const lines: QueryLogLine[] = [];
  for (const f of logFiles(logPath)) {
    for (const raw of readFileSync(f, 'utf8').split('\n')) {
      if (!raw) continue;
      try {
        const l = JSON.parse(raw) as QueryLogLine;
        if (l.container === container) lines.push(l);
      } catch {
        // a torn last line while the daemon writes: skip it
      }
    }
  }
  const recent = lines.slice(-limit);
  if (recent.length === 0) return undefined;
  const perServer = new Map<string, { q: number; f: number; t: number; rtts: number[] }>();
  for (const l of recent) {
    for (const u of l.upstream) {
      const s = perServer.get(u.server) ?? { q: 0, f: 0, t: 0, rtts: [] };
      s.q++;
      if (u.outcome === 'timeout') s.t++;
      else if (!['answer', 'nodata', 'nxdomain'].includes(u.outcome)) s.f++;
      if (u.rtt_ms !== null) s.rtts.push(u.rtt_ms);
      perServer.set(u.server, s);
    }
  }
  const names: string[] = [];
  for (const l of [...recent].reverse()) if (l.source === 'upstream' && !names.includes(l.qname)) names.push(l.qname);
  return {
    queries: recent.length,
    servfail_rate: recent.filter((l) => l.rcode === 'SERVFAIL').length / recent.length,
    nxdomain_rate: recent.filter((l) => l.rcode === 'NXDOMAIN').length / recent.length,
    upstreams: [...perServer].map(([server, s]) => {
      const [p50, p95, p99] = quantiles(s.rtts, [0.5, 0.95, 0.99]);
      return { server, queries: s.q, failures: s.f, timeouts: s.t, p50_ms: p50!, p95_ms: p95!, p99_ms: p99! };
    }),
    slowest: [...recent].sort((a, b) => b.latency_ms - a.latency_ms).slice(0, 5).map((l) => ({ qname: l.qname, qtype: l.qtype, latency_ms: l.latency_ms })),
    recentNames: names,
  };
}
