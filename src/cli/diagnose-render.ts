// The human report: header, per-mode summary, a text waterfall on one time axis, findings.
// Names come from the network and the target (the stub's log, the target's resolv.conf, its
// process name): they are printed as dig prints names, and every line is kept from acting on the
// terminal.
import type { Report } from '../diagnose/diagnose.js';
import { presentName as name, safeLine } from './escape.js';

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

function waterfall(report: Report, width = 60): string[] {
  const out: string[] = [];
  const span = Math.max(1, ...report.rows.flatMap((r) => r.traces.map((t) => t.elapsed_ms)));
  const col = (ms: number) => Math.min(width - 1, Math.round((ms / span) * (width - 1)));
  out.push(`  time axis: 0 … ${fmt(span)} (each column ≈ ${fmt(span / width)})`);
  for (const row of report.rows) {
    for (const t of row.traces) {
      out.push(`  ${row.label} — ${name(t.name)}: ${t.result.error ?? t.result.addresses.join(', ')} in ${fmt(t.elapsed_ms)}`);
      for (const q of t.queries) {
        const line = Array<string>(width).fill(' ');
        const start = col(q.t_ms);
        const end = q.rtt_ms === null ? col(t.elapsed_ms) : col(q.t_ms + q.rtt_ms);
        for (let i = start; i <= end; i++) line[i] = q.rtt_ms === null ? '·' : '─';
        line[start] = '▶';
        if (q.rtt_ms !== null) line[end] = q.outcome === 'answer' || q.outcome === 'nodata' || q.outcome === 'nxdomain' ? '●' : '✗';
        out.push(`    |${line.join('')}| ${q.qtype.padEnd(4)} ${name(q.qname)} @${q.server}/${q.transport} ${q.outcome}${q.rtt_ms !== null ? ` ${fmt(q.rtt_ms)}` : ''}`);
      }
    }
  }
  return out;
}

/** Which library the program resolves with, how we know, and how its row is marked. */
function programLines(report: Report): string[] {
  const p = report.program;
  if (!p) return [];
  const out = [`  program: pid ${p.pid} ${p.exe} — ${p.summary}`];
  for (const e of p.evidence) out.push(`    evidence: ${e}`);
  for (const n of p.notes) out.push(`    note: ${n}`);
  if (p.mode !== undefined) out.push(p.approximate ? `    ≈ marks the ${p.mode} row: the closest emulated behaviour, not this library's own` : `    ◀ marks this program's row (${p.mode})`);
  return out;
}

export function renderReport(report: Report): string {
  const out: string[] = [];
  out.push(`tsnet diagnose: ${report.target.label}`);
  out.push(`  nameservers: ${report.target.nameservers.join(', ') || 'none'}${report.target.upstreams ? `   (stub upstreams: ${report.target.upstreams.join(', ')})` : ''}`);
  out.push(`  search: ${report.target.search.join(' ') || '-'}   options: ${report.target.options.join(' ') || '-'}   hosts: ${report.target.nsswitch}`);
  out.push(`  names: ${report.names.list.map(name).join(', ')} (${report.names.why})`);
  out.push(...programLines(report));
  out.push('');
  out.push(`  ${'mode'.padEnd(16)} ${'result'.padEnd(34)} ${'time'.padStart(10)}  queries`);
  for (const row of report.rows) {
    for (const t of row.traces) {
      const res = (t.result.error ?? t.result.addresses.join(' ')).slice(0, 34);
      const label = row.lead === 'program' ? `${row.label} ◀` : row.lead === 'closest' ? `${row.label} ≈` : row.label;
      out.push(`  ${label.padEnd(16)} ${res.padEnd(34)} ${fmt(t.elapsed_ms).padStart(10)}  ${t.queries.length}   ${report.names.list.length > 1 ? name(t.name) : ''}`);
    }
  }
  out.push('');
  out.push(...waterfall(report));
  if (report.stub) {
    const s = report.stub;
    out.push('');
    out.push(`  stub log: ${s.queries} recent queries, SERVFAIL ${(s.servfail_rate * 100).toFixed(1)} %, NXDOMAIN ${(s.nxdomain_rate * 100).toFixed(1)} %`);
    for (const u of s.upstreams) {
      out.push(`    upstream ${u.server}: ${u.queries} queries, ${u.timeouts} timeouts, ${u.failures} failures, p50 ${u.p50_ms === null ? '-' : fmt(u.p50_ms)} p95 ${u.p95_ms === null ? '-' : fmt(u.p95_ms)} p99 ${u.p99_ms === null ? '-' : fmt(u.p99_ms)}`);
    }
    if (s.slowest.length) out.push(`    slowest: ${s.slowest.map((x) => `${x.qtype} ${name(x.qname)} ${fmt(x.latency_ms)}`).join(', ')}`);
  }
  if (report.observed) {
    const o = report.observed;
    const s = o.summary;
    const fp = o.fingerprint;
    out.push('');
    out.push(`  observed for ${fmt(o.duration_ms)} before probing: ${s.lookups} lookups of the application, ${s.slow} slow (≥ 1 s), p50 ${s.p50_ms === null ? '-' : fmt(s.p50_ms)} p95 ${s.p95_ms === null ? '-' : fmt(s.p95_ms)}`);
    const verdict = fp.verdict === 'match' ? `it resolves the way ${fp.strategies[0]} does` : fp.verdict === 'ambiguous' ? `its lookups fit ${fp.strategies.join(', ')} alike` : fp.verdict === 'none' ? 'no emulated strategy sends what it sent' : 'nothing to fingerprint';
    out.push(`    strategy: ${verdict} (tsnet trace for every lookup)`);
  }
  out.push('');
  if (report.findings.length === 0) out.push('  findings: none — DNS looks healthy for these names');
  report.findings.forEach((f, i) => {
    out.push(`  ${i + 1}. [${f.severity}] ${f.title}`);
    for (const e of f.evidence) out.push(`     evidence: ${e}`);
    const costs = f.modes.filter((m) => m.measured_ms > 0);
    if (costs.length) {
      out.push(`     cost: ${costs.map((m) => `${m.mode} ${fmt(m.measured_ms)}${m.with_fix_ms !== null ? ` → ${fmt(m.with_fix_ms)}` : ''}`).join(', ')}`);
    }
    out.push(`     fix: ${f.fix}${f.whatIf ? `   (try: --what-if "${f.whatIf}")` : ''}`);
  });
  for (const w of report.whatIf) {
    out.push('');
    out.push(`  what if "${w.spec}":`);
    for (const r of w.rows) out.push(`    ${r.mode.padEnd(16)} ${fmt(r.measured_ms)} → ${fmt(r.predicted_ms)}${r.predicted_error ? ` (${r.predicted_error})` : ''}`);
  }
  return out.map(safeLine).join('\n') + '\n';
}
