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

/** The queries of one lookup that the race lost. Linear: a lookup off the wire may hold hundreds. */
export function racedQueries(t: Trace): TraceQuery[] {
  const udp = t.queries.filter((q) => q.transport === 'udp');
  const key = (q: TraceQuery) => `${q.server} ${q.qname} ${q.qtype}`;
  // answeredLater[i]: the same question to the same server is answered by a query after i
  const answeredLater: boolean[] = new Array(udp.length).fill(false);
  const answered = new Set<string>();
  for (let i = udp.length - 1; i >= 0; i--) {
    answeredLater[i] = answered.has(key(udp[i]!));
    if (REPLIED.has(udp[i]!.outcome)) answered.add(key(udp[i]!));
  }
  const previous = new Map<string, TraceQuery>(); // server → its latest query so far
  return udp.filter((lost, i) => {
    const partner = previous.get(lost.server);
    previous.set(lost.server, lost);
    return lost.outcome === 'timeout' && partner !== undefined && lost.t_ms - partner.t_ms <= PAIR_MS && REPLIED.has(partner.outcome) && answeredLater[i]!;
  });
}
