// The conntrack race's signature in a lookup's trace (kubernetes/kubernetes#56903): a query lost
// right behind another one to the same server, whose partner was answered, and that is answered
// when sent again. A server that drops a type (drop-aaaa) never answers the resend; a dead one
// never answers the partner. Pure; read by the rule (rules.ts) and the inferred network (infer.ts).
import type { Trace, TraceQuery } from '../../resolvers/index.js';

/**
 * Sent "together": within this many ms of the partner. The libraries send A and AAAA within
 * microseconds; tsnet's real driver within ~1-3 ms on a loaded machine.
 */
export const PAIR_MS = 10;
const REPLIED = new Set<TraceQuery['outcome']>(['answer', 'nodata', 'nxdomain', 'truncated']);

/** The queries of one lookup that the race lost. */
export function racedQueries(t: Trace): TraceQuery[] {
  const udp = t.queries.filter((q) => q.transport === 'udp');
  return udp.filter((lost, i) => {
    if (lost.outcome !== 'timeout') return false;
    const before = udp.slice(0, i).filter((p) => p.server === lost.server);
    const partner = before.at(-1);
    if (!partner || lost.t_ms - partner.t_ms > PAIR_MS || !REPLIED.has(partner.outcome)) return false;
    return udp.slice(i + 1).some((r) => r.server === lost.server && r.qname === lost.qname && r.qtype === lost.qtype && REPLIED.has(r.outcome));
  });
}
