/*
 * Go 1.19.8's net package (Debian 12's golang-go): net.LookupIPAddr / LookupIP, emulated.
 * Two modes: `go` is a program built with CGO_ENABLED=0 (most static container binaries); `go-cgo`
 * one built with cgo, which hands some lookups to the C library (then it is the glibc emulator).
 *
 * IMPLEMENTATION NOTES (each rule names the Go 1.19 source it mirrors, src/net/)
 * - Which resolver (conf.go initConfVal, hostLookupOrder): GODEBUG=netdns=go|cgo (+ a debug
 *   level); RES_OPTIONS, HOSTALIASES or LOCALDOMAIN set (even empty) or netdns=cgo force cgo; so
 *   does, per lookup, an unknown resolv.conf option or keyword (any but nameserver/domain/search/
 *   options/lookup with ndots/timeout/attempts/rotate/single-request(-reopen)/use-vc/usevc/tcp),
 *   a name with '\' or '%' or ending in ".local", an nsswitch.conf that cannot be parsed, a hosts
 *   source other than files/dns/mdns*, non-standard criteria, or `myhostname` when the name is
 *   localhost/gateway/the hostname. Otherwise nsswitch's order of files and dns (no file or no
 *   hosts line: files then dns). "cgo" without cgo (lookup_unix.go lookupIP) = files then dns.
 * - Literals (lookup.go lookupIPAddr): an IP literal (strict dotted quad, IPv6 with %zone) is the
 *   answer; "" is not found. LookupIP filters by family afterwards (ipsock.go filterAddrList): a
 *   hosts entry of the other family only still stops the lookup ("no suitable address").
 * - Hosts (hosts.go): core/hosts.ts goHostsLookup. DNS names must pass isDomainName (dnsclient.go:
 *   letters, digits, '_', '-', not all-numeric, ≤ 253) or the lookup is "not found" with no query.
 * - Names (dnsclient_unix.go nameList): rooted → itself; dots ≥ ndots → as-is first, then each
 *   search domain (name + domain ≤ 254), then as-is if not tried first. ".onion" is never asked.
 *   Unlike the C libraries, EVERY failure goes on to the next name, not only NXDOMAIN; the error
 *   returned is the as-is name's, or the first one.
 * - goLookupIPCNAMEOrder: per name, A and AAAA in two goroutines (single-request: one after the
 *   other), both awaited; results handled in completion order; any A/AAAA record of a successful
 *   reply counts (owner names are not checked). Then sortByRFC6724 (addrselect.go).
 * - tryOneName: attempts × servers, from serverOffset (rotate: a process-wide counter, +1 per
 *   query); NXDOMAIN, or a reply without a record of the type (NODATA), ends the name; SERVFAIL,
 *   another rcode, a lame referral (NOERROR, no AA, no RA, no answers), a refused port, a timeout
 *   → next server. exchange: a fresh connected socket per query, a flat `timeout` each, EDNS0
 *   (1232) always, a random id; replies that do not match (id, question) are ignored until the
 *   deadline (golang/go#13281); TC → the same query over TCP to the same server, a new deadline.
 * - Errors as the reference program (test/fidelity/ref/go_lookup.go) names them: not found
 *   (NXDOMAIN, NODATA, not a domain name) EAI_NONAME; timeout, refused, SERVFAIL EAI_AGAIN; other
 *   rcodes, lame, malformed, no usable address of the family EAI_FAIL.
 * Newer Go (1.21+): reads edns0/trust-ad/no-reload, fallback rules changed (only unknown options
 * that matter), `nsswitch.conf` missing → dns,files on some systems. Not emulated: the 5 s re-read of
 * resolv.conf and hosts (input is static), singleflight merging of concurrent identical lookups,
 * StrictErrors, mDNS sources, IDNA.
 */
