/*
 * dnspython 2.3.0 Resolver.resolve() as eventlet's greendns drives it: one query at a time, with
 * the resolver's LRU cache. Used by resolvers/eventlet.ts (both eventlet versions). Pure.
 *
 * IMPLEMENTATION NOTES (dnspython 2.3.0 unless marked greendns)
 * - dns/resolver.py read_resolv_conf / reset (LIBRARY_RULES.dnspython): every nameserver line,
 *   `timeout:N` = per-try timeout (default 2 s), lifetime 5 s per resolve() call, `attempts`
 *   ignored, `rotate` shuffles the servers per candidate name, `edns0` (payload 1232). No search
 *   or domain line → the domain part of gethostname(). No nameserver → NoResolverConfiguration.
 * - dns/resolver.py _get_qnames_to_try: absolute names as is; relative: search expansions, the
 *   absolute name first when labels > ndots, else last (core/search.ts style 'dnspython').
 * - dns/resolver.py _Resolution.next_request: per candidate, the cache (positive answer for the
 *   type, then a cached NXDOMAIN under ANY → skip the candidate); one query id per candidate.
 * - _Resolution.next_nameserver: servers one at a time; after a full pass sleep the backoff
 *   (0.1 s, doubling, max 2 s); no servers left → NoNameservers. Resolver.resolve sleeps the
 *   backoff BEFORE _compute_timeout checks the lifetime, so a dead server costs 5.4 s, not 5.
 * - _compute_timeout: elapsed ≥ lifetime → LifetimeTimeout; else min(lifetime left, timeout).
 * - _Resolution.query_result: NOERROR (even empty) → Answer, cached under (name, type);
 *   NXDOMAIN → cached under (name, ANY), next candidate; YXDOMAIN raised; other rcodes drop the
 *   server (retry_servfail is False); FormError/EOFError/OSError (BadResponse is a FormError)
 *   drop it; Truncated → the same server again over TCP; Timeout/UnexpectedSource keep it.
 * - dns/message.py resolve_chaining: the cache lifetime is the minimum TTL along the CNAME chain;
 *   without an answer, min(SOA TTL, SOA minimum) from the authority section, else MAX_TTL —
 *   so a negative answer without SOA (tsnet's fake server) never expires.
 * - greendns udp() (replaces dns/query.py udp): a new unconnected socket per try (ICMP is
 *   invisible), sendto, wait up to the timeout; a packet from another address raises
 *   UnexpectedSource; raise_on_truncation → Truncated; settimeout(0) makes recvfrom fail at once
 *   with an OSError. greendns tcp(): a new connection per try, TC not checked.
 */
import * as dnsPacket from 'dns-packet';
import { LIBRARY_RULES, parseResolverConfig } from './config.js';
import type { Io } from './coroutine.js';
import { candidates } from './search.js';
import { decodeReply, encodeQuery, matches, RCODE, sameName, type Reply } from './wire.js';
import type { MachineEvent, ProcessContext, QType, QueryInfo } from './types.js';

export type Wait<T> = Generator<number | null, T, MachineEvent | null>;

export const LIFETIME_MS = 5000;
/** dns.ttl.MAX_TTL, seconds */
const MAX_TTL_S = 2 ** 31 - 1;
const YXDOMAIN = 6;
const DEFAULT_EDNS_PAYLOAD = 1232;

interface CacheEntry {
  /** the rrset: addresses for A/AAAA, the target for CNAME; empty = NODATA (rrset None) */
  records: string[];
  expiresAt: number;
}

export interface DnsResolver {
  nameservers: string[];
  search: string[];
  ndots: number;
  timeoutMs: number;
  rotate: boolean;
  edns: boolean;
  /** dns.resolver.LRUCache, keyed "name|TYPE" (name lower-case, no trailing dot) */
  cache: Map<string, CacheEntry>;
  random: () => number;
}

export type DnsError = 'NXDOMAIN' | 'Timeout' | 'NoNameservers' | 'YXDOMAIN';

export type ResolveOutcome =
  /** qname: the candidate that answered, absolute (trailing dot) as str(answer.qname) prints it */
  | { kind: 'answer'; qname: string; records: string[] }
  | { kind: DnsError };

