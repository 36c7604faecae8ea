// The fidelity matrix as data. Each scenario is run with the REAL library (test/fidelity/ref/*)
// and with tsnet's emulator of it, on the same topology against the same fake servers
// (test/fidelity/run.ts), and once more on the simulated network.
//
// Placeholders: `{ns1}`..`{ns9}` in resolvConf stand for the lane's server addresses
// 10.X.Y.1..9, `{ns1v6}`..`{ns9v6}` for its IPv6 ones (a ULA /64 per lane); `servers` keys are the
// same slots ("1", "1v6"). A slot used in resolv.conf must be listed in `servers` (an address
// nothing listens on would be "closed" on the real network but "blackhole" in the simulation).
//
// `doc` records what /work/shared/docs/resolver-behavior.md claims for this exact setup
// ([lab] = measured there, [derived] = computed from the doc's rules for our options). The suite
// checks the real library against these claims; where they disagree, the real library wins and
// the disagreement is reported (it is not a test failure).
import type { Family } from '../../resolvers/core/types.js';

/**
 * go: a Go 1.19 program (test/fidelity/ref/go_lookup.go) built with CGO_ENABLED=0 — Go's own
 * resolver, always. go-cgo: the same program built with CGO_ENABLED=1 — Go's own resolver unless
 * something sends the lookup to getaddrinfo (an option Go does not know in resolv.conf, RES_OPTIONS,
 * LOCALDOMAIN, an nsswitch.conf source other than files/dns/mdns*, a .local name...; net/conf.go).
 * Both are emulated by `--mode go`, which decides that fallback from the same files.
 */
export const LIBRARIES = ['glibc', 'musl', 'eventlet', 'eventlet-nogreendns', 'go', 'go-cgo', 'node'] as const;
export type Library = (typeof LIBRARIES)[number];

export interface DocClaim {
  /** null = success */
  error?: string | null;
  /** the address set, when the doc says which family comes back */
  addresses?: string[];
  /** elapsed time of each lookup (index = lookup), ms */
  elapsedMs?: number[];
  /** number of queries the servers see (all lookups together) */
  queries?: number;
  /** where the claim comes from */
  source: string;
}

export interface FidelityScenario {
  id: string;
  description: string;
  /** resolv.conf text with {ns1}..{ns9} placeholders */
  resolvConf: string;
  hosts: string;
  /** nsswitch.conf text; default "hosts: files dns" (Debian 12's line) */
  nsswitch?: string;
  /** /etc/gai.conf text (glibc's sorting tables); default: comments only */
  gaiConf?: string;
  /** environment of the resolving process (RES_OPTIONS, LOCALDOMAIN, ...) */
  env?: Record<string, string>;
  /** slot ("1".."9") → `tsnet fake-dns` behaviour */
  servers: Record<string, string>;
  /** zone entries NAME=TYPE:VALUE */
  zone: string[];
  name: string;
  family: Family;
  canonname: boolean;
  /** lookups in one process (rounds, with `concurrency`) */
  repeat: number;
  /** lookups called at once in each round (Node's dns.lookup burst); default 1 */
  concurrency?: number;
  libraries: Library[];
  /** glibc `options rotate`: compare the rotation pattern, not the (random) first server */
  rotate?: boolean;
  /**
   * A scenario about a timing margin of the library's own loop (musl-overshoot-7): its claim holds
   * for a library whose wake-ups are on time. When the real library's resends of `qtype` ran late
   * by `lateMs` or more (read off its wire: the last resend against on-time wake-ups every
   * `intervalMs` plus poll's 0.1 % slack), the real run left that premise and a mismatch is
   * reported as inconclusive, with the lateness — never as a pass.
   */
  clockMargin?: { qtype: string; intervalMs: number; lateMs: number };
  doc?: Partial<Record<Library, DocClaim>>;
}

export const DEFAULT_NSSWITCH = 'hosts: files dns\n';
/** Debian 12's /etc/gai.conf has only comments: glibc's built-in tables */
export const DEFAULT_GAI_CONF = '# Debian 12: every line commented out\n';
const HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';
const V4 = '10.50.0.5';
const V6 = 'fd00:50::5';
const DB = 'db.fy.test';
const ZONE = [`${DB}=A:${V4}`, `${DB}=AAAA:${V6}`];
const ALL: Library[] = ['glibc', 'musl', 'eventlet', 'eventlet-nogreendns'];
const GLIBC_LIKE: Library[] = ['glibc', 'eventlet-nogreendns'];
/** Go without and with cgo (see LIBRARIES); listed per scenario, not in ALL (yet). */
export const GO: Library[] = ['go', 'go-cgo'];
const BOTH = [V4, V6];

/** The same claim for glibc and for eventlet with EVENTLET_NO_GREENDNS=yes (it calls glibc). */
const glibcClaims = (c: DocClaim): Partial<Record<Library, DocClaim>> => ({
  glibc: c,
  'eventlet-nogreendns': { ...c, source: `${c.source}; EVENTLET_NO_GREENDNS=yes uses the C library (§3.1)` },
});

