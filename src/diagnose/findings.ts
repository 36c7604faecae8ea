// From traces and configuration to findings: the cause, its evidence, what it costs each
// library, and the fix as a concrete line — with the fix's predicted effect from the simulated
// network (inferScenario). Pure.
import { LIBRARY_RULES, parseResolverConfig } from '../../resolvers/core/config.js';
import { countDots } from '../../resolvers/core/search.js';
import { parseScenario, type Family, type Trace } from '../../resolvers/index.js';
import { inferScenario } from './infer.js';
import { predict, type ModeRow } from './run.js';
import { parseWhatIf } from './whatif.js';

export type Severity = 'error' | 'warning' | 'info';

export interface ModeCost {
  mode: string;
  measured_ms: number;
  /** predicted total with the fix applied (simulated), when the fix is a configuration change */
  with_fix_ms: number | null;
}

export interface Finding {
  id: string;
  severity: Severity;
  title: string;
  evidence: string[];
  modes: ModeCost[];
  fix: string;
  /** the --what-if that applies the fix, when there is one */
  whatIf: string | null;
}

const total = (r: ModeRow) => r.traces.reduce((s, t) => s + t.elapsed_ms, 0);

/** Every nameserver the direct rows' configurations name. */
export function configuredServers(rows: Pick<ModeRow, 'path' | 'input'>[]): string[] {
  return [...new Set(rows.filter((r) => r.path === 'direct').flatMap((r) => [...r.input.resolvConf.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!)))];
}
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

interface Context {
  rows: ModeRow[];
  names: string[];
  family: Family;
}

/** Costs per direct row, measured and predicted with `whatIf` applied to every row's input. */
function costs(ctx: Context, rows: ModeRow[], whatIf: string | null): ModeCost[] {
  const direct = rows.filter((r) => r.path === 'direct');
  let predicted: Map<string, number> | undefined;
  if (whatIf) {
    const w = parseWhatIf(whatIf);
    const scenario = parseScenario(inferScenario(ctx.rows.flatMap((r) => r.traces), configuredServers(ctx.rows)));
    const changed = predict(direct.map((r) => ({ ...r, input: w.apply(r.input) })), ctx.names, ctx.family, scenario);
    predicted = new Map(changed.map((r) => [r.label, total(r)]));
  }
  return direct.map((r) => ({ mode: r.label, measured_ms: total(r), with_fix_ms: predicted?.get(r.label) ?? null }));
}

