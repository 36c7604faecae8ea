// From traces and configuration to findings: the cause, its evidence, what it costs each
// library, and the fix as a concrete line — with the fix's predicted effect from the simulated
// network (inferScenario). The rules, one cause each, are in rules.ts, what they share in
// context.ts; this file runs the table and orders what it finds. Pure.
import { LIBRARY_RULES, parseResolverConfig } from '../../resolvers/core/config.js';
import type { Family } from '../../resolvers/index.js';
import { listedNameservers, type Context, type Finding, type Severity } from './context.js';
import { RULES } from './rules.js';
import type { ModeRow } from './run.js';

export { configuredServers, type Finding } from './context.js';

function context(rows: ModeRow[], names: string[], family: Family): Context | undefined {
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
  };
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
/** Mechanisms, reported before the symptoms they cause (a slow lookup, a dead-looking server). */
const SPECIFIC = ['eventlet-0.24-hosts-stall', 'aaaa-lost', 'aaaa-servfail', 'truncation-without-tcp', 'nodata-ends-search', 'eventlet-timeout-ge-5', 'attempts-zero', 'only-server-failing'];
const specificity = (f: Finding) => (SPECIFIC.includes(f.id) ? 0 : 1);
const worst = (f: Finding) => Math.max(0, ...f.modes.map((m) => m.measured_ms));

export function findFindings(rows: ModeRow[], names: string[], family: Family): Finding[] {
  const ctx = context(rows, names, family);
  if (!ctx) return [];
  // Most severe first; among equals, the specific mechanism before the general symptom, then the costliest.
  return RULES.flatMap((rule) => rule(ctx) ?? []).sort((a, b) => RANK[a.severity] - RANK[b.severity] || specificity(a) - specificity(b) || worst(b) - worst(a));
}
