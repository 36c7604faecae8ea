// Which resolver a Go program uses for host lookups: Go's own, or the C library's getaddrinfo
// through cgo. Rules of Go 1.19 (Debian 12's golang-go), src/net/conf.go initConfVal and
// hostLookupOrder, src/net/dnsconfig_unix.go (what makes resolv.conf "unknown" to Go) and
// src/net/nss.go. PURE.
import { parseNssHosts } from '../../resolvers/core/nsswitch.js';

export interface GoResolverInput {
  /** built with cgo (CGO_ENABLED=1): the C library is there to fall back to */
  cgo: boolean;
  /** built with the netgo tag: Go's resolver always */
  netgo: boolean;
  /** the process's environment (GODEBUG, RES_OPTIONS, HOSTALIASES, LOCALDOMAIN) */
  env: Record<string, string>;
  resolvConf: string;
  nsswitch: string | undefined;
}

export interface GoResolverChoice {
  /** 'go' always, 'cgo' always, or 'go' with the C library for some names */
  resolver: 'go' | 'cgo';
  /** why, one clause each */
  why: string[];
  /** names that still go to the C library when resolver is 'go' and cgo is there */
  cgoFor: string[];
}

/** GODEBUG=netdns=go|cgo[+N] (or N+go): the mode part. */
export function goDebugNetdns(godebug: string | undefined): 'go' | 'cgo' | undefined {
  const value = godebug?.split(',').map((kv) => kv.trim()).find((kv) => kv.startsWith('netdns='))?.slice('netdns='.length);
  const mode = value?.split('+').find((p) => p !== '' && !/^\d/.test(p));
  return mode === 'go' || mode === 'cgo' ? mode : undefined;
}

/**
 * The resolv.conf keywords and options Go 1.19 understands (dnsconfig_unix.go); anything else hands
 * lookups to cgo. Later Go reads more (edns0, trust-ad, no-reload: 1.20/1.21); 1.19 does not.
 */
const GO_OPTIONS = [/^ndots:/, /^timeout:/, /^attempts:/, /^rotate$/, /^single-request(-reopen)?$/, /^use-vc$/, /^usevc$/, /^tcp$/];
const GO_KEYWORDS = new Set(['nameserver', 'domain', 'search', 'options', 'lookup']);

/** What in resolv.conf Go does not understand (its conf.resolv.unknownOpt). */
export function goUnknownResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(';') || line.startsWith('#')) continue;
    const f = line.split(/[ \t\r]+/).filter(Boolean);
    if (f.length === 0) continue;
    if (!GO_KEYWORDS.has(f[0]!)) out.push(`"${f[0]}" line`);
    else if (f[0] === 'options') for (const o of f.slice(1)) if (!GO_OPTIONS.some((re) => re.test(o))) out.push(`option ${o}`);
  }
  return out;
}

/** nsswitch.conf hosts sources Go cannot handle itself (anything but files/dns with default actions, mdns*, myhostname). */
function goUnknownNss(nsswitch: string | undefined): { unknown: string[]; myhostname: boolean } {
  const sources = parseNssHosts(nsswitch, () => {});
  const unknown: string[] = [];
  let myhostname = false;
  for (const s of sources) {
    if (s.name === 'myhostname') myhostname = true;
    else if (s.name === 'files' || s.name === 'dns') {
      // nss.go standardStatusAction: no negation, the default action — or "return" on the last criterion
      const odd = s.criteria.find((c, i) => c.negate || (c.action !== (c.status === 'SUCCESS' ? 'return' : 'continue') && !(i === s.criteria.length - 1 && c.action === 'return')));
      if (odd) unknown.push(`${s.name} [${odd.negate ? '!' : ''}${odd.status}=${odd.action}]`);
    } else if (!s.name.startsWith('mdns')) unknown.push(s.name);
  }
  return { unknown, myhostname };
}

export function goResolver(i: GoResolverInput): GoResolverChoice {
  const debug = goDebugNetdns(i.env.GODEBUG);
  if (!i.cgo) return { resolver: 'go', why: ['built without cgo (CGO_ENABLED=0): Go\'s own resolver, always'], cgoFor: [] };
  if (i.netgo) return { resolver: 'go', why: ['built with the netgo tag: Go\'s own resolver, always'], cgoFor: [] };
  if (debug === 'go') return { resolver: 'go', why: ['GODEBUG=netdns=go'], cgoFor: [] };
  if (debug === 'cgo') return { resolver: 'cgo', why: ['GODEBUG=netdns=cgo'], cgoFor: [] };
  const forced = [
    ...(i.env.RES_OPTIONS ? [`RES_OPTIONS is set`] : []),
    ...(i.env.HOSTALIASES ? [`HOSTALIASES is set`] : []),
    ...('LOCALDOMAIN' in i.env ? [`LOCALDOMAIN is set`] : []),
    ...goUnknownResolvConf(i.resolvConf).map((u) => `resolv.conf has ${u}, which Go does not understand`),
  ];
  const nss = goUnknownNss(i.nsswitch);
  forced.push(...nss.unknown.map((u) => `nsswitch.conf hosts: ${u}`));
  if (forced.length > 0) return { resolver: 'cgo', why: forced, cgoFor: [] };
  return {
    resolver: 'go',
    why: ['built with cgo, and nothing in its environment, resolv.conf or nsswitch.conf makes Go hand lookups to the C library'],
    cgoFor: ['names ending in .local', 'names with "\\" or "%"', ...(nss.myhostname ? ['localhost, gateway and its own hostname (nsswitch myhostname)'] : [])],
  };
}
