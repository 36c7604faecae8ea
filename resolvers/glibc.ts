/*
 * glibc 2.36 getaddrinfo() — emulated query plan and timing.
 *
 * IMPLEMENTATION NOTES (each rule names the glibc source it mirrors)
 * - Configuration: resolv/res_init.c (res_vinit_1, res_setoptions): MAXNS 3, options matched by
 *   prefix, ndots ≤ 15, timeout ≤ 30, attempts ≤ 5; RES_OPTIONS is applied after the file and
 *   LOCALDOMAIN replaces the search list; no search line → the domain part of gethostname().
 * - Sources: nss/nss_database.c, nss/nss_action_parse.c — the `hosts:` line with [STATUS=ACTION]
 *   (default SUCCESS=return, anything else continue); missing line or file → "files dns".
 * - files: nss/nss_files/files-hosts.c — every matching line, case-insensitive.
 * - dns: resolv/nss_dns/dns-host.c → resolv/res_query.c __res_context_search (as-is first when
 *   dots ≥ ndots; search list walk: NXDOMAIN/NODATA/SERVFAIL continue, ECONNREFUSED stops all,
 *   anything else stops the walk; then as-is when not yet tried) → __res_context_query (A and
 *   AAAA together; rcode evaluation) → resolv/res_send.c __res_context_send (attempts × servers
 *   from the rotate offset; per-server wait `timeout << ns / nscount` in send_dg; SERVFAIL/
 *   REFUSED/NOTIMP or a lame referral → next server; TC → same server over TCP (send_vc), one
 *   pass only; ICMP on the connected socket → next server; one reply then a timeout → sticky
 *   RES_SNGLKUP, then RES_SNGLKUPREOP, each a full retry of the same server).
 * - Result: sysdeps/posix/getaddrinfo.c — TRY_AGAIN → EAI_AGAIN, NO_DATA → EAI_NODATA, else
 *   EAI_NONAME.
 * Not emulated: HOSTALIASES, nss modules other than files/dns (they count as UNAVAIL), sortlist,
 * AI_ADDRCONFIG. The result's order: core/addrsort.ts sortGlibc (RFC 3484 with gai.conf).
 */
import { DUAL_STACK_HOST, GLIBC_DEFAULT_POLICY, parseGaiConf, sortGlibc, type GaiPolicy, type SortHost } from './core/addrsort.js';
import { applyOptions, LIBRARY_RULES, parseResolverConfig, type ResolverConfig } from './core/config.js';
import { machineFromCoroutine, type Coroutine, type Io } from './core/coroutine.js';
import { glibcHostsCanon, glibcHostsLookup } from './core/hosts.js';
import { countDots } from './core/search.js';
import { addressText, inetAtonExact, ipv6Bytes, isLinkLocal, multicastScope, splitZone, v4MappedBytes } from './core/address.js';
import { decodeReply, encodeQuery, matches, noAaaaQuery, noAaaaReply, RCODE, type QueryOptions, type Reply } from './core/wire.js';
import { parseNssHosts, type NssSource } from './core/nsswitch.js';
import type { Emulator, EmulatedProcess, Family, LookupRequest, LookupResult, MachineEvent, ProcessContext, QType, QueryInfo, ResolveError, ResolverMachine } from './core/types.js';

type HErrno = 'NETDB_SUCCESS' | 'HOST_NOT_FOUND' | 'TRY_AGAIN' | 'NO_RECOVERY' | 'NO_DATA';
type Errno = 'ECONNREFUSED' | 'ETIMEDOUT' | null;

interface ProcessState {
  cfg: ResolverConfig;
  hostsText: string;
  sources: NssSource[];
  random: () => number;
  /** res_send.c nameserver_offset: global_offset, a process-wide counter (random start, +1 per send) */
  rotate: { counter: number | undefined };
  /** RES_SNGLKUP / RES_SNGLKUPREOP set by the automatic fallback: sticky for the thread (its _res) */
  snglkup: boolean;
  snglkupreop: boolean;
  /** getaddrinfo's sorting: the kernel's answers and gai.conf's tables */
  host: SortHost;
  policy: GaiPolicy;
}