export function findFindings(rows: ModeRow[], names: string[], family: Family): Finding[] {
  const ctx: Context = { rows, names, family };
  const out: Finding[] = [];
  const all = rows.flatMap((r) => r.traces.map((t) => ({ row: r, t })));
  const direct = rows.filter((r) => r.path === 'direct');
  const input = direct[0]?.input ?? rows[0]?.input;
  if (!input) return out;
  const glibcCfg = parseResolverConfig(input.resolvConf, LIBRARY_RULES.glibc, () => {});
  const allServers = [...input.resolvConf.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  const position = (s: string) => allServers.indexOf(s) + 1;
  // Server-side rules look at the libraries talking to the upstreams themselves (not via the stub).
  const queries = all.filter(({ row }) => row.path === 'direct').flatMap(({ row, t }) => t.queries.map((q) => ({ row, t, q })));

  // Dead and closed servers.
  for (const server of allServers) {
    const qs = queries.filter((x) => x.q.server === server);
    if (qs.length === 0) continue;
    const timeouts = qs.filter((x) => x.q.outcome === 'timeout');
    const icmp = qs.filter((x) => x.q.outcome === 'icmp-unreachable' || x.q.outcome === 'connection-refused');
    if (timeouts.length === qs.length) {
      const fixWhatIf = position(server) > 0 && allServers.length > 1 ? `nameserver-remove ${position(server)}` : null;
      const c = costs(ctx, rows, fixWhatIf);
      const worst = Math.max(...c.map((m) => m.measured_ms));
      out.push({
        id: 'blackholed-nameserver',
        severity: worst >= 1000 ? 'error' : 'warning',
        title: `nameserver ${server} never answers (packets are dropped, no ICMP error): every library waits for it before giving up on it`,
        evidence: [`${qs.length} queries to ${server}, all timed out (first at ${qs[0]!.q.t_ms.toFixed(0)} ms in ${qs[0]!.row.label})`],
        modes: c,
        fix: fixWhatIf ? `remove "nameserver ${server}" from resolv.conf (for a tsnet stub-mode container: from its --dns list), or fix the server / the firewall dropping its packets` : `fix the server or the path to it: it is the only nameserver`,
        whatIf: fixWhatIf,
      });
    } else if (icmp.length > 0) {
      const hurt = [...new Set(icmp.filter((x) => x.row.mode !== 'glibc').map((x) => x.row.label))];
      out.push({
        id: 'closed-nameserver',
        severity: 'warning',
        title: `nameserver ${server} refuses DNS (ICMP port unreachable): glibc moves on at once, but musl and eventlet do not see ICMP and wait their full timeout`,
        evidence: [`${icmp.length} queries to ${server} were refused by ICMP`],
        modes: costs(ctx, rows, position(server) > 0 && allServers.length > 1 ? `nameserver-remove ${position(server)}` : null),
        fix: `remove "nameserver ${server}" from resolv.conf${hurt.length ? ` (it costs ${hurt.join(', ')} the most)` : ''}`,
        whatIf: position(server) > 0 && allServers.length > 1 ? `nameserver-remove ${position(server)}` : null,
      });
    }
    const answered = qs.filter((x) => x.q.rtt_ms !== null && x.q.outcome !== 'icmp-unreachable').map((x) => x.q.rtt_ms!);
    const sorted = [...answered].sort((a, b) => a - b);
    const med = sorted[Math.floor(sorted.length / 2)];
    if (med !== undefined && med >= 200) {
      out.push({
        id: 'slow-nameserver',
        severity: med >= 1000 ? 'error' : 'warning',
        title: `nameserver ${server} is slow: median reply ${fmt(med)}`,
        evidence: [`${answered.length} replies from ${server}, median ${fmt(med)}, slowest ${fmt(sorted.at(-1)!)}`],
        modes: costs(ctx, rows, null),
        fix: `use a closer or healthier nameserver than ${server}, or add a local cache`,
        whatIf: null,
      });
    }
    if (qs.every((x) => x.q.outcome === 'refused' || x.q.outcome === 'servfail') && allServers.length === 1) {
      out.push({
        id: 'only-server-failing',
        severity: 'error',
        title: `the only nameserver ${server} answers ${qs[0]!.q.outcome.toUpperCase()} to everything`,
        evidence: qs.slice(0, 3).map((x) => `${x.row.label}: ${x.q.qtype} ${x.q.qname} → ${x.q.outcome}`),
        modes: costs(ctx, rows, null),
        fix: `fix ${server} (it does not recurse for this client?) or add a working nameserver`,
        whatIf: null,
      });
    }
  }

  // AAAA lost or failing while A works.
  const aaaaLost = queries.filter((x) => x.q.qtype === 'AAAA' && x.q.outcome === 'timeout');
  const aOk = queries.some((x) => x.q.qtype === 'A' && x.q.outcome === 'answer');
  if (aaaaLost.length > 0 && aOk && queries.filter((x) => x.q.qtype === 'AAAA').every((x) => x.q.outcome === 'timeout' || x.q.outcome === 'icmp-unreachable')) {
    out.push({
      id: 'aaaa-lost',
      severity: 'error',
      title: 'AAAA queries get no reply while A queries are answered (a firewall, a broken server, or conntrack losing the second packet)',
      evidence: [`${aaaaLost.length} AAAA queries timed out; A queries were answered`],
      modes: costs(ctx, rows, 'options single-request-reopen'),
      fix: 'fix the server/firewall dropping AAAA; glibc: "options single-request-reopen" only helps when the second packet of a pair is lost — it does nothing on musl (which fails the lookup with EAI_AGAIN) or eventlet (sequential already); applications that only need IPv4 can ask for AF_INET',
      whatIf: 'options single-request-reopen',
    });
  }
  const aaaaServfail = queries.filter((x) => x.q.qtype === 'AAAA' && x.q.outcome === 'servfail');
  if (aaaaServfail.length > 0 && aOk) {
    const muslFailed = rows.filter((r) => r.mode === 'musl' && r.traces.some((t) => t.result.error === 'EAI_AGAIN'));
    out.push({
      id: 'aaaa-servfail',
      severity: muslFailed.length > 0 ? 'error' : 'warning',
      title: 'AAAA queries get SERVFAIL while A queries are answered',
      evidence: [`${aaaaServfail.length} AAAA SERVFAIL replies${muslFailed.length ? `; musl failed the lookup (EAI_AGAIN) although A had answers` : ''}`],
      modes: costs(ctx, rows, null),
      fix: 'fix the upstream\'s AAAA handling (it should answer NOERROR with no records); glibc and eventlet return the IPv4 answer, musl fails the whole lookup',
      whatIf: null,
    });
  }

  // Truncation without TCP fallback (musl 1.2.3).
  const truncated = queries.filter((x) => x.q.outcome === 'truncated' && x.row.mode === 'musl');
  if (truncated.length > 0) {
    out.push({
      id: 'truncation-without-tcp',
      severity: rows.some((r) => r.mode === 'musl' && r.traces.some((t) => t.result.error)) ? 'error' : 'warning',
      title: 'replies are truncated (TC=1): glibc and eventlet retry over TCP, musl 1.2.3 uses the truncated reply as it is',
      evidence: truncated.slice(0, 3).map((x) => `${x.row.label}: ${x.q.qtype} ${x.q.qname} from ${x.q.server} truncated`),
      modes: costs(ctx, rows, null),
      fix: 'make the answer fit 512 bytes (fewer records), or use musl ≥ 1.2.4 (TCP fallback)',
      whatIf: null,
    });
  }

  // NODATA in a search domain ends the search in musl and eventlet.
  for (const row of rows.filter((r) => r.mode === 'musl' || r.mode.startsWith('eventlet'))) {
    for (const t of row.traces) {
      const nodata = t.queries.find((q) => q.outcome === 'nodata' && q.qname !== t.name.replace(/\.$/, '').toLowerCase());
      const glibcRow = rows.find((r) => r.mode === 'glibc' && r.path === 'direct');
      const glibcOk = glibcRow?.traces.find((g) => g.name === t.name)?.result.error === null;
      if (nodata && t.result.error === 'EAI_NONAME' && glibcOk) {
        out.push({
          id: 'nodata-ends-search',
          severity: 'error',
          title: `${row.label}: ${t.name} — a NODATA answer for ${nodata.qname} ended the search list (glibc goes on and finds the name)`,
          evidence: [`${nodata.qtype} ${nodata.qname} → NODATA at ${nodata.t_ms.toFixed(0)} ms; result EAI_NONAME`],
          modes: costs(ctx, rows, null),
          fix: `remove the wildcard/record making ${nodata.qname} exist, or look up the fully qualified name with a trailing dot`,
          whatIf: null,
        });
      }
    }
  }

  // Search-list amplification.
  for (const name of names) {
    const dots = countDots(name);
    if (name.endsWith('.') || glibcCfg.search.length === 0 || dots >= glibcCfg.ndots) continue;
    const g = rows.find((r) => r.mode === 'glibc' && r.path === 'direct')?.traces.find((t) => t.name === name);
    const perName = g ? new Set(g.queries.map((q) => q.qname)).size : 0;
    if (dots > 0 && perName > 1) {
      out.push({
        id: 'search-amplification',
        severity: perName >= 3 ? 'warning' : 'info',
        title: `${name} has ${dots} dot(s) < ndots:${glibcCfg.ndots}: the search list is tried first, ${perName} names per lookup`,
        evidence: [`glibc asked for ${[...new Set(g!.queries.map((q) => q.qname))].join(', ')}`],
        modes: costs(ctx, rows, `options ndots:${dots}`),
        fix: `"options ndots:${dots}" (or query "${name}." with a trailing dot)`,
        whatIf: `options ndots:${dots}`,
      });
    }
  }

  // Configuration advisories.
  if (allServers.length > 3) {
    out.push({
      id: 'more-than-3-nameservers', severity: 'warning',
      title: `${allServers.length} nameservers: glibc and musl use only the first 3; eventlet (dnspython) uses all of them`,
      evidence: [`ignored by glibc/musl: ${allServers.slice(3).join(', ')}`], modes: [], fix: 'keep at most 3 nameserver lines', whatIf: null,
    });
  }
  const dnspy = parseResolverConfig(input.resolvConf, LIBRARY_RULES.dnspython, () => {});
  if (dnspy.timeout >= 5 && allServers.length > 1) {
    out.push({
      id: 'eventlet-timeout-ge-5', severity: rows.some((r) => r.mode === 'eventlet' && r.traces.some((t) => t.result.error)) ? 'error' : 'warning',
      title: `options timeout:${dnspy.timeout} ≥ eventlet's 5 s lifetime: eventlet spends it all on the first nameserver and never asks the others`,
      evidence: [`resolv.conf: timeout:${dnspy.timeout}, ${allServers.length} nameservers`], modes: costs(ctx, rows, 'options timeout:2'),
      fix: '"options timeout:2" (or fewer); or EVENTLET_NO_GREENDNS=yes to use the C library', whatIf: 'options timeout:2',
    });
  }
  if (/^\s*options\s.*\battempts:0\b/m.test(input.resolvConf)) {
    out.push({
      id: 'attempts-zero', severity: 'error',
      title: 'options attempts:0: musl 1.2.3 divides by it and the process dies (SIGFPE); glibc sends nothing and fails',
      evidence: ['resolv.conf: attempts:0'], modes: [], fix: '"options attempts:2" (or remove the option)', whatIf: 'options attempts:2',
    });
  }
  if (glibcCfg.flags.has('rotate')) {
    out.push({
      id: 'rotate', severity: 'info',
      title: 'options rotate: glibc starts each query at the next nameserver, so one dead server slows every n-th lookup instead of all of them (timing varies run to run)',
      evidence: ['resolv.conf: rotate'], modes: [], fix: 'remove dead servers rather than rotating around them', whatIf: null,
    });
  }
  const nss = input.nsswitch?.match(/^\s*hosts\s*:(.*)$/m)?.[1] ?? 'files dns';
  const hostsNames = new Set(input.hosts.split('\n').flatMap((l) => l.replace(/#.*/, '').trim().split(/\s+/).slice(1)).map((n) => n.toLowerCase()));
  for (const name of names) {
    if (!hostsNames.has(name.toLowerCase())) continue;
    if (/\bdns\b.*\bfiles\b/.test(nss)) {
      out.push({
        id: 'nsswitch-dns-first', severity: 'warning',
        title: `"hosts: ${nss.trim()}" asks DNS before /etc/hosts: ${name} (in /etc/hosts) waits for DNS first in glibc`,
        evidence: [`nsswitch.conf hosts line: ${nss.trim()}`], modes: [], fix: '"hosts: files dns"', whatIf: null,
      });
    }
    out.push({
      id: 'hosts-shadow', severity: 'info',
      title: `${name} is in /etc/hosts: glibc (files first), musl and eventlet answer from it without DNS`,
      evidence: [`/etc/hosts has ${name}`], modes: [], fix: 'nothing, unless DNS is meant to be authoritative for it',
      whatIf: null,
    });
    const old = rows.find((r) => r.mode === 'eventlet-0.24')?.traces.find((t) => t.name === name);
    if (old && old.queries.length > 0) {
      out.push({
        id: 'eventlet-0.24-hosts-stall', severity: old.elapsed_ms >= 1000 ? 'error' : 'warning',
        title: `eventlet ≤ 0.24.0 finds ${name} in /etc/hosts but still asks DNS for the other family and waits ${fmt(old.elapsed_ms)} (issue #511)`,
        evidence: old.queries.slice(0, 2).map((q) => `${q.qtype} ${q.qname} @${q.server} → ${q.outcome} at ${q.t_ms.toFixed(0)} ms`),
        modes: costs(ctx, rows, 'env EVENTLET_NO_GREENDNS=yes'),
        fix: 'upgrade eventlet to ≥ 0.24.1, or run the app with EVENTLET_NO_GREENDNS=yes (the C library answers from /etc/hosts)',
        whatIf: 'env EVENTLET_NO_GREENDNS=yes',
      });
    } else if (!old) {
      out.push({
        id: 'eventlet-0.24-hosts-advice', severity: 'info',
        title: `eventlet ≤ 0.24.0 would still send the missing family of ${name} to DNS and wait for it (issue #511)`,
        evidence: ['check with --modes eventlet-0.24'], modes: [], fix: 'upgrade eventlet to ≥ 0.24.1, or set EVENTLET_NO_GREENDNS=yes', whatIf: 'env EVENTLET_NO_GREENDNS=yes',
      });
    }
  }
  const slowest = Math.max(0, ...all.map(({ t }) => t.elapsed_ms));
  if (slowest >= 1000) {
    out.push({
      id: 'node-threadpool', severity: 'info',
      title: `lookups take up to ${fmt(slowest)}: Node's dns.lookup runs getaddrinfo on a threadpool of 4, so 4 slow lookups at once also stall file I/O, crypto and every other lookup`,
      evidence: [`slowest lookup: ${fmt(slowest)}`], modes: [], fix: 'fix the DNS cost above; meanwhile UV_THREADPOOL_SIZE=16 or dns.resolve* (c-ares) for hot paths', whatIf: null,
    });
  }
  // Most severe first; among equals, the specific mechanism before the general symptom.
  const SPECIFIC = ['eventlet-0.24-hosts-stall', 'aaaa-lost', 'aaaa-servfail', 'truncation-without-tcp', 'nodata-ends-search', 'eventlet-timeout-ge-5', 'attempts-zero', 'only-server-failing'];
  const specificity = (f: Finding) => (SPECIFIC.includes(f.id) ? 0 : 1);
  return out.sort(
    (a, b) =>
      RANK[a.severity] - RANK[b.severity] ||
      specificity(a) - specificity(b) ||
      Math.max(0, ...b.modes.map((m) => m.measured_ms)) - Math.max(0, ...a.modes.map((m) => m.measured_ms)),
  );
}
