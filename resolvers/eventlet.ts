/*
 * eventlet greendns getaddrinfo(): 0.33.1 on dnspython 2.3.0 (Debian 12), and ≤ 0.24.0.
 *
 * IMPLEMENTATION NOTES
 * - eventlet/green/socket.py: greendns replaces getaddrinfo unless EVENTLET_NO_GREENDNS,
 *   lower-cased, is exactly "yes"; then CPython's socket.getaddrinfo = the C library (Debian's
 *   python links glibc) runs, so the lookup is delegated to the glibc emulator (one glibc process
 *   per eventlet process, so its sticky per-thread state behaves as in one real process).
 * - eventlet/support/greendns.py getaddrinfo: IP literals (dnspython's strict parsers) skip DNS;
 *   names go to _getaddrinfo_lookup; no address → EAI_NONAME "No address found"; AI_CANONNAME →
 *   resolve_cname(str(answer.qname)).
 * - _getaddrinfo_lookup (AF_UNSPEC): 0.33.1 (since PR #512, 0.24.1): pass 1 hosts only (AAAA then
 *   A), any address → done; pass 2 AAAA then A through DNS. ≤ 0.24.0: one pass, AAAA then A, each
 *   "hosts then DNS" (issue #511: a v4-only hosts name still waits for the AAAA lookup).
 *   Per family errors are remembered; the last one is raised only if no family gave addresses.
 *   AF_INET/AF_INET6: one resolve(), its error is raised as is.
 * - resolve(): Timeout → EAI_AGAIN, NXDOMAIN → empty answer, any other DNSException
 *   (NoNameservers, NoResolverConfiguration) → EAI_NONAME. The empty answer is
 *   HostsAnswer(dns.name.Name(name)): a Name built from a str has one label per CHARACTER, which
 *   is what AI_CANONNAME then queries when the last family came back empty.
 * - ResolverProxy.query: hosts (A/AAAA only) → Resolver.query(name, search=True) → for a single
 *   label name a second, separate resolve() of `name.` (issues #363, nameko #392); results are
 *   merged, the last exception wins. The resolver (with its LRU cache) is created on first use
 *   in 0.33.1, at import time in ≤ 0.24.0. HostsResolver: core/hosts.ts eventletHosts (lower-cased
 *   names, last line wins per family, fe80 skipped); an absolute name also matches without its dot.
 * - resolve_cname: ResolverProxy.query(name, CNAME) with raise_on_no_answer: no CNAME anywhere
 *   (NODATA or NXDOMAIN) raises NXDOMAIN → EAI_NONAME for the whole call (issue #764); a timeout
 *   → EAI_AGAIN. Hosts names too: only DNS is asked.
 * - dns/resolver.py (_Resolution, _get_qnames_to_try, read_resolv_conf) and dns/query.py (as
 *   replaced by greendns udp/tcp): core/dnspython.ts.
 * Not emulated: IDNA encoding, AI_V4MAPPED/AI_ALL, the 10 s hosts re-read (input is static).
 */
import { ipv6Bytes, isIPv4, splitZone } from './core/address.js';
import { glibc, numericHost } from './glibc.js';
import { machineFromCoroutine, type Coroutine, type Io } from './core/coroutine.js';
import { makeResolver, resolve, type DnsError, type DnsResolver, type Wait } from './core/dnspython.js';
import { eventletHosts } from './core/hosts.js';
import type { Emulator, Family, LookupRequest, LookupResult, ProcessContext, QType, ResolveError } from './core/types.js';

type Version = '0.33.1' | '0.24.0';

interface GreenProcess {
  version: Version;
  hosts: { v4: Map<string, string>; v6: Map<string, string> };
  /** undefined: resolv.conf has no nameserver (NoResolverConfiguration) */
  resolver: DnsResolver | undefined;
}

/** An answer: its addresses (maybe none) and str(answer.qname); or a gaierror. */
type Found = { addrs: string[]; qname: string } | { error: ResolveError };

const fail = (error: ResolveError): LookupResult => ({ addresses: [], error });

function createProcess(version: Version, ctx: ProcessContext) {
  const flag = ctx.input.env.EVENTLET_NO_GREENDNS;
  if (flag !== undefined && flag.toLowerCase() === 'yes') {
    const libc = glibc.createProcess(ctx);
    return { lookup: (req: LookupRequest) => libc.lookup(req) };
  }
  const resolver = makeResolver(ctx);
  if (!resolver) {
    ctx.warn(
      version === '0.24.0'
        ? 'resolv.conf has no nameserver: eventlet ≤ 0.24.0 builds its resolver at import, so dnspython raises NoResolverConfiguration before any lookup (reported as EAI_FAIL)'
        : 'resolv.conf has no nameserver: dnspython raises NoResolverConfiguration at the first DNS lookup and greendns reports it as EAI_NONAME; /etc/hosts still works',
    );
  }
  const proc: GreenProcess = { version, hosts: eventletHosts(ctx.input.hosts), resolver };
  return { lookup: (req: LookupRequest) => machineFromCoroutine((io) => getaddrinfo(io, proc, req)) };
}

export const eventlet: Emulator = {
  mode: 'eventlet',
  summary: 'eventlet 0.33.1 greendns (dnspython 2.3.0): hosts first, then AAAA and A one after the other, one server at a time, 5 s lifetime per query',
  createProcess: (ctx) => createProcess('0.33.1', ctx),
};

export const eventlet024: Emulator = {
  mode: 'eventlet-0.24',
  summary: 'eventlet ≤ 0.24.0 greendns: like 0.33.1, but AAAA and A each try hosts then DNS (issue #511)',
  createProcess: (ctx) => createProcess('0.24.0', ctx),
};

