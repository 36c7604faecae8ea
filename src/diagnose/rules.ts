// The diagnosis rules, one cause each. A rule looks for its cause in the traces and the
// configuration and, when it is there, says what it costs each library and how to fix it. Texts
// must hold for every library they name: who waits comes from the measured costs, never "every
// library", and a fix that would not help (removing the only server) is not offered. Pure.
import { LIBRARY_RULES, parseResolverConfig } from '../../resolvers/core/config.js';
import { parseNssHosts } from '../../resolvers/core/nsswitch.js';
import { countDots } from '../../resolvers/core/search.js';
import type { LibraryInput, ScenarioSpec, Trace, TraceQuery } from '../../resolvers/index.js';
import { quantile } from '../quantile.js';
import { slowWorkAtOnce } from '../../resolvers/core/pool.js';
import { racedQueries } from './race.js';
import { costs, nameserverLines, type Context, type DirectQuery, type Finding, type ModeCost } from './context.js';

/** What a rule finds: nothing, one finding, or one per server/name/row it concerns. */
type Found = Finding | Finding[] | undefined;
/** One cause, looked for over the whole run. */
type Rule = (ctx: Context) => Found;
/** One cause, looked for at one nameserver: `qs` are the direct queries sent to it (at least one). */
type ServerRule = (ctx: Context, server: string, qs: DirectQuery[]) => Found;
/** One cause, looked for for one name that /etc/hosts has. */
type HostsRule = (ctx: Context, name: string) => Found;

// ---- the table --------------------------------------------------------------------------------

/** Run in this order; findFindings sorts what they find. */
export const RULES: Rule[] = [
  eachNameserver(blackholedNameserver, closedNameserver, slowNameserver, onlyServerFailing),
  aaaaLost,
  conntrackRace,
  aaaaServfail,
  truncationWithoutTcp,
  nodataEndsSearch,
  searchAmplification,
  moreThan3Nameservers,
  eventletTimeoutGe5,
  attemptsZero,
  rotate,
  eachNameInHosts(nsswitchDnsFirst, hostsShadow, eventlet024Hosts),
  firstAddressUnroutable,
  nodeThreadpool,
];

/** Runs server rules for each nameserver line in turn (a server's findings stay together). */
function eachNameserver(...rules: ServerRule[]): Rule {
  return function eachNameserver(ctx): Finding[] {
    return ctx.servers.flatMap((server) => {
      const qs = ctx.queries.filter((x) => x.q.server === server);
      return qs.length === 0 ? [] : rules.flatMap((r) => r(ctx, server, qs) ?? []);
    });
  };
}