function configure(ctx: ProcessContext): ProcessState {
  const rules = LIBRARY_RULES.glibc;
  const cfg = parseResolverConfig(ctx.input.resolvConf, rules, ctx.warn);
  const env = ctx.input.env;
  if (env.LOCALDOMAIN !== undefined) cfg.search = env.LOCALDOMAIN.split(/[ \t\n]+/).filter(Boolean);
  else if (cfg.search.length === 0 && !/^\s*(search|domain)[ \t]/m.test(ctx.input.resolvConf)) {
    const dot = ctx.input.hostname.indexOf('.');
    if (dot > 0 && dot < ctx.input.hostname.length - 1) cfg.search = [ctx.input.hostname.slice(dot + 1)];
  }
  if (env.RES_OPTIONS !== undefined) applyOptions(cfg, env.RES_OPTIONS.split(/[ \t]+/).filter(Boolean), rules, ctx.warn, 'RES_OPTIONS');
  return {
    cfg,
    hostsText: ctx.input.hosts,
    sources: parseNssHosts(ctx.input.nsswitch, ctx.warn),
    random: ctx.random,
    rotate: { counter: undefined },
    snglkup: cfg.flags.has('single-request'),
    snglkupreop: cfg.flags.has('single-request-reopen'),
    host: ctx.input.host ?? DUAL_STACK_HOST,
    policy: ctx.input.gaiConf === undefined ? GLIBC_DEFAULT_POLICY : parseGaiConf(ctx.input.gaiConf, ctx.warn),
  };
}


export const glibc: Emulator = {
  mode: 'glibc',
  summary: 'glibc 2.36 getaddrinfo: nsswitch, files, one server at a time with per-server waits, A+AAAA in parallel',
  createProcess(ctx: ProcessContext): EmulatedProcess {
    const state = configure(ctx);
    const onThread = (st: ProcessState): EmulatedProcess => ({
      lookup: (req) => machineFromCoroutine((io) => lookup(io, st, req)),
      // another thread: the process-wide rotate counter shared, its own _res (no sticky fallback yet)
      thread: () => onThread({ ...st, snglkup: st.cfg.flags.has('single-request'), snglkupreop: st.cfg.flags.has('single-request-reopen') }),
    });
    return onThread(state);
  },
};

/**
 * sysdeps/posix/getaddrinfo.c text_to_binary_address: is the name an address? First
 * __inet_aton_exact — the inet_aton forms, so "10.1" is 10.0.0.1 and "010.0.0.1" is 8.0.0.1 —
 * then inet_pton(AF_INET6) of what comes before a '%'. AF_INET takes the IPv4 address out of
 * ::ffff:a.b.c.d; any other family mismatch is EAI_ADDRFAMILY (no AI_V4MAPPED here). A scope
 * (inet/inet6_scopeid_pton.c) is an interface name for link-local unicast and node/link-local
 * multicast (a name not starting with a digit is assumed to exist), else a decimal number up to
 * 2^32-1; anything else is EAI_NONAME. undefined: not a literal, look the name up.
 */
export function numericHost(name: string, family: Family): LookupResult | undefined {
  const fail = (error: ResolveError): LookupResult => ({ addresses: [], error });
  const v4 = inetAtonExact(name);
  if (v4) return family === 'inet6' ? fail('EAI_ADDRFAMILY') : { addresses: [addressText(v4)], error: null };
  const { address, zone } = splitZone(name);
  const v6 = ipv6Bytes(address);
  if (!v6) return undefined;
  const bytes = family !== 'inet' ? v6 : v4MappedBytes(v6);
  if (!bytes) return fail('EAI_ADDRFAMILY');
  if (zone !== undefined) {
    const named = isLinkLocal(v6) || multicastScope(v6) === 1 || multicastScope(v6) === 2;
    const ok = (named && /^[^0-9]/.test(zone)) || (/^\d+$/.test(zone) && BigInt(zone) <= 0xffffffffn);
    if (!ok) return fail('EAI_NONAME');
  }
  return { addresses: [addressText(bytes)], error: null };
}