import { addressText, canonicalAddress, ipv6Bytes, isIPv4, isIPv6, splitZone, v4MappedBytes } from './core/address.js';
import { DUAL_STACK_HOST, sortGo, type SortHost } from './core/addrsort.js';
import { parseGoConfig, type GoResolverConfig } from './core/config.js';
import { machineFromCoroutine, mapResult, parallel, type Coroutine, type Io, type Task } from './core/coroutine.js';
import { goHostsLookup } from './core/hosts.js';
import { parseGoNssHosts, type GoNssSource } from './core/nsswitch.js';
import { candidates } from './core/search.js';
import { decodeReply, encodeQuery, matches, RCODE, type Reply } from './core/wire.js';
import { glibc } from './glibc.js';
import type { EmulatedProcess, Emulator, Family, LibraryInput, LookupRequest, LookupResult, ProcessContext, QType, ResolveError, ResolverMachine } from './core/types.js';

/** maxDNSPacketSize in dnsclient_unix.go: the EDNS0 size on every query */
const EDNS_SIZE = 1232;

type GoError = 'notfound' | 'temporary' | 'timeout' | 'other';
type Outcome = { reply: Reply } | { error: GoError };
type Order = 'files,dns' | 'dns,files' | 'files' | 'dns' | 'cgo';

interface GoProcess {
  cfg: GoResolverConfig;
  hosts: string;
  nss: GoNssSource[] | { error: string } | undefined;
  hostname: string;
  random: () => number;
  /** the rotate counter (dnsConfig.soffset) */
  offset: number;
  /** the process's environment (GODEBUG, RES_OPTIONS, HOSTALIASES, LOCALDOMAIN) */
  env: Record<string, string>;
  /** addrselect.go's view of the kernel */
  host: SortHost;
}

export const go: Emulator = {
  mode: 'go',
  summary: 'Go 1.19 net (CGO_ENABLED=0): hosts then DNS, A and AAAA in parallel on a socket each, servers in order with timeout × attempts, TCP on truncation, every failure tries the next search name',
  createProcess: (ctx) => createProcess(ctx, false),
};

export const goCgo: Emulator = {
  mode: 'go-cgo',
  summary: "Go 1.19 net built with cgo: Go's resolver unless a condition hands the lookup to the C library (glibc getaddrinfo)",
  createProcess: (ctx) => createProcess(ctx, true),
};

function createProcess(ctx: ProcessContext, cgo: boolean): EmulatedProcess {
  const { input } = ctx;
  const cfg = parseGoConfig(input.resolvConf, input.hostname);
  const proc: GoProcess = { cfg, hosts: input.hosts, nss: parseGoNssHosts(input.nsswitch), hostname: input.hostname, random: ctx.random, offset: 0, env: input.env, host: input.host ?? DUAL_STACK_HOST };
  if (cfg.ignoredNameservers.length > 0) ctx.warn(`nameservers beyond the first 3 are ignored by Go: ${cfg.ignoredNameservers.join(', ')}`);
  const choice = decide(proc, { cgo, netgo: false });
  const libc = cgo ? glibc.createProcess(ctx) : undefined;
  if (choice.resolver === 'cgo') ctx.warn(`Go hands lookups to the C library (glibc getaddrinfo): ${choice.why.join('; ')}`);
  else if (!cgo && cgoReasons(proc).length > 0) ctx.warn(`${cgoReasons(proc).join('; ')}: a cgo build of Go would use the C library; this one uses its own resolver, files then DNS`);
  return {
    lookup(req) {
      const order = hostLookupOrder(proc, choice, req.name);
      if (order === 'cgo' && libc) return viaLibc(libc, req);
      return machineFromCoroutine((io) => lookup(io, proc, req, order === 'cgo' ? 'files,dns' : order));
    },
  };
}

/**
 * conf.go goDebugNetDNS over internal/godebug get: the first "netdns=" at the start or after a
 * comma (no trimming), its value up to the next comma, split at the FIRST '+' only — each part a
 * debug level (starts with a digit) or the mode, the later part winning: "go+cgo" is cgo,
 * "1+go+2" is the mode "go+2", which is neither.
 */