export const SCENARIOS: FidelityScenario[] = [
  {
    id: 'healthy',
    description: 'one nameserver that answers A and AAAA',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'answer' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: [...ALL, ...GO, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [0], queries: 2, source: '§1.2: one A+AAAA round [derived]' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [0], queries: 2, source: '§2.2 [derived]' },
      eventlet: { error: null, addresses: BOTH, elapsedMs: [0], queries: 2, source: '§3.2: AAAA then A [derived]' },
    },
  },
  {
    id: 'first-blackholed',
    description: 'two nameservers, the first drops everything; defaults (timeout:5 attempts:2)',
    resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'blackhole', 2: 'answer' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [5000], source: '§7 #1 [lab 5.06 s]' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [0], source: '§7 #1 [lab 0.03 s]' },
      eventlet: { error: null, addresses: BOTH, elapsedMs: [4000], source: '§7 #1, §3.4 [lab 4.01 s]' },
    },
  },
  {
    id: 'first-blackholed-t1a1',
    description: 'two nameservers, the first drops everything; options timeout:1 attempts:1',
    resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nsearch fy.test\noptions timeout:1 attempts:1\n',
    hosts: HOSTS,
    servers: { 1: 'blackhole', 2: 'answer' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: [...ALL, ...GO, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [1000], source: '§1.3: wait retrans<<0 = 1 s on ns1, then ns2 [derived]' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [0], source: '§2.3: all servers at once [derived]' },
      eventlet: { error: null, addresses: BOTH, elapsedMs: [2000], source: '§3.3/3.4: 1 s per try, AAAA then A [derived]' },
    },
  },
  {
    id: 'first-blackholed-t5',
    description: 'two nameservers, the first drops everything; options timeout:5 (eventlet: the per-try timeout eats the 5 s lifetime)',
    resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nsearch fy.test\noptions timeout:5\n',
    hosts: HOSTS,
    servers: { 1: 'blackhole', 2: 'answer' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ['eventlet'],
    doc: {
      eventlet: { error: 'EAI_AGAIN', elapsedMs: [10000], queries: 2, source: '§3.4, §7 #1b [lab 10.01 s, only ns1 ever saw a packet]' },
    },
  },
  {
    id: 'first-closed',
    description: 'two nameservers, nothing listens on the first (ICMP port unreachable); defaults',
    resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'closed', 2: 'answer' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: [...ALL, ...GO, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [0], source: '§7 #2 [lab ~0]' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [0], source: '§7 #2 [lab ~0]' },
      eventlet: { error: null, addresses: BOTH, elapsedMs: [4000], source: '§7 #2 [lab 4.03 s]' },
    },
  },
  {
    id: 'first-servfail',
    description:
      'two nameservers, the first answers SERVFAIL to everything, the second answers 30 ms late (else the number of musl\'s immediate SERVFAIL resends depends on a race with the answer: 6 or 8 queries)',
    resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'servfail', 2: 'delay:30' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: [...ALL, ...GO, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [30], queries: 4, source: '§1.5: SERVFAIL -> next server at once' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [30], queries: 8, source: '§2.3: 2 + up to 2 x nqueries = 4 immediate resends to ns1, 2 to ns2 [derived]' },
      eventlet: { error: null, addresses: BOTH, elapsedMs: [60], queries: 4, source: '§3.3: SERVFAIL drops the server, next at once; AAAA then A [derived]' },
    },
  },
  {
    id: 'first-refused',
    description: 'two nameservers, the first answers REFUSED to everything',
    resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'refused', 2: 'answer' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [0], source: '§1.5: REFUSED -> next server at once' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [0], source: '§2.3: REFUSED ignored, ns2 answers [derived]' },
      eventlet: { error: null, addresses: BOTH, elapsedMs: [0], source: '§3.3: REFUSED drops the server, next at once' },
    },
  },
  {
    id: 'only-refused',
    description: 'the only nameserver answers REFUSED; options timeout:1',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'refused' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: 'EAI_AGAIN', elapsedMs: [0], source: '§7 #9 [lab 0.001 s]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§7 #9 (5 s at timeout:5 [lab]) -> timeout:1 [derived]' },
      eventlet: { error: 'EAI_NONAME', elapsedMs: [0], source: '§7 #9 [lab]' },
    },
  },
  {
    id: 'only-servfail',
    description: 'the only nameserver answers SERVFAIL; options timeout:1',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'servfail' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: [...ALL, ...GO],
    doc: {
      ...glibcClaims({ error: 'EAI_AGAIN', elapsedMs: [0], source: '§7 #10 [lab]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§7 #10 (5 s at timeout:5 [lab]) -> timeout:1 [derived]' },
      eventlet: { error: 'EAI_NONAME', elapsedMs: [0], source: '§7 #10 [lab]' },
    },
  },
  {
    id: 'refused-search',
    description: 'the only nameserver answers REFUSED; single-label name, two search domains (does REFUSED stop the search walk?); options timeout:1',
    resolvConf: 'nameserver {ns1}\nsearch a.fy.test b.fy.test\noptions timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'refused' },
    zone: ZONE,
    name: 'db',
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: 'EAI_AGAIN', queries: 8, source: '§1.2/1.5: REFUSED stops the walk after db.a.fy.test, then db as is; 2 attempts x A+AAAA each [derived; §8: not lab-tested]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§2.3: REFUSED ignored -> timeout; search stops [derived]' },
      eventlet: { error: 'EAI_NONAME', elapsedMs: [0], source: '§3.3: REFUSED drops the server -> NoNameservers -> EAI_NONAME [derived]' },
    },
  },
  {
    id: 'servfail-search',
    description: 'the only nameserver answers SERVFAIL; single-label name, two search domains (SERVFAIL continues the walk); options timeout:1',
    resolvConf: 'nameserver {ns1}\nsearch a.fy.test b.fy.test\noptions timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'servfail' },
    zone: ZONE,
    name: 'db',
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: 'EAI_AGAIN', queries: 12, source: '§1.2/1.5: SERVFAIL continues: db.a, db.b, db; 2 attempts x A+AAAA each [derived]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§2.3: SERVFAIL resent, no answer -> EAI_AGAIN at timeout; search stops [derived]' },
      eventlet: { error: 'EAI_NONAME', elapsedMs: [0], source: '§7 #10 [lab, one domain]' },
    },
  },
  {
    id: 'aaaa-drop-defaults',
    description: 'the nameserver answers A but drops AAAA; defaults (timeout:5 attempts:2)',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'drop-aaaa' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: null, addresses: [V4], elapsedMs: [15000], source: '§1.3, §7 #3 [lab 15.03 s]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [5000], source: '§7 #3 [lab 5.01 s]' },
      eventlet: { error: null, addresses: [V4], elapsedMs: [5400], source: '§7 #3 [lab 5.41 s]' },
    },
  },
  {
    id: 'aaaa-drop-t1',
    description: 'the nameserver answers A but drops AAAA; options timeout:1; two lookups in one process (glibc\'s fallback is sticky)',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'drop-aaaa' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 2,
    libraries: [...ALL, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: [V4], elapsedMs: [3000, 1000], source: '§1.3: 3 x timeout, then 1 x timeout in the same thread (15 s/5 s [lab]) [derived]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [1000, 1000], source: '§2.2/2.3: EAI_AGAIN at timeout [derived]' },
      eventlet: { error: null, addresses: [V4], source: '§3.6: that family times out, the other is returned' },
    },
  },
  // race-drop:100, not the default 5 ms: fake-dns sees a datagram when its event loop gets to it,
  // and on a loaded machine the second of a pair can be handled several ms after the first; the
  // window changes nothing else here (the only later packets of a flow are resends, >= 500 ms on).
  {
    id: 'race-drop-t1',
    description: "the conntrack race behind DNAT (Kubernetes' 5-second delays): of two packets sent together from one socket the second is lost; options timeout:1; three lookups in one process (glibc's fallback: single-request, then single-request-reopen)",
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'race-drop:100' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 3,
    libraries: [...ALL, ...GO, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [1000, 1000, 0], source: '§1.3: one reply then a timeout -> sticky single-request retry (5 s at timeout:5, kubernetes#56903); A then AAAA on one new socket collide again -> single-request-reopen [derived]' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [500, 500, 500], source: '§2.3: the unanswered AAAA is resent after timeout/attempts, a later packet of the flow; every lookup has a new socket [derived]' },
      eventlet: { error: null, addresses: BOTH, elapsedMs: [0, 0, 0], source: '§3: a socket per query, AAAA then A: never two packets of one flow at once [derived]' },
    },
  },
  {
    id: 'race-drop-single-request-reopen',
    description: 'the conntrack race, with options single-request-reopen timeout:1 (the fix for glibc: A and AAAA one after the other, each from its own socket)',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions single-request-reopen timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'race-drop:100' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ['glibc', 'musl', 'eventlet-nogreendns'],
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [0], source: '§1.3 flags: sequential, the second query from a new socket [derived]' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [500], source: '§2.1: option ignored [derived]' },
    },
  },
  {
    id: 'race-drop-use-vc',
    description: 'the conntrack race, with options use-vc timeout:1 (glibc over TCP: no UDP flow to race)',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions use-vc timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'race-drop:100' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ['glibc', 'musl', 'eventlet-nogreendns'],
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [0], source: '§1.3: use-vc sends over TCP [derived]' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [500], source: '§2.1: option ignored [derived]' },
    },
  },
  {
    id: 'aaaa-drop-single-request',
    description: 'the nameserver drops AAAA; options single-request timeout:1',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions single-request timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'drop-aaaa' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ['glibc', 'musl', 'eventlet-nogreendns', ...GO],
    doc: {
      ...glibcClaims({ error: null, addresses: [V4], elapsedMs: [2000], source: '§1.3: 2 x timeout with single-request (10 s at timeout:5 [lab s14]) [derived]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§2.1: option ignored; §2.2 EAI_AGAIN at timeout [derived]' },
    },
  },
  {
    id: 'aaaa-drop-single-request-reopen',
    description: 'the nameserver drops AAAA; options single-request-reopen timeout:1',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions single-request-reopen timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'drop-aaaa' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ['glibc', 'musl', 'eventlet-nogreendns'],
    doc: {
      ...glibcClaims({ error: null, addresses: [V4], source: '§1.3: the one reply is returned in the end' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§2.1: option ignored [derived]' },
    },
  },
  {
    id: 'aaaa-servfail',
    description: 'the nameserver answers A, SERVFAIL for AAAA; options timeout:1',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1\n',
    hosts: HOSTS,
    servers: { 1: 'servfail-aaaa' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: null, addresses: [V4], elapsedMs: [0], source: '§7 #11 [lab]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§7 #11 (5 s at timeout:5 [lab]) -> timeout:1 [derived]' },
      eventlet: { error: null, addresses: [V4], elapsedMs: [0], source: '§7 #11 [lab]' },
    },
  },
  {
    id: 'k8s-dotted',
    description: 'Kubernetes pod: 3 search domains, ndots:5; external name with two dots',
    resolvConf: 'nameserver {ns1}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    hosts: HOSTS,
    servers: { 1: 'answer' },
    zone: ['api.example.com=A:10.50.1.7', 'api.example.com=AAAA:fd00:50::1:7'],
    name: 'api.example.com',
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: [...ALL, ...GO, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: ['10.50.1.7', 'fd00:50::1:7'], queries: 8, source: '§7 #8: 4 rounds of A+AAAA [lab]' }),
      musl: { error: null, addresses: ['10.50.1.7', 'fd00:50::1:7'], queries: 8, source: '§7 #8 [lab]' },
      eventlet: { error: null, addresses: ['10.50.1.7', 'fd00:50::1:7'], source: '§7 #8: 4 AAAA + 1..4 A [lab]' },
    },
  },
  {
    id: 'k8s-trailing-dot',
    description: 'Kubernetes pod: 3 search domains, ndots:5; the name with a trailing dot',
    resolvConf: 'nameserver {ns1}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    hosts: HOSTS,
    servers: { 1: 'answer' },
    zone: ['api.example.com=A:10.50.1.7', 'api.example.com=AAAA:fd00:50::1:7'],
    name: 'api.example.com.',
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: null, addresses: ['10.50.1.7', 'fd00:50::1:7'], queries: 2, source: '§1.2: trailing dot -> as is only' }),
      musl: { error: null, addresses: ['10.50.1.7', 'fd00:50::1:7'], queries: 2, source: '§2.2: trailing dot -> no search' },
      eventlet: { error: null, addresses: ['10.50.1.7', 'fd00:50::1:7'], queries: 2, source: '§3.2: absolute name -> itself only [derived]' },
    },
  },
  {
    id: 'k8s-single-label',
    description: 'Kubernetes pod: 3 search domains, ndots:5; single-label name found in the second domain',
    resolvConf: 'nameserver {ns1}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    hosts: HOSTS,
    servers: { 1: 'answer' },
    zone: ['db.svc.cluster.local=A:10.96.0.10', 'db.svc.cluster.local=AAAA:fd00:96::10'],
    name: 'db',
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: null, addresses: ['10.96.0.10', 'fd00:96::10'], queries: 4, source: '§1.2: NXDOMAIN -> next domain [derived]' }),
      musl: { error: null, addresses: ['10.96.0.10', 'fd00:96::10'], queries: 4, source: '§2.2 [derived]' },
      eventlet: { error: null, addresses: ['10.96.0.10', 'fd00:96::10'], source: '§3.2: plus an extra query for "db." [derived]' },
    },
  },
  {
    id: 'nodata-first-search',
    description: 'single-label name: the first search domain has the name but no A/AAAA (NODATA), the second has addresses',
    resolvConf: 'nameserver {ns1}\nsearch a.fy.test b.fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'answer' },
    zone: ['db.a.fy.test=TXT:no-address-here', 'db.b.fy.test=A:10.50.2.9', 'db.b.fy.test=AAAA:fd00:50::2:9'],
    name: 'db',
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: [...ALL, ...GO, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: ['10.50.2.9', 'fd00:50::2:9'], source: '§7 #13 [lab]: continues to the next domain' }),
      musl: { error: 'EAI_NONAME', source: '§7 #13 [lab]' },
      eventlet: { error: 'EAI_NONAME', source: '§7 #13 [lab]' },
    },
  },
  {
    id: 'truncate-tcp',
    description: 'UDP replies carry TC=1 and no answers; TCP answers in full',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'truncate' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: [...ALL, ...GO, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [0], source: '§7 #12 [lab]: via TCP' }),
      musl: { error: 'EAI_NONAME', elapsedMs: [0], source: '§7 #12 [lab]: truncated reply used as is' },
      eventlet: { error: null, addresses: BOTH, elapsedMs: [0], source: '§7 #12 [lab]: via TCP' },
    },
  },
  {
    id: 'hosts-all-blackholed',
    description: 'the (single-label) name is in /etc/hosts, the only nameserver drops everything',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1 attempts:1\n',
    hosts: `${HOSTS}10.77.0.7\tdb\n`,
    servers: { 1: 'blackhole' },
    zone: ZONE,
    name: 'db',
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: null, addresses: ['10.77.0.7'], elapsedMs: [0], queries: 0, source: '§7 #7 [lab]' }),
      musl: { error: null, addresses: ['10.77.0.7'], elapsedMs: [0], queries: 0, source: '§7 #7 [lab]' },
      eventlet: { error: null, addresses: ['10.77.0.7'], elapsedMs: [0], queries: 0, source: '§7 #7 [lab]' },
    },
  },
  {
    id: 'hosts-all-blackholed-canon',
    description: 'as hosts-all-blackholed, with AI_CANONNAME (eventlet asks DNS for a CNAME anyway)',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1 attempts:1\n',
    hosts: `${HOSTS}10.77.0.7\tdb\n`,
    servers: { 1: 'blackhole' },
    zone: ZONE,
    name: 'db',
    family: 'any',
    canonname: true,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: null, addresses: ['10.77.0.7'], elapsedMs: [0], queries: 0, source: '§7 #7b [lab]' }),
      musl: { error: null, addresses: ['10.77.0.7'], elapsedMs: [0], queries: 0, source: '§7 #7b [lab]' },
      eventlet: { error: 'EAI_AGAIN', elapsedMs: [10800], source: '§3.2.5, §7 #7b [lab s05b 10.8 s]: 2 x lifetime (name + "name.")' },
    },
  },
  {
    id: 'all-blackholed-one',
    description: 'the only nameserver drops everything; dotted name, one search domain; options timeout:1 attempts:1',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1 attempts:1\n',
    hosts: HOSTS,
    servers: { 1: 'blackhole' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: 'EAI_AGAIN', elapsedMs: [2000], queries: 4, source: '§7 #4: as-is + first search domain (20 s at defaults [lab]) [derived]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§7 #4: timeout (5 s at defaults [lab]) [derived]' },
      eventlet: { error: 'EAI_AGAIN', elapsedMs: [10000], source: '§3.3: Σ over 2 families of min(5 s lifetime, time spent) = 10 s [derived]; §7 #4 measured ~10.8 s at defaults [lab]' },
    },
  },
  {
    id: 'all-blackholed-three',
    description: 'three nameservers, all drop everything; trailing-dot name; options timeout:2 attempts:1 (glibc waits 2/1/2 s by index)',
    resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nnameserver {ns3}\nsearch fy.test\noptions timeout:2 attempts:1\n',
    hosts: HOSTS,
    servers: { 1: 'blackhole', 2: 'blackhole', 3: 'blackhole' },
    zone: ZONE,
    name: `${DB}.`,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: 'EAI_AGAIN', elapsedMs: [5000], queries: 6, source: '§1.3: (2<<0) + (2<<1)/3 + (2<<2)/3 = 2+1+2 s [derived]' }),
      musl: { error: 'EAI_AGAIN', elapsedMs: [2000], queries: 6, source: '§2.3: one transmission per timeout/attempts, total budget = timeout [derived]' },
      eventlet: { error: 'EAI_AGAIN', elapsedMs: [10000], source: '§3.3: 2 families x 5 s lifetime [derived]' },
    },
  },
  {
    id: 'delay-1500',
    description: 'the only nameserver answers everything 1.5 s late; defaults',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'delay:1500' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [1500], queries: 2, source: '§1.3: parallel A+AAAA [derived]' }),
      musl: { error: null, addresses: BOTH, elapsedMs: [1500], queries: 2, source: '§2.3: parallel, before the 2.5 s resend [derived]' },
      eventlet: { error: null, addresses: BOTH, elapsedMs: [3000], queries: 2, source: '§3.2: AAAA then A, sequentially [derived]' },
    },
  },
  {
    id: 'nsswitch-dns-files',
    description: 'nsswitch "hosts: dns files"; the name is in /etc/hosts AND in DNS with another address',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\n',
    hosts: `${HOSTS}10.77.0.7\t${DB}\n`,
    nsswitch: 'hosts: dns files\n',
    servers: { 1: 'answer' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: [...ALL, ...GO, 'node'],
    doc: {
      ...glibcClaims({ error: null, addresses: BOTH, queries: 2, source: '§1.1: nsswitch order, dns first' }),
      musl: { error: null, addresses: ['10.77.0.7'], queries: 0, source: '§2.1: nsswitch.conf is not read' },
      eventlet: { error: null, addresses: ['10.77.0.7'], queries: 0, source: '§3.1: greendns ignores nsswitch.conf' },
    },
  },
  {
    id: 'rotate',
    description: 'options rotate over three answering nameservers; six lookups in one process',
    resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nnameserver {ns3}\nsearch fy.test\noptions rotate\n',
    hosts: HOSTS,
    servers: { 1: 'answer', 2: 'answer', 3: 'answer' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 6,
    libraries: GLIBC_LIKE,
    rotate: true,
    doc: glibcClaims({ error: null, addresses: BOTH, queries: 12, source: '§1.3: successive queries start at successive servers' }),
  },
  {
    id: 'attempts-0',
    description: 'options attempts:0 (musl divides by zero)',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions attempts:0\n',
    hosts: HOSTS,
    servers: { 1: 'answer' },
    zone: ZONE,
    name: DB,
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
    doc: {
      ...glibcClaims({ error: 'EAI_AGAIN', elapsedMs: [0], queries: 0, source: '§1.1, §7 #15 [lab s13]' }),
      musl: { error: 'SIGFPE', source: '§2.1, §7 #15 [lab s13]' },
      eventlet: { error: null, addresses: BOTH, source: '§3.1: attempts is ignored' },
    },
  },
  {
    id: 'numeric-shorthand',
    description: 'the name "10.1": inet_aton shorthand for 10.0.0.1, a literal to glibc (__inet_aton_exact) and musl (__inet_aton), no query; a name to dnspython (strict dotted quads only)',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'answer' },
    zone: ZONE,
    name: '10.1',
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
  },
  {
    id: 'numeric-octal',
    description: 'the name "010.0.0.1": a leading 0 is octal to inet_aton, so glibc and musl answer 8.0.0.1 with no query; dnspython refuses leading zeros and looks the name up',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'answer' },
    zone: ZONE,
    name: '010.0.0.1',
    family: 'any',
    canonname: false,
    repeat: 1,
    libraries: ALL,
  },
  {
    id: 'v4mapped-literal-inet',
    description: 'the IPv6 literal ::ffff:10.50.0.5 asked for AF_INET: glibc returns the IPv4 address inside it (eventlet hands literals to the C library), musl refuses the family',
    resolvConf: 'nameserver {ns1}\nsearch fy.test\n',
    hosts: HOSTS,
    servers: { 1: 'answer' },
    zone: ZONE,
    name: `::ffff:${V4}`,
    family: 'inet',
    canonname: false,
    repeat: 1,
    libraries: ALL,
  },
  ...wider(),
  ...goScenarios(),
  ...nodeScenarios(),
  ...orderScenarios(),
];

