// tsnet diagnose: measure every resolver library on the target's real network, explain where the
// time went, and predict what each fix would change.
import { TsnetError } from '../errors.js';
import { LIBRARY_RULES, parseResolverConfig } from '../../resolvers/core/config.js';
import { kernelSortHost } from '../net/local-net.js';
import { MODES, parseScenario, type Family, type Trace } from '../../resolvers/index.js';
import { validateLookupName } from '../config/validate.js';
import { parseResolvConf } from '../files/resolvconf.js';
import { listContainers } from '../state/lookup.js';
import { containerTarget, pidTarget, type Target } from '../engines/target-view.js';
import { enter, measure, planRows, predict, type ModeRow } from './run.js';
import { listedNameservers } from './context.js';
import { configuredServers, findFindings, type Finding } from './findings.js';
import { inferScenario } from './infer.js';
import { parseWhatIf } from './whatif.js';
import { readStubEvidence, type StubEvidence } from './evidence.js';
import { inspectProgram, type ProgramReport } from './program.js';
import type { Deps } from '../deps.js';
import { observedTraces, type TraceReport } from '../trace/report.js';
import { runTrace } from '../trace/trace.js';

export interface DiagnoseOptions {
  container?: string | undefined;
  pid?: string | undefined;
  names: string[];
  /** emulators to run (default glibc, musl, eventlet) */
  modes?: string[] | undefined;
  family?: string | undefined;
  whatIf?: string[] | undefined;
  live: boolean;
  /** watch the application's own DNS for this long first (before any probe of diagnose's own) */
  observeMs?: number | undefined;
}

export interface Report {
  target: {
    label: string;
    /** the engine's container the target process belongs to (null: a tsnet container or a bare --pid) */
    runtime: { engine: string; name: string; id: string; namespace: string | null } | null;
    nameservers: string[];
    upstreams: string[] | null;
    search: string[];
    options: string[];
    nsswitch: string;
  };
  /** what the target process resolves with, and the evidence (null for a tsnet container: no program) */
  program: ProgramReport | null;
  names: { list: string[]; why: string };
  live: boolean;
  /** the program's own library first (`lead`: 'program', or 'closest' when only the closest emulated behaviour) */
  rows: Array<{ label: string; mode: string; path: 'direct' | 'stub'; traces: Trace[]; lead?: 'program' | 'closest' }>;
  stub: StubEvidence | null;
  /** the application's own lookups, watched before the measurement (--observe): tsnet trace's report */
  observed: TraceReport | null;
  findings: Finding[];
  whatIf: Array<{ spec: string; rows: Array<{ mode: string; measured_ms: number; predicted_ms: number; predicted_error: string | null }> }>;
  /** 0 healthy, 1 at least one error finding */
  exitCode: number;
}

/** the C libraries, eventlet and Go's own resolver; node is glibc's getaddrinfo on a thread pool, shown when the program is Node */
const DEFAULT_MODES = ['glibc', 'musl', 'eventlet', 'go'];

/**
 * Why diagnose cannot look a name up, beyond validateLookupName's rules: the simulated network's
 * zone entries are NAME=TYPE:VALUE, so a name with whitespace or '=' has no place in them.
 */
function zoneProblem(name: string): string | undefined {
  if (/\s/u.test(name)) return 'it contains a space or a line break';
  if (name.includes('=')) return 'it contains "="';
  return undefined;
}

/** A name the container asked for (any bytes) that diagnose can look up again. */
function reusable(name: string): boolean {
  try {
    validateLookupName(name);
  } catch {
    return false;
  }
  return zoneProblem(name) === undefined;
}