export function goDebugNetdns(godebug: string | undefined): 'go' | 'cgo' | undefined {
  const s = godebug ?? '';
  let value: string | undefined;
  for (let i = 0; i < s.length - 'netdns'.length - 1 && value === undefined; i++) {
    if ((i > 0 && s[i - 1] !== ',') || !s.startsWith('netdns=', i)) continue;
    value = s.slice(i + 'netdns='.length).split(',')[0]!;
  }
  if (value === undefined) return undefined;
  const plus = value.indexOf('+');
  const parts = plus < 0 ? [value] : [value.slice(0, plus), value.slice(plus + 1)];
  let mode: string | undefined;
  for (const p of parts) if (p !== '' && !/^[0-9]/.test(p)) mode = p;
  return mode === 'go' || mode === 'cgo' ? mode : undefined;
}

/** How the Go program was built: with cgo (the C library there to hand lookups to), with the netgo tag. */
export interface GoBuild {
  cgo: boolean;
  netgo: boolean;
}

/** Which resolver a Go program uses, for every lookup (`cgoFor`: the names that still go to the C library). */
export interface GoResolverChoice {
  resolver: 'go' | 'cgo';
  /** why, one clause each */
  why: string[];
  cgoFor: string[];
}

/** conf.go initConfVal and hostLookupOrder, the name-independent part: what a program of this build does with these files. */
export function goResolverChoice(build: GoBuild, input: Pick<LibraryInput, 'resolvConf' | 'nsswitch' | 'env' | 'hostname'>): GoResolverChoice {
  const proc = { cfg: parseGoConfig(input.resolvConf, input.hostname), nss: parseGoNssHosts(input.nsswitch), env: input.env };
  return decide(proc, build);
}

function decide(proc: Pick<GoProcess, 'cfg' | 'nss' | 'env'>, build: GoBuild): GoResolverChoice {
  if (!build.cgo) return { resolver: 'go', why: ["built without cgo (CGO_ENABLED=0): Go's own resolver, always"], cgoFor: [] };
  if (build.netgo) return { resolver: 'go', why: ["built with the netgo tag: Go's own resolver, always"], cgoFor: [] };
  const netdns = goDebugNetdns(proc.env.GODEBUG);
  if (netdns === 'go') return { resolver: 'go', why: ['GODEBUG=netdns=go'], cgoFor: [] };
  if (netdns === 'cgo') return { resolver: 'cgo', why: ['GODEBUG=netdns=cgo'], cgoFor: [] };
  const why = cgoReasons(proc);
  if (why.length > 0) return { resolver: 'cgo', why, cgoFor: [] };
  const myhostname = Array.isArray(proc.nss) && proc.nss.some((s) => s.name === 'myhostname');
  return {
    resolver: 'go',
    why: ['built with cgo, and nothing in its environment, resolv.conf or nsswitch.conf makes Go hand lookups to the C library'],
    cgoFor: ['names ending in .local', 'names with "\\" or "%"', ...(myhostname ? ['localhost, gateway and its own hostname (nsswitch myhostname)'] : [])],
  };
}

/** What makes every lookup go to cgo: the environment, resolv.conf, nsswitch.conf (GODEBUG aside). */
function cgoReasons(proc: Pick<GoProcess, 'cfg' | 'nss' | 'env'>): string[] {
  const env = proc.env;
  const why = [
    // forceCgoLookupHost: a build without cgo then resolves itself, files then DNS
    ...(goDebugNetdns(env.GODEBUG) === 'cgo' ? ['GODEBUG=netdns=cgo'] : []),
    ...(['RES_OPTIONS', 'HOSTALIASES'] as const).filter((k) => (env[k] ?? '') !== '').map((k) => `${k} is set`),
    ...('LOCALDOMAIN' in env ? ['LOCALDOMAIN is set'] : []),
    ...proc.cfg.unknown.map((u) => `resolv.conf has ${u}, which Go does not understand`),
  ];
  const nss = proc.nss;
  if (nss !== undefined && 'error' in nss) return [...why, nss.error];
  for (const src of nss ?? []) {
    if (src.name === 'files' || src.name === 'dns') {
      const odd = src.criteria.find((c, i) => !standardCriterion(c, i === src.criteria.length - 1));
      if (odd) why.push(`nsswitch.conf hosts: ${src.name} [${odd.negate ? '!' : ''}${odd.status}=${odd.action}]`);
    } else if (src.name !== 'myhostname' && !src.name.startsWith('mdns')) why.push(`nsswitch.conf hosts: ${src.name}`);
  }
  return why;
}