/** Resolver(filename='/etc/resolv.conf'); undefined = NoResolverConfiguration (no nameserver). */
export function makeResolver(ctx: ProcessContext): DnsResolver | undefined {
  const cfg = parseResolverConfig(ctx.input.resolvConf, LIBRARY_RULES.dnspython, ctx.warn);
  if (cfg.nameservers.length === 0) return undefined;
  // reset(): domain = gethostname() minus its first label; used only when there is no search list.
  const host = ctx.input.hostname.replace(/\.$/, '');
  const dot = host.indexOf('.');
  const search = cfg.search.length > 0 ? cfg.search : dot > 0 ? [host.slice(dot + 1)] : [];
  return {
    nameservers: cfg.nameservers,
    search,
    ndots: cfg.ndots,
    timeoutMs: cfg.timeout * 1000,
    rotate: cfg.flags.has('rotate'),
    edns: cfg.flags.has('edns0'),
    cache: new Map(),
    random: ctx.random,
  };
}

export function* sleep(io: Io, ms: number): Wait<void> {
  const until = io.now + ms;
  while (io.now < until) yield until;
}

/** Resolver.resolve(name, rdtype, search=True). `name` ending in '.' is absolute. */
export function* resolve(io: Io, r: DnsResolver, name: string, rdtype: QType): Wait<ResolveOutcome> {
  const start = io.now;
  for (const cand of candidates(name, r.search, r.ndots, 'dnspython')) {
    const key = cand.qname.toLowerCase();
    const hit = cached(r, `${key}|${rdtype}`, io.now);
    if (hit) return { kind: 'answer', qname: `${cand.qname}.`, records: hit.records };
    if (cached(r, `${key}|ANY`, io.now)) continue;
    const query: QueryInfo = { qname: cand.qname, qtype: rdtype, id: Math.floor(r.random() * 65536) };
    const bytes = encodeQuery(query.id, query.qname, rdtype, r.edns ? { edns: DEFAULT_EDNS_PAYLOAD } : {});
    const servers = [...r.nameservers];
    if (r.rotate) shuffle(servers, r.random);
    let current = [...servers];
    let backoff = 100;
    let server = '';
    let retryTcp = false;
    for (;;) {
      // next_nameserver
      let tcp = false;
      let pause = 0;
      if (retryTcp) {
        tcp = true;
        retryTcp = false;
      } else {
        if (current.length === 0) {
          if (servers.length === 0) return { kind: 'NoNameservers' };
          current = [...servers];
          pause = backoff;
          backoff = Math.min(backoff * 2, 2000);
        }
        server = current.shift()!;
      }
      if (pause > 0) yield* sleep(io, pause);
      // _compute_timeout
      const elapsed = io.now - start;
      if (elapsed >= LIFETIME_MS) return { kind: 'Timeout' };
      const wait = Math.min(LIFETIME_MS - elapsed, r.timeoutMs);
      const got = tcp ? yield* tcpTry(io, server, bytes, query, wait) : yield* udpTry(io, server, bytes, query, wait);
      if (got === 'keep') continue;
      if (got === 'truncated') {
        retryTcp = true; // greendns tcp() never reports truncation, so no "TC over TCP" case
        continue;
      }
      if (got === 'drop') {
        drop(servers, server);
        continue;
      }
      const { reply, wire } = got;
      const records = rdtype === 'CNAME' ? (reply.cname !== undefined ? [reply.cname] : []) : reply.addresses;
      if (reply.rcode === RCODE.NOERROR) {
        r.cache.set(`${key}|${rdtype}`, { records, expiresAt: io.now + cacheTtl(wire, cand.qname, rdtype) * 1000 });
        return { kind: 'answer', qname: `${cand.qname}.`, records };
      }
      if (reply.rcode === RCODE.NXDOMAIN) {
        if (records.length > 0) {
          drop(servers, server); // AnswerForNXDOMAIN: "The nameserver is no good"
          continue;
        }
        r.cache.set(`${key}|ANY`, { records: [], expiresAt: io.now + cacheTtl(wire, cand.qname, rdtype) * 1000 });
        break;
      }
      if (reply.rcode === YXDOMAIN) return { kind: 'YXDOMAIN' };
      drop(servers, server); // SERVFAIL, REFUSED, NOTIMP, FORMERR, ...
    }
  }
  return { kind: 'NXDOMAIN' };
}

/** self.nameservers.remove(self.nameserver): out of the rotation for the rest of this candidate. */
function drop(servers: string[], server: string): void {
  const i = servers.indexOf(server);
  if (i >= 0) servers.splice(i, 1);
}

function cached(r: DnsResolver, key: string, now: number): CacheEntry | undefined {
  const e = r.cache.get(key);
  if (e && e.expiresAt <= now) r.cache.delete(key);
  return e && e.expiresAt > now ? e : undefined;
}

/** random.shuffle (Fisher-Yates from the end). */
function shuffle<T>(a: T[], random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}

