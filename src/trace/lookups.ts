// PURE: exchanges → lookups. One lookup is what one getaddrinfo-like call sends: its queries for
// one name (A and AAAA, in parallel or one after the other), their resends and failover across
// servers, and its search-list walk (the next candidate name, asked right after the previous one
// was answered). The wire does not say which call a query belongs to, so the rules are:
//   1. a query for a name the lookup already asked joins it while that name and type has no final
//      reply (answer, NODATA, NXDOMAIN) yet — a resend, the next server, the other type;
//   2. a final (name, type) asked again joins only while another type of that name is still
//      unanswered (glibc's single-request retry resends both); otherwise it starts a new lookup;
//   3. a new name joins as the next step of a search walk when it is the same name with another
//      search domain (or none), the lookup's latest name got no answer, and it is sent within
//      SEARCH_GAP_MS of the lookup's last reply;
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

/** Per open lookup: when each (name, type) first got a final reply, and the types asked per name (rules 1-2 in O(types)). */
interface Seen {
  final: Map<string, number>;
  types: Map<string, Set<string>>;
  answered: Set<string>;
}
const seen = new WeakMap<Lookup, Seen>();
const finalAt = (st: Seen, name: string, type: string, t: number) => {
  const at = st.final.get(`${name} ${type}`);
  return at !== undefined && at <= t;
};

/** The name without the search domain it ends with (the longest), else itself: what a walk's names share. */
function baseOf(name: string, search: string[]): string {
  const d = search.find((x) => name.endsWith(`.${x}`));
  return d ? name.slice(0, -(d.length + 1)) : name;
}

/** Whether `e` belongs to the open lookup `l` (rules 1-3). */
function joins(l: Lookup, e: Exchange, search: string[]): boolean {
  if (l.exchanges.length >= MAX_EXCHANGES || e.t - lastActivity(l, e.t) > IDLE_MS) return false;
  const st = seen.get(l)!;
  const types = st.types.get(e.qname);
  if (types) {
    if (!finalAt(st, e.qname, e.qtype, e.t)) return true;
    return [...types].some((t) => t !== e.qtype && !finalAt(st, e.qname, t, e.t));
  }
  const latest = l.names.at(-1)!;
  const r = lastReply(l, e.t);
  return baseOf(e.qname, search) === baseOf(latest, search) && !st.answered.has(latest) && r !== undefined && e.t - r <= SEARCH_GAP_MS;
}

/** Open lookups looked at per query: the most recent ones with its first label (bounded work under a flood). */
const CANDIDATES = 64;

function add(l: Lookup, e: Exchange): void {
  const st = seen.get(l)!;
  l.exchanges.push(e);
  const r = replyAt(e);
  if (r !== undefined && (l.latestReply === undefined || r > l.latestReply)) l.latestReply = r;
  if (!l.names.includes(e.qname)) l.names.push(e.qname);
  if (!l.types.includes(e.qtype)) l.types.push(e.qtype);
  const types = st.types.get(e.qname) ?? st.types.set(e.qname, new Set()).get(e.qname)!;
  types.add(e.qtype);
  if (r !== undefined && FINAL.has(e.outcome)) {
    const k = `${e.qname} ${e.qtype}`;
    st.final.set(k, Math.min(st.final.get(k) ?? Infinity, r));
  }
  if (e.outcome === 'answer') st.answered.add(e.qname);
}

/**
 * Groups exchanges (in send order) into lookups, in order of their first query. `search`: the
 * target's search domains (lower-case, no dots at the ends), what tells a walk's next name.
 */
export function groupLookups(exchanges: Exchange[], search: string[] = []): Lookup[] {
  const domains = [...search].map((d) => d.replace(/^\.|\.$/g, '').toLowerCase()).sort((a, b) => b.length - a.length);
  const lookups: Lookup[] = [];
  const open = new Map<string, Lookup[]>(); // first label → open lookups, oldest first
  for (const e of [...exchanges].sort((a, b) => a.t - b.t)) {
    const label = firstLabel(e.qname);
    const list = (open.get(label) ?? []).filter((x) => e.t - lastActivity(x, e.t) <= IDLE_MS).slice(-CANDIDATES);
    let l = [...list].reverse().find((x) => joins(x, e, domains));
    if (!l) {
      l = { start: e.t, end: e.t, names: [], types: [], exchanges: [] };
      seen.set(l, { final: new Map(), types: new Map(), answered: new Set() });
      lookups.push(l);
      list.push(l);
    }
    open.set(label, list);
    add(l, e);
  }
  for (const l of lookups) l.end = Math.max(...l.exchanges.map((e) => replyAt(e) ?? e.t));
  return lookups;
}