/** conf.go hostLookupOrder for one name. */
function hostLookupOrder(proc: GoProcess, choice: GoResolverChoice, name: string): Order {
  const preferGo = goDebugNetdns(proc.env.GODEBUG) === 'go';
  const fallback: Order = preferGo ? 'files,dns' : 'cgo';
  if (choice.resolver === 'cgo' || cgoReasons(proc).length > 0) return fallback;
  if (/[\\%]/.test(name) || /\.local$/i.test(name.replace(/\.$/, ''))) return fallback;
  const srcs = proc.nss as GoNssSource[] | undefined;
  if (srcs === undefined || srcs.length === 0) return 'files,dns';
  const host = name.replace(/\.$/, '').toLowerCase();
  const seen: string[] = [];
  for (const src of srcs) {
    if (src.name === 'myhostname') {
      const local = host === 'localhost' || host === 'localhost.localdomain' || host.endsWith('.localhost') || host.endsWith('.localhost.localdomain');
      if (local || host === 'gateway' || host === proc.hostname.toLowerCase()) return fallback;
    } else if ((src.name === 'files' || src.name === 'dns') && !seen.includes(src.name)) seen.push(src.name);
  }
  return seen.length === 0 ? fallback : (seen.join(',') as Order);
}

/** nss.go standardStatusAction: criteria that only restate the defaults. */
function standardCriterion(c: GoNssSource['criteria'][number], last: boolean): boolean {
  if (c.negate) return false;
  const def = c.status === 'success' ? 'return' : ['notfound', 'unavail', 'tryagain'].includes(c.status) ? 'continue' : undefined;
  if (def === undefined) return false;
  return (last && c.action === 'return') || c.action === def;
}

/** cgo_unix.go cgoLookupIPCNAME: getaddrinfo, its order kept; EAI_NONAME is "not found", EAI_AGAIN temporary. */
function viaLibc(libc: EmulatedProcess, req: LookupRequest): ResolverMachine {
  return mapResult(libc.lookup({ ...req, canonname: true }), (r) => ({ addresses: r.addresses, error: libcError(r.error), canonname: null }));
}

const libcError = (e: ResolveError | null): ResolveError | null => (e === null || e === 'EAI_NONAME' || e === 'EAI_AGAIN' || e === 'SIGFPE' ? e : 'EAI_FAIL');

const ERRORS: Record<GoError, ResolveError> = { notfound: 'EAI_NONAME', temporary: 'EAI_AGAIN', timeout: 'EAI_AGAIN', other: 'EAI_FAIL' };
const fail = (error: ResolveError): LookupResult => ({ addresses: [], error });

/**
 * An IP as Go prints it (IP.String): an IPv4-mapped IPv6 address is IPv4 to Go — printed as a
 * dotted quad and counted as IPv4 by LookupIP's family filter (ipsock.go ipv4only: To4() != nil).
 */
function goIP(text: string): string {
  const bytes = ipv6Bytes(splitZone(text).address);
  const v4 = bytes && v4MappedBytes(bytes);
  return v4 ? addressText(v4) : (canonicalAddress(text) ?? text);
}
/** Go's ParseIP: a strict dotted quad or IPv6 (a %zone allowed). */
const goLiteral = (name: string): string | undefined => (isIPv4(name) || isIPv6(name) ? goIP(name) : undefined);
const ofFamily = (family: Family) => (a: string) => family === 'any' || (family === 'inet') === !a.includes(':');