/** Runs hosts rules for each diagnosed name that /etc/hosts has. */
function eachNameInHosts(...rules: HostsRule[]): Rule {
  return function eachNameInHosts(ctx): Finding[] {
    const inHosts = new Set(ctx.input.hosts.split('\n').flatMap((l) => l.replace(/#.*/, '').trim().split(/\s+/).slice(1)).map((n) => n.toLowerCase()));
    return ctx.names.filter((n) => inHosts.has(n.toLowerCase())).flatMap((name) => rules.flatMap((r) => r(ctx, name) ?? []));
  };
}

// ---- shared wording ---------------------------------------------------------------------------

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
/** Shorter than this is not a wait anyone notices (and within the noise of measured − predicted). */
const WAIT_MS = 100;
/** Replies that show a server is serving (an error rcode does not). */
const SERVING = new Set<TraceQuery['outcome']>(['answer', 'nodata', 'nxdomain', 'truncated']);
const UNREACHABLE = new Set<TraceQuery['outcome']>(['icmp-unreachable', 'connection-refused']);
const STUB_NOTE = '(for a tsnet stub-mode container: its --dns list)';

/** A server some query reached and that never served a reply. */
function broken(ctx: Context, server: string): boolean {
  const qs = ctx.queries.filter((x) => x.q.server === server);
  return qs.length > 0 && !qs.some((x) => SERVING.has(x.q.outcome));
}

/** Whether dropping `server` leaves one that may answer: one that did, or one no query reached (nothing known against it). */
const hasAlternative = (ctx: Context, server: string) => ctx.servers.some((s) => s !== server && !broken(ctx, s));
const noOther = (ctx: Context) => (ctx.servers.length <= 1 ? 'it is the only nameserver' : 'no other nameserver answers');

/** The --what-if that drops `server`'s line: its position among the nameserver lines, as --what-if counts them. */
function removal(input: LibraryInput, server: string): string | null {
  const at = nameserverLines(input.resolvConf).indexOf(server);
  return at < 0 ? null : `nameserver-remove ${at + 1}`;
}

interface Wait {
  label: string;
  mode: string;
  ms: number;
  error: string | null;
}

/** Per direct row: the time the server costs it (measured − predicted without it; with no prediction, the whole lookup). */
function waits(ctx: Context, c: ModeCost[]): Wait[] {
  return c.map((m) => {
    const row = ctx.rows.find((r) => r.path === 'direct' && r.label === m.mode)!;
    const ms = m.with_fix_ms === null ? m.measured_ms : Math.round(Math.max(0, m.measured_ms - m.with_fix_ms) / 10) * 10;
    return { label: m.mode, mode: row.mode, ms, error: row.traces.find((t) => t.result.error)?.result.error ?? null };
  });
}

/** "glibc waits 1.00 s on it; musl does not wait (it asks every server at once)"; `why` explains per mode. */
function whoWaits(ws: Wait[], why: { waits?: Record<string, string>; not?: Record<string, string> }): string {
  const note = (text: string | undefined) => (text ? ` (${text})` : '');
  const slow = ws.filter((w) => w.ms >= WAIT_MS).map((w) => `${w.label} waits ${fmt(w.ms)} on it${note(why.waits?.[w.mode])}`);
  const quick = ws.filter((w) => w.ms < WAIT_MS).map((w) => `${w.label} does not wait${note(why.not?.[w.mode])}`);
  return [...slow, ...quick].join('; ');
}

/** With nothing else to ask: how each row's lookups ended. */
const howTheyEnd = (ws: Wait[]) =>
  ws.map((w) => (w.error ? `${w.label} fails (${w.error}) after ${fmt(w.ms)}` : w.ms >= WAIT_MS ? `${w.label} waits ${fmt(w.ms)}` : `${w.label} does not wait`)).join('; ');

/**
 * What the application's own lookups (diagnose --observe) show of a cause: one evidence line, also
 * when they show none of it (the application may not be hit); nothing without an observation.
 */
function observedLine(ctx: Context, what: string, qs: TraceQuery[]): string[] {
  if (ctx.observed.length === 0) return [];
  const first = qs[0];
  return [first
    ? `the application's own lookups (observed): ${qs.length} queries ${what} (first: ${first.qtype} ${first.qname} to ${first.server})`
    : `the application's own lookups (observed, ${ctx.observed.length}): no query ${what}`];
}
const observedQueries = (ctx: Context, f: (q: TraceQuery) => boolean) => ctx.observed.flatMap((t) => t.queries.filter(f));

// ---- nameservers ------------------------------------------------------------------------------

/**
 * musl asks every server at once and stops at the first useful reply: in a lookup that succeeded,
 * its "timeout" on a server only means another one answered first — no evidence against it.
 */
const supersededByAnother = (x: DirectQuery) => x.row.mode === 'musl' && x.t.result.error === null && x.q.outcome === 'timeout';

/** Every query timed out, no ICMP error: a library waits its timeout unless it asked another server at the same time. */
function blackholedNameserver(ctx: Context, server: string, all: DirectQuery[]): Found {
  const qs = all.filter((x) => !supersededByAnother(x));
  if (qs.length === 0 || !qs.every((x) => x.q.outcome === 'timeout')) return undefined;
  const fix = hasAlternative(ctx, server) ? removal(ctx.input, server) : null;
  const c = costs(ctx, fix);
  const ws = waits(ctx, c);
  const worst = Math.max(...c.map((m) => m.measured_ms));
  return {
    id: 'blackholed-nameserver',
    severity: worst >= 1000 || (!fix && ws.some((w) => w.error)) ? 'error' : 'warning',
    title: fix
      ? `nameserver ${server} never answers (packets are dropped, no ICMP error): ${whoWaits(ws, { not: { musl: 'it asks every server at once' } })}`
      : `nameserver ${server} never answers (packets are dropped, no ICMP error) and ${noOther(ctx)}: ${howTheyEnd(ws)}`,
    evidence: [
      `${qs.length} queries to ${server}, all timed out (first at ${qs[0]!.q.t_ms.toFixed(0)} ms in ${qs[0]!.row.label})`,
      ...observedLine(ctx, `to ${server} timed out`, observedQueries(ctx, (q) => q.server === server && q.outcome === 'timeout')),
    ],
    modes: c,
    fix: fix
      ? `remove "nameserver ${server}" from resolv.conf (for a tsnet stub-mode container: from its --dns list), or fix the server / the firewall dropping its packets`
      : `point the container at a nameserver that is actually serving: fix the server at ${server} or the path to it (a firewall dropping its packets), or set a working "nameserver" line ${STUB_NOTE}`,
    whatIf: fix,
  };
}

/** ICMP port unreachable: only glibc's connected socket sees it; unconnected sockets (musl, eventlet) wait their timeout. */
function closedNameserver(ctx: Context, server: string, qs: DirectQuery[]): Found {
  const refused = qs.filter((x) => UNREACHABLE.has(x.q.outcome));
  if (refused.length === 0) return undefined;
  const fix = hasAlternative(ctx, server) ? removal(ctx.input, server) : null;
  const c = costs(ctx, fix);
  const ws = waits(ctx, c);
  const unconnected = 'its unconnected socket never sees the ICMP error';
  const why = {
    waits: { musl: unconnected, eventlet: unconnected, 'eventlet-0.24': unconnected },
    not: { glibc: 'it sees the ICMP error', musl: 'it asks every server at once', go: 'it sees the ICMP error: a connected socket per query', 'go-cgo': 'it sees the ICMP error' },
  };
  return {
    id: 'closed-nameserver',
    // nothing else to ask: the lookups fail, not just slow down
    severity: !fix && ws.some((w) => w.error) ? 'error' : 'warning',
    title: fix
      ? `nameserver ${server} refuses DNS (ICMP port unreachable): ${whoWaits(ws, why)}`
      : `nameserver ${server} refuses DNS (ICMP port unreachable) and ${noOther(ctx)}: ${howTheyEnd(ws)}`,
    evidence: [
      `${refused.length} queries to ${server} were refused by ICMP`,
      ...observedLine(ctx, `to ${server} were refused by ICMP`, observedQueries(ctx, (q) => q.server === server && UNREACHABLE.has(q.outcome))),
    ],
    modes: c,
    fix: fix
      ? `remove "nameserver ${server}" from resolv.conf`
      : `point the container at a nameserver that is actually serving: fix the DNS server at ${server} (nothing listens on its port 53, or a firewall rejects the queries), or set a working "nameserver" line ${STUB_NOTE}`,
    whatIf: fix,
  };
}

/** Median reply ≥ 200 ms: every lookup through it pays that, per round of the search list. */
function slowNameserver(ctx: Context, server: string, qs: DirectQuery[]): Found {
  const answered = qs.filter((x) => x.q.rtt_ms !== null && x.q.outcome !== 'icmp-unreachable').map((x) => x.q.rtt_ms!);
  const med = quantile(answered, 0.5);
  if (med === null || med < 200) return undefined;
  return {
    id: 'slow-nameserver',
    severity: med >= 1000 ? 'error' : 'warning',
    title: `nameserver ${server} is slow: median reply ${fmt(med)}`,
    evidence: [`${answered.length} replies from ${server}, median ${fmt(med)}, slowest ${fmt(Math.max(...answered))}`],
    modes: costs(ctx, null),
    fix: `use a closer or healthier nameserver than ${server}, or add a local cache`,
    whatIf: null,
  };
}

/** The only server refuses or fails everything: no library can resolve anything. */
function onlyServerFailing(ctx: Context, server: string, qs: DirectQuery[]): Found {
  if (ctx.servers.length !== 1 || !qs.every((x) => x.q.outcome === 'refused' || x.q.outcome === 'servfail')) return undefined;
  return {
    id: 'only-server-failing',
    severity: 'error',
    title: `the only nameserver ${server} answers ${qs[0]!.q.outcome.toUpperCase()} to everything`,
    evidence: qs.slice(0, 3).map((x) => `${x.row.label}: ${x.q.qtype} ${x.q.qname} → ${x.q.outcome}`),
    modes: costs(ctx, null),
    fix: `fix ${server} (it does not recurse for this client?) or add a working nameserver`,
    whatIf: null,
  };
}

// ---- answers ----------------------------------------------------------------------------------

const aAnswered = (ctx: Context) => ctx.queries.some((x) => x.q.qtype === 'A' && x.q.outcome === 'answer');

/** AAAA never answered while A is: glibc waits per retry, musl fails the lookup. */
function aaaaLost(ctx: Context): Found {
  const aaaa = ctx.queries.filter((x) => x.q.qtype === 'AAAA');
  const lost = aaaa.filter((x) => x.q.outcome === 'timeout');
  if (lost.length === 0 || !aAnswered(ctx) || !aaaa.every((x) => x.q.outcome === 'timeout' || x.q.outcome === 'icmp-unreachable')) return undefined;
  return {
    id: 'aaaa-lost',
    severity: 'error',
    title: 'AAAA queries get no reply while A queries are answered (a firewall, a broken server, or conntrack losing the second packet)',
    evidence: [`${lost.length} AAAA queries timed out; A queries were answered`, ...observedLine(ctx, 'for AAAA timed out', observedQueries(ctx, (q) => q.qtype === 'AAAA' && q.outcome === 'timeout'))],
    modes: costs(ctx, 'options single-request-reopen'),
    fix: 'fix the server/firewall dropping AAAA; glibc: "options single-request-reopen" only helps when the second packet of a pair is lost — it does nothing on musl (which fails the lookup with EAI_AGAIN) or eventlet (sequential already); applications that only need IPv4 can ask for AF_INET',
    whatIf: 'options single-request-reopen',
  };
}

/**
 * The conntrack race behind DNAT: the second of two queries sent together is lost, the same query
 * sent again is answered. Each row's wait is read off its own traces (lost send → answered resend):
 * the fix, single-request-reopen, changes nothing for musl, so measured − predicted would hide it.
 */
function conntrackRace(ctx: Context): Found {
  const direct = ctx.rows.filter((r) => r.path === 'direct');
  const lost = direct.flatMap((row) => row.traces.flatMap((t) => racedQueries(t).map((q) => ({ row, t, q }))));
  if (lost.length === 0) return undefined;
  /** The time a lookup spent waiting for resends of lost queries (overlapping waits count once). */
  const waited = (t: Trace) => {
    const spans = racedQueries(t).map((q) => {
      const again = t.queries.find((r) => r.t_ms > q.t_ms && r.server === q.server && r.qname === q.qname && r.qtype === q.qtype && r.outcome !== 'timeout');
      return [q.t_ms, again?.t_ms ?? q.t_ms] as const;
    });
    let end = -Infinity;
    let sum = 0;
    for (const [from, to] of spans.sort((a, b) => a[0] - b[0])) {
      sum += Math.max(0, to - Math.max(from, end));
      end = Math.max(end, to);
    }
    return sum;
  };
  const ws: Wait[] = direct.map((row) => ({
    label: row.label,
    mode: row.mode,
    ms: row.traces.reduce((sum, t) => sum + waited(t), 0),
    error: row.traces.find((t) => t.result.error)?.result.error ?? null,
  }));
  const servers = [...new Set(lost.map((x) => x.q.server))];
  const first = lost[0]!;
  // one lost packet could be chance; the race repeats
  const repeated = lost.length >= 2;
  return {
    id: 'conntrack-race',
    severity: repeated && ws.some((w) => w.ms >= 1000) ? 'error' : 'warning',
    title: `the second of two queries sent together to ${servers.join(', ')} is lost and the same query sent again is answered — the conntrack race behind DNAT (Kubernetes' 5-second delays): ${whoWaits(ws, {
      waits: { glibc: "the lost query's timeout, then a retry one query at a time", musl: 'until its next resend', 'eventlet-nogreendns': 'it calls glibc' },
      not: { eventlet: 'one socket per query, one query at a time', 'eventlet-0.24': 'one socket per query, one query at a time', go: 'A and AAAA each from a socket of their own', 'go-cgo': 'A and AAAA each from a socket of their own' },
    })}`,
    evidence: [
      `${lost.length} ${lost.length === 1 ? 'query' : 'queries'} lost right behind another to the same server and answered when sent again (first: ${first.q.qtype} ${first.q.qname} to ${first.q.server} at ${first.q.t_ms.toFixed(0)} ms in ${first.row.label})${repeated ? '' : ' — once: it could be chance'}`,
      ...observedLine(ctx, 'lost right behind another and answered when sent again', ctx.observed.flatMap((t) => racedQueries(t))),
    ],
    modes: costs(ctx, 'options single-request-reopen'),
    fix: `glibc: "options single-request-reopen" (A and AAAA one after the other, each from a new socket) or "options use-vc" (TCP); musl 1.2.3 honours neither and eventlet and Go do not need them: a node-local resolver that pods reach without DNAT (NodeLocal DNSCache) removes the race for every library. Predicted: ${predictions(ctx)}`,
    whatIf: 'options single-request-reopen',
  };
}

/** Each fix's predicted totals, one clause per fix. */
function predictions(ctx: Context): string {
  const fixes: Array<[string, ModeCost[]]> = [
    ['single-request-reopen', costs(ctx, 'options single-request-reopen')],
    ['use-vc', costs(ctx, 'options use-vc')],
    ['a resolver without the race', costs(ctx, null, withoutRace)],
  ];
  return fixes.map(([fix, c]) => `${fix} → ${c.map((m) => `${m.mode} ${fmt(m.with_fix_ms ?? m.measured_ms)}`).join(', ')}`).join('; ');
}

/** The inferred network with every server's race gone (a node-local resolver: no DNAT in the path). */
const withoutRace = (spec: ScenarioSpec): ScenarioSpec => ({
  ...spec,
  servers: Object.fromEntries(Object.entries(spec.servers).map(([s, b]) => [s, b.split(',').filter((x) => !x.startsWith('race-drop')).join(',') || 'answer'])),
});

/** AAAA SERVFAIL while A works: musl fails the whole lookup. */
function aaaaServfail(ctx: Context): Found {
  const servfail = ctx.queries.filter((x) => x.q.qtype === 'AAAA' && x.q.outcome === 'servfail');
  if (servfail.length === 0 || !aAnswered(ctx)) return undefined;
  const muslFailed = ctx.rows.some((r) => r.mode === 'musl' && r.traces.some((t) => t.result.error === 'EAI_AGAIN'));
  return {
    id: 'aaaa-servfail',
    severity: muslFailed ? 'error' : 'warning',
    title: 'AAAA queries get SERVFAIL while A queries are answered',
    evidence: [`${servfail.length} AAAA SERVFAIL replies${muslFailed ? '; musl failed the lookup (EAI_AGAIN) although A had answers' : ''}`],
    modes: costs(ctx, null),
    fix: "fix the upstream's AAAA handling (it should answer NOERROR with no records); glibc, eventlet and Go return the IPv4 answer, musl fails the whole lookup",
    whatIf: null,
  };
}

/** TC=1 replies: musl 1.2.3 has no TCP fallback and uses them as they are. */
function truncationWithoutTcp(ctx: Context): Found {
  const truncated = ctx.queries.filter((x) => x.q.outcome === 'truncated' && x.row.mode === 'musl');
  if (truncated.length === 0) return undefined;
  return {
    id: 'truncation-without-tcp',
    severity: ctx.rows.some((r) => r.mode === 'musl' && r.traces.some((t) => t.result.error)) ? 'error' : 'warning',
    title: 'replies are truncated (TC=1): glibc, eventlet and Go retry over TCP, musl 1.2.3 uses the truncated reply as it is',
    evidence: truncated.slice(0, 3).map((x) => `${x.row.label}: ${x.q.qtype} ${x.q.qname} from ${x.q.server} truncated`),
    modes: costs(ctx, null),
    fix: 'make the answer fit 512 bytes (fewer records), or use musl ≥ 1.2.4 (TCP fallback)',
    whatIf: null,
  };
}

/** NODATA for a search-list candidate ends musl's and eventlet's search, where glibc goes on. */
function nodataEndsSearch(ctx: Context): Finding[] {
  const glibcRow = ctx.rows.find((r) => r.mode === 'glibc' && r.path === 'direct');
  return ctx.rows
    .filter((r) => r.mode === 'musl' || r.mode.startsWith('eventlet'))
    .flatMap((row) =>
      row.traces.flatMap((t) => {
        const nodata = t.queries.find((q) => q.outcome === 'nodata' && q.qname !== t.name.replace(/\.$/, '').toLowerCase());
        const glibcOk = glibcRow?.traces.find((g) => g.name === t.name)?.result.error === null;
        if (!nodata || t.result.error !== 'EAI_NONAME' || !glibcOk) return [];
        return [{
          id: 'nodata-ends-search',
          severity: 'error' as const,
          title: `${row.label}: ${t.name} — a NODATA answer for ${nodata.qname} ended the search list (glibc goes on and finds the name)`,
          evidence: [`${nodata.qtype} ${nodata.qname} → NODATA at ${nodata.t_ms.toFixed(0)} ms; result EAI_NONAME`],
          modes: costs(ctx, null),
          fix: `remove the wildcard/record making ${nodata.qname} exist, or look up the fully qualified name with a trailing dot`,
          whatIf: null,
        }];
      }),
    );
}

/** How many of the application's own lookups walked a search list (asked more than one name). */
function observedWalks(ctx: Context): string[] {
  if (ctx.observed.length === 0) return [];
  const walks = ctx.observed.filter((t) => new Set(t.queries.map((q) => q.qname)).size > 1);
  return [`the application's own lookups (observed): ${walks.length} of ${ctx.observed.length} walked the search list${walks[0] ? ` (first: ${[...new Set(walks[0].queries.map((q) => q.qname))].join(', ')})` : ''}`];
}

/** A dotted name below ndots walks the whole search list before being tried as it is. */
function searchAmplification(ctx: Context): Finding[] {
  const { search, ndots } = ctx.glibc;
  const glibcRow = ctx.rows.find((r) => r.mode === 'glibc' && r.path === 'direct');
  return ctx.names.flatMap((name) => {
    const dots = countDots(name);
    if (name.endsWith('.') || search.length === 0 || dots >= ndots || dots === 0) return [];
    const asked = [...new Set(glibcRow?.traces.find((t) => t.name === name)?.queries.map((q) => q.qname) ?? [])];
    if (asked.length <= 1) return [];
    return [{
      id: 'search-amplification',
      severity: asked.length >= 3 ? ('warning' as const) : ('info' as const),
      title: `${name} has ${dots} dot(s) < ndots:${ndots}: the search list is tried first, ${asked.length} names per lookup`,
      evidence: [`glibc asked for ${asked.join(', ')}`, ...observedWalks(ctx)],
      modes: costs(ctx, `options ndots:${dots}`),
      fix: `"options ndots:${dots}" (or query "${name}." with a trailing dot)`,
      whatIf: `options ndots:${dots}`,
    }];
  });
}

// ---- configuration ----------------------------------------------------------------------------

function moreThan3Nameservers(ctx: Context): Found {
  if (ctx.servers.length <= 3) return undefined;
  return {
    id: 'more-than-3-nameservers',
    severity: 'warning',
    title: `${ctx.servers.length} nameservers: glibc, musl and Go use only the first 3; eventlet (dnspython) uses all of them`,
    evidence: [`ignored by glibc/musl/Go: ${ctx.servers.slice(3).join(', ')}`],
    modes: [],
    fix: 'keep at most 3 nameserver lines',
    whatIf: null,
  };
}

/** dnspython's per-try timeout ≥ eventlet's 5 s lifetime: the first server gets all of it. */
function eventletTimeoutGe5(ctx: Context): Found {
  const { timeout } = ctx.dnspython;
  if (timeout < 5 || ctx.servers.length <= 1) return undefined;
  return {
    id: 'eventlet-timeout-ge-5',
    severity: ctx.rows.some((r) => r.mode === 'eventlet' && r.traces.some((t) => t.result.error)) ? 'error' : 'warning',
    title: `options timeout:${timeout} ≥ eventlet's 5 s lifetime: eventlet spends it all on the first nameserver and never asks the others`,
    evidence: [`resolv.conf: timeout:${timeout}, ${ctx.servers.length} nameservers`],
    modes: costs(ctx, 'options timeout:2'),
    fix: '"options timeout:2" (or fewer); or EVENTLET_NO_GREENDNS=yes to use the C library',
    whatIf: 'options timeout:2',
  };
}

/** attempts:0 as each C library reads it: musl divides by it, glibc sends nothing. */
function attemptsZero(ctx: Context): Found {
  const musl = parseResolverConfig(ctx.input.resolvConf, LIBRARY_RULES.musl, () => {}).attempts === 0;
  const glibc = ctx.glibc.attempts === 0;
  if (!musl && !glibc) return undefined;
  const what = [musl && 'musl 1.2.3 divides by it and the process dies (SIGFPE)', glibc && 'glibc sends nothing and fails'].filter(Boolean);
  return {
    id: 'attempts-zero',
    severity: 'error',
    title: `options attempts:0: ${what.join('; ')}`,
    evidence: ['resolv.conf: attempts:0'],
    modes: [],
    fix: '"options attempts:2" (or remove the option)',
    whatIf: 'options attempts:2',
  };
}

function rotate(ctx: Context): Found {
  if (!ctx.glibc.flags.has('rotate')) return undefined;
  return {
    id: 'rotate',
    severity: 'info',
    title: 'options rotate: glibc starts each query at the next nameserver, so one dead server slows every n-th lookup instead of all of them (timing varies run to run)',
    evidence: ['resolv.conf: rotate'],
    modes: [],
    fix: 'remove dead servers rather than rotating around them',
    whatIf: null,
  };
}

// ---- names in /etc/hosts ----------------------------------------------------------------------

const nssHostsLine = (ctx: Context) => ctx.input.nsswitch?.match(/^\s*hosts\s*:(.*)$/m)?.[1] ?? 'files dns';

/** `hosts: dns files`: glibc asks DNS (and waits for it) before reading /etc/hosts. */
function nsswitchDnsFirst(ctx: Context, name: string): Found {
  const nss = nssHostsLine(ctx);
  if (!/\bdns\b.*\bfiles\b/.test(nss)) return undefined;
  return {
    id: 'nsswitch-dns-first',
    severity: 'warning',
    title: `"hosts: ${nss.trim()}" asks DNS before /etc/hosts: ${name} (in /etc/hosts) waits for DNS first in glibc`,
    evidence: [`nsswitch.conf hosts line: ${nss.trim()}`],
    modes: [],
    fix: '"hosts: files dns"',
    whatIf: null,
  };
}

/** The name is answered from /etc/hosts; only glibc reads nsswitch.conf to decide when. */
function hostsShadow(ctx: Context, name: string): Found {
  const order = parseNssHosts(ctx.input.nsswitch, () => {}).map((s) => s.name);
  const [files, dns] = [order.indexOf('files'), order.indexOf('dns')];
  const title =
    files < 0
      ? `${name} is in /etc/hosts: musl and eventlet answer from it without DNS; glibc does not read it (no "files" on the nsswitch.conf hosts line)`
      : dns >= 0 && dns < files
        ? `${name} is in /etc/hosts: musl and eventlet answer from it without DNS; glibc asks DNS first (nsswitch.conf puts dns before files)`
        : `${name} is in /etc/hosts: glibc (files first), musl and eventlet answer from it without DNS`;
  return { id: 'hosts-shadow', severity: 'info', title, evidence: [`/etc/hosts has ${name}`], modes: [], fix: 'nothing, unless DNS is meant to be authoritative for it', whatIf: null };
}

/** eventlet ≤ 0.24.0 (issue #511) asks DNS for the family /etc/hosts lacks, and waits for it. */
function eventlet024Hosts(ctx: Context, name: string): Found {
  const old = ctx.rows.find((r) => r.mode === 'eventlet-0.24')?.traces.find((t) => t.name === name);
  if (!old) {
    return {
      id: 'eventlet-0.24-hosts-advice',
      severity: 'info',
      title: `eventlet ≤ 0.24.0 would still send the missing family of ${name} to DNS and wait for it (issue #511)`,
      evidence: ['check with --modes eventlet-0.24'],
      modes: [],
      fix: 'upgrade eventlet to ≥ 0.24.1, or set EVENTLET_NO_GREENDNS=yes',
      whatIf: 'env EVENTLET_NO_GREENDNS=yes',
    };
  }
  if (old.queries.length === 0) return undefined;
  return {
    id: 'eventlet-0.24-hosts-stall',
    severity: old.elapsed_ms >= 1000 ? 'error' : 'warning',
    title: `eventlet ≤ 0.24.0 finds ${name} in /etc/hosts but still asks DNS for the other family and waits ${fmt(old.elapsed_ms)} (issue #511)`,
    evidence: old.queries.slice(0, 2).map((q) => `${q.qtype} ${q.qname} @${q.server} → ${q.outcome} at ${q.t_ms.toFixed(0)} ms`),
    modes: costs(ctx, 'env EVENTLET_NO_GREENDNS=yes'),
    fix: 'upgrade eventlet to ≥ 0.24.1, or run the app with EVENTLET_NO_GREENDNS=yes (the C library answers from /etc/hosts)',
    whatIf: 'env EVENTLET_NO_GREENDNS=yes',
  };
}

// ---- the application's runtime ----------------------------------------------------------------

// ---- what the application connects to ---------------------------------------------------------

/** How the program's runtime connects when the first address fails: Node and Go race the families. */
function connectsHow(ctx: Context): string {
  const lib = ctx.program?.library;
  if (lib === 'node') return "this Node.js program's net.connect tries the addresses in turn, racing the families (autoSelectFamily, 250 ms per attempt)";
  if (lib === 'go') return "this Go program's dialer starts the other family 300 ms after the first (fast fallback) and fails an unroutable address at once";
  return 'a client that connects to each address in turn (C, Python, Node and Go do) fails it at once with ENETUNREACH and goes on; one that uses only the first address (gethostbyname, socket.gethostbyname) cannot connect';
}

/**
 * A library returns first an address the target has no route to (decided by the kernel's source
 * selection, no packet sent): sorting libraries put such addresses last (RFC 3484/6724 rule 1), so
 * it is the ones that do not sort (eventlet: AAAA first) — or every address is unroutable.
 */
function firstAddressUnroutable(ctx: Context): Found {
  const sources = ctx.sources;
  if (!sources) return undefined;
  const out: Finding[] = [];
  for (const name of ctx.names) {
    const hits = ctx.rows
      .filter((r) => r.path === 'direct')
      .map((r) => ({ row: r, addrs: r.traces.find((t) => t.name === name)?.result.addresses ?? [] }))
      .filter(({ addrs }) => addrs.length > 0 && sources.get(addrs[0]!) === null);
    if (hits.length === 0) continue;
    const none = hits.filter(({ addrs }) => addrs.every((a) => sources.get(a) === null));
    const some = hits.filter((h) => !none.includes(h));
    const first = hits[0]!.addrs[0]!;
    out.push({
      id: 'first-address-unroutable',
      // the lookups succeeded: a connectivity problem the name's answers reveal, not a DNS failure
      severity: 'warning',
      title:
        none.length > 0
          ? `${name}: the target has no route to any address ${none.map((h) => h.row.label).join(', ')} returned (${none[0]!.addrs.join(', ')}): connecting fails with ENETUNREACH`
          : `${name}: ${some.map((h) => h.row.label).join(', ')} return${some.length === 1 ? 's' : ''} ${first} first, and the target has no route to it — ${connectsHow(ctx)}`,
      evidence: [
        ...hits.map(({ row, addrs }) => `${row.label} returns ${addrs.join(', ')}`),
        `no route from the target to ${[...new Set(hits.flatMap((h) => h.addrs.filter((a) => sources.get(a) === null)))].join(', ')} (the kernel's source selection; no packet sent)`,
        ...ctx.rows.filter((r) => r.path === 'direct' && !hits.some((h) => h.row === r)).flatMap((r) => {
          const addrs = r.traces.find((t) => t.name === name)?.result.addresses ?? [];
          return addrs.length > 0 ? [`${r.label} returns ${addrs[0]} first (it sorts unreachable addresses last)`] : [];
        }).slice(0, 3),
      ],
      modes: [],
      fix:
        first.includes(':')
          ? 'give the target IPv6 connectivity (an address and a route), or have the name publish no AAAA record for clients without IPv6; a client that wants IPv4 only can ask for AF_INET'
          : 'give the target a route to this IPv4 address, or publish addresses it can reach',
      whatIf: null,
    });
  }
  return out;
}

/**
 * A slow lookup also stalls a Node.js application beyond the lookup: dns.lookup runs getaddrinfo
 * on libuv's threadpool, shared with file I/O and crypto. Only for a target that runs Node.
 */
function nodeThreadpool(ctx: Context): Found {
  const program = ctx.program;
  if (program?.library !== 'node') return undefined;
  const own = ctx.rows.filter((r) => r.path === 'direct' && r.mode === program.mode);
  const slowest = own.flatMap((r) => r.traces.map((t) => ({ label: r.label, ms: t.elapsed_ms }))).reduce((a, b) => (b.ms > a.ms ? b : a), { label: '', ms: 0 });
  if (slowest.ms < 1000) return undefined;
  const pool = program.threadpool ?? 4;
  const atOnce = slowWorkAtOnce(pool);
  return {
    id: 'node-threadpool',
    severity: 'warning',
    title: `this Node.js program's lookups take up to ${fmt(slowest.ms)} (${slowest.label}), and dns.lookup runs getaddrinfo on libuv's threadpool of ${pool}, at most ${atOnce} at once (lookups are "slow I/O": half the pool): a burst of lookups queues behind the slow ones — 8 at once end in ${Math.ceil(8 / atOnce)} waves — and they share the pool with file I/O and crypto`,
    evidence: [`slowest lookup: ${fmt(slowest.ms)}`, `UV_THREADPOOL_SIZE ${program.threadpool === 4 ? 'unset or 4' : `= ${pool}`}`],
    modes: [],
    fix: `fix the DNS cost above; meanwhile raise UV_THREADPOOL_SIZE (e.g. ${Math.max(16, pool * 2)}) or use dns.resolve* (c-ares) for hot paths`,
    whatIf: null,
  };
}