// ---------------------------------------------------------------------------------------------
// The wider matrix (issue 10, part 3). Real-library runs are kept short: timeout:1 attempts:1
// wherever the feature allows it. A row that leaves a library out says why in its description.

type WideSpec = Partial<FidelityScenario> & Pick<FidelityScenario, 'id' | 'description' | 'resolvConf' | 'name'>;

/** The defaults most wider rows share: one answering server, the db.fy.test zone, AF_UNSPEC. */
function wide(s: WideSpec): FidelityScenario {
  return { hosts: HOSTS, servers: { 1: 'answer' }, zone: ZONE, family: 'any', canonname: false, repeat: 1, libraries: ALL, ...s };
}

function wider(): FidelityScenario[] {
  const one = 'nameserver {ns1}\nsearch fy.test\n';
  const t1 = 'options timeout:1 attempts:1\n';
  const OTHER_V4 = '10.50.3.3';
  const OTHER_V6 = 'fd00:50::3:3';
  const CNAME_ZONE = [
    ...ZONE,
    'www.fy.test=CNAME:alias.fy.test',
    'alias.fy.test=CNAME:db.fy.test',
    'web.fy.test=CNAME:api.other.test',
    `api.other.test=A:${OTHER_V4}`,
    `api.other.test=AAAA:${OTHER_V6}`,
  ];
  const ndotsZone = [...ZONE, 'db=A:10.50.9.9'];
  const ndots = (n: number, name: string, trailing: boolean): FidelityScenario =>
    wide({
      id: `ndots-${n}${trailing ? '-trailing' : ''}`,
      description: `options ndots:${n}; the name "${name}"${trailing ? ' (trailing dot: only the name itself, everywhere)' : ''}; the zone has the single label "db" (A only) and db.fy.test`,
      resolvConf: `nameserver {ns1}\nsearch fy.test\noptions ndots:${n}\n`,
      zone: ndotsZone,
      name,
    });
  const searchList = (n: number): FidelityScenario => {
    const domains = 'abcdefg'.slice(0, n).split('').map((c) => `${c}.fy.test`);
    const last = domains.at(-1)!;
    return wide({
      id: n === 6 ? 'search-six' : 'search-seven',
      description: `a ${n}-domain search list, the single-label name found only in the last (${last})${n === 7 ? ' — one past glibc\'s old MAXDNSRCH of 6' : ''}`,
      resolvConf: `nameserver {ns1}\nsearch ${domains.join(' ')}\n`,
      zone: [`db.${last}=A:10.50.6.${n}`, `db.${last}=AAAA:fd00:50::6:${n}`],
      name: 'db',
      doc: {
        ...glibcClaims({ error: null, addresses: [`10.50.6.${n}`, `fd00:50::6:${n}`], queries: 2 * n, source: '§1.1: the search list is unbounded in 2.36; §1.2 NXDOMAIN -> next domain [derived]' }),
        musl: { error: null, addresses: [`10.50.6.${n}`, `fd00:50::6:${n}`], queries: 2 * n, source: '§2.1/2.2: one search line under 256 bytes [derived]' },
      },
    });
  };
  return [
    // CNAME chains
    wide({
      id: 'cname-chain',
      description: 'www.fy.test -> alias.fy.test -> db.fy.test: the whole chain in one answer',
      resolvConf: one,
      zone: CNAME_ZONE,
      name: 'www.fy.test',
    }),
    wide({
      id: 'cname-chain-canon',
      description: 'as cname-chain, with AI_CANONNAME (the canonical name is the end of the chain; eventlet asks DNS for the CNAME)',
      resolvConf: one,
      zone: CNAME_ZONE,
      name: 'www.fy.test',
      canonname: true,
    }),
    wide({
      id: 'cname-cross-zone',
      description: 'web.fy.test -> api.other.test (another zone), chased by the server (a recursive resolver): chain and addresses in one answer',
      resolvConf: one,
      zone: CNAME_ZONE,
      name: 'web.fy.test',
    }),
    wide({
      id: 'cname-cross-zone-unchased',
      description:
        'web.fy.test -> api.other.test, the server authoritative for fy.test only (auth:fy.test, like a Kubernetes ExternalName service): the answer is the CNAME alone, NOERROR; stub resolvers do not chase it',
      resolvConf: one,
      servers: { 1: 'auth:fy.test' },
      zone: CNAME_ZONE,
      name: 'web.fy.test',
    }),
    // IPv6 nameservers
    wide({
      id: 'ipv6-nameserver',
      description: 'the only nameserver is an IPv6 address (ULA)',
      resolvConf: 'nameserver {ns1v6}\nsearch fy.test\n',
      servers: { '1v6': 'answer' },
      name: DB,
    }),
    wide({
      id: 'ipv6-nameserver-mixed',
      description: 'an IPv4 nameserver that drops everything, then an IPv6 one that answers (musl sends to both from one AF_INET6 socket); options timeout:1 attempts:1',
      resolvConf: `nameserver {ns1}\nnameserver {ns2v6}\nsearch fy.test\n${t1}`,
      servers: { 1: 'blackhole', '2v6': 'answer' },
      name: DB,
      doc: {
        ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [1000], source: '§1.3: wait 1 s on ns1, then ns2 [derived]' }),
        musl: { error: null, addresses: BOTH, elapsedMs: [0], source: '§2.3: all servers at once [derived]' },
        eventlet: { error: null, addresses: BOTH, elapsedMs: [2000], source: '§3.3: 1 s per try, AAAA then A [derived]' },
      },
    }),
    // address families
    wide({ id: 'family-inet', description: 'AF_INET: only A is asked for', resolvConf: one, name: DB, family: 'inet' }),
    wide({ id: 'family-inet6', description: 'AF_INET6: only AAAA is asked for', resolvConf: one, name: DB, family: 'inet6' }),
    wide({
      id: 'family-inet6-nodata',
      description: 'AF_INET6 for a name that has only an A record (NODATA for AAAA; the search list goes on for glibc)',
      resolvConf: one,
      zone: ['v4only.fy.test=A:10.50.4.4'],
      name: 'v4only.fy.test',
      family: 'inet6',
    }),
    // environment
    wide({
      id: 'env-res-options',
      description: 'RES_OPTIONS="ndots:3 timeout:1 attempts:1" over resolv.conf\'s ndots:1 (glibc applies it after the file: db.fy.test now goes through the search list first; musl and greendns ignore the environment)',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions ndots:1\n',
      env: { RES_OPTIONS: 'ndots:3 timeout:1 attempts:1' },
      libraries: [...ALL, ...GO, 'node'],
      name: DB,
      doc: {
        ...glibcClaims({ error: null, addresses: BOTH, queries: 4, source: '§1.1: RES_OPTIONS after the file; §1.2 dots < ndots -> search first [derived]' }),
        musl: { error: null, addresses: BOTH, queries: 2, source: '§2.1: no env overrides [derived]' },
      },
    }),
    wide({
      id: 'env-localdomain',
      description: 'LOCALDOMAIN="a.env.test b.env.test" replaces resolv.conf\'s search fy.test for glibc (the name is in b.env.test AND in fy.test, with other addresses); musl and greendns ignore it',
      resolvConf: one,
      env: { LOCALDOMAIN: 'a.env.test b.env.test' },
      zone: [...ZONE, 'db.b.env.test=A:10.50.5.5', 'db.b.env.test=AAAA:fd00:50::5:5'],
      name: 'db',
      doc: {
        ...glibcClaims({ error: null, addresses: ['10.50.5.5', 'fd00:50::5:5'], queries: 4, source: '§1.1: LOCALDOMAIN replaces search/domain [derived]' }),
        musl: { error: null, addresses: BOTH, queries: 2, source: '§2.1: no env overrides [derived]' },
      },
    }),
    // more than three nameservers
    wide({
      id: 'four-nameservers',
      description: 'four nameservers: the first three answer REFUSED, only the fourth answers (glibc and musl use the first 3, greendns all of them); trailing-dot name; options timeout:1 attempts:1',
      resolvConf: `nameserver {ns1}\nnameserver {ns2}\nnameserver {ns3}\nnameserver {ns4}\nsearch fy.test\n${t1}`,
      servers: { 1: 'refused', 2: 'refused', 3: 'refused', 4: 'answer' },
      name: `${DB}.`,
      doc: {
        ...glibcClaims({ error: 'EAI_AGAIN', elapsedMs: [0], queries: 6, source: '§1.1 MAXNS 3; §1.5 REFUSED -> next server at once [derived]' }),
        musl: { error: 'EAI_AGAIN', elapsedMs: [1000], queries: 6, source: '§2.1 3 servers; §2.3 REFUSED ignored -> timeout [derived]' },
        eventlet: { error: null, addresses: BOTH, elapsedMs: [0], queries: 8, source: '§3.1 no server limit; §3.3 REFUSED drops the server [derived]' },
      },
    }),
    // use-vc
    wide({
      id: 'use-vc',
      description: 'options use-vc: glibc asks over TCP from the start; musl and greendns do not know the option',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions use-vc\n',
      libraries: [...ALL, ...GO],
      name: DB,
    }),
    wide({
      id: 'use-vc-servfail',
      description:
        'options use-vc, two nameservers: the first answers SERVFAIL, the second 30 ms late (musl: see first-servfail); over TCP glibc returns the SERVFAIL as final (send_vc checks no rcode); trailing-dot name; timeout:1 attempts:1',
      resolvConf: `nameserver {ns1}\nnameserver {ns2}\nsearch fy.test\noptions use-vc timeout:1 attempts:1\n`,
      servers: { 1: 'servfail', 2: 'delay:30' },
      name: `${DB}.`,
      doc: {
        ...glibcClaims({ error: 'EAI_AGAIN', queries: 2, source: '§1.3: use-vc; over TCP a SERVFAIL reply is returned as final (no next server) [src: send_vc; timing inferred]' }),
        eventlet: { error: null, addresses: BOTH, source: '§3.1: use-vc is not a dnspython option; §3.3 SERVFAIL drops the server [derived]' },
      },
    }),
    // no-aaaa (glibc 2.36)
    wide({
      id: 'no-aaaa',
      description: 'options no-aaaa (new in glibc 2.36): AF_UNSPEC asks for A only; musl and greendns do not know the option',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions no-aaaa\n',
      name: DB,
      doc: glibcClaims({ error: null, addresses: [V4], queries: 1, source: '§1.2: with no-aaaa only A via T_A' }),
    }),
    wide({
      id: 'no-aaaa-inet6',
      description: 'options no-aaaa with AF_INET6: does glibc still send the AAAA query the caller asked for?',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions no-aaaa\n',
      name: DB,
      family: 'inet6',
    }),
    // rotate across calls
    wide({
      id: 'rotate-search',
      description:
        'options rotate, three answering nameservers, a single-label name found in the second search domain (each candidate name is one res_send call, so the rotation moves within a lookup too); three lookups in one process. Not eventlet (greendns): dnspython shuffles the servers with random.shuffle per candidate, so its plan is random and cannot be compared; musl ignores rotate (compared as a rotation all the same: it always starts at ns1)',
      resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nnameserver {ns3}\nsearch a.fy.test b.fy.test\noptions rotate\n',
      servers: { 1: 'answer', 2: 'answer', 3: 'answer' },
      zone: ['db.b.fy.test=A:10.50.2.9', 'db.b.fy.test=AAAA:fd00:50::2:9'],
      name: 'db',
      repeat: 3,
      libraries: ['glibc', 'musl', 'eventlet-nogreendns'],
      rotate: true,
      doc: glibcClaims({ error: null, addresses: ['10.50.2.9', 'fd00:50::2:9'], queries: 12, source: '§1.3: the counter moves once per __res_context_send call [derived]' }),
    }),
    // musl's caps and overshoot
    wide({
      id: 'musl-attempts-cap',
      description:
        'options timeout:1 attempts:20 (musl caps attempts at 10: a resend every 100 ms, not 50; glibc caps at 5), the server answers 850 ms late: musl has sent 9 rounds by then',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1 attempts:20\n',
      servers: { 1: 'delay:850' },
      name: `${DB}.`,
      doc: {
        ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [850], queries: 2, source: '§1.3: the reply within the 1 s wait [derived]' }),
        musl: { error: null, addresses: BOTH, elapsedMs: [850], queries: 18, source: '§2.1 attempts max 10; §2.3 resend every timeout/attempts = 100 ms [derived]' },
        eventlet: { error: null, addresses: BOTH, elapsedMs: [1700], queries: 2, source: '§3.1 attempts ignored; AAAA then A [derived]' },
      },
    }),
    wide({
      id: 'musl-timeout-cap',
      description:
        'options timeout:90 attempts:10 (musl caps timeout at 60: a resend every 6 s, not 9 s; glibc caps at 30; greendns uses 90 s per try, so its 5 s lifetime runs out first), the server answers 6.5 s late',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:90 attempts:10\n',
      servers: { 1: 'delay:6500' },
      name: `${DB}.`,
      doc: {
        ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [6500], queries: 2, source: '§1.1 timeout max 30 [derived]' }),
        musl: { error: null, addresses: BOTH, elapsedMs: [6500], queries: 4, source: '§2.1 timeout max 60; §2.3 resend every 60 s/10 [derived]' },
        eventlet: { error: 'EAI_AGAIN', elapsedMs: [10000], queries: 2, source: '§3.4: a timeout >= 5 s spends the lifetime on one try [derived]' },
      },
    }),
    wide({
      id: 'musl-overshoot',
      description:
        'options timeout:1 attempts:3, the server drops AAAA. 3 does not divide 1000 ms: by exact arithmetic musl would resend at 999 ms and give up at 1332 ms, but its loop reads a whole-ms clock after each poll() and any wake-up latency eats the 1 ms of margin (1000 mod 3), so the real library gives up at ~1000 ms after 3 sends',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1 attempts:3\n',
      servers: { 1: 'drop-aaaa' },
      name: `${DB}.`,
      doc: {
        musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§2.3: total budget = timeout [derived]; docs/resolvers.md: overshoots when attempts does not divide' },
        ...glibcClaims({ error: null, addresses: [V4], elapsedMs: [3000], source: '§1.3: 3 x timeout on the first lookup [derived]' }),
        eventlet: { error: null, addresses: [V4], source: '§3.6: that family times out, the other is returned' },
      },
    }),
    wide({
      id: 'musl-overshoot-7',
      description:
        'options timeout:1 attempts:7, the server drops AAAA: a resend every 142 ms, 7 x 142 = 994 ms leaves 6 ms of margin, so musl overshoots (an 8th AAAA at ~994 ms, EAI_AGAIN at ~1136 ms) as long as its 7 poll() wake-ups are late by less than 6 ms together; on a loaded machine they are not, and it gives up at ~1000 ms (load-dependent by nature: 6 ms is the most margin timeout:1 allows, timeout*1000 mod attempts)',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1 attempts:7\n',
      servers: { 1: 'drop-aaaa' },
      name: `${DB}.`,
      // 6 ms of margin, of which poll's slack takes ~1 ms and the whole-ms clock up to 1 ms
      clockMargin: { qtype: 'AAAA', intervalMs: 142, lateMs: 4 },
      doc: {
        musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§2.3: total budget = timeout [derived]; docs/resolvers.md: overshoots when attempts does not divide' },
        ...glibcClaims({ error: null, addresses: [V4], elapsedMs: [3000], source: '§1.3: 3 x timeout on the first lookup [derived]' }),
        eventlet: { error: null, addresses: [V4], source: '§3.6: that family times out, the other is returned' },
      },
    }),
    // truncation with a partial answer
    wide({
      id: 'truncate-partial',
      description: 'UDP replies carry TC=1 and the first half of the answers (db.fy.test has 3 A and 2 AAAA); TCP answers in full',
      resolvConf: one,
      servers: { 1: 'truncate-partial' },
      zone: ['db.fy.test=A:10.50.0.5', 'db.fy.test=A:10.50.0.6', 'db.fy.test=A:10.50.0.7', `db.fy.test=AAAA:${V6}`, 'db.fy.test=AAAA:fd00:50::6'],
      name: DB,
      doc: {
        ...glibcClaims({ error: null, addresses: ['10.50.0.5', '10.50.0.6', '10.50.0.7', V6, 'fd00:50::6'], source: '§1.3: TC -> the same server over TCP' }),
        musl: { error: null, addresses: ['10.50.0.5', '10.50.0.6', V6], source: '§2.3: the truncated reply is used as is [derived]' },
        eventlet: { error: null, addresses: ['10.50.0.5', '10.50.0.6', '10.50.0.7', V6, 'fd00:50::6'], source: '§3.3: TC -> the same server over TCP' },
      },
    }),
    // ndots 0 / 1 / 15, with and without a trailing dot
    ndots(0, 'db', false),
    ndots(0, 'db.', true),
    ndots(1, 'db', false),
    ndots(1, 'db.', true),
    ndots(15, DB, false),
    ndots(15, `${DB}.`, true),
    // a six-domain search list (and seven)
    searchList(6),
    searchList(7),
    // edns0 against a server that predates EDNS
    wide({
      id: 'edns0-formerr',
      description: 'options edns0; the only server answers FORMERR to any query with an OPT record (and normally without); two lookups in one process (is the fallback remembered?); timeout:1 attempts:1',
      resolvConf: `nameserver {ns1}\nsearch fy.test\noptions edns0 timeout:1 attempts:1\n`,
      servers: { 1: 'formerr-edns' },
      libraries: [...ALL, ...GO],
      name: DB,
      repeat: 2,
    }),
    wide({
      id: 'edns0-formerr-two',
      description: 'options edns0; the first server answers FORMERR to queries with OPT, the second answers; timeout:1 attempts:1',
      resolvConf: `nameserver {ns1}\nnameserver {ns2}\nsearch fy.test\noptions edns0 timeout:1 attempts:1\n`,
      servers: { 1: 'formerr-edns', 2: 'answer' },
      name: DB,
    }),
    // replies from the wrong source port
    wide({
      id: 'wrong-port',
      description:
        'every UDP reply comes from another source port than 53 (a broken NAT): glibc\'s connected socket never sees it, musl ignores it (source address and port compared), greendns raises UnexpectedSource and retries; trailing-dot name; timeout:1 attempts:1',
      resolvConf: `${one}${t1}`,
      servers: { 1: 'wrong-port' },
      name: `${DB}.`,
      doc: {
        ...glibcClaims({ error: 'EAI_AGAIN', elapsedMs: [1000], queries: 2, source: '§1.3: connected socket, no reply -> timeout [derived]' }),
        musl: { error: 'EAI_AGAIN', elapsedMs: [1000], source: '§2.3: replies only from a configured server address [derived]' },
        eventlet: { error: 'EAI_AGAIN', elapsedMs: [10000], source: '§3.3: 2 families x lifetime [derived]' },
      },
    }),
    wide({
      id: 'wrong-port-first',
      description: 'each UDP reply comes first from another source port, then from port 53; trailing-dot name; timeout:1 attempts:1',
      resolvConf: `${one}${t1}`,
      servers: { 1: 'wrong-port-first' },
      name: `${DB}.`,
      doc: {
        ...glibcClaims({ error: null, addresses: BOTH, elapsedMs: [0], queries: 2, source: '§1.3 [derived]' }),
        musl: { error: null, addresses: BOTH, elapsedMs: [0], queries: 2, source: '§2.3 [derived]' },
        eventlet: { error: 'EAI_AGAIN', elapsedMs: [10000], source: 'greendns udp(): from_address != destination -> UnexpectedSource before the right reply is read [derived]' },
      },
    }),
    // numeric names (numeric-shorthand "10.1" and numeric-octal "010.0.0.1" are above)
    wide({
      id: 'numeric-hex',
      description: 'the name "0x7f.1": inet_aton hex shorthand for 127.0.0.1 (glibc, musl); a name to dnspython',
      resolvConf: one,
      name: '0x7f.1',
    }),
    wide({
      id: 'numeric-32bit',
      description: 'the name "167772161": one 32-bit number, inet_aton for 10.0.0.1 (glibc, musl); a single-label name to dnspython',
      resolvConf: one,
      name: '167772161',
    }),
    wide({
      id: 'numeric-trailing-dot',
      description: 'the name "10.1.": not an inet_aton form with the dot, so a DNS name everywhere',
      resolvConf: one,
      name: '10.1.',
    }),
    wide({
      id: 'numeric-shorthand-inet6',
      description: 'the name "10.1" asked for AF_INET6: an IPv4 literal of the wrong family (glibc EAI_ADDRFAMILY, musl EAI_NONAME); greendns looks it up',
      resolvConf: one,
      name: '10.1',
      family: 'inet6',
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Go (go_lookup.go without and with cgo). Which resolver the cgo build picks was read off
// GODEBUG=netdns=2 on this machine (Go 1.19.8): an option Go does not know (edns0, trust-ad,
// inet6, no-aaaa, foo, a sortlist line) sends go-cgo to getaddrinfo; the CGO_ENABLED=0 build
// then stays with its own resolver in files,dns order, whatever nsswitch.conf says.

function goScenarios(): FidelityScenario[] {
  return [
    wide({
      id: 'go-edns0-aaaa-drop',
      description:
        'options edns0 timeout:1, the server drops AAAA: Go 1.19 does not know edns0, so go-cgo hands the lookup to glibc (compare with the glibc row); go (no cgo) ignores the option (its queries carry an OPT record anyway) and waits timeout x attempts for AAAA alone; trailing-dot name',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions edns0 timeout:1\n',
      servers: { 1: 'drop-aaaa' },
      name: `${DB}.`,
      libraries: [...GO, 'glibc'],
    }),
    wide({
      id: 'go-first-blackholed-three-t1a1',
      description:
        'three nameservers, the first drops everything, the other two answer; options timeout:1 attempts:1 (Go: A and AAAA each in their own goroutine, each trying ns1 then ns2)',
      resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nnameserver {ns3}\nsearch fy.test\noptions timeout:1 attempts:1\n',
      servers: { 1: 'blackhole', 2: 'answer', 3: 'answer' },
      name: DB,
      libraries: GO,
    }),
    wide({
      id: 'go-unknown-option-dns-files',
      description:
        'nsswitch "hosts: dns files" and an option Go does not know (options foo); the name is in /etc/hosts AND in DNS with other addresses: go-cgo hands the lookup to glibc (dns first), go (no cgo) falls back to files,dns (hosts first, no query) — nsswitch.conf is not consulted on that path (net/conf.go hostLookupOrder)',
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions foo\n',
      hosts: `${HOSTS}10.77.0.7\t${DB}\n`,
      nsswitch: 'hosts: dns files\n',
      name: DB,
      libraries: [...GO, 'glibc'],
    }),
    wide({
      id: 'go-rotate-single-request',
      description:
        'options rotate single-request over three answering nameservers, three lookups in one process. Go moves its rotation counter once per question (tryOneName), starting at ns1; single-request makes A and AAAA sequential, so the pattern is fixed (with parallel A/AAAA the two goroutines race for the counter: the plain rotate scenario is not comparable for Go)',
      resolvConf: 'nameserver {ns1}\nnameserver {ns2}\nnameserver {ns3}\nsearch fy.test\noptions rotate single-request\n',
      servers: { 1: 'answer', 2: 'answer', 3: 'answer' },
      name: `${DB}.`,
      repeat: 3,
      libraries: GO,
      rotate: true,
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Node 20's dns.lookup (node_lookup.mjs on this machine's Node, glibc). Bursts: `concurrency`
// lookups called at once, compared fastest-first (each lookup's own time includes its wait for a
// libuv thread) and as one plan. No musl-built Node here: node-musl has no real row.

function nodeScenarios(): FidelityScenario[] {
  const deadFirst = 'nameserver {ns1}\nnameserver {ns2}\nsearch fy.test\noptions timeout:1 attempts:1\n';
  return [
    wide({
      id: 'node-burst-8',
      description: "8 dns.lookup calls at once, the first of two nameservers drops everything (timeout:1 attempts:1): libuv runs at most (4 + 1) / 2 = 2 getaddrinfo at once (slow I/O work), so the burst ends in waves of two, 1 s apart",
      resolvConf: deadFirst,
      servers: { 1: 'blackhole', 2: 'answer' },
      name: DB,
      concurrency: 8,
      libraries: ['node'],
    }),
    wide({
      id: 'node-burst-8-pool8',
      description: 'the same burst with UV_THREADPOOL_SIZE=8: four at once, two waves',
      resolvConf: deadFirst,
      env: { UV_THREADPOOL_SIZE: '8' },
      servers: { 1: 'blackhole', 2: 'answer' },
      name: DB,
      concurrency: 8,
      libraries: ['node'],
    }),
    wide({
      id: 'node-race-rounds',
      description: "the conntrack race, timeout:1; 3 rounds of 2 lookups at once: each round's two lookups run on two fresh threads (glibc's _res and its sticky single-request fallback are per thread)",
      resolvConf: 'nameserver {ns1}\nsearch fy.test\noptions timeout:1\n',
      servers: { 1: 'race-drop:100' },
      name: DB,
      repeat: 3,
      concurrency: 2,
      libraries: ['node'],
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Address order: what the application connects to first. The client routes 10.50.0.0/16 and
// fd00:50::/32 (topology.ts); fd00:99::/32 and 10.99.0.0/16 are unreachable from it.

function orderScenarios(): FidelityScenario[] {
  const one = 'nameserver {ns1}\nsearch fy.test\n';
  const libs: Library[] = [...ALL, ...GO, 'node'];
  return [
    wide({
      id: 'order-v6-unreachable',
      description: 'A 10.50.0.5 and AAAA fd00:99::5, which the client has no route to: the sorting libraries put the reachable IPv4 first (RFC 3484/6724 rule 1); eventlet does not sort (AAAA first)',
      resolvConf: one,
      zone: [`${DB}=A:${V4}`, `${DB}=AAAA:fd00:99::5`],
      name: DB,
      libraries: libs,
    }),
    wide({
      id: 'order-v4-unreachable',
      description: 'A 10.99.0.5 (no route) and AAAA fd00:50::5: IPv6 first everywhere; musl and Go, whose table ranks a ULA below IPv4, move it up by rule 1 alone',
      resolvConf: one,
      zone: [`${DB}=A:10.99.0.5`, `${DB}=AAAA:${V6}`],
      name: DB,
      libraries: libs,
    }),
    wide({
      id: 'order-gai-conf-v4-first',
      description: 'gai.conf "precedence ::ffff:0:0/96 100" (the usual "prefer IPv4" edit): glibc puts IPv4 first; any precedence line replaces the whole default table',
      resolvConf: one,
      gaiConf: 'precedence ::ffff:0:0/96 100\n',
      name: DB,
      libraries: ['glibc', 'eventlet-nogreendns', 'node'],
    }),
  ];
}

/** resolv.conf with the placeholders replaced by the lane's addresses. */
export function renderResolvConf(text: string, server: (slot: string) => string): string {
  return text.replace(/\{ns([1-9](?:v6)?)\}/g, (_, n: string) => server(n));
}

/** Checks the data itself (ids unique, slots listed, behaviours non-empty). Returns problems. */
export function validateScenarios(list: FidelityScenario[]): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const s of list) {
    if (ids.has(s.id)) problems.push(`${s.id}: duplicate id`);
    ids.add(s.id);
    for (const m of s.resolvConf.matchAll(/\{ns([1-9](?:v6)?)\}/g)) {
      if (!(m[1]! in s.servers)) problems.push(`${s.id}: resolv.conf uses {ns${m[1]}} but servers has no slot ${m[1]}`);
    }
    for (const slot of Object.keys(s.servers)) if (!/^[1-9](v6)?$/.test(slot)) problems.push(`${s.id}: server slot "${slot}" is not 1..9 or 1v6..9v6`);
    if (s.libraries.length === 0) problems.push(`${s.id}: no libraries`);
    if (s.repeat < 1) problems.push(`${s.id}: repeat < 1`);
    if (s.concurrency !== undefined && (s.concurrency < 1 || !s.libraries.every((l) => l === 'node'))) problems.push(`${s.id}: concurrency is for node rows, at least 1`);
  }
  return problems;
}