/**
 * AI_CANONNAME (getaddrinfo.c, process_canonname): the name the source found — the hosts line's
 * first name, the DNS answer's (glibcAnswerCanon) — else the name as given (a literal too).
 */
const withCanon = (r: LookupResult, req: LookupRequest, found?: string): LookupResult =>
  r.error === null && req.canonname ? { ...r, canonname: found ?? req.name } : r;

function* lookup(io: Io, st: ProcessState, req: LookupRequest): Coroutine {
  const name = req.name;
  const literal = numericHost(name, req.family);
  if (literal) return withCanon(literal, req);
  let herrno: HErrno = 'HOST_NOT_FOUND';
  for (const src of st.sources) {
    let status: 'SUCCESS' | 'NOTFOUND' | 'UNAVAIL' | 'TRYAGAIN';
    let addresses: string[] = [];
    let canon: string | undefined;
    if (src.name === 'files') {
      addresses = glibcHostsLookup(st.hostsText, name, req.family);
      canon = glibcHostsCanon(st.hostsText, name, req.family);
      status = addresses.length > 0 ? 'SUCCESS' : 'NOTFOUND';
      herrno = addresses.length > 0 ? 'NETDB_SUCCESS' : 'HOST_NOT_FOUND';
    } else if (src.name === 'dns') {
      const r = yield* dnsSource(io, st, name, req);
      addresses = r.addresses;
      canon = r.canon;
      herrno = r.herrno;
      // dns-host.c: a failed search with errno ECONNREFUSED/ETIMEDOUT is UNAVAIL, else NOTFOUND
      status = r.addresses.length > 0 ? 'SUCCESS' : r.errno !== null ? 'UNAVAIL' : 'NOTFOUND';
    } else {
      status = 'UNAVAIL';
    }
    const criterion = src.criteria.find((c) => (c.negate ? c.status !== status : c.status === status));
    const action = criterion?.action ?? (status === 'SUCCESS' ? 'return' : 'continue');
    // getaddrinfo.c: more than one address (hosts or DNS) → rfc3484_sort
    if (status === 'SUCCESS' && action === 'return') return withCanon({ addresses: addresses.length > 1 ? sortGlibc(addresses, st.host, st.policy) : addresses, error: null }, req, canon);
    if (action === 'return') break;
  }
  const error: ResolveError = herrno === 'TRY_AGAIN' ? 'EAI_AGAIN' : herrno === 'NO_DATA' ? 'EAI_NODATA' : 'EAI_NONAME';
  return { addresses: [], error };
}

interface DnsOutcome {
  addresses: string[];
  herrno: HErrno;
  errno: Errno;
  /** the canonical name of the answer that gave the addresses */
  canon?: string | undefined;
}

/** The search succeeded (an answer section) but gave no address: dns-host.c's NOTFOUND, not UNAVAIL. */
const ANSWERED_NO_ADDRESS: DnsOutcome = { addresses: [], herrno: 'HOST_NOT_FOUND', errno: null };

