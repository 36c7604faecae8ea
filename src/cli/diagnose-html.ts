// --html FILE: one self-contained page (inline CSS and SVG, no scripts, no external resources)
// with a waterfall per mode and the findings — something to attach to an incident ticket.
import type { Report } from '../diagnose/diagnose.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const OK = new Set(['answer', 'nodata', 'nxdomain']);

function waterfallSvg(report: Report, row: Report['rows'][number]): string {
  const span = Math.max(1, ...report.rows.flatMap((r) => r.traces.map((t) => t.elapsed_ms)));
  const width = 900;
  const left = 300;
  const plot = width - left - 20;
  const x = (ms: number) => left + (ms / span) * plot;
  const lineH = 18;
  const items = row.traces.flatMap((t) => [{ kind: 'lookup' as const, t }, ...t.queries.map((q) => ({ kind: 'query' as const, t, q }))]);
  const height = items.length * lineH + 30;
  const parts: string[] = [];
  // time axis with 5 ticks
  for (let i = 0; i <= 4; i++) {
    const ms = (span * i) / 4;
    parts.push(`<line x1="${x(ms)}" y1="0" x2="${x(ms)}" y2="${height - 18}" class="tick"/><text x="${x(ms)}" y="${height - 4}" class="axis" text-anchor="middle">${esc(fmt(ms))}</text>`);
  }
  items.forEach((it, i) => {
    const y = i * lineH + 4;
    if (it.kind === 'lookup') {
      const label = `${it.t.name} → ${it.t.result.error ?? it.t.result.addresses.join(', ')}`;
      parts.push(`<text x="4" y="${y + 12}" class="lookup">${esc(label.slice(0, 48))}</text>`);
      parts.push(`<rect x="${x(0)}" y="${y + 3}" width="${Math.max(1, x(it.t.elapsed_ms) - x(0))}" height="8" class="${it.t.result.error ? 'fail' : 'total'}" data-kind="lookup" data-ms="${it.t.elapsed_ms}"><title>${esc(`${row.label} ${it.t.name}: ${fmt(it.t.elapsed_ms)}`)}</title></rect>`);
    } else {
      const q = it.q;
      const end = q.rtt_ms === null ? it.t.elapsed_ms : q.t_ms + q.rtt_ms;
      const cls = q.rtt_ms === null ? 'timeout' : OK.has(q.outcome) ? 'ok' : 'bad';
      parts.push(`<text x="14" y="${y + 12}" class="query">${esc(`${q.qtype} ${q.qname} @${q.server}/${q.transport}`.slice(0, 46))}</text>`);
      parts.push(
        `<rect x="${x(q.t_ms)}" y="${y + 2}" width="${Math.max(2, x(end) - x(q.t_ms))}" height="10" class="${cls}" data-kind="query" data-outcome="${q.outcome}" data-server="${esc(q.server)}" data-t="${q.t_ms}"><title>${esc(`${q.qtype} ${q.qname} @${q.server}/${q.transport}: ${q.outcome}${q.rtt_ms !== null ? ` after ${fmt(q.rtt_ms)}` : ''} (sent at ${fmt(q.t_ms)})`)}</title></rect>`,
      );
    }
  });
  return `<svg class="waterfall" data-mode="${esc(row.label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

export function renderHtml(report: Report): string {
  const rows = report.rows
    .map((r) => `<section class="mode"><h3>${esc(r.label)}</h3>${waterfallSvg(report, r)}</section>`)
    .join('\n');
  const findings = report.findings
    .map(
      (f) => `<li class="finding ${f.severity}" data-id="${esc(f.id)}"><b>[${f.severity}]</b> ${esc(f.title)}<ul>${f.evidence.map((e) => `<li>evidence: ${esc(e)}</li>`).join('')}${
        f.modes.filter((m) => m.measured_ms > 0).length ? `<li>cost: ${esc(f.modes.filter((m) => m.measured_ms > 0).map((m) => `${m.mode} ${fmt(m.measured_ms)}${m.with_fix_ms !== null ? ` → ${fmt(m.with_fix_ms)}` : ''}`).join(', '))}</li>` : ''
      }<li>fix: <code>${esc(f.fix)}</code></li></ul></li>`,
    )
    .join('\n');
  const summary = report.rows
    .flatMap((r) => r.traces.map((t) => `<tr><td>${esc(r.label)}</td><td>${esc(t.name)}</td><td>${esc(t.result.error ?? t.result.addresses.join(' '))}</td><td class="num">${esc(fmt(t.elapsed_ms))}</td><td class="num">${t.queries.length}</td></tr>`))
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tsnet diagnose: ${esc(report.target.label)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}.num{text-align:right}
.tick{stroke:#ddd}.axis{font-size:10px;fill:#666}.lookup{font-size:12px;font-weight:600}.query{font-size:11px;fill:#444}
.ok{fill:#2e7d32}.bad{fill:#c62828}.timeout{fill:#f9a825}.total{fill:#90caf9}.fail{fill:#ef9a9a}
.finding.error b{color:#c62828}.finding.warning b{color:#ef6c00}.finding.info b{color:#1565c0}
</style></head><body>
<h1>tsnet diagnose</h1>
<p><b>${esc(report.target.label)}</b><br>nameservers: ${esc(report.target.nameservers.join(', ') || 'none')}${report.target.upstreams ? ` (stub upstreams: ${esc(report.target.upstreams.join(', '))})` : ''}; search: ${esc(report.target.search.join(' ') || '-')}; options: ${esc(report.target.options.join(' ') || '-')}; hosts: ${esc(report.target.nsswitch)}<br>names: ${esc(report.names.list.join(', '))} (${esc(report.names.why)})${report.program ? `<br>program: pid ${report.program.pid} ${esc(report.program.exe)} — <b>${esc(report.program.summary)}</b>${report.program.approximate ? ` (the ${esc(report.program.mode ?? '')} row is the closest emulated behaviour)` : ''}<br><small>${report.program.evidence.map(esc).join('; ')}</small>` : ''}${report.live ? '' : '<br><i>prediction only (--no-live)</i>'}</p>
<h2>Summary</h2><table><tr><th>mode</th><th>name</th><th>result</th><th>time</th><th>queries</th></tr>${summary}</table>
<h2>Findings</h2><ol class="findings">${findings || '<li>none — DNS looks healthy for these names</li>'}</ol>
<h2>Waterfall</h2><p>green: answered, red: failed, amber: no reply; the pale bar is the whole lookup.</p>
${rows}
</body></html>
`;
}