function* lookup(io: Io, proc: GoProcess, req: LookupRequest, order: Exclude<Order, 'cgo'>): Coroutine {
  const { name, family } = req;
  if (name === '') return fail('EAI_NONAME');
  const literal = goLiteral(name);
  if (literal !== undefined) return ofFamily(family)(literal) ? { addresses: [literal], error: null, canonname: null } : fail('EAI_FAIL');
  const files = () => sortGo(goHostsLookup(proc.hosts, name, (a) => goLiteral(a) !== undefined).map((a) => goLiteral(a)!), proc.host);
  let found: { addrs: string[]; error: GoError | undefined } = { addrs: [], error: undefined };
  if (order.startsWith('files')) found.addrs = files();
  if (found.addrs.length === 0 && order !== 'files') {
    if (!isDomainName(name)) return fail('EAI_NONAME');
    found = yield* fromDns(io, proc, name, family);
    if (found.addrs.length === 0 && order === 'dns,files') found.addrs = files();
  }
  const addrs = found.addrs.filter(ofFamily(family));
  if (addrs.length > 0) return { addresses: addrs, error: null, canonname: null };
  if (found.addrs.length === 0 && found.error) return fail(ERRORS[found.error]);
  // LookupIPAddr returns an empty list without an error; LookupIP's family filter calls it "no suitable address"
  return family === 'any' && found.addrs.length === 0 ? { addresses: [], error: null, canonname: null } : fail('EAI_FAIL');
}

/** The names goLookupIPCNAMEOrder walks, each answered by A and AAAA (or one of them). */
function* fromDns(io: Io, proc: GoProcess, name: string, family: Family): Task<{ addrs: string[]; error: GoError | undefined }> {
  const { cfg } = proc;
  const qtypes: QType[] = family === 'inet' ? ['A'] : family === 'inet6' ? ['AAAA'] : ['A', 'AAAA'];
  let lastErr: GoError | undefined;
  const rooted = name.endsWith('.');
  const names = /\.onion\.?$/i.test(name) || name.length > 254 || (name.length === 254 && rooted) ? [] : candidates(name, cfg.search, cfg.ndots, 'glibc').filter((c) => c.asIs || c.qname.length + 1 <= 254);
  for (const c of names) {
    const lane: Array<{ qtype: QType; outcome: Outcome }> = []; // completion order, as the goroutines' channel delivers it
    const ask = (qtype: QType): Task<void> =>
      (function* () {
        lane.push({ qtype, outcome: yield* tryOneName(io, proc, c.qname, qtype) });
      })();
    if (cfg.flags.has('single-request')) for (const q of qtypes) yield* ask(q);
    else yield* parallel(io, qtypes.map(ask));
    const addrs: string[] = [];
    for (const { qtype, outcome: r } of lane) {
      if ('error' in r) {
        if (lastErr === undefined || (c.asIs && !rooted)) lastErr = r.error;
        continue;
      }
      // skipToAnswer left the parser on the first record of the asked type: what comes before is not read
      const records = r.reply.records.slice(r.reply.records.findIndex((rec) => rec.type === qtype));
      for (const rec of records) if (rec.type === 'A' || rec.type === 'AAAA') addrs.push(goIP(rec.data));
    }
    if (addrs.length > 0) return { addrs: sortGo(addrs, proc.host), error: lastErr };
  }
  return { addrs: [], error: lastErr };
}

/** dnsclient_unix.go tryOneName: attempts × servers for one question. */
function* tryOneName(io: Io, proc: GoProcess, qname: string, qtype: QType): Task<Outcome> {
  const { cfg } = proc;
  const servers = cfg.nameservers;
  const offset = cfg.flags.has('rotate') ? proc.offset++ : 0;
  let last: Outcome = { error: 'other' };
  for (let i = 0; i < cfg.attempts; i++) {
    for (let j = 0; j < servers.length; j++) {
      const server = servers[(offset + j) % servers.length]!;
      const got = yield* exchange(io, proc, server, qname, qtype);
      if ('error' in got) {
        last = got;
        continue;
      }
      const h = got.reply;
      if (h.rcode === RCODE.NXDOMAIN) return { error: 'notfound' };
      const lame = h.rcode === RCODE.NOERROR && !h.authoritative && !h.recursionAvailable && h.ancount === 0;
      if (lame || h.rcode !== RCODE.NOERROR) {
        last = { error: h.rcode === RCODE.SERVFAIL ? 'temporary' : 'other' };
        continue;
      }
      // skipToAnswer: a record of the asked type anywhere in the answer section, else NODATA
      return h.records.some((r) => r.type === qtype) ? got : { error: 'notfound' };
    }
  }
  return last;
}

