// PURE: exchanges → lookups. One lookup is what one getaddrinfo-like call sends: its queries for
// one name (A and AAAA, in parallel or one after the other), their resends and failover across
// servers, and its search-list walk (the next candidate name, asked right after the previous one
// was answered). The wire does not say which call a query belongs to, so the rules are:
//   1. a query for a name the lookup already asked joins it while that name and type has no final
//      reply (answer, NODATA, NXDOMAIN) yet — a resend, the next server, the other type;
//   2. a final (name, type) asked again joins only while another type of that name is still
//      unanswered (glibc's single-request retry resends both); otherwise it starts a new lookup;
//   3. a new name joins as the next step of a search walk when it has the same first label and
//      is sent within SEARCH_GAP_MS of the lookup's last reply;
//   4. nothing joins a lookup idle for longer than IDLE_MS.
// Known limits (docs/trace.md): two calls for the same name at the same moment become one
// lookup; a lookup that never got a type answered (a server dropping AAAA) absorbs the next
// lookup of that name; a search walk whose every query timed out is split per name.
import type { Exchange } from './exchanges.js';

export const SEARCH_GAP_MS = 200;
export const IDLE_MS = 30_000;
/**
 * No lookup has more queries: glibc's worst is 3 servers × 5 attempts × 2 types × 7 names = 210.
 * Past it a flood of one unanswered question is cut into lookups, and the work per query stays bounded.
 */
export const MAX_EXCHANGES = 512;

export interface Lookup {
  /** first send, ms since the epoch */
  start: number;
  /** the last send or reply */
  end: number;
  /** names asked, in order */
  names: string[];
  /** query types asked, in order */
  types: string[];
  exchanges: Exchange[];
  /** the latest reply time of any exchange so far (kept so a flood stays linear) */
  latestReply?: number | undefined;
}

const FINAL = new Set<Exchange['outcome']>(['answer', 'nodata', 'nxdomain']);
const replyAt = (e: Exchange) => (e.rtt === null ? undefined : e.t + e.rtt);
/** a final reply that had arrived by `t` */
const finalBy = (e: Exchange, t: number) => FINAL.has(e.outcome) && replyAt(e)! <= t;
const firstLabel = (name: string) => name.split('.')[0]!;

function lastReply(l: Lookup, t: number): number | undefined {
  if (l.latestReply === undefined || l.latestReply <= t) return l.latestReply; // the common case, O(1)
  let last: number | undefined;
  for (const e of l.exchanges) {
    const r = replyAt(e);
    if (r !== undefined && r <= t && (last === undefined || r > last)) last = r;
  }
  return last;
}

function lastActivity(l: Lookup, t: number): number {
  return Math.max(l.exchanges.at(-1)!.t, lastReply(l, t) ?? -Infinity);
}

/** Whether `e` belongs to the open lookup `l` (rules 1-3). */
function joins(l: Lookup, e: Exchange): boolean {
  if (l.exchanges.length >= MAX_EXCHANGES || e.t - lastActivity(l, e.t) > IDLE_MS) return false;
  if (l.names.includes(e.qname)) {
    const sameName = l.exchanges.filter((x) => x.qname === e.qname);
    if (!sameName.some((x) => x.qtype === e.qtype && finalBy(x, e.t))) return true;
    return sameName.some((x) => x.qtype !== e.qtype && !sameName.some((y) => y.qtype === x.qtype && finalBy(y, e.t)));
  }
  const r = lastReply(l, e.t);
  return l.names.some((n) => firstLabel(n) === firstLabel(e.qname)) && r !== undefined && e.t - r <= SEARCH_GAP_MS;
}

/** Open lookups looked at per query: the most recent ones with its first label (bounded work under a flood). */
const CANDIDATES = 64;

/** Groups exchanges (in send order) into lookups, in order of their first query. */
export function groupLookups(exchanges: Exchange[]): Lookup[] {
  const lookups: Lookup[] = [];
  const open = new Map<string, Lookup[]>(); // first label → open lookups, oldest first
  for (const e of [...exchanges].sort((a, b) => a.t - b.t)) {
    const label = firstLabel(e.qname);
    const list = (open.get(label) ?? []).filter((x) => e.t - lastActivity(x, e.t) <= IDLE_MS).slice(-CANDIDATES);
    let l = [...list].reverse().find((x) => joins(x, e));
    if (!l) {
      l = { start: e.t, end: e.t, names: [], types: [], exchanges: [] };
      lookups.push(l);
      list.push(l);
    }
    open.set(label, list);
    l.exchanges.push(e);
    const r = replyAt(e);
    if (r !== undefined && (l.latestReply === undefined || r > l.latestReply)) l.latestReply = r;
    if (!l.names.includes(e.qname)) l.names.push(e.qname);
    if (!l.types.includes(e.qtype)) l.types.push(e.qtype);
  }
  for (const l of lookups) l.end = Math.max(...l.exchanges.map((e) => replyAt(e) ?? e.t));
  return lookups;
}
