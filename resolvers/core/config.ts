// resolv.conf as each library reads it. One parser; what differs between libraries is data
// (LIBRARY_RULES). Pure. Each rule cites the library source it mirrors (see docs/resolvers.md).
import { addressText, canonicalWithZone, inetAtonExact, isIPv4, isIPv6 } from './address.js';

export interface ResolverConfig {
  /** the servers the library will actually use (after its limit) */
  nameservers: string[];
  /** nameserver lines beyond the library's limit: parsed, never used */
  ignoredNameservers: string[];
  search: string[];
  ndots: number;
  /** seconds */
  timeout: number;
  attempts: number;
  /** options the library understands, as written (rotate, single-request, use-vc, ...) */
  flags: Set<string>;
}

type OptionMatch = 'glibc-prefix' | 'musl-substring' | 'exact';

export interface LibraryRules {
  library: string;
  maxNameservers: number;
  /** how `options` tokens are recognised */
  optionMatch: OptionMatch;
  caps: { ndots: number; timeout: number; attempts: number };
  defaults: { ndots: number; timeout: number; attempts: number };
  /** flag options the library implements; others are ignored silently */
  flags: readonly string[];
  /** lines longer than this are skipped whole (musl reads into a 256-byte buffer) */
  maxLineLength: number | undefined;
  /** no nameserver line → this server */
  fallbackNameserver: string | undefined;
}

export const LIBRARY_RULES = {
  // glibc 2.36 resolv/res_init.c: res_vinit_1, res_setoptions; MAXNS 3; RES_MAXNDOTS 15,
  // RES_MAXRETRANS 30, RES_MAXRETRY 5; options matched by prefix.
  glibc: {
    library: 'glibc',
    maxNameservers: 3,
    optionMatch: 'glibc-prefix',
    caps: { ndots: 15, timeout: 30, attempts: 5 },
    defaults: { ndots: 1, timeout: 5, attempts: 2 },
    flags: ['rotate', 'edns0', 'single-request-reopen', 'single-request', 'no-tld-query', 'no_tld_query', 'no-reload', 'use-vc', 'trust-ad', 'no-aaaa'],
    maxLineLength: undefined,
    fallbackNameserver: '127.0.0.1',
  },
  // musl 1.2.3 src/network/resolvconf.c: __get_resolv_conf (strstr for ndots:/attempts:/timeout:).
  musl: {
    library: 'musl',
    maxNameservers: 3,
    optionMatch: 'musl-substring',
    caps: { ndots: 15, timeout: 60, attempts: 10 },
    defaults: { ndots: 1, timeout: 5, attempts: 2 },
    flags: [],
    maxLineLength: 255,
    fallbackNameserver: '127.0.0.1',
  },
  // dnspython 2.3.0 dns/resolver.py: read_resolv_conf (no server limit; attempts ignored; timeout
  // replaces the per-try timeout).
  dnspython: {
    library: 'dnspython',
    maxNameservers: Infinity,
    optionMatch: 'exact',
    caps: { ndots: Infinity, timeout: Infinity, attempts: Infinity },
    defaults: { ndots: 1, timeout: 2, attempts: 1 },
    flags: ['rotate', 'edns0'],
    maxLineLength: undefined,
    fallbackNameserver: undefined,
  },
} as const satisfies Record<string, LibraryRules>;


