// A simulated network that behaves like the live one: each server's behaviour and the zone data,
// inferred from what the live lookups saw. What-if predictions and fix costs run on it. Pure.
import type { ScenarioSpec, Trace } from '../../resolvers/index.js';
import { quantile } from '../quantile.js';
import { racedQueries } from './race.js';

const median = (xs: number[]) => quantile(xs, 0.5) ?? 0;

/**
 * `configured`: every nameserver of the configuration. One that no live lookup reached is
 * assumed healthy (we know nothing against it), rather than dead like an unlisted server.
 */
export function inferScenario(traces: Trace[], configured: string[] = []): ScenarioSpec {
  const raced = new Set(traces.flatMap((t) => racedQueries(t)).map((q) => q.server));
  const byServer = new Map<string, Trace['queries']>();
  for (const t of traces) for (const q of t.queries) byServer.set(q.server, [...(byServer.get(q.server) ?? []), q]);
  const servers: Record<string, string> = {};
  for (const [server, qs] of byServer) {
    const outcomes = (f: (q: Trace['queries'][number]) => boolean) => qs.filter(f);
    const aaaa = qs.filter((q) => q.qtype === 'AAAA');
    const other = qs.filter((q) => q.qtype !== 'AAAA');
    const parts: string[] = [];
    if (outcomes((q) => q.outcome === 'icmp-unreachable' || q.outcome === 'connection-refused').length > 0) parts.push('closed');
    else if (qs.every((q) => q.outcome === 'timeout')) parts.push('blackhole');
    else if (qs.every((q) => q.outcome === 'servfail')) parts.push('servfail');
    else if (qs.every((q) => q.outcome === 'refused')) parts.push('refused');
    else {
      if (qs.some((q) => q.outcome === 'truncated')) parts.push('truncate');
      // :0 — only packets sent at one instant collide: a real node's race (microseconds), not the
      // lab's window, so single-request's AAAA after A's reply is predicted to pass, as it does there
      if (raced.has(server)) parts.push('race-drop:0');
      if (aaaa.length > 0 && aaaa.every((q) => q.outcome === 'timeout') && other.some((q) => q.outcome !== 'timeout')) parts.push('drop-aaaa');
      if (aaaa.length > 0 && aaaa.every((q) => q.outcome === 'servfail') && other.some((q) => q.outcome !== 'servfail')) parts.push('servfail-aaaa');
      const rtts = qs.filter((q) => q.rtt_ms !== null && q.outcome !== 'icmp-unreachable').map((q) => q.rtt_ms!);
      const rtt = median(rtts);
      if (rtt >= 20) parts.push(`delay:${Math.round(rtt)}`);
    }
    servers[server] = parts.join(',') || 'answer';
  }
  for (const s of configured) servers[s] ??= 'answer';
  // Zone: the names that answered, with the addresses the lookups returned for them.
  const zone = new Set<string>();
  for (const t of traces) {
    const answered = t.queries.filter((q) => q.outcome === 'answer');
    for (const q of answered) {
      for (const a of t.result.addresses) {
        if ((q.qtype === 'A' && !a.includes(':')) || (q.qtype === 'AAAA' && a.includes(':'))) zone.add(`${q.qname}=${q.qtype}:${a}`);
      }
    }
    for (const q of t.queries.filter((x) => x.outcome === 'nodata')) zone.add(`${q.qname}=TXT:exists`);
  }
  // A name no server ever answered or denied (every try timed out) is assumed to exist: nothing
  // says otherwise, and predicting NXDOMAIN would make every fix look better than it is.
  for (const t of traces) {
    const name = t.name.replace(/\.$/, '').toLowerCase();
    const seen = t.queries.some((q) => q.qname === name && ['answer', 'nodata', 'nxdomain'].includes(q.outcome));
    const known = [...zone].some((z) => z.startsWith(`${name}=`));
    if (!seen && !known && t.queries.some((q) => q.qname === name)) {
      zone.add(`${name}=A:192.0.2.1`);
      zone.add(`${name}=AAAA:2001:db8::1`);
    }
  }
  return { servers, zone: [...zone], rttMs: 0.5 };
}