/**
 * greendns is_ip_addr: dns.ipv4.inet_aton (a strict dotted quad: "10.1" is a name here, unlike
 * in the C library) or is_ipv6_addr, which drops a %scope first. (dns.ipv6.inet_aton also takes a
 * few malformed forms such as ":1:2:3:4:5:6:7"; those are not emulated.)
 */
const isIPAddr = (s: string) => isIPv4(s) || ipv6Bytes(splitZone(s).address) !== undefined;

/** dns.name.from_text: no empty label (a final dot is fine), none over 63 bytes. */
const validName = (s: string) => s !== '' && s.replace(/\.$/, '').split('.').every((l) => l.length > 0 && l.length <= 63);

/** len(dns.name.from_text(name, None)) == 1: no dot at all. */
const singleLabel = (s: string) => !s.includes('.');

/**
 * str(dns.name.Name(name)): one label per character. Label "." can't be spelled in a dotted
 * string here, so it is written \046 (its byte value): the same label count, an equally unknown name.
 */
const charLabels = (name: string) => [...name].map((c) => (c === '.' ? '\\046' : c)).join('.');

function* getaddrinfo(io: Io, proc: GreenProcess, req: LookupRequest): Coroutine {
  if (proc.version === '0.24.0' && !proc.resolver) return fail('EAI_FAIL');
  const host = req.name;
  // A literal goes to the C library's getaddrinfo with AI_NUMERICHOST: glibc's literal rules
  // (family, ::ffff:a.b.c.d for AF_INET, scope ids) decide.
  if (isIPAddr(host)) return numericHost(host, req.family) ?? fail('EAI_NONAME');
  if (!validName(host)) return fail('EAI_NONAME');
  const found = yield* lookupAddrs(io, proc, host, req.family);
  if ('error' in found) return fail(found.error);
  if (found.addrs.length === 0) return fail('EAI_NONAME'); // 'No address found'
  if (req.canonname) {
    const c = yield* resolveCname(io, proc, found.qname);
    if ('error' in c) return fail(c.error);
    return { addresses: found.addrs, error: null, canonname: c.canon };
  }
  return { addresses: found.addrs, error: null };
}

/** _getaddrinfo_lookup */
function* lookupAddrs(io: Io, proc: GreenProcess, host: string, family: Family): Wait<Found> {
  if (family !== 'any') return yield* resolveFamily(io, proc, host, family === 'inet' ? 'A' : 'AAAA', true);
  const passes = proc.version === '0.33.1' ? [false, true] : [true];
  const addrs: string[] = [];
  let qname = charLabels(host);
  let error: ResolveError | undefined;
  for (const useNetwork of passes) {
    for (const rdtype of ['AAAA', 'A'] as const) {
      const r = yield* resolveFamily(io, proc, host, rdtype, useNetwork);
      if ('error' in r) error = r.error; // `answer` keeps its previous value
      else {
        qname = r.qname;
        addrs.push(...r.addrs);
      }
    }
    if (addrs.length > 0) break;
  }
  return error && addrs.length === 0 ? { error } : { addrs, qname };
}

/** greendns.resolve(name, family, raises=False, use_network) */
function* resolveFamily(io: Io, proc: GreenProcess, host: string, rdtype: 'A' | 'AAAA', useNetwork: boolean): Wait<Found> {
  const map = rdtype === 'A' ? proc.hosts.v4 : proc.hosts.v6;
  const lower = host.toLowerCase();
  const fromHosts = map.get(lower) ?? (lower.endsWith('.') ? map.get(lower.slice(0, -1)) : undefined);
  if (fromHosts !== undefined) return { addrs: [fromHosts], qname: host };
  if (!useNetwork) return { addrs: [], qname: charLabels(host) };
  if (!proc.resolver) return { error: 'EAI_NONAME' }; // NoResolverConfiguration is a DNSException
  const r = yield* proxyQuery(io, proc.resolver, host, rdtype);
  if ('records' in r) return { addrs: r.records, qname: r.qname };
  if (r.error === 'NXDOMAIN') return { addrs: [], qname: charLabels(host) };
  return { error: r.error === 'Timeout' ? 'EAI_AGAIN' : 'EAI_NONAME' };
}

/** ResolverProxy.query's network part: the search, then `name.` for single labels, merged. */
function* proxyQuery(io: Io, r: DnsResolver, name: string, rdtype: QType): Wait<{ records: string[]; qname: string } | { error: DnsError }> {
  let found: { records: string[]; qname: string } | undefined;
  let error: DnsError | undefined;
  for (const n of singleLabel(name) ? [name, `${name}.`] : [name]) {
    const o = yield* resolve(io, r, n, rdtype);
    if (o.kind !== 'answer') error = o.kind;
    else if (o.records.length > 0) {
      if (!found) found = { records: [...o.records], qname: o.qname };
      else for (const rec of o.records) if (!found.records.includes(rec)) found.records.push(rec); // rrset.union_update
    }
  }
  return found ?? { error: error ?? 'NXDOMAIN' };
}

/**
 * resolve_cname: str(target) of the first CNAME (absolute: a final dot), or the literal as it is;
 * no CNAME at all is NXDOMAIN from ResolverProxy.query → the gaierror that fails getaddrinfo.
 */
function* resolveCname(io: Io, proc: GreenProcess, qname: string): Wait<{ canon: string } | { error: ResolveError }> {
  if (isIPAddr(qname)) return { canon: qname };
  if (!proc.resolver) return { error: 'EAI_NONAME' };
  const r = yield* proxyQuery(io, proc.resolver, qname, 'CNAME');
  if ('records' in r) return { canon: `${r.records[0]!.replace(/\.$/, '')}.` };
  return { error: r.error === 'Timeout' ? 'EAI_AGAIN' : 'EAI_NONAME' };
}