/** A name quoted for an error message that stays one inert line (JSON, DEL, C1 and bidi controls as \u escapes too). */
const quoted = (name: string) =>
  JSON.stringify(name).replace(/[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function chooseNames(deps: Deps, t: Target, given: string[], evidence: StubEvidence | undefined, observed: TraceReport | undefined): { list: string[]; why: string } {
  if (given.length > 0) return { list: given, why: 'as given' };
  const seen = [...new Set(observed?.lookups.map((l) => l.name).filter(reusable) ?? [])];
  if (seen.length > 0) return { list: seen.slice(0, 3), why: 'the names the application looked up while observed' };
  // A container may ask for anything (a label with a space or a line break): such names are
  // skipped and counted, never looked up again or shown here.
  const recent = evidence?.recentNames.filter(reusable) ?? [];
  const skipped = (evidence?.recentNames.length ?? 0) - recent.length;
  const skippedNote = skipped > 0 ? `; ${skipped} skipped: not a name diagnose can look up (a space, a line break, "=" or a bad label)` : '';
  if (recent.length > 0) return { list: recent.slice(0, 3), why: `the most recent names this container looked up through the stub${skippedNote}` };
  const r = t.record;
  const candidates = [
    ...(r?.addHosts.map((h) => h.name) ?? []),
    ...listContainers(deps.paths).flatMap((c) => (c.record && r && c.record.network === r.network && c.record.name !== r.name ? [c.record.name] : [])),
  ];
  if (candidates.length > 0) {
    return { list: candidates.slice(0, 3), why: `no recent lookups${skipped > 0 ? ' diagnose can repeat' : ''}: its --add-host names and the other containers on its network${skippedNote}` };
  }
  throw new TsnetError('TSNET_USAGE', `no names to diagnose for ${t.label}${skipped > 0 ? ` (${skipped} recent name(s) skipped: not names diagnose can look up)` : ''}`, {
    hint: 'give the names: tsnet diagnose TARGET NAME...',
  });
}

export async function runDiagnose(o: DiagnoseOptions, deps: Deps, onProgress?: (running: string[]) => void): Promise<Report> {
  if ((o.container === undefined) === (o.pid === undefined)) {
    throw new TsnetError('TSNET_USAGE', 'give a container, or --pid PID', { hint: 'tsnet diagnose web1 db.example, or tsnet diagnose --pid 1234 db.example' });
  }
  const modes = o.modes ?? DEFAULT_MODES;
  const unknown = modes.find((m) => !MODES.includes(m));
  if (unknown !== undefined) throw new TsnetError('TSNET_USAGE', `unknown mode "${unknown}" in --modes: use ${MODES.join(', ')}`);
  const family = (o.family ?? 'any') as Family;
  if (!['any', 'inet', 'inet6'].includes(family)) throw new TsnetError('TSNET_USAGE', `unknown --family "${o.family}": use any, inet or inet6`);
  for (const n of o.names) {
    validateLookupName(n);
    const problem = zoneProblem(n);
    if (problem !== undefined) throw new TsnetError('TSNET_USAGE', `invalid name ${quoted(n)}: ${problem}`, { hint: 'give a DNS name, like db.example' });
  }
  const whatIfs = (o.whatIf ?? []).map(parseWhatIf);

  const target = o.container !== undefined ? containerTarget(deps, o.container) : pidTarget(o.pid!);
  const evidence = target.record ? readStubEvidence(deps.paths.stubLog, target.record.name) : undefined;
  // Watched first, so none of diagnose's own probes is among what the application sent.
  const observed = o.observeMs === undefined ? undefined : await runTrace(target, { ports: [53], durationMs: o.observeMs });
  const names = chooseNames(deps, target, o.names, evidence, observed);
  const program = target.pid !== undefined ? inspectProgram(target.pid, target.resolvConf, target.nsswitch) : undefined;
  // The program's library leads; measured even when --modes left it out.
  const ordered = program?.mode !== undefined ? [program.mode, ...modes.filter((m) => m !== program.mode)] : modes;
  // Its resolver variables (RES_OPTIONS, LOCALDOMAIN, EVENTLET_NO_GREENDNS) are what every library would read there.
  const plan = planRows(target, ordered, program?.env ?? {});
  // A change that does not fit this configuration is bad input: say so before measuring.
  for (const w of whatIfs) for (const r of plan.filter((p) => p.path === 'direct')) w.apply(r.input);

  let rows: ModeRow[];
  let sources: Map<string, string | null> | undefined;
  if (o.live) {
    enter(target);
    // the libraries sort what they return with the target's routes (connect + getsockname, no packet)
    const host = kernelSortHost();
    for (const r of plan) r.input.host = host;
    rows = await measure(plan, names.list, family, onProgress);
    const returned = new Set(rows.flatMap((r) => r.traces.flatMap((t) => t.result.addresses)));
    sources = new Map([...returned].map((a) => [a, host.sourceOf(a)]));
  } else {
    // Prediction only: every server answers, as far as we know without measuring.
    const servers = Object.fromEntries(
      [...new Set(plan.flatMap((r) => listedNameservers(r.input.resolvConf)))].map((s) => [s, 'answer']),
    );
    rows = predict(plan.filter((r) => r.path === 'direct'), names.list, family, parseScenario({ servers, zone: names.list.map((n) => `${n.replace(/\.$/, '')}=A:192.0.2.1`) }));
  }

  const findings = findFindings(rows, names.list, family, program, observed ? observedTraces(observed) : [], sources);
  const direct = rows.filter((r) => r.path === 'direct');
  const scenario = parseScenario(inferScenario(rows.flatMap((r) => r.traces), configuredServers(rows)));
  const whatIf = whatIfs.map((w) => {
    const predicted = predict(direct.map((r) => ({ ...r, input: w.apply(r.input) })), names.list, family, scenario);
    return {
      spec: w.spec,
      rows: direct.map((r, i) => ({
        mode: r.label,
        measured_ms: r.traces.reduce((s, t) => s + t.elapsed_ms, 0),
        predicted_ms: predicted[i]!.traces.reduce((s, t) => s + t.elapsed_ms, 0),
        predicted_error: predicted[i]!.traces.find((t) => t.result.error)?.result.error ?? null,
      })),
    };
  });

  const first = plan[0]!.input;
  const cfg = parseResolverConfig(target.resolvConf, LIBRARY_RULES.glibc, () => {});
  const lead = program?.mode !== undefined ? { mode: program.mode, kind: program.approximate ? ('closest' as const) : ('program' as const) } : undefined;
  return {
    program: program ?? null,
    target: {
      label: target.label,
      runtime: target.runtime ? { engine: target.runtime.engine, name: target.runtime.name, id: target.runtime.id, namespace: target.runtime.namespace ?? null } : null,
      nameservers: cfg.nameservers,
      upstreams: target.record?.dns.stubActive ? target.record.dns.nameservers.map((n) => n.address) : null,
      search: cfg.search,
      options: parseResolvConf(target.resolvConf).options.values,
      nsswitch: first.nsswitch?.match(/^\s*hosts\s*:(.*)$/m)?.[1]?.trim() ?? 'files dns',
    },
    names,
    live: o.live,
    rows: rows.map((r) => ({ label: r.label, mode: r.mode, path: r.path, traces: r.traces, ...(lead && r.path === 'direct' && r.mode === lead.mode ? { lead: lead.kind } : {}) })),
    stub: evidence ?? null,
    observed: observed ?? null,
    findings,
    whatIf,
    exitCode: findings.some((f) => f.severity === 'error') ? 1 : 0,
  };
}
