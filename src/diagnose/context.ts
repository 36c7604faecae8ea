// What the findings rules share: the finding types, the Context they read (the run and the views
// of it several rules need), and what a fix would cost each library. Pure.
import { addressText, inetAtonExact, ipVersion } from '../../resolvers/core/address.js';
import type { ResolverConfig } from '../../resolvers/core/config.js';
import { parseResolvConf } from '../files/resolvconf.js';
import { parseScenario, type Family, type LibraryInput, type ScenarioSpec, type Trace, type TraceQuery } from '../../resolvers/index.js';
import { inferScenario } from './infer.js';
import { predict, type ModeRow } from './run.js';
import type { ProgramLibrary } from '../program/library.js';
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

/** One query a direct row sent, with the row and lookup it belongs to. */
export interface DirectQuery {
  row: ModeRow;
  t: Trace;
  q: TraceQuery;
}

/** What the rules read: the run, and the views of it that several rules share. */
export interface Context {
  rows: ModeRow[];
  names: string[];
  family: Family;
  /** the configuration the libraries read talking to the upstreams directly */
  input: LibraryInput;
  /** every nameserver line, in order (glibc and musl use the first 3, eventlet all of them) */
  servers: string[];
  glibc: ResolverConfig;
  /** as eventlet reads it (dnspython) */
  dnspython: ResolverConfig;
  /** every query of the direct rows: the upstreams are judged by the libraries talking to them, not through the stub */
  queries: DirectQuery[];
  /** what the target process resolves with, when the target is a process */
  program: ProgramLibrary | undefined;
  /** the application's own lookups seen on the wire (diagnose --observe); empty without */
  observed: Trace[];
  /**
   * Live runs: each returned address → the source the target's kernel picks for it (connect, no
   * packet), null when the target has no route to it. Undefined when not measured live.
   */
  sources: Map<string, string | null> | undefined;
}

function total(r: ModeRow): number {
  return r.traces.reduce((s, t) => s + t.elapsed_ms, 0);
}

/**
 * The server each nameserver line names, in --what-if's numbering, in the form the libraries send
 * to: glibc and musl read "10.1" and "010.0.0.1" with inet_aton (10.0.0.1, 8.0.0.1), so the
 * traces name those; anything else stays as written.
 */
export function nameserverLines(resolvConf: string): string[] {
  return parseResolvConf(resolvConf).nameservers.map(({ address }) => {
    const v4 = inetAtonExact(address);
    return v4 ? addressText(v4) : address;
  });
}

/** Every nameserver a library can use, in order (glibc and musl use the first 3, eventlet all). */
export function listedNameservers(resolvConf: string): string[] {
  return nameserverLines(resolvConf).filter((s) => ipVersion(s.replace(/%.*$/, '')) !== 0);
}

/** Every nameserver the direct rows' configurations name. */
export function configuredServers(rows: Pick<ModeRow, 'path' | 'input'>[]): string[] {
  return [...new Set(rows.filter((r) => r.path === 'direct').flatMap((r) => listedNameservers(r.input.resolvConf)))];
}

/**
 * Costs per direct row, measured and predicted with `whatIf` applied to every row's input, or with
 * `network` applied to the inferred simulated network (a fix that is not in the configuration:
 * a server that behaves differently).
 */
export function costs(ctx: Context, whatIf: string | null, network?: (spec: ScenarioSpec) => ScenarioSpec): ModeCost[] {
  const direct = ctx.rows.filter((r) => r.path === 'direct');
  let predicted: Map<string, number> | undefined;
  if (whatIf || network) {
    const w = whatIf ? parseWhatIf(whatIf) : undefined;
    const inferred = inferScenario(ctx.rows.flatMap((r) => r.traces), configuredServers(ctx.rows));
    const scenario = parseScenario(network ? network(inferred) : inferred);
    const changed = predict(direct.map((r) => ({ ...r, input: w ? w.apply(r.input) : r.input })), ctx.names, ctx.family, scenario);
    predicted = new Map(changed.map((r) => [r.label, total(r)]));
  }
  return direct.map((r) => ({ mode: r.label, measured_ms: total(r), with_fix_ms: predicted?.get(r.label) ?? null }));
}