/** dnsclient_unix.go exchange: one query on a new UDP socket, then over TCP if truncated. */
function* exchange(io: Io, proc: GoProcess, server: string, qname: string, qtype: QType): Task<Outcome> {
  // newRequest: dnsmessage cannot pack an empty label or one over 63 bytes — an error, nothing sent
  if (qname !== '' && !qname.replace(/\.$/, '').split('.').every((l) => l.length > 0 && l.length <= 63)) return { error: 'other' };
  const id = Math.floor(proc.random() * 65536);
  const query = { qname, qtype, id, bytes: encodeQuery(id, qname, qtype, { edns: EDNS_SIZE }) };
  const timeout = proc.cfg.timeout * 1000;
  for (const transport of proc.cfg.flags.has('use-vc') ? ['tcp'] : ['udp', 'tcp']) {
    const deadline = io.now + timeout;
    const handle = io.handle();
    const got = transport === 'udp' ? yield* udpRoundTrip(io, handle, server, query, deadline) : yield* tcpRoundTrip(io, handle, server, query, deadline);
    if ('error' in got) return got;
    if (got.reply.qdcount !== 1) return { error: 'other' }; // SkipQuestion: more than one question
    if (!got.reply.truncated) return got;
  }
  return { error: 'other' }; // errNoAnswerFromDNSServer: truncated over TCP too
}

type Query = { qname: string; qtype: QType; id: number; bytes: Buffer };

/** dnsPacketRoundTrip: anything that is not the answer to this question is ignored until the deadline. */
function* udpRoundTrip(io: Io, socket: number, server: string, query: Query, deadline: number): Task<Outcome> {
  io.emit({ type: 'udp-open', socket, connect: server });
  io.emit({ type: 'udp-send', socket, to: server, bytes: query.bytes, query });
  try {
    for (;;) {
      const ev = yield deadline;
      if (!ev) return { error: 'timeout' };
      if (ev.type === 'udp-error' && ev.socket === socket) return { error: 'temporary' }; // ECONNREFUSED on read
      if (ev.type !== 'udp' || ev.socket !== socket) continue;
      const reply = decodeReply(ev.bytes);
      if (reply && matches(reply, query.id, query.qname, query.qtype)) return { reply };
    }
  } finally {
    io.emit({ type: 'udp-close', socket });
  }
}

/** dnsStreamRoundTrip: one message back; a malformed or mismatched one is an error, not ignored. */
function* tcpRoundTrip(io: Io, conn: number, server: string, query: Query, deadline: number): Task<Outcome> {
  io.emit({ type: 'tcp-open', conn, to: server });
  io.emit({ type: 'tcp-send', conn, bytes: query.bytes, query });
  try {
    for (;;) {
      const ev = yield deadline;
      if (!ev) return { error: 'timeout' };
      if (ev.type === 'tcp-error' && ev.conn === conn) return { error: ev.code === 'ETIMEDOUT' ? 'timeout' : 'temporary' };
      if (ev.type !== 'tcp' || ev.conn !== conn) continue;
      const reply = decodeReply(ev.bytes);
      return reply && matches(reply, query.id, query.qname, query.qtype) ? { reply } : { error: 'other' };
    }
  } finally {
    io.emit({ type: 'tcp-close', conn });
  }
}

/** dnsclient.go isDomainName. */
export function isDomainName(s: string): boolean {
  if (s === '.') return true;
  const l = s.length;
  if (l === 0 || l > 254 || (l === 254 && !s.endsWith('.'))) return false;
  let last = '.';
  let nonNumeric = false;
  let partlen = 0;
  for (const c of s) {
    if (/[a-zA-Z_]/.test(c)) {
      nonNumeric = true;
      partlen++;
    } else if (/[0-9]/.test(c)) partlen++;
    else if (c === '-') {
      if (last === '.') return false;
      partlen++;
      nonNumeric = true;
    } else if (c === '.') {
      if (last === '.' || last === '-' || partlen > 63 || partlen === 0) return false;
      partlen = 0;
    } else return false;
    last = c;
  }
  return last !== '-' && partlen <= 63 && nonNumeric;
}