/** nss_dns + __res_context_search: which names to query, and when to stop. */
function* dnsSource(io: Io, st: ProcessState, name: string, req: LookupRequest): Generator<number | null, DnsOutcome, MachineEvent | null> {
  const qtypes: QType[] =
    req.family === 'inet' ? ['A'] : req.family === 'inet6' ? ['AAAA'] : st.cfg.flags.has('no-aaaa') ? ['A'] : ['A', 'AAAA'];
  const trailing = name.endsWith('.');
  const bare = name.replace(/\.$/, '');
  const dots = countDots(bare);
  // errno and h_errno are globals in C: the last query's values leak into later decisions.
  const g: { errno: Errno; herrno: HErrno } = { errno: null, herrno: 'HOST_NOT_FOUND' };
  let savedHerrno: HErrno | undefined;
  let triedAsIs = false;
  let gotNodata = false;
  let gotServfail = false;
  let searched = false;
  let rootOnList = false;

  const query = function* (qname: string) {
    const r = yield* resQuery(io, st, qname, qtypes);
    if (r.errno !== null) g.errno = r.errno;
    g.herrno = r.herrno;
    return r;
  };
  const found = (addresses: string[], canon?: string): DnsOutcome => ({ addresses, herrno: g.herrno, errno: g.errno, canon });

  if (dots >= st.cfg.ndots || trailing) {
    const r = yield* query(bare);
    if (r.answered) return ANSWERED_NO_ADDRESS;
    if (r.addresses.length > 0 || trailing) return found(r.addresses, r.canon);
    savedHerrno = g.herrno;
    triedAsIs = true;
  }
  if (!trailing) {
    for (const domain of st.cfg.search) {
      searched = true;
      if (domain === '') rootOnList = true;
      const r = yield* query(domain === '' ? bare : `${bare}.${domain}`);
      if (r.answered) return ANSWERED_NO_ADDRESS;
      if (r.addresses.length > 0) return found(r.addresses, r.canon);
      if (r.sendErrno === 'ECONNREFUSED') return { addresses: [], herrno: 'TRY_AGAIN', errno: 'ECONNREFUSED' };
      if (g.herrno === 'NO_DATA') gotNodata = true;
      else if (g.herrno === 'HOST_NOT_FOUND') continue;
      else if (g.herrno === 'TRY_AGAIN' && r.lastRcode === RCODE.SERVFAIL) gotServfail = true;
      else break;
    }
  }
  const noTld = st.cfg.flags.has('no-tld-query');
  if ((dots > 0 || !searched || !noTld) && !(triedAsIs || rootOnList)) {
    const r = yield* query(bare);
    if (r.answered) return ANSWERED_NO_ADDRESS;
    if (r.addresses.length > 0) return found(r.addresses, r.canon);
  }
  if (savedHerrno !== undefined) g.herrno = savedHerrno;
  else if (gotNodata) g.herrno = 'NO_DATA';
  else if (gotServfail) g.herrno = 'TRY_AGAIN';
  return found([]);
}

interface QueryOutcome {
  addresses: string[];
  herrno: HErrno;
  /** errno left by __res_context_send when it failed */
  errno: Errno;
  sendErrno: Errno;
  /** rcode of the answer buffer, which the search loop peeks at (hp->rcode == SERVFAIL) */
  lastRcode: number | undefined;
  canon?: string | undefined;
  /** res_query succeeded (an answer section) though no address came of it: the search stops */
  answered?: boolean;
}

/**
 * nss_dns gaih_getanswer_slice: the first address tuple carries the target of the last CNAME
 * before the first A/AAAA record, else that record's owner name.
 */
function glibcAnswerCanon(r: Reply): string | undefined {
  let canon: string | undefined;
  for (const rec of r.records) {
    if (rec.type === 'CNAME') canon = rec.data;
    else if (rec.type === 'A' || rec.type === 'AAAA') return canon ?? rec.name;
  }
  return undefined;
}

/** res_mkquery's packet options: EDNS0 (options edns0) and the AD bit (options trust-ad), on UDP and TCP alike. */
const queryOptions = (st: ProcessState): QueryOptions => ({ ...(st.cfg.flags.has('edns0') ? { edns: 1200 } : {}), ...(st.cfg.flags.has('trust-ad') ? { ad: true } : {}) });

