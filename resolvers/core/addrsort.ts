/*
 * The order a getaddrinfo-style lookup returns its addresses in: destination address selection
 * (RFC 3484 / RFC 6724 §6) as each emulated library implements it. Pure: the kernel's part — the
 * source address a UDP connect() would get (no packet is sent) and the interface addresses — comes
 * in as a `SortHost`; `hostOf(net)` derives one from a small model of the namespace's network.
 *
 * IMPLEMENTATION NOTES (each rule names the source it mirrors)
 * - glibc 2.36, sysdeps/posix/getaddrinfo.c: getaddrinfo sorts whenever a lookup found more than
 *   one address (any family, hosts file or DNS) with rfc3484_sort under qsort_r (stdlib/msort.c: a
 *   top-down merge sort; reproduced because the comparator is not transitive). Rules: 1 no source
 *   address last; 2 matching scope (get_scope: IPv6 multicast nibble, link-local and ::1 → 2,
 *   fec0::/10 → 5, else 14; IPv4 from the scopev4 table); 3 deprecated (IFA_F_DEPRECATED or
 *   OPTIMISTIC) source last; 4 home address first; 5 matching label; 6 higher precedence (labels
 *   and precedences of IPv4 from ::ffff:a.b.c.d); 7 native transport — only between sources on
 *   different interfaces, a tunnel (ipip, sit, ip6tnl) or an unknown interface is not native
 *   (sysdeps/unix/sysv/linux/check_native.c); 8 smaller destination scope; 9 longest matching
 *   prefix, same family only: IPv6 over all 128 bits (no cap at the source's prefix); IPv4 only
 *   when destination and source share the source interface's subnet, by its prefix length; 10 the
 *   original order. Interface facts (flags, prefix length, interface) come from __check_pf
 *   (sysdeps/unix/sysv/linux/check_pf.c, RTM_GETADDR), which keeps its list only when the host has
 *   an IPv6 address other than ::1 (a link-local one counts): without one every source is
 *   "unknown" — prefix length 0, which makes IPv4's mask `0xffffffff << 32`: all ones on x86-64
 *   (rule 9 then only ranks a destination that IS the source) — and rules 3, 4, 7 never decide.
 *   A source in 127/8 is looked up as 127.0.0.1 (the lo special case in getaddrinfo).
 * - glibc gai.conf (gaiconf_init, add_prefixlist, add_scopelist): `label`, `precedence`,
 *   `scopev4` lines; any valid line of a kind replaces that kind's WHOLE default table, with an
 *   implicit ::/0 (label 1, precedence 40; scopev4 0.0.0.0/0 → 14) unless a /0 entry is given;
 *   entries sorted longest prefix first, file order among equals; `#` comments; a missing value is
 *   strtoul("") = 0; invalid lines are skipped silently (reported through `warn` here); `reload`
 *   is ignored (one lookup). Debian 12 ships the file all commented out: the default tables.
 * - musl 1.2.3, src/network/lookup_name.c __lookup_name: sorts only when more than one result,
 *   the family is not AF_INET and at least one result is IPv6. One key per address (rules 3, 4, 7
 *   omitted): usable (connect succeeded) > matching scope > matching label > precedence (defpolicy,
 *   the RFC 6724 table without ::/96, fec0::/10, 3ffe::/16) > smaller scope (scopeof: IPv4 is
 *   ::ffff:a.b.c.d, always 14) > common prefix of source and destination over 128 bits (IPv4 as
 *   mapped, so ≥ 96; across families too) > original order.
 * - Go 1.19, src/net/addrselect.go sortByRFC6724 (dnsclient_unix.go: DNS and hosts results):
 *   sort.Stable (sort/zsortinterface.go: insertion sort of 20-blocks, then SymMerge; reproduced
 *   for the same reason as glibc's) with rules 1, 2, 5, 6, 8, 9 (rules 3, 4, 7 are TODOs); the
 *   RFC 6724 policy table; classifyScope (127/8 and 169.254/16 are link-local); rule 9 only when
 *   both are IPv6, over at most the first 64 bits. An IPv4-mapped IPv6 address is IPv4 to Go.
 * - eventlet 0.33.1, eventlet/support/greendns.py _getaddrinfo_lookup: AAAA answers then A
 *   answers, each in rrset order; the OS getaddrinfo then sees one numeric address at a time,
 *   so nothing sorts them.
 */
