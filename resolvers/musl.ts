/*
 * musl 1.2.3 getaddrinfo(): emulated query plan and timing.
 *
 * IMPLEMENTATION NOTES (each rule names the musl 1.2.3 source it mirrors)
 * - Configuration: src/network/resolvconf.c __get_resolv_conf reads only /etc/resolv.conf (no
 *   environment variables, no nsswitch.conf). At most 3 nameservers, none means 127.0.0.1.
 *   `options` is searched with strstr for ndots:/attempts:/timeout: (caps 15/10/60). `domain` and
 *   `search` are the same keyword: the rest of the last such line, verbatim, is the search string.
 *   Lines that do not fit the 256-byte buffer are skipped whole.
 * - Order: src/network/lookup_name.c __lookup_name: length check, name_from_numeric (literals,
 *   src/network/lookup_ipliteral.c: inet_aton shorthand like "10.1", IPv6 with %scope), then
 *   name_from_hosts (a literal of the other family there is EAI_NONAME and stops the lookup),
 *   then name_from_dns_search. AI_CANONNAME sends nothing extra.
 * - Search (name_from_dns_search): dots ≥ ndots or a trailing dot → only the name itself; else
 *   name.domain for each domain (skipped when the result would not fit 255 bytes), then the name.
 *   Only NXDOMAIN goes on to the next candidate; addresses, NODATA (EAI_NONAME), no reply
 *   (EAI_AGAIN) or another rcode (EAI_FAIL) end the search.
 * - name_from_dns: A then AAAA (only one of them for AF_INET/AF_INET6), built by __res_mkquery
 *   (a name over 253 bytes or with an empty/over-63 label → EAI_NONAME before anything is sent).
 *   Evaluated in query order: no stored reply → EAI_AGAIN; NXDOMAIN → "not here"; other rcode →
 *   EAI_FAIL; then every A/AAAA in both answers (MAXADDRS 48); none → EAI_NONAME.
 * - Sending: src/network/res_msend.c __res_msend_rc: one unconnected UDP socket (ICMP errors are
 *   never seen); retry_interval = timeout*1000/attempts (integer division: attempts 0 is SIGFPE);
 *   every retry_interval all unanswered queries go to all servers; the loop ends when
 *   now - t0 ≥ timeout, checked after each wait (a non-dividing interval can overshoot, as in C).
 *   A reply counts only from a configured server, matched by id alone (from the first unanswered
 *   slot on); rcode 0 and 3 are stored first-wins; SERVFAIL triggers an immediate resend of that
 *   query to that server (2 × nqueries per interval); everything else is ignored. TC is not
 *   looked at (no TCP before 1.2.4).
 * - Order: the RFC 6724 sort at the end of __lookup_name (core/addrsort.ts sortMusl).
 * Not emulated: AI_V4MAPPED, interface names in %scope (assumed to exist).
 */
import { addressText, inetAtonExact, ipv6Bytes, isLinkLocal, multicastScope } from './core/address.js';
import { DUAL_STACK_HOST, sortMusl, type SortHost } from './core/addrsort.js';
import { LIBRARY_RULES, parseResolverConfig, type ResolverConfig } from './core/config.js';
import { pollSleep } from './core/poll.js';
import { machineFromCoroutine, type Coroutine, type Io } from './core/coroutine.js';
import { muslHostsLines } from './core/hosts.js';
import { candidates } from './core/search.js';
import { decodeReply, encodeQuery, RCODE, type Reply } from './core/wire.js';
import type { Emulator, Family, LookupRequest, LookupResult, MachineEvent, ProcessContext, QType, QueryInfo, ResolveError, ResolverMachine } from './core/types.js';

type Wait<T> = Generator<number | null, T, MachineEvent | null>;

interface MuslProcess {
  cfg: ResolverConfig;
  hostsText: string;
  random: () => number;
  host: SortHost;
}