/** Parses `options` tokens into cfg according to the library's matching rule. */
export function applyOptions(cfg: ResolverConfig, tokens: string[], rules: LibraryRules, warn: (m: string) => void, where: string): void {
  const num = (v: string | undefined) => (v !== undefined && /^\d+/.test(v) ? parseInt(v, 10) : undefined);
  if (rules.optionMatch === 'musl-substring') {
    // musl searches the whole line for each key once: "ndots:" anywhere counts.
    const line = tokens.join(' ');
    for (const key of ['ndots', 'attempts', 'timeout'] as const) {
      const at = line.indexOf(`${key}:`);
      if (at < 0) continue;
      const v = num(line.slice(at + key.length + 1));
      if (v !== undefined) cfg[key] = Math.min(v, rules.caps[key]);
    }
    return;
  }
  for (const tok of tokens) {
    const numeric = (['ndots', 'timeout', 'attempts'] as const).find((k) =>
      rules.optionMatch === 'glibc-prefix' ? tok.startsWith(`${k}:`) : tok.startsWith(`${k}:`) && /^\w+:\d+$/.test(tok),
    );
    if (numeric) {
      // glibc uses atoi (junk after the digits ignored, no digits = 0); dnspython int() fails on junk.
      const raw = tok.slice(numeric.length + 1);
      const v = rules.optionMatch === 'glibc-prefix' ? (num(raw) ?? 0) : num(raw);
      if (v === undefined) {
        warn(`${where}: option "${tok}" is not a number; ${rules.library} ignores it`);
        continue;
      }
      if (rules.library === 'dnspython' && numeric === 'attempts') continue; // read, then never used
      cfg[numeric] = Math.min(v, rules.caps[numeric]);
      continue;
    }
    const flag = rules.optionMatch === 'glibc-prefix' ? rules.flags.find((f) => tok.startsWith(f)) : rules.flags.find((f) => f === tok);
    if (flag) cfg.flags.add(flag === 'no_tld_query' ? 'no-tld-query' : flag);
    else warn(`${where}: option "${tok}" is not understood by ${rules.library}; it is ignored`);
  }
}

/**
 * A nameserver line's address, IPv4 as a plain dotted quad. glibc (res_init.c, __inet_aton_exact)
 * and musl (resolvconf.c, __lookup_ipliteral) take the inet_aton forms: "10.1" is 10.0.0.1 and
 * "010.0.0.1" is 8.0.0.1. dnspython (dns.inet.is_address) takes only a strict dotted quad.
 * IPv6 in RFC 5952 text (the address module's canonical form), its %scope kept as written: the
 * libraries keep the address as bytes and compare a reply's source by value, a driver compares
 * the kernel-given source text — "FD00:0:0:0:0:0:0:0053" would never match "fd00::53".
 */
function nameserverAddress(text: string, rules: LibraryRules): string | undefined {
  if (isIPv6(text)) return canonicalWithZone(text);
  if (rules.library === 'dnspython') return isIPv4(text) ? text : undefined;
  const v4 = inetAtonExact(text);
  return v4 && addressText(v4);
}

