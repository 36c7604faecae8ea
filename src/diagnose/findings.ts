// From traces and configuration to findings: the cause, its evidence, what it costs each
// library, and the fix as a concrete line — with the fix's predicted effect from the simulated
// network (inferScenario). The rules, one cause each, are in rules.ts, what they share in
// context.ts; this file runs the table and orders what it finds. Pure.
import { LIBRARY_RULES, parseResolverConfig } from '../../resolvers/core/config.js';
import type { Family, Trace } from '../../resolvers/index.js';
import { listedNameservers, type Context, type Finding, type Severity } from './context.js';
import { RULES } from './rules.js';
import type { ModeRow } from './run.js';
import type { ProgramLibrary } from '../program/library.js';

export { configuredServers, type Finding } from './context.js';

function context(rows: ModeRow[], names: string[], family: Family, program: ProgramLibrary | undefined, observed: Trace[], sources: Map<string, string | null> | undefined): Context | undefined {
  const direct = rows.filter((r) => r.path === 'direct');
  const input = direct[0]?.input ?? rows[0]?.input;
  if (!input) return undefined;
  return {
    rows,
    names,
    family,
    input,
    servers: listedNameservers(input.resolvConf),
    glibc: parseResolverConfig(input.resolvConf, LIBRARY_RULES.glibc, () => {}),
    dnspython: parseResolverConfig(input.resolvConf, LIBRARY_RULES.dnspython, () => {}),
    queries: direct.flatMap((row) => row.traces.flatMap((t) => t.queries.map((q) => ({ row, t, q })))),
    program,
    observed,
    sources,
  };
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
/** Mechanisms, reported before the symptoms they cause (a slow lookup, a dead-looking server). */
const SPECIFIC = ['eventlet-0.24-hosts-stall', 'aaaa-lost', 'conntrack-race', 'aaaa-servfail', 'truncation-without-tcp', 'nodata-ends-search', 'eventlet-timeout-ge-5', 'attempts-zero', 'only-server-failing'];
const specificity = (f: Finding) => (SPECIFIC.includes(f.id) ? 0 : 1);
const worst = (f: Finding) => Math.max(0, ...f.modes.map((m) => m.measured_ms));

/**
 * Whether a finding concerns the program's own library: it costs that library's row something
 * noticeable, or costs no row at all (a configuration finding). Without a known program, all do.
 */
export function concernsProgram(f: Finding, program: ProgramLibrary | undefined): boolean {
  if (program?.mode === undefined) return true;
  const own = f.modes.find((m) => m.mode === program.mode);
  return f.modes.every((m) => m.measured_ms === 0) || (own !== undefined && own.measured_ms >= NOTICEABLE_MS);
}
const NOTICEABLE_MS = 100;

export function findFindings(rows: ModeRow[], names: string[], family: Family, program?: ProgramLibrary, observed: Trace[] = [], sources?: Map<string, string | null>): Finding[] {
  const ctx = context(rows, names, family, program, observed, sources);
  if (!ctx) return [];
  // What concerns the program's own library first (the headline is its worst finding); then most
  // severe first; among equals, the specific mechanism before the general symptom, then the costliest.
  const own = (f: Finding) => (concernsProgram(f, program) ? 0 : 1);
  return RULES.flatMap((rule) => rule(ctx) ?? []).sort((a, b) => own(a) - own(b) || RANK[a.severity] - RANK[b.severity] || specificity(a) - specificity(b) || worst(b) - worst(a));
}