/** name_from_*: addresses, 0 ("nothing here, go on") or an error that ends the lookup. */
/** addresses with the canonical name found beside them, 0 = nothing here, or a failure */
type Step = { addrs: string[]; canon: string } | 0 | ResolveError;

const MAXADDRS = 48;
const fail = (error: ResolveError): LookupResult => ({ addresses: [], error });

export const musl: Emulator = {
  mode: 'musl',
  summary: 'musl 1.2.3 getaddrinfo: hosts then DNS, A+AAAA to every server at once on one socket, resend every timeout/attempts, no TCP',
  createProcess(ctx) {
    const cfg = parseResolverConfig(ctx.input.resolvConf, LIBRARY_RULES.musl, ctx.warn);
    cfg.search = muslSearch(ctx.input.resolvConf);
    if (cfg.attempts === 0) ctx.warn('options attempts:0: musl 1.2.3 divides by it (res_msend.c) and the process dies of SIGFPE at its first DNS query');
    if (cfg.timeout === 0) ctx.warn('options timeout:0: musl sends nothing and every DNS lookup fails at once with EAI_AGAIN');
    const proc: MuslProcess = { cfg, hostsText: ctx.input.hosts, random: ctx.random, host: ctx.input.host ?? DUAL_STACK_HOST };
    return { lookup: (req) => machineFromCoroutine((io) => lookup(io, proc, req)) };
  },
};

/**
 * resolvconf.c keeps the rest of the last `domain`/`search` line as one string (no comment
 * stripping, `domain a b` searches both); the shared parser treats `domain` the glibc way.
 */
function muslSearch(text: string): string[] {
  let search: string[] = [];
  for (const raw of text.split('\n')) {
    // fgets into line[256]: 255 characters or more without the newline do not fit → skipped.
    if (raw.replace(/\r$/, '').length >= 255) continue;
    const m = /^(?:domain|search)\s(.*)$/s.exec(raw);
    if (m) search = m[1]!.trim().split(/\s+/).filter(Boolean);
  }
  return search;
}

function* lookup(io: Io, proc: MuslProcess, req: LookupRequest): Coroutine {
  const { name, family } = req;
  // __lookup_name: `strnlen(name, 255) - 1 >= 254` rejects "" and names of 255+ bytes.
  if (name.length === 0 || name.length >= 255) return fail('EAI_NONAME');
  for (const step of [ipLiteral(name, family), fromHosts(proc.hostsText, name, family)]) {
    if (step !== 0) return result(sorted(step, family, proc.host));
  }
  const step = yield* fromDnsSearch(io, proc, name, family);
  return step === 0 ? fail('EAI_NONAME') : result(sorted(step, family, proc.host));
}

/** __lookup_name's RFC 6724 sort (core/addrsort.ts sortMusl: only with an IPv6 result, not for AF_INET). */
const sorted = (step: Exclude<Step, 0>, family: Family, host: SortHost): Exclude<Step, 0> =>
  typeof step === 'string' ? step : { ...step, addrs: sortMusl(step.addrs, family, host) };

/** getaddrinfo.c sets ai_canonname whether AI_CANONNAME was asked or not. */
const result = (step: Exclude<Step, 0>): LookupResult => (typeof step === 'string' ? fail(step) : { addresses: step.addrs, error: null, canonname: step.canon });

/**
 * lookup_ipliteral.c: 1 address, 0 = not a literal, EAI_NONAME = literal of the wrong family.
 * __inet_aton (the inet_aton forms: "10.1" is 10.0.0.1), then inet_pton(AF_INET6) of what comes
 * before a '%' (when the '%' is within 64 bytes). A scope is a decimal number up to UINT_MAX, or
 * an interface name for link-local unicast and multicast (a name not starting with a digit is
 * assumed to exist). Addresses come back as inet_ntop writes them.
 */
