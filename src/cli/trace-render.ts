// tsnet trace's text report: per lookup its attempts (when, where, how each ended), then the
// summary and the fingerprint. Names come off the wire: every one is printed in presentation format.
import type { TraceReport } from '../trace/report.js';
import { presentName, safeLine } from './escape.js';

const fmt = (ms: number | null) => (ms === null ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const pad = (s: string, n: number) => s.padEnd(n);

export function renderTrace(r: TraceReport): string {
  const out: string[] = [];
  const c = r.capture;
  const lost = c.overflow + c.kernelDrops;
  out.push(`tsnet trace: ${r.target}: ${r.lookups.length} lookups in ${fmt(r.duration_ms)} (${c.packets} packets${lost ? `, ${c.kernelDrops} dropped by the kernel, ${c.overflow} over --max-records` : ''})`);
  r.lookups.forEach((l, i) => {
    out.push('');
    const matches = l.not_replayed ? `; not replayed: ${l.not_replayed}` : l.matching.length ? `; sent as ${l.matching.join(', ')} would` : '; no strategy sends this';
    out.push(`  ${i + 1}. ${presentName(l.name)} (${l.types.join(' ')}) → ${l.result} in ${fmt(l.elapsed_ms)}, at +${(l.start_ms / 1000).toFixed(3)} s${matches}`);
    for (const a of l.attempts) {
      const rtt = a.rtt_ms === null ? '' : ` ${fmt(a.rtt_ms)}`;
      out.push(`     ${fmt(a.t_ms).padStart(9)}  ${pad(a.qtype, 5)}${presentName(a.qname)} @${a.server}/${a.transport} socket ${a.socket}  ${a.outcome}${rtt}`);
    }
  });
  const s = r.summary;
  out.push('');
  out.push(`summary: ${s.lookups} lookups, ${s.slow} slow (≥ 1 s); p50 ${fmt(s.p50_ms)}, p95 ${fmt(s.p95_ms)}, p99 ${fmt(s.p99_ms)}`);
  if (s.servers.length) {
    out.push(`  ${pad('server', 40)}${pad('queries', 9)}${pad('answered', 10)}${pad('timeouts', 10)}${pad('errors', 8)}rtt p50`);
    for (const h of s.servers) out.push(`  ${pad(h.server, 40)}${pad(String(h.queries), 9)}${pad(String(h.answered), 10)}${pad(String(h.timeouts), 10)}${pad(String(h.errors), 8)}${fmt(h.rtt_p50_ms)}`);
  }
  const f = r.fingerprint;
  const verdict = f.verdict === 'match' ? f.strategies[0] : f.verdict === 'ambiguous' ? `ambiguous (${f.strategies.join(', ')})` : f.verdict === 'none' ? 'none' : 'nothing to go by';
  out.push('');
  out.push(`fingerprint: ${verdict} — ${f.why}`);
  return `${out.map(safeLine).join('\n')}\n`;
}
