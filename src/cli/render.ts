// Human output. No logic beyond layout.
import type { ContainerRecord } from '../state/records.js';
import type { ListedContainer } from '../state/lookup.js';
import type { PruneReport } from '../api/prune.js';
import type { Trace } from '../../resolvers/index.js';

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function renderList(items: ListedContainer[]): string {
  return table(
    ['NAME', 'ID', 'ADDRESS', 'HOSTNAME', 'DNS-MODE', 'NETWORK', 'STATUS', 'CREATED'],
    items.map(({ name, record: r, problem }) =>
      r
        ? [r.name, r.id, r.address ?? '-', r.hostname, r.dns.mode, r.network, r.status, r.created]
        : [name, '-', '-', '-', '-', '-', `broken: ${problem ?? 'unknown'}`, '-'],
    ),
  );
}

export function renderInspect(r: ContainerRecord): string {
  const ns = r.dns.nameservers.map((n) => `${n.address} (${n.source})`).join(', ') || 'none';
  return [
    `name:        ${r.name}`,
    `id:          ${r.id}`,
    `status:      ${r.status}`,
    `created:     ${r.created}`,
    `network:     ${r.network} (${r.subnet ?? '-'}, gateway ${r.gateway ?? '-'})`,
    r.cni?.chained
      ? `address:     ${r.address ?? '-'}/${r.cni.ifname} (made by the plugin tsnet is chained after)`
      : `address:     ${r.address ?? '-'}/${r.cni?.ifname ?? 'eth0'}, host side ${r.hostVeth}`,
    `hostname:    ${r.hostname}`,
    r.cni
      ? `namespaces:  net ${r.namespaces.net} (the runtime's)`
      : `namespaces:  net ${r.namespaces.net}, uts ${r.namespaces.uts}, ip netns ${r.namespaces.ipNetns}`,
    ...(r.cni
      ? [`cni:         runtime container ${r.cni.containerId}, ifname ${r.cni.ifname}${r.cni.podName ? `, name ${r.cni.podName}` : ''}${r.cni.podNamespace ? ` (pod namespace ${r.cni.podNamespace})` : ''}${r.cni.chained ? ', chained (DNS only)' : ''}`]
      : []),
    `dns-mode:    ${r.dns.mode}${r.dns.mode !== 'direct' && !r.dns.stubActive ? ' (recorded; the stub resolver is not active yet: upstreams are listed directly)' : ''}`,
    `nameservers: ${ns}`,
    `search:      ${r.dns.search.join(' ') || '-'}`,
    `options:     ${r.dns.options.join(' ') || '-'}`,
    `nsswitch:    hosts: ${r.dns.nsswitch}`,
    `add-hosts:   ${r.addHosts.map((h) => `${h.name}:${h.address}`).join(', ') || '-'}`,
    `files:       ${Object.values(r.files).join(', ')}`,
  ].join('\n') + '\n';
}

export function renderPrune(r: PruneReport): string {
  const out: string[] = [];
  if (r.removed.length === 0 && r.errors.length === 0) out.push('nothing to prune');
  for (const x of r.removed) out.push(`removed ${x}`);
  for (const x of r.skipped) out.push(`left alone ${x}`);
  for (const x of r.errors) out.push(`error: ${x}`);
  return out.join('\n') + '\n';
}

/** `tsnet resolve`'s human output: the result, then every query with its timing. */
export function renderTrace(t: Trace): string {
  const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
  const head = t.result.error
    ? `${t.mode}: ${t.name} failed with ${t.result.error} after ${secs(t.elapsed_ms)}`
    : `${t.mode}: ${t.name} → ${t.result.addresses.join(', ') || '(no address)'} in ${secs(t.elapsed_ms)}`;
  const rows = t.queries.map((q) =>
    [q.t_ms.toFixed(1).padStart(9), q.server.padEnd(16), q.transport.padEnd(4), `${q.qtype} ${q.qname}`.padEnd(40), q.outcome.padEnd(17), q.rtt_ms === null ? '-' : q.rtt_ms.toFixed(1)].join('  '),
  );
  const lines = [head];
  if (rows.length > 0) lines.push(`  ${'t (ms)'.padStart(9)}  ${'server'.padEnd(16)}  ${'via'.padEnd(4)}  ${'query'.padEnd(40)}  ${'outcome'.padEnd(17)}  rtt (ms)`, ...rows.map((r) => `  ${r}`));
  else lines.push('  no DNS query was sent');
  for (const w of t.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n') + '\n';
}