import { addressBytes, addressText, ipv4Bytes, ipv6Bytes, isLinkLocal, multicastScope, splitZone, v4MappedBytes } from './address.js';
import type { Family, LocalAddress, SortHost } from './types.js';

export type { LocalAddress, SortHost } from './types.js';

/** 'default' is the IPv4 default route (as `ip route` reads it); IPv6's is '::/0'. */
export interface LocalRoute {
  dst: string;
  dev: string;
  src?: string;
}

/**
 * A namespace's network. List every address the kernel has, including each interface's fe80::
 * (an up interface with IPv6 enabled always has one: glibc reads prefix lengths only when it sees
 * an IPv6 address other than ::1) and lo's 127.0.0.1/8 and ::1/128.
 */
export interface LocalNet {
  addresses: LocalAddress[];
  routes: LocalRoute[];
}

// ---- bytes ----------------------------------------------------------------------------------

type Bytes = Uint8Array;
const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

const bytesOf = (text: string): Bytes | undefined => addressBytes(splitZone(text).address);
/** IPv4 as ::ffff:a.b.c.d; IPv6 as is */
const as16 = (b: Bytes): Bytes => (b.length === 16 ? b : Uint8Array.from([...MAPPED_PREFIX, ...b]));
const same = (a: Bytes, b: Bytes) => a.length === b.length && a.every((x, i) => x === b[i]);
const v4Word = (b: Bytes, at = 0) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** the first `bits` bits of `a` and `prefix` agree */
function inPrefix(a: Bytes, prefix: Bytes, bits: number): boolean {
  if (a.length !== prefix.length) return false;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff00 >> bits) & 0xff;
    if ((a[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}

/** how many leading bits `a` and `b` share, looking at the first `limit` bytes */
function commonPrefix(a: Bytes, b: Bytes, limit = a.length): number {
  for (let i = 0; i < limit; i++) if (a[i] !== b[i]) return i * 8 + Math.clz32(a[i]! ^ b[i]!) - 24;
  return limit * 8;
}

interface PolicyRow {
  prefix: Bytes;
  bits: number;
  precedence: number;
  label: number;
}

const row = (prefix: string, bits: number, precedence: number, label: number): PolicyRow => ({ prefix: ipv6Bytes(prefix)!, bits, precedence, label });
/** the longest matching prefix (tables here are sorted longest first) */
const classify = (table: readonly PolicyRow[], a16: Bytes) => table.find((r) => inPrefix(a16, r.prefix, r.bits))!;

/** RFC 6724 §2.1 (Go's rfc6724policyTable; the kernel's addrlabel classes), longest prefix first */
const RFC6724_POLICY: PolicyRow[] = [
  row('::1', 128, 50, 0),
  row('::ffff:0:0', 96, 35, 4),
  row('::', 96, 1, 3),
  row('2001::', 32, 5, 5),
  row('2002::', 16, 30, 2),
  row('3ffe::', 16, 1, 12),
  row('fec0::', 10, 1, 11),
  row('fc00::', 7, 3, 13),
  row('::', 0, 40, 1),
];

/** RFC 6724 §2.1 scopes of IPv6 (musl scopeof, glibc get_scope for AF_INET6) */
function scopeV6(b: Bytes): number {
  const mc = multicastScope(b);
  if (mc !== undefined) return mc;
  if (isLinkLocal(b) || same(b, ipv6Bytes('::1')!)) return 2;
  return b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0 ? 5 : 14;
}

// ---- the kernel's source address ------------------------------------------------------------

interface Route {
  prefix: Bytes;
  bits: number;
  dev: string;
  src?: string | undefined;
}

function parseRoute(r: LocalRoute): Route | undefined {
  const [net = '', len] = r.dst === 'default' ? ['0.0.0.0', '0'] : r.dst.split('/');
  const prefix = bytesOf(net);
  if (!prefix) return undefined;
  return { prefix, bits: len === undefined ? prefix.length * 8 : Number(len), dev: r.dev, src: r.src };
}

/**
 * The source address Linux gives a UDP socket connected to `dest`, or null when connect() fails.
 * Simplified: the local table (one of our addresses → itself; 127/8 → lo's address); one routing
 * table, longest prefix wins, first listed among equals (no metrics, rules, gateways or
 * reachability of a gateway); every address adds its connected route; a route's `src` wins. Else
 * IPv4: an address on the route's device, one whose subnet holds the destination first, else one
 * on another device. IPv6 (a subset of RFC 6724 §5 as the kernel ranks): not link-local for a
 * wider destination (but rather that than nothing), not deprecated, on the route's device, the
 * same label (RFC 6724 table), the destination's subnet; first listed among equals. No address of
 * the family → null (IPv4 would connect from 0.0.0.0; not modelled). A link-local IPv6
 * destination needs a %zone naming the device (without one connect() fails with EINVAL).
 * An IPv4-mapped destination routes as IPv4 and gets a mapped source.
 */
export function routeSource(net: LocalNet, dest: string): string | null {
  const { zone } = splitZone(dest);
  const d = bytesOf(dest);
  if (!d) return null;
  const mapped = v4MappedBytes(d);
  if (mapped) {
    const src = routeSource(net, addressText(mapped));
    return src === null ? null : `::ffff:${src}`;
  }
  const ours: Ours[] = net.addresses.flatMap((a) => {
    const b = bytesOf(a.address);
    return b && b.length === d.length ? [{ ...a, b }] : [];
  });
  if (ours.some((a) => same(a.b, d))) return addressText(d);
  const lo = ours.find((a) => a.dev === 'lo' && inPrefix(d, a.b, a.prefixLen));
  if (lo) return lo.address;
  if (isLinkLocal(d)) return ours.find((a) => a.dev === zone && isLinkLocal(a.b))?.address ?? null;
  const routes = [...net.routes.flatMap((r) => parseRoute(r) ?? []), ...ours.filter((a) => a.dev !== 'lo').map((a) => ({ prefix: a.b, bits: a.prefixLen, dev: a.dev, src: undefined }))];
  const route = routes.filter((r) => inPrefix(d, r.prefix, r.bits)).reduce<Route | undefined>((best, r) => (best && best.bits >= r.bits ? best : r), undefined);
  if (!route) return null;
  if (route.src !== undefined) return route.src;
  return pickSource(ours, d, route.dev);
}

type Ours = LocalAddress & { b: Bytes };

/**
 * The best address for `d` leaving on `dev`. IPv4 (inet_select_addr): the route's device, then
 * the destination's subnet. IPv6 (ipv6_dev_get_saddr over every device): scope, not deprecated,
 * the outgoing device, matching label, the destination's subnet. First listed among equals.
 */
function pickSource(ours: Ours[], d: Bytes, dev: string): string | null {
  const label = (b: Bytes) => classify(RFC6724_POLICY, b).label;
  const rank = (a: Ours) =>
    d.length === 4
      ? [a.dev === dev, inPrefix(d, a.b, a.prefixLen)]
      : [!isLinkLocal(a.b), !a.deprecated, a.dev === dev, label(a.b) === label(d), inPrefix(d, a.b, a.prefixLen)];
  let best: Ours | undefined;
  for (const a of ours.filter((x) => x.dev !== 'lo')) {
    const [ra, rb] = [rank(a), best ? rank(best) : []];
    const i = ra.findIndex((x, k) => x !== rb[k]);
    if (!best || (i >= 0 && ra[i])) best = a;
  }
  return best?.address ?? null;
}

/** A SortHost for a modelled namespace. */
/**
 * No knowledge of the network: every destination reachable, from a source just like it (its own
 * address: same family, scope and label). The libraries' tables alone decide — the order a
 * dual-stack host with global addresses of both families gets.
 */
export const DUAL_STACK_HOST: SortHost = { sourceOf: (dest) => dest };

export function hostOf(net: LocalNet): SortHost {
  return { sourceOf: (dest) => routeSource(net, dest), addresses: net.addresses };
}

// ---- glibc 2.36 -----------------------------------------------------------------------------

interface PrefixValue {
  prefix: Bytes;
  bits: number;
  value: number;
}

interface ScopeV4 {
  prefix: Bytes;
  bits: number;
  scope: number;
}

/** glibc's sorting tables: built in, or from /etc/gai.conf */
export interface GaiPolicy {
  labels: PrefixValue[];
  precedence: PrefixValue[];
  scopes: ScopeV4[];
}

const pv = (prefix: string, bits: number, value: number): PrefixValue => ({ prefix: ipv6Bytes(prefix)!, bits, value });

/** default_labels, default_precedence, default_scopes: RFC 3484's tables, labels with 2 changes */
export const GLIBC_DEFAULT_POLICY: GaiPolicy = {
  labels: [pv('::1', 128, 0), pv('2002::', 16, 2), pv('::', 96, 3), pv('::ffff:0:0', 96, 4), pv('fec0::', 10, 5), pv('fc00::', 7, 6), pv('2001::', 32, 7), pv('::', 0, 1)],
  precedence: [pv('::1', 128, 50), pv('2002::', 16, 30), pv('::', 96, 20), pv('::ffff:0:0', 96, 10), pv('::', 0, 40)],
  scopes: [
    { prefix: Uint8Array.of(169, 254, 0, 0), bits: 16, scope: 2 },
    { prefix: Uint8Array.of(127, 0, 0, 0), bits: 8, scope: 2 },
    { prefix: Uint8Array.of(0, 0, 0, 0), bits: 0, scope: 14 },
  ],
};

/** strtoul(text, &end, 10) with *end == '\0' required; undefined when glibc rejects it */
function wholeNumber(text: string, max: number): number | undefined {
  if (text === '') return 0; // no digits: 0, and end points at the (empty) end
  const m = /^([+-]?)(\d+)$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[2]);
  return m[1] === '-' && n !== 0 ? undefined : n <= max ? n : undefined;
}

/** prefix text "addr" or "addr/bits" → parts; bits default given */
function splitPrefix(text: string): [string, string | undefined] {
  const slash = text.indexOf('/');
  return slash < 0 ? [text, undefined] : [text.slice(0, slash), text.slice(slash + 1)];
}

/**
 * add_prefixlist. Without "/bits" glibc reads an uninitialised end pointer (undefined behaviour);
 * taken here as the intended /128.
 */
function prefixEntry(v1: string, v2: string): PrefixValue | undefined {
  const [addr, len] = splitPrefix(v1);
  const prefix = ipv6Bytes(addr);
  const bits = len === undefined ? 128 : wholeNumber(len, 128);
  const value = wholeNumber(v2, 0x7fffffff);
  return prefix && bits !== undefined && value !== undefined ? { prefix, bits, value } : undefined;
}

/** the scopev4 line: an IPv4 prefix (≤ /32) or an IPv4-mapped IPv6 one (/96 to /128) */
function scopeEntry(v1: string, v2: string): ScopeV4 | undefined {
  const [addr, len] = splitPrefix(v1);
  const scope = wholeNumber(v2, 0x7fffffff);
  const v6 = ipv6Bytes(addr);
  const v4 = v6 ? v4MappedBytes(v6) : ipv4Bytes(addr);
  const bits = len === undefined ? (v6 ? 128 : 32) : wholeNumber(len, v6 ? 128 : 32);
  if (!v4 || bits === undefined || scope === undefined || (v6 && bits < 96)) return undefined;
  return { prefix: v4, bits: v6 ? bits - 96 : bits, scope };
}

/** the table as gaiconf_init builds it: catch-all added unless given, longest first (stable) */
function finish<T extends { bits: number }>(entries: T[], catchAll: T): T[] {
  const all = entries.some((e) => e.bits === 0) ? entries : [...entries, catchAll];
  return all.map((e, i) => ({ e, i })).sort((a, b) => b.e.bits - a.e.bits || a.i - b.i).map(({ e }) => e);
}

/** /etc/gai.conf as glibc 2.36 reads it. */
export function parseGaiConf(text: string, warn: (message: string) => void = () => {}): GaiPolicy {
  const labels: PrefixValue[] = [];
  const precedence: PrefixValue[] = [];
  const scopes: ScopeV4[] = [];
  for (const raw of text.split('\n')) {
    const [cmd, v1 = '', v2 = ''] = raw.replace(/#.*$/s, '').trim().split(/[ \t\n\v\f\r]+/);
    if (!cmd) continue;
    const list = cmd === 'label' ? labels : cmd === 'precedence' ? precedence : cmd === 'scopev4' ? scopes : undefined;
    if (!list) continue; // `reload` and unknown keywords
    const entry = cmd === 'scopev4' ? scopeEntry(v1, v2) : prefixEntry(v1, v2);
    if (entry) (list as (typeof entry)[]).push(entry);
    else warn(`gai.conf: ignored line "${raw.trim()}"`);
  }
  return {
    labels: labels.length ? finish(labels, pv('::', 0, 1)) : GLIBC_DEFAULT_POLICY.labels,
    precedence: precedence.length ? finish(precedence, pv('::', 0, 40)) : GLIBC_DEFAULT_POLICY.precedence,
    scopes: scopes.length ? finish(scopes, { prefix: Uint8Array.of(0, 0, 0, 0), bits: 0, scope: 14 }) : GLIBC_DEFAULT_POLICY.scopes,
  };
}

/** what glibc knows about one destination */
interface GlibcFacts {
  dest: Bytes;
  src: Bytes | undefined;
  deprecated: boolean;
  home: boolean;
  prefixLen: number;
  /** the source's interface, undefined when not in __check_pf's list */
  dev: string | undefined;
  native: boolean;
}

function glibcFacts(text: string, host: SortHost): GlibcFacts {
  const dest = bytesOf(text)!;
  const srcText = host.sourceOf(text);
  let src = srcText === null ? undefined : bytesOf(srcText);
  if (src && dest.length === 4) src = src.length === 4 ? src : v4MappedBytes(src); // AF_INET6 socket: converted
  const all = host.addresses ?? [];
  const listed = all.some((a) => bytesOf(a.address)?.length === 16 && !same(bytesOf(a.address)!, ipv6Bytes('::1')!));
  const key = src && src.length === 4 && src[0] === 127 ? Uint8Array.of(127, 0, 0, 1) : src;
  const info = listed && key ? all.find((a) => same(as16(bytesOf(a.address)!), as16(key))) : undefined;
  return { dest, src, deprecated: !!info?.deprecated, home: !!info?.home, prefixLen: info?.prefixLen ?? 0, dev: info?.dev, native: !!info && !info.tunnel };
}

function glibcScope(b: Bytes, policy: GaiPolicy): number {
  return b.length === 16 ? scopeV6(b) : policy.scopes.find((s) => inPrefix(b, s.prefix, s.bits))!.scope;
}

const lookup = (table: readonly PrefixValue[], b: Bytes) => table.find((e) => inPrefix(as16(b), e.prefix, e.bits))!.value;
/** -1: a first, 1: b first, 0: this rule does not decide */
const prefer = (a: boolean, b: boolean) => (a && !b ? -1 : !a && b ? 1 : 0);

/** rule 9: glibc's fls() of the first differing 32-bit word, IPv4 only within the source's subnet */
function glibcPrefixRule(a: GlibcFacts, b: GlibcFacts): number {
  if (a.dest.length !== b.dest.length) return 0;
  let bitA = 0;
  let bitB = 0;
  if (a.dest.length === 4) {
    const bit = (f: GlibcFacts) => {
      const mask = (0xffffffff << (32 - f.prefixLen)) >>> 0; // JS shifts mod 32 like x86-64: /0 → all ones
      const [d, s] = [v4Word(f.dest), v4Word(f.src!)];
      return ((d & mask) >>> 0) === ((s & mask) >>> 0) ? Math.clz32(d ^ s) : 0;
    };
    [bitA, bitB] = [bit(a), bit(b)];
  } else {
    const word = [0, 4, 8, 12].find((w) => v4Word(a.dest, w) !== v4Word(a.src!, w) || v4Word(b.dest, w) !== v4Word(b.src!, w));
    if (word !== undefined) [bitA, bitB] = [Math.clz32(v4Word(a.dest, word) ^ v4Word(a.src!, word)), Math.clz32(v4Word(b.dest, word) ^ v4Word(b.src!, word))];
  }
  return bitA > bitB ? -1 : bitA < bitB ? 1 : 0;
}

/** rfc3484_sort without rule 10 */
function glibcCompare(a: GlibcFacts, b: GlibcFacts, p: GaiPolicy): number {
  const reachable = prefer(!!a.src, !!b.src);
  if (reachable) return reachable;
  const [scopeA, scopeB] = [glibcScope(a.dest, p), glibcScope(b.dest, p)];
  const known = !!a.src; // both or neither, after rule 1
  const rules = [
    () => prefer(scopeA === glibcScope(a.src!, p), scopeB === glibcScope(b.src!, p)),
    () => prefer(!a.deprecated, !b.deprecated),
    () => prefer(a.home, b.home),
    () => prefer(lookup(p.labels, a.dest) === lookup(p.labels, a.src!), lookup(p.labels, b.dest) === lookup(p.labels, b.src!)),
  ];
  for (const rule of known ? rules : []) if (rule()) return rule();
  const prec = lookup(p.precedence, b.dest) - lookup(p.precedence, a.dest);
  if (prec) return Math.sign(prec);
  if (known && a.dev !== b.dev && prefer(a.native, b.native)) return prefer(a.native, b.native);
  if (scopeA !== scopeB) return scopeA < scopeB ? -1 : 1;
  return known ? glibcPrefixRule(a, b) : 0;
}

/** stdlib/msort.c msort_with_tmp: halves, first half wins unless cmp > 0 */
function mergeSort<T>(items: T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return items;
  const half = items.length >> 1;
  const [left, right] = [mergeSort(items.slice(0, half), cmp), mergeSort(items.slice(half), cmp)];
  const out: T[] = [];
  while (left.length && right.length) out.push(cmp(left[0]!, right[0]!) <= 0 ? left.shift()! : right.shift()!);
  return [...out, ...left, ...right];
}

/**
 * glibc 2.36 getaddrinfo's order. `dests` as the lookup found them (one per address); `policy`
 * from parseGaiConf (default: no /etc/gai.conf, or Debian's commented-out one).
 */
export function sortGlibc(dests: readonly string[], host: SortHost, policy: GaiPolicy = GLIBC_DEFAULT_POLICY): string[] {
  if (dests.length < 2) return [...dests];
  const facts = dests.map((d, index) => ({ d, index, f: glibcFacts(d, host) }));
  return mergeSort(facts, (a, b) => glibcCompare(a.f, b.f, policy) || (a.index < b.index ? -1 : 1)).map((x) => x.d);
}

// ---- musl 1.2.3 -----------------------------------------------------------------------------

/** defpolicy (lookup_name.c), longest prefix first */
const MUSL_POLICY: PolicyRow[] = [row('::1', 128, 50, 0), row('::ffff:0:0', 96, 35, 4), row('2001::', 32, 5, 5), row('2002::', 16, 30, 2), row('fc00::', 7, 3, 13), row('::', 0, 40, 1)];

const DAS_USABLE = 0x40000000;
const DAS_MATCHINGSCOPE = 0x20000000;
const DAS_MATCHINGLABEL = 0x10000000;

/** the sort key of the i-th result */
function muslKey(text: string, i: number, host: SortHost): number {
  const d16 = as16(bytesOf(text)!);
  const policy = classify(MUSL_POLICY, d16);
  const scope = scopeV6(d16);
  const srcText = host.sourceOf(text);
  const src = srcText === null ? undefined : bytesOf(srcText);
  let key = (policy.precedence << 20) | ((15 - scope) << 16) | (48 - i);
  if (src) {
    const s16 = as16(src);
    key |= DAS_USABLE | (scopeV6(s16) === scope ? DAS_MATCHINGSCOPE : 0) | (classify(MUSL_POLICY, s16).label === policy.label ? DAS_MATCHINGLABEL : 0);
    key |= commonPrefix(s16, d16) << 8;
  }
  return key;
}

/** musl 1.2.3 getaddrinfo's order (`family` as asked: AF_INET results are never sorted). */
export function sortMusl(dests: readonly string[], family: Family, host: SortHost): string[] {
  if (dests.length < 2 || family === 'inet' || dests.every((d) => bytesOf(d)?.length === 4)) return [...dests];
  const keyed = dests.map((d, i) => ({ d, key: muslKey(d, i, host) }));
  return keyed.sort((a, b) => b.key - a.key).map((x) => x.d);
}

// ---- Go 1.19 --------------------------------------------------------------------------------


/** Go's IP: To4() when it has one (a mapped IPv6 address is IPv4) */
const goIP = (text: string): Bytes => {
  const b = bytesOf(text)!;
  return v4MappedBytes(b) ?? b;
};

/** classifyScope */
function goScope(ip: Bytes): number {
  if (ip.length === 4) return ip[0] === 127 || (ip[0] === 169 && ip[1] === 254) ? 2 : 14;
  return scopeV6(ip); // ::1 and fe80::/10 link-local, multicast by its nibble, fec0::/10 site-local
}

interface GoAttr {
  ip: Bytes;
  scope: number;
  precedence: number;
  label: number;
}

const goAttr = (ip: Bytes): GoAttr => ({ ip, scope: goScope(ip), ...classify(RFC6724_POLICY, as16(ip)) });

/** byRFC6724.Less: DA strictly better than DB */
function goLess(a: { dst: GoAttr; src: GoAttr | undefined }, b: { dst: GoAttr; src: GoAttr | undefined }): boolean {
  if (!a.src || !b.src) return !!a.src;
  const [sa, sb] = [a.src, b.src];
  const rules = [prefer(a.dst.scope === sa.scope, b.dst.scope === sb.scope), prefer(sa.label === a.dst.label, sb.label === b.dst.label), Math.sign(b.dst.precedence - a.dst.precedence), Math.sign(a.dst.scope - b.dst.scope)];
  const decided = rules.find((r) => r !== 0);
  if (decided !== undefined) return decided < 0;
  if (a.dst.ip.length !== 16 || b.dst.ip.length !== 16) return false;
  const cpl = (dst: Bytes, src: Bytes) => (src.length === 16 ? commonPrefix(src, dst, 8) : 0);
  return cpl(a.dst.ip, sa.ip) > cpl(b.dst.ip, sb.ip);
}

/** sort.Stable (Go 1.19): insertion sort of 20-element blocks, then SymMerge rounds */
function goStable<T>(v: T[], less: (a: T, b: T) => boolean): T[] {
  const lessAt = (i: number, j: number) => less(v[i]!, v[j]!);
  const swap = (i: number, j: number) => ([v[i], v[j]] = [v[j]!, v[i]!]);
  const insertion = (a: number, b: number) => {
    for (let i = a + 1; i < b; i++) for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
  };
  const reverse = (a: number, b: number) => v.splice(a, b - a, ...v.slice(a, b).reverse());
  const rotate = (a: number, m: number, b: number) => (reverse(a, m), reverse(m, b), reverse(a, b)); // same result as Go's swapRange rotation
  const search = (lo: number, hi: number, goRight: (h: number) => boolean) => {
    while (lo < hi) {
      const h = (lo + hi) >>> 1;
      if (goRight(h)) lo = h + 1;
      else hi = h;
    }
    return lo;
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      const i = search(m, b, (h) => lessAt(h, a));
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      const i = search(a, m, (h) => !lessAt(m, h));
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const n = mid + m;
    const [lo, hi] = m > mid ? [n - b, mid] : [a, m];
    const start = search(lo, hi, (c) => !lessAt(n - 1 - c, c));
    const end = n - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };
  const n = v.length;
  let block = 20;
  for (let a = 0; a < n; a += block) insertion(a, Math.min(a + block, n));
  for (; block < n; block *= 2) {
    let a = 0;
    for (; a + 2 * block <= n; a += 2 * block) symMerge(a, a + block, a + 2 * block);
    if (a + block < n) symMerge(a, a + block, n);
  }
  return v;
}

/** Go 1.19 sortByRFC6724: the order net.LookupIP returns (pure Go resolver). */
export function sortGo(dests: readonly string[], host: SortHost): string[] {
  if (dests.length < 2) return [...dests];
  const items = dests.map((d) => {
    const srcText = host.sourceOf(d);
    return { d, dst: goAttr(goIP(d)), src: srcText === null ? undefined : goAttr(goIP(srcText)) };
  });
  return goStable(items, goLess).map((x) => x.d);
}

// ---- eventlet 0.33.1 ------------------------------------------------------------------------

/** greendns getaddrinfo (AF_UNSPEC): the AAAA answers, then the A answers, nothing sorted. */
export function eventletOrder(aaaa: readonly string[], a: readonly string[]): string[] {
  return [...aaaa, ...a];
}