export function parseResolverConfig(text: string, rules: LibraryRules, warn: (m: string) => void): ResolverConfig {
  const cfg: ResolverConfig = {
    nameservers: [],
    ignoredNameservers: [],
    search: [],
    ...rules.defaults,
    flags: new Set(),
  };
  const all: string[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const raw = rawLine.replace(/\r$/, '');
    const where = `resolv.conf line ${i + 1}`;
    if (rules.maxLineLength !== undefined && raw.length > rules.maxLineLength) {
      warn(`${where}: longer than ${rules.maxLineLength} characters; ${rules.library} skips the whole line`);
      return;
    }
    if (/^\s*[#;]/.test(raw) || raw.trim() === '') return;
    const m = /^(\w+)[ \t]+(.*)$/.exec(raw);
    if (!m) {
      warn(`${where}: "${raw.trim()}" is not "keyword value"; ${rules.library} skips it`);
      return;
    }
    const [, keyword, rest] = m as unknown as [string, string, string];
    const args = rest.replace(/[#;].*$/, '').trim().split(/[ \t]+/).filter(Boolean);
    switch (keyword) {
      case 'nameserver': {
        const addr = nameserverAddress(args[0] ?? '', rules);
        if (addr !== undefined) all.push(addr);
        else warn(`${where}: nameserver "${args[0] ?? ''}" is not an IP address; ${rules.library} skips it`);
        break;
      }
      case 'domain':
        cfg.search = args.slice(0, 1);
        break;
      case 'search':
        cfg.search = rules.library === 'musl' ? [rest.trim()].flatMap((s) => s.split(/[ \t]+/)) : args;
        break;
      case 'options':
        applyOptions(cfg, args, rules, warn, where);
        break;
      case 'sortlist':
      case 'lookup':
      case 'family':
        break;
      default:
        warn(`${where}: unknown keyword "${keyword}"; ${rules.library} ignores it`);
    }
  });
  cfg.nameservers = all.slice(0, rules.maxNameservers);
  cfg.ignoredNameservers = all.slice(rules.maxNameservers);
  if (cfg.ignoredNameservers.length > 0) {
    warn(`${cfg.ignoredNameservers.length} nameserver(s) beyond the first ${rules.maxNameservers} are ignored by ${rules.library}: ${cfg.ignoredNameservers.join(', ')}`);
  }
  if (cfg.nameservers.length === 0 && rules.fallbackNameserver) cfg.nameservers = [rules.fallbackNameserver];
  cfg.search = cfg.search.map((d) => d.replace(/\.$/, '')).filter((d, i, a) => d !== '' || a.length === 1);
  return cfg;
}

/** Go's view of resolv.conf: the shared fields, its flags, and what makes it hand lookups to cgo. */
export interface GoResolverConfig extends ResolverConfig {
  /** options or keywords Go does not know: each sends the lookup to cgo (conf.go hostLookupOrder) */
  unknown: string[];
}

/**
 * Go 1.19 net/dnsconfig_unix.go dnsReadConfig: its own grammar, not the C library's — a comment
 * only at the start of a line (`options ndots:2 # x` makes "#" and "x" unknown options), the first
 * 3 nameservers that are strict IP literals (no inet_aton forms, a %zone allowed), `domain` and
 * `search` last wins, ndots 0..15, timeout and attempts at least 1 (dtoi: leading digits, none =
 * 0), rotate, single-request and single-request-reopen (one flag: no reopen in Go), use-vc/usevc/
 * tcp; any other option or keyword is remembered as unknown. No nameserver → 127.0.0.1 and ::1;
 * no search → the domain of the hostname (dnsDefaultSearch).
 */
/** parse.go dtoi: the leading decimal digits (none = 0), saturating at big = 0xFFFFFF. */
function goDtoi(s: string): number {
  let n = 0;
  for (const c of s) {
    if (c < '0' || c > '9') break;
    n = n * 10 + (c.charCodeAt(0) - 48);
    if (n >= 0xffffff) return 0xffffff;
  }
  return n;
}

export function parseGoConfig(text: string, hostname: string): GoResolverConfig {
  const cfg: GoResolverConfig = { nameservers: [], ignoredNameservers: [], search: [], ndots: 1, timeout: 5, attempts: 2, flags: new Set(), unknown: [] };
  const dtoi = goDtoi;
  for (const line of text.split('\n')) {
    if (line.startsWith(';') || line.startsWith('#')) continue;
    // getFields: split at " \r\t\n" only (a form feed is part of a field)
    const [keyword, ...f] = line.split(/[ \t\r\n]+/).filter(Boolean);
    if (keyword === undefined) continue;
    switch (keyword) {
      case 'nameserver': {
        const addr = f[0] !== undefined && (isIPv4(f[0]) || isIPv6(f[0])) ? canonicalWithZone(f[0]) : undefined;
        if (addr !== undefined) (cfg.nameservers.length < 3 ? cfg.nameservers : cfg.ignoredNameservers).push(addr);
        break;
      }
      case 'domain':
        if (f[0] !== undefined) cfg.search = [f[0]];
        break;
      case 'search':
        cfg.search = f;
        break;
      case 'options':
        for (const s of f) {
          if (s.startsWith('ndots:')) cfg.ndots = Math.min(15, dtoi(s.slice(6)));
          else if (s.startsWith('timeout:')) cfg.timeout = Math.max(1, dtoi(s.slice(8)));
          else if (s.startsWith('attempts:')) cfg.attempts = Math.max(1, dtoi(s.slice(9)));
          else if (s === 'rotate') cfg.flags.add('rotate');
          else if (s === 'single-request' || s === 'single-request-reopen') cfg.flags.add('single-request');
          else if (s === 'use-vc' || s === 'usevc' || s === 'tcp') cfg.flags.add('use-vc');
          else cfg.unknown.push(`option ${s}`);
        }
        break;
      case 'lookup': // OpenBSD's keyword: read, used only there
        break;
      default:
        cfg.unknown.push(`a "${keyword}" line`);
    }
  }
  if (cfg.nameservers.length === 0) cfg.nameservers = ['127.0.0.1', '::1'];
  if (cfg.search.length === 0) {
    const dot = hostname.indexOf('.');
    if (dot >= 0 && dot < hostname.length - 1) cfg.search = [hostname.slice(dot + 1)];
  }
  cfg.search = cfg.search.map((d) => d.replace(/\.$/, ''));
  return cfg;
}