/** __res_context_query: one name, A and AAAA together; evaluates the replies' rcodes. */
function* resQuery(io: Io, st: ProcessState, qname: string, qtypes: QType[]): Generator<number | null, QueryOutcome, MachineEvent | null> {
  let queries: Query[] = qtypes.map((qtype) => ({ qname, qtype, id: Math.floor(st.random() * 65536) }));
  // options no-aaaa with an AAAA-only lookup (AF_INET6): res_query.c sends an A query in its place
  // and turns the reply into NODATA (res-noaaaa.c), so NXDOMAIN still ends a candidate as such.
  const noAaaa = st.cfg.flags.has('no-aaaa') && qtypes.length === 1 && qtypes[0] === 'AAAA';
  if (noAaaa) queries = queries.map((q) => ({ qname, qtype: 'A', id: q.id, bytes: noAaaaQuery(encodeQuery(q.id, qname, 'AAAA', queryOptions(st))) }));
  const sent = yield* resSend(io, st, queries);
  if (!sent.ok) return { addresses: [], herrno: 'TRY_AGAIN', errno: sent.errno, sendErrno: sent.errno, lastRcode: sent.lastRcode };
  const replies = noAaaa ? sent.replies.map((r) => decodeReply(noAaaaReply(r.bytes)) ?? { ...r, addresses: [], records: [], ancount: 0 }) : sent.replies;
  const addresses = replies.flatMap((r) => (r.rcode === RCODE.NOERROR ? r.addresses : []));
  const first = replies[0];
  if (addresses.length > 0 || !first) {
    const withAddresses = replies.find((r) => r.rcode === RCODE.NOERROR && r.addresses.length > 0);
    const canon = withAddresses ? glibcAnswerCanon(withAddresses) : undefined;
    return { addresses, herrno: addresses.length > 0 ? 'NETDB_SUCCESS' : 'NO_DATA', errno: null, sendErrno: null, lastRcode: first?.rcode, canon };
  }
  // res_query.c succeeds when any reply is NOERROR with an answer section (a CNAME alone counts): the
  // search walk stops there. dns-host.c then finds no address: a CNAME-only slice is NOTFOUND with
  // HOST_NOT_FOUND, any other record NO_RECOVERY/NETDB_INTERNAL — getaddrinfo says EAI_NONAME for all three.
  if (replies.some((r) => r.rcode === RCODE.NOERROR && r.ancount > 0)) {
    return { addresses: [], herrno: 'HOST_NOT_FOUND', errno: null, sendErrno: null, lastRcode: first.rcode, answered: true };
  }
  // Which rcode decides: the first reply's, unless it is NOERROR and a second reply exists.
  const second = replies[1];
  const rcode = first.rcode === RCODE.NOERROR && second ? second.rcode : first.rcode;
  const herrno: HErrno =
    rcode === RCODE.NXDOMAIN ? 'HOST_NOT_FOUND' : rcode === RCODE.SERVFAIL ? 'TRY_AGAIN' : rcode === RCODE.NOERROR ? 'NO_DATA' : 'NO_RECOVERY';
  return { addresses: [], herrno, errno: null, sendErrno: null, lastRcode: first.rcode };
}

type Query = QueryInfo;

/** lastRcode: the rcode left in the first answer buffer, which the search loop looks at. */
type SendResult = { ok: true; replies: Reply[] } | { ok: false; errno: Errno; lastRcode: number | undefined };

interface SendState {
  sockets: Map<number, number>; // server index → socket
  gotSomewhere: boolean;
  vCircuit: boolean;
  /** send_vc's terrno */
  terrno: Errno;
  lastRcode: number | undefined;
}