function ipLiteral(name: string, family: Family): Step {
  const v4 = inetAtonExact(name);
  // The canonical name of a literal is the name as given (__lookup_name copies it first).
  if (v4 !== undefined) return family === 'inet6' ? 'EAI_NONAME' : { addrs: [addressText(v4)], canon: name };
  const pct = name.indexOf('%');
  const v6 = ipv6Bytes(pct >= 0 && pct < 64 ? name.slice(0, pct) : name);
  if (!v6) return 0;
  if (family === 'inet') return 'EAI_NONAME';
  if (pct >= 0) {
    const scope = name.slice(pct + 1);
    const named = (isLinkLocal(v6) || multicastScope(v6) === 2) && /^[^0-9]/.test(scope);
    if (!named && !(/^\d+$/.test(scope) && BigInt(scope) <= 0xffffffffn)) return 'EAI_NONAME';
  }
  return { addrs: [addressText(v6)], canon: name };
}

/**
 * name_from_hosts: every matching line whose address is a literal of the family; the canonical
 * name is the first name of the first matching line with a literal of either family.
 */
function fromHosts(text: string, name: string, family: Family): Step {
  let badFamily = false;
  let canon: string | undefined;
  const out: string[] = [];
  for (const line of muslHostsLines(text, name)) {
    const r = ipLiteral(line.address, family);
    if (r === 0) continue;
    canon ??= line.names[0];
    if (r === 'EAI_NONAME') badFamily = true;
    else if (typeof r === 'object' && out.length < MAXADDRS) out.push(...r.addrs);
  }
  return out.length > 0 ? { addrs: out, canon: canon ?? name } : badFamily ? 'EAI_NONAME' : 0;
}

function* fromDnsSearch(io: Io, proc: MuslProcess, name: string, family: Family): Wait<Step> {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === '' || bare.endsWith('.')) return 'EAI_NONAME'; // "." or two trailing dots
  // The search buffer is 256 bytes: name.domain must fit, else that domain is skipped.
  const list = candidates(name, proc.cfg.search, proc.cfg.ndots, 'musl').filter((c) => c.asIs || c.qname.length <= 255);
  let step: Step = 0;
  for (const c of list) {
    step = yield* fromDns(io, proc, c.qname, family);
    if (step !== 0) return step; // only NXDOMAIN goes on
  }
  return step;
}

/** __res_mkquery refuses names it cannot encode: >253 bytes, empty or >63-byte labels. */
const encodable = (qname: string) => qname.length <= 253 && qname.split('.').every((l) => l.length > 0 && l.length <= 63);

function* fromDns(io: Io, proc: MuslProcess, qname: string, family: Family): Wait<Step> {
  const qtypes: QType[] = family === 'inet' ? ['A'] : family === 'inet6' ? ['AAAA'] : ['A', 'AAAA'];
  if (!encodable(qname)) return 'EAI_NONAME';
  // res_msend.c: `retry_interval = timeout / attempts` — the process dies here, before sending.
  if (proc.cfg.attempts === 0) return 'SIGFPE';
  const queries = qtypes.map((qtype) => ({ qname, qtype, id: Math.floor(proc.random() * 65536) }));
  const replies = yield* msend(io, proc.cfg, queries);
  for (const r of replies) {
    if (r === undefined || r.rcode === RCODE.SERVFAIL) return 'EAI_AGAIN';
    if (r.rcode === RCODE.NXDOMAIN) return 0;
    if (r.rcode !== RCODE.NOERROR) return 'EAI_FAIL';
  }
  // A truncated reply is parsed as it is: what it carries counts, nothing → NODATA.
  const addrs = replies.flatMap((r) => r!.addresses).slice(0, MAXADDRS);
  // dns_parse_callback: every CNAME's target overwrites the canonical name, replies in order;
  // without one it stays the name queried (no final dot).
  const cnames = replies.flatMap((r) => r!.records.filter((rec) => rec.type === 'CNAME').map((rec) => rec.data));
  return addrs.length > 0 ? { addrs, canon: cnames.at(-1) ?? qname.replace(/\.$/, '') } : 'EAI_NONAME';
}