/** 'keep' = Timeout/UnexpectedSource (server stays), 'drop' = FormError/OSError (server removed). */
type TryResult = 'keep' | 'drop' | 'truncated' | { reply: Reply; wire: Buffer };

/** Message.is_response: same id and question; error rcodes may come without a question. */
function isResponse(reply: Reply, q: QueryInfo): boolean {
  if (matches(reply, q.id, q.qname, q.qtype)) return true;
  const bare = [RCODE.FORMERR, RCODE.SERVFAIL, RCODE.NOTIMP, RCODE.REFUSED] as number[];
  return reply.id === q.id && reply.qdcount === 0 && bare.includes(reply.rcode);
}

/** greendns udp(): a fresh unconnected socket, one sendto, wait until `wait` ms have passed. */
function* udpTry(io: Io, server: string, bytes: Buffer, query: QueryInfo, wait: number): Wait<TryResult> {
  const socket = io.handle();
  io.emit({ type: 'udp-open', socket, connect: null });
  io.emit({ type: 'udp-send', socket, to: server, bytes, query });
  const deadline = io.now + wait;
  let result: TryResult = 'drop'; // timeout:0 → settimeout(0) → recvfrom raises BlockingIOError
  while (wait > 0) {
    const ev = yield deadline;
    if (ev === null) {
      result = 'keep';
      break;
    }
    if (ev.type !== 'udp' || ev.socket !== socket) continue;
    if (ev.from !== server || ev.wrongPort) {
      result = 'keep'; // UnexpectedSource: greendns.udp compares (address, port) (ignore_unexpected is not passed)
      break;
    }
    const reply = decodeReply(ev.bytes);
    result = !reply ? 'drop' : reply.truncated ? 'truncated' : isResponse(reply, query) ? { reply, wire: ev.bytes } : 'drop';
    break;
  }
  io.emit({ type: 'udp-close', socket });
  return result;
}

/** greendns tcp(): a fresh connection, the query, one length-prefixed reply. */
function* tcpTry(io: Io, server: string, bytes: Buffer, query: QueryInfo, wait: number): Wait<TryResult> {
  const conn = io.handle();
  io.emit({ type: 'tcp-open', conn, to: server });
  io.emit({ type: 'tcp-send', conn, bytes, query });
  const deadline = io.now + wait;
  let result: TryResult;
  for (;;) {
    const ev = yield deadline;
    if (ev === null) {
      result = 'keep';
      break;
    }
    if (ev.type === 'tcp-error' && ev.conn === conn) {
      // ECONNREFUSED / EOF are OSError/EOFError; a kernel connect timeout is socket.timeout.
      result = ev.code === 'ETIMEDOUT' ? 'keep' : 'drop';
      break;
    }
    if (ev.type !== 'tcp' || ev.conn !== conn) continue;
    const reply = decodeReply(ev.bytes);
    result = reply && isResponse(reply, query) ? { reply, wire: ev.bytes } : 'drop';
    break;
  }
  io.emit({ type: 'tcp-close', conn });
  return result;
}

/** Seconds an answer stays cached: resolve_chaining's minimum TTL. */
function cacheTtl(wire: Buffer, qname: string, qtype: QType): number {
  let msg: dnsPacket.Packet;
  try {
    msg = dnsPacket.decode(wire);
  } catch {
    return 0;
  }
  const answers = (msg.answers ?? []) as Array<{ type: string; name: string; ttl?: number; data?: unknown }>;
  let ttl = MAX_TTL_S;
  let name = qname;
  for (let hops = 0; hops < 16; hops++) {
    const rrset = answers.filter((a) => a.type === qtype && sameName(a.name, name));
    if (rrset.length > 0) return Math.min(ttl, ...rrset.map((a) => a.ttl ?? 0));
    const cname = qtype === 'CNAME' ? undefined : answers.find((a) => a.type === 'CNAME' && sameName(a.name, name));
    if (!cname) break;
    ttl = Math.min(ttl, cname.ttl ?? 0);
    name = String(cname.data);
  }
  const lower = name.replace(/\.$/, '').toLowerCase();
  const soa = (msg.authorities ?? []).find((a) => {
    const owner = a.name.replace(/\.$/, '').toLowerCase();
    return a.type === 'SOA' && (owner === '' || lower === owner || lower.endsWith(`.${owner}`));
  }) as { ttl?: number; data?: { minimum?: number } } | undefined;
  return soa ? Math.min(ttl, soa.ttl ?? 0, soa.data?.minimum ?? 0) : ttl;
}