/** __res_context_send: attempts × servers, starting at the rotate offset. */
function* resSend(io: Io, st: ProcessState, queries: Query[]): Generator<number | null, SendResult, MachineEvent | null> {
  const servers = st.cfg.nameservers;
  const n = servers.length;
  const s: SendState = { sockets: new Map(), gotSomewhere: false, vCircuit: st.cfg.flags.has('use-vc'), terrno: 'ETIMEDOUT', lastRcode: undefined };
  let offset = 0;
  if (st.cfg.flags.has('rotate') && n > 1) {
    if (st.rotate.counter === undefined) st.rotate.counter = Math.floor(st.random() * 2 ** 30);
    offset = st.rotate.counter % n;
    st.rotate.counter++;
  }
  const closeAll = () => {
    for (const sock of s.sockets.values()) io.emit({ type: 'udp-close', socket: sock });
    s.sockets.clear();
  };
  let attempts = st.cfg.attempts;
  for (let attempt = 0; attempt < attempts; attempt++) {
    for (let shift = 0; shift < n; shift++) {
      const ns = (shift + offset) % n;
      for (;;) {
        if (s.vCircuit) {
          attempts = 0; // TCP: at most one pass over the servers
          const r = yield* sendVc(io, st, s, queries, servers[ns]!);
          if (r) {
            closeAll();
            return { ok: true, replies: r };
          }
          break;
        }
        const r = yield* sendDg(io, st, s, queries, ns, closeAll);
        if (r === 'tc') {
          s.vCircuit = true;
          continue;
        }
        if (r !== 'next') {
          closeAll();
          return { ok: true, replies: r };
        }
        break;
      }
    }
  }
  closeAll();
  return { ok: false, errno: s.vCircuit ? s.terrno : s.gotSomewhere ? 'ETIMEDOUT' : 'ECONNREFUSED', lastRcode: s.lastRcode };
}

/** send_dg: one server over UDP (connected socket), both queries, with the single-request fallback. */
function* sendDg(
  io: Io, st: ProcessState, s: SendState, queries: Query[], ns: number, closeAll: () => void,
): Generator<number | null, Reply[] | 'next' | 'tc', MachineEvent | null> {
  const server = st.cfg.nameservers[ns]!;
  const nscount = st.cfg.nameservers.length;
  let seconds = st.cfg.timeout << ns;
  if (ns > 0) seconds = Math.trunc(seconds / nscount);
  if (seconds <= 0) seconds = 1;
  let singleReopen = st.snglkupreop;
  let single = st.snglkup || singleReopen;
  const saveGot = s.gotSomewhere;
  const [q1, q2] = queries as [Query, Query | undefined];
  const packet = (q: Query) => q.bytes ?? encodeQuery(q.id, q.qname, q.qtype, queryOptions(st));
  const socketFor = () => {
    let sock = s.sockets.get(ns);
    if (sock === undefined) {
      sock = io.handle();
      s.sockets.set(ns, sock);
      io.emit({ type: 'udp-open', socket: sock, connect: server });
    }
    return sock;
  };
  const send = (q: Query) => io.emit({ type: 'udp-send', socket: socketFor(), to: server, bytes: packet(q), query: q });

  for (;;) {
    // retry: a full `seconds` from here, both answers outstanding again.
    const finish = io.now + seconds * 1000;
    let recv1 = false;
    let recv2 = q2 === undefined;
    let reply1: Reply | undefined; // "resplen" > 0 when set and usable
    let reply2: Reply | undefined;
    let firstFailed = false;
    send(q1);
    if (q2 && !single) send(q2);
    let sentSecond = !q2 || !single;
    let retry: 'single' | 'reopen' | undefined;
    while (retry === undefined) {
      const ev = yield finish;
      if (ev === null) {
        if (io.now < finish) continue;
        const haveOne = (reply1 !== undefined || reply2 !== undefined) && !firstFailed;
        if (haveOne && (recv1 || (q2 && recv2))) {
          if (!single) {
            st.snglkup = true;
            single = true;
            s.gotSomewhere = saveGot;
            retry = 'single';
            break;
          }
          if (!singleReopen) {
            st.snglkupreop = true;
            singleReopen = true;
            s.gotSomewhere = saveGot;
            closeAll();
            retry = 'reopen';
            break;
          }
          return [reply1 ?? reply2!];
        }
        s.gotSomewhere = true;
        return 'next';
      }
      const sock = s.sockets.get(ns);
      if (ev.type === 'udp-error' && ev.socket === sock) {
        closeAll(); // err_out: __res_iclose, next server
        return 'next';
      }
      if (ev.type !== 'udp' || ev.socket !== sock) continue;
      s.gotSomewhere = true;
      const r = decodeReply(ev.bytes);
      if (!r) {
        closeAll(); // undersized/garbled: err_out
        return 'next';
      }
      const isQ1 = !recv1 && r.id === q1.id;
      const isQ2 = !isQ1 && q2 !== undefined && !recv2 && r.id === q2.id;
      if (!isQ1 && !isQ2) continue; // old answer
      if (!(isQ1 && matches(r, q1.id, q1.qname, q1.qtype)) && !(isQ2 && matches(r, q2!.id, q2!.qname, q2!.qtype))) continue;
      if (!recv1 && !recv2 || q2 === undefined) s.lastRcode = r.rcode;
      if (r.rcode === RCODE.SERVFAIL || r.rcode === RCODE.NOTIMP || r.rcode === RCODE.REFUSED) {
        if (recv1 || (q2 && recv2)) {
          if (firstFailed || (reply1 === undefined && reply2 === undefined)) {
            closeAll();
            return 'next';
          }
          return [reply1 ?? reply2!];
        }
        if (q2) {
          firstFailed = true;
          if (isQ1) recv1 = true;
          else recv2 = true;
          continue;
        }
        closeAll();
        return 'next';
      }
      if (r.rcode === RCODE.NOERROR && r.ancount === 0 && !r.authoritative && !r.recursionAvailable && r.arcount === 0) {
        closeAll(); // looks like a referral: next server
        return 'next';
      }
      if (r.truncated) {
        closeAll();
        return 'tc';
      }
      if (isQ1) {
        recv1 = true;
        if (!reply1 && !reply2 && !firstFailed) reply1 = r;
        else reply2 = r;
      } else {
        recv2 = true;
        if (!reply1 && !reply2 && !firstFailed) reply1 = r;
        else reply2 = r;
      }
      if (!(recv1 && recv2)) {
        if (single && !sentSecond) {
          if (singleReopen) {
            closeAll();
          }
          send(q2!);
          sentSecond = true;
        }
        continue;
      }
      const got = [reply1, reply2].filter((x): x is Reply => x !== undefined);
      return got;
    }
  }
}