/** __res_msend_rc: the stored reply per query (undefined = none by the end of `timeout`). */
export function* msend(io: Io, cfg: ResolverConfig, queries: QueryInfo[]): Wait<(Reply | undefined)[]> {
  const servers = cfg.nameservers;
  const timeout = cfg.timeout * 1000;
  const retryInterval = Math.floor(timeout / cfg.attempts);
  const bytes = queries.map((q) => q.bytes ?? encodeQuery(q.id, q.qname, q.qtype));
  const socket = io.handle();
  // One socket for every server: AF_INET6 when any of them is IPv6, IPv4 ones then v4-mapped.
  io.emit(servers.some((ns) => ns.includes(':')) ? { type: 'udp-open', socket, connect: null, dualStack: true } : { type: 'udp-open', socket, connect: null });
  const send = (i: number, to: string) => io.emit({ type: 'udp-send', socket, to, bytes: bytes[i]!, query: queries[i]! });
  const answers: (Reply | undefined)[] = queries.map(() => undefined);
  let next = 0;
  let servfailRetry = 0;
  // mtime(): CLOCK_REALTIME in whole ms, read after every poll — the loop's decisions are in whole
  // ms, so where within its first ms the lookup began matters (attempts:3 ends 1 us short of
  // 1000 ms and overshoots only from the very start of a ms). That phase is random on a real
  // clock; a simulated one starts on a whole ms, so the clock is read half a ms on (the mean).
  const mtime = () => Math.floor(io.now + 0.5);
  const t0 = mtime();
  let t1 = t0 - retryInterval;
  for (let t2 = t0; t2 - t0 < timeout; t2 = mtime()) {
    if (t2 - t1 >= retryInterval) {
      queries.forEach((_, i) => {
        if (!answers[i]) for (const ns of servers) send(i, ns);
      });
      t1 = t2;
      servfailRetry = 2 * queries.length;
    }
    // poll(t1 + retry_interval - t2): its kernel slack decides whether one more resend fits
    // before `timeout` (timeout:1 attempts:3 has 1 ms of margin and never does; attempts:7 has 6).
    const ev = yield io.now + pollSleep(t1 + retryInterval - t2);
    if (!ev || ev.type !== 'udp' || ev.socket !== socket) continue;
    // "Ignore replies from addresses we didn't send to": the whole sockaddr, the port too
    if (ev.wrongPort || !servers.includes(ev.from)) continue;
    const reply = decodeReply(ev.bytes);
    if (!reply) continue;
    let i = next;
    while (i < queries.length && queries[i]!.id !== reply.id) i++;
    if (i === queries.length || answers[i]) continue;
    if (reply.rcode === RCODE.SERVFAIL) {
      if (servfailRetry > 0) {
        servfailRetry--;
        send(i, ev.from);
      }
      continue; // not stored: a later good reply can still win
    }
    if (reply.rcode !== RCODE.NOERROR && reply.rcode !== RCODE.NXDOMAIN) continue; // REFUSED etc. ignored
    answers[i] = reply;
    while (next < queries.length && answers[next]) next++;
    if (next === queries.length) break;
  }
  io.emit({ type: 'udp-close', socket });
  return answers;
}

/**
 * musl's sending strategy alone, for one query at a time (the stub resolver's musl mode): every
 * server at once, resend every timeout/attempts, first NOERROR/NXDOMAIN wins, truncated replies
 * passed back as they are.
 */
export function muslForwarder(ctx: ProcessContext): { forward(query: QueryInfo): ResolverMachine } {
  const cfg = parseResolverConfig(ctx.input.resolvConf, LIBRARY_RULES.musl, ctx.warn);
  return {
    forward: (query) =>
      machineFromCoroutine(function* (io): Coroutine {
        if (cfg.attempts === 0) return fail('EAI_AGAIN'); // the real library would crash; a stub must not
        const [r] = yield* msend(io, cfg, [query]);
        return r ? { addresses: [], error: null, reply: r.bytes } : fail('EAI_AGAIN');
      }),
  };
}