/** send_vc: both queries over one TCP connection, blocking, no resolver timeout. */
function* sendVc(io: Io, st: ProcessState, s: SendState, queries: Query[], server: string): Generator<number | null, Reply[] | undefined, MachineEvent | null> {
  const conn = io.handle();
  io.emit({ type: 'tcp-open', conn, to: server });
  for (const q of queries) io.emit({ type: 'tcp-send', conn, bytes: q.bytes ?? encodeQuery(q.id, q.qname, q.qtype, queryOptions(st)), query: q });
  const got = new Map<number, Reply>();
  for (;;) {
    const ev = yield null;
    if (ev === null) continue;
    if (ev.type === 'tcp-error' && ev.conn === conn) {
      s.terrno = ev.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'ETIMEDOUT';
      io.emit({ type: 'tcp-close', conn });
      return undefined;
    }
    if (ev.type !== 'tcp' || ev.conn !== conn) continue;
    const r = decodeReply(ev.bytes);
    const q = r && queries.find((x) => !got.has(x.id) && matches(r, x.id, x.qname, x.qtype));
    if (!r || !q) continue;
    got.set(q.id, r);
    if (got.size === queries.length) {
      io.emit({ type: 'tcp-close', conn });
      return queries.map((x) => got.get(x.id)!);
    }
  }
}

/**
 * glibc's sending strategy alone, for one query at a time (the stub resolver's glibc mode): the
 * same __res_context_send as lookups use, with the process state (rotate counter, sticky
 * single-request flags) shared by every query of the forwarder.
 */
export function glibcForwarder(ctx: ProcessContext): { forward(query: QueryInfo): ResolverMachine } {
  const st = configure(ctx);
  return {
    forward: (query) =>
      machineFromCoroutine(function* (io): Coroutine {
        const r = yield* resSend(io, st, [query]);
        return r.ok ? { addresses: [], error: null, reply: r.replies[0]!.bytes } : { addresses: [], error: 'EAI_AGAIN' };
      }),
  };
}
