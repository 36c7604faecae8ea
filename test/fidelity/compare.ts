// The fidelity verdict as a pure function: does an emulated run (real driver or simulated) do what
// the real library did? Same result (address set or error name), same ordered list of
// (server, transport, qname, qtype) — queries sent within `burstMs` of each other may come in
// either order — and every query's send time and each lookup's elapsed time within
// max(absToleranceMs, relTolerance × the real value).
//
// Also: building plans from the fake server's log, and checking the real library against the
// claims of resolver-behavior.md.

export interface PlanQuery {
  /** ms since the lookup started */
  t_ms: number;
  server: string;
  transport: string;
  /** lower-case, no trailing dot */
  qname: string;
  qtype: string;
}

export interface LookupObservation {
  addresses: string[];
  error: string | null;
  /** the canonical name returned (AI_CANONNAME); null when none */
  canonname?: string | null;
  elapsed_ms: number;
  queries: PlanQuery[];
  /**
   * A burst (lookups called at once, Node's --concurrency): every lookup's elapsed time and
   * result, fastest first. The observation itself is the burst as one: the slowest lookup's
   * time, every query of the burst in one plan (times from the common call).
   */
  burst?: Array<{ elapsed_ms: number; result: string }>;
}

/** Lookups called at the same moment, as one observation (see LookupObservation.burst). */
export function mergeBurst(lookups: LookupObservation[]): LookupObservation {
  const burst = lookups.map((l) => ({ elapsed_ms: l.elapsed_ms, result: describeResult(l) })).sort((a, b) => a.elapsed_ms - b.elapsed_ms);
  const first = lookups[0]!;
  return {
    addresses: first.addresses,
    error: first.error,
    canonname: first.canonname ?? null,
    elapsed_ms: burst.at(-1)!.elapsed_ms,
    queries: lookups.flatMap((l) => l.queries).sort((a, b) => a.t_ms - b.t_ms),
    burst,
  };
}

export interface CompareOptions {
  /** queries closer than this (in both runs) may be reordered; default 20 */
  burstMs?: number;
  /** default 50 */
  absToleranceMs?: number;
  /** default 0.05 */
  relTolerance?: number;
  /**
   * glibc `options rotate`: the server list in resolv.conf order. Each run's servers are
   * renamed relative to the server its first lookup started at, so only the rotation pattern is
   * compared, not the random starting point.
   */
  rotate?: string[];
  /** display names for servers ("10.23.4.1" → "ns1") */
  labels?: Record<string, string>;
  /** what to call the two sides in messages; default real / emulated */
  names?: [string, string];
}

export interface Comparison {
  match: boolean;
  /** the first difference, human-readable; null when they match */
  first: string | null;
  /** every difference found (at most one plan difference per lookup) */
  differences: string[];
  /** harmless observations (reordered bursts) */
  notes: string[];
}

export const tolerance = (realMs: number, o: CompareOptions = {}) => Math.max(o.absToleranceMs ?? 50, (o.relTolerance ?? 0.05) * Math.abs(realMs));

/** Canonical text of an address (IPv6 compressed, lower-case) so "fd00:50:0::5" equals "fd00:50::5". */
export function normalizeAddress(a: string): string {
  const bare = a.replace(/%.*$/, '');
  if (!bare.includes(':')) return bare;
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare.toLowerCase();
  }
}

const normName = (n: string) => n.replace(/\.$/, '').toLowerCase();

/**
 * The result as the application sees it: the error, or the addresses IN ORDER (each once) —
 * applications connect to the first, so the order is part of the result.
 */
export function describeResult(r: { addresses: string[]; error: string | null }): string {
  if (r.error) return r.error;
  return r.addresses.length === 0 ? 'no address' : [...new Set(r.addresses.map(normalizeAddress))].join(' ');
}

export function sameResult(a: { addresses: string[]; error: string | null }, b: { addresses: string[]; error: string | null }): boolean {
  return describeResult(a) === describeResult(b);
}

/** The same addresses in any order (resolver-behavior.md's claims name a set). */
const asSet = (r: { addresses: string[]; error: string | null }) => (r.error ? r.error : [...new Set(r.addresses.map(normalizeAddress))].sort().join(' '));

const keyOf = (q: PlanQuery) => `${q.qtype} ${normName(q.qname)} @${q.server}/${q.transport}`;

export function describeQuery(q: PlanQuery, labels: Record<string, string> = {}): string {
  return `${q.qtype} ${normName(q.qname)} @${labels[q.server] ?? q.server}/${q.transport} at ${Math.round(q.t_ms)} ms`;
}

/** "0 A db@ns1/udp, 0 AAAA db@ns1/udp, 5003 A db@ns2/udp" */
export function formatPlan(queries: PlanQuery[], labels: Record<string, string> = {}): string {
  if (queries.length === 0) return '(no query)';
  return queries.map((q) => `${Math.round(q.t_ms)} ${q.qtype} ${normName(q.qname)}@${labels[q.server] ?? q.server}${q.transport === 'udp' ? '' : '/' + q.transport}`).join(', ');
}

/** Renames servers relative to the first server of the first lookup with a query (see CompareOptions.rotate). */
export function relabelRotation(run: LookupObservation[], servers: string[]): LookupObservation[] {
  const first = run.find((l) => l.queries.length > 0)?.queries[0]?.server;
  const s0 = first === undefined ? -1 : servers.indexOf(first);
  if (s0 < 0) return run;
  const n = servers.length;
  const map = (s: string) => {
    const i = servers.indexOf(s);
    return i < 0 ? s : servers[(i - s0 + n) % n]!;
  };
  return run.map((l) => ({ ...l, queries: l.queries.map((q) => ({ ...q, server: map(q.server) })) }));
}

/** Two bursts: the same number of lookups, the k-th fastest within tolerance of the other's, the same results. */
function compareBurst(real: NonNullable<LookupObservation['burst']>, other: NonNullable<LookupObservation['burst']>, o: CompareOptions, diff: (m: string) => void): void {
  const [rn, on] = o.names ?? ['real', 'emulated'];
  if (real.length !== other.length) return diff(`burst: ${rn} ${real.length} lookups, ${on} ${other.length}`);
  const results = (b: typeof real) => b.map((x) => x.result).sort().join(' | ');
  if (results(real) !== results(other)) diff(`burst results: ${rn} ${results(real)}; ${on} ${results(other)}`);
  const off = real.findIndex((r, k) => Math.abs(r.elapsed_ms - other[k]!.elapsed_ms) > tolerance(r.elapsed_ms, o));
  if (off >= 0) diff(`burst times (fastest first): ${rn} ${real.map((x) => Math.round(x.elapsed_ms)).join(', ')} ms; ${on} ${other.map((x) => Math.round(x.elapsed_ms)).join(', ')} ms`);
}

/**
 * A burst's queries: the same ones, each within tolerance of its partner's time — in no particular
 * order: which of the lookups running at once gets to the wire first is the scheduler's doing
 * (seen: the second lookup of an emulated wave 20 ms behind the first), and each lookup's own
 * order is what every other scenario checks.
 */
function compareBurstQueries(R: PlanQuery[], E: PlanQuery[], o: CompareOptions, diff: (m: string) => void): void {
  const [rn, on] = o.names ?? ['real', 'emulated'];
  const labels = o.labels ?? {};
  if (R.length !== E.length) diff(`burst queries: ${rn} ${R.length}, ${on} ${E.length}`);
  const used = E.map(() => false);
  for (const r of R) {
    let best = -1;
    E.forEach((e, i) => {
      if (!used[i] && keyOf(e) === keyOf(r) && (best < 0 || Math.abs(e.t_ms - r.t_ms) < Math.abs(E[best]!.t_ms - r.t_ms))) best = i;
    });
    if (best < 0 || Math.abs(E[best]!.t_ms - r.t_ms) > tolerance(r.t_ms, o)) {
      return diff(`burst: ${rn} sent ${describeQuery(r, labels)} at ${Math.round(r.t_ms)} ms, ${on} ${best < 0 ? 'never' : `its nearest at ${Math.round(E[best]!.t_ms)} ms`}`);
    }
    used[best] = true;
  }
}

/** The per-lookup verdict; `prefix` names the lookup in messages. */
function compareLookup(real: LookupObservation, other: LookupObservation, o: CompareOptions, prefix: string, out: Comparison): void {
  const [rn, on] = o.names ?? ['real', 'emulated'];
  const labels = o.labels ?? {};
  const burst = o.burstMs ?? 20;
  const diff = (m: string) => out.differences.push(`${prefix}${m}`);

  if (real.burst && other.burst) {
    compareBurst(real.burst, other.burst, o, diff);
    compareBurstQueries(real.queries, other.queries, o, diff);
    return;
  }
  if (!sameResult(real, other)) diff(`result: ${rn} ${describeResult(real)}, ${on} ${describeResult(other)}`);
  const [rc, oc] = [real.canonname ?? null, other.canonname ?? null];
  if (rc !== oc) diff(`canonical name: ${rn} ${JSON.stringify(rc)}, ${on} ${JSON.stringify(oc)}`);

  const R = real.queries;
  const E = other.queries;
  const used: boolean[] = E.map(() => false);
  const pairs: Array<[number, number]> = [];
  let planBroken = false;
  for (let k = 0; k < R.length && !planBroken; k++) {
    const key = keyOf(R[k]!);
    const j = E.findIndex((q, i) => !used[i] && keyOf(q) === key);
    const nextE = E.findIndex((_, i) => !used[i]);
    if (j < 0) {
      diff(
        nextE < 0
          ? `query ${k + 1}: ${rn} sent ${describeQuery(R[k]!, labels)}, ${on} sent nothing more (${rn} ${R.length} queries, ${on} ${E.length})`
          : `query ${k + 1}: ${rn} sent ${describeQuery(R[k]!, labels)}, ${on} ${describeQuery(E[nextE]!, labels)} (and never the former)`,
      );
      planBroken = true;
      break;
    }
    // Skipping over earlier unmatched emulated queries is a reorder: allowed only inside a burst.
    const skipped = E.map((q, i) => ({ q, i })).filter(({ i }) => i < j && !used[i]);
    const badSkip = skipped.find(({ q }) => E[j]!.t_ms - q.t_ms > burst);
    if (badSkip) {
      diff(`query ${k + 1}: ${rn} sent ${describeQuery(R[k]!, labels)}, ${on} ${describeQuery(badSkip.q, labels)} first`);
      planBroken = true;
      break;
    }
    // ...and the real side must have been a burst too: any earlier pair matched out of order
    // (its emulated index is later than j) must be within `burst` of this one in the real run.
    const inverted = pairs.find(([rk, ej]) => ej > j && R[k]!.t_ms - R[rk]!.t_ms > burst);
    if (inverted) {
      diff(`query ${k + 1}: ${on} sent ${describeQuery(E[j]!, labels)} before ${describeQuery(E[inverted[1]]!, labels)}; ${rn} sent the ${R[k]!.qtype} ${Math.round(R[k]!.t_ms - R[inverted[0]]!.t_ms)} ms after the ${R[inverted[0]]!.qtype}`);
      planBroken = true;
      break;
    }
    if (skipped.length > 0) out.notes.push(`${prefix}query ${k + 1} (${keyOf(R[k]!)}) came ${skipped.length} place(s) later in the ${on} run, inside a ${burst} ms burst`);
    used[j] = true;
    pairs.push([k, j]);
  }
  if (!planBroken) {
    const extra = E.findIndex((_, i) => !used[i]);
    if (extra >= 0) {
      diff(`query ${R.length + 1}: ${rn} sent nothing more (${R.length} queries), ${on} sent ${describeQuery(E[extra]!, labels)} (${E.length} queries)`);
      planBroken = true;
    }
  }
  // Times of the queries both sent, in order, up to the first plan difference.
  for (const [k, j] of pairs) {
    const r = R[k]!;
    const e = E[j]!;
    const tol = tolerance(r.t_ms, o);
    if (Math.abs(r.t_ms - e.t_ms) > tol) {
      diff(`query ${k + 1} (${keyOf(r).replace(/@(\S+)\//, (_, s: string) => `@${labels[s] ?? s}/`)}): ${on} sent it at ${Math.round(e.t_ms)} ms, ${rn} at ${Math.round(r.t_ms)} ms (tolerance ${Math.round(tol)} ms)`);
      break;
    }
  }
  const tol = tolerance(real.elapsed_ms, o);
  if (Math.abs(real.elapsed_ms - other.elapsed_ms) > tol) {
    diff(`elapsed: ${on} ${Math.round(other.elapsed_ms)} ms, ${rn} ${Math.round(real.elapsed_ms)} ms (tolerance ${Math.round(tol)} ms)`);
  }
}

/** Every difference is about time (a send time or the elapsed time), none about results or plans. */
export function timingOnly(c: Comparison | null): boolean {
  if (!c || c.match) return true;
  return c.differences.every((d) => /^(lookup \d+: )?(elapsed: |query \d+ \(.*\): \w+ sent it at )/.test(d));
}

/** Compares two runs of the same lookups (one entry per lookup, in order). */
export function compareRuns(real: LookupObservation[], other: LookupObservation[], o: CompareOptions = {}): Comparison {
  const out: Comparison = { match: true, first: null, differences: [], notes: [] };
  const [rn, on] = o.names ?? ['real', 'emulated'];
  const r = o.rotate ? relabelRotation(real, o.rotate) : real;
  const e = o.rotate ? relabelRotation(other, o.rotate) : other;
  if (r.length !== e.length) out.differences.push(`lookups: ${rn} ${r.length}, ${on} ${e.length}`);
  const n = Math.min(r.length, e.length);
  for (let i = 0; i < n; i++) compareLookup(r[i]!, e[i]!, o, n > 1 || r.length !== e.length ? `lookup ${i + 1}: ` : '', out);
  out.match = out.differences.length === 0;
  out.first = out.differences[0] ?? null;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The fake server's log → plans

export interface LogLine {
  ts: number;
  server: string;
  transport: string;
  client_port?: number;
  id?: number;
  qname: string;
  qtype: string;
  action?: string;
}

/** Parses JSON lines, skipping blank and broken ones (a server killed mid-write). */
export function parseLog(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as LogLine;
      if (typeof v.ts === 'number' && typeof v.server === 'string') out.push(v);
    } catch {
      // a partial last line
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

const asPlan = (l: LogLine, start: number): PlanQuery => ({ t_ms: l.ts - start, server: l.server, transport: l.transport, qname: normName(l.qname), qtype: l.qtype });

/**
 * Splits a real library's log by lookup: lookup i owns the entries from its start_ms − `slackMs`
 * until the next lookup's start_ms − `slackMs`. The reference programs pause between lookups
 * (longer than 2 × slack), so a query can't sit near a boundary; the slack absorbs what is left
 * of the clock difference between the two processes. Times become relative to each start_ms.
 */
export function plansFromStarts(log: LogLine[], starts: number[], slackMs = 2): PlanQuery[][] {
  return starts.map((start, i) => {
    const next = starts[i + 1];
    return log.filter((l) => l.ts >= start - slackMs && (next === undefined || l.ts < next - slackMs)).map((l) => asPlan(l, start));
  });
}

/**
 * Splits an emulator's (real driver) log by lookup. The process's start is unknown to us, but its
 * traces say which queries each lookup sent to servers the log can see, and when: lookup i takes
 * the next `queries.length` entries (in time order). Its start on the log's clock is
 * min(logged ts − traced t_ms) over the queries paired by (type, name, server, transport): a
 * server that is slow to log (a busy event loop) only ever makes an entry late, never early. If
 * the log and the traces disagree on the number, the last lookup gets the surplus (and the
 * trace-vs-wire check shows the difference).
 */
export function plansFromTraces(log: LogLine[], traces: Array<{ queries: PlanQuery[] }>): { plans: PlanQuery[][]; starts: Array<number | null> } {
  const plans: PlanQuery[][] = [];
  const starts: Array<number | null> = [];
  let at = 0;
  traces.forEach((t, i) => {
    const mine = i === traces.length - 1 ? log.slice(at) : log.slice(at, at + t.queries.length);
    at += mine.length;
    const used = mine.map(() => false);
    const offsets: number[] = [];
    for (const q of t.queries) {
      const j = mine.findIndex((l, k) => !used[k] && keyOf(asPlan(l, 0)) === keyOf(q));
      if (j < 0) continue;
      used[j] = true;
      offsets.push(mine[j]!.ts - q.t_ms);
    }
    const start = offsets.length > 0 ? Math.min(...offsets) : mine.length > 0 ? mine[0]!.ts - (t.queries[0]?.t_ms ?? 0) : null;
    starts.push(start);
    plans.push(start === null ? [] : mine.map((l) => asPlan(l, start)));
  });
  return { plans, starts };
}

// ---------------------------------------------------------------------------------------------
// resolver-behavior.md's claims vs the real library

export interface Claim {
  error?: string | null;
  addresses?: string[];
  elapsedMs?: number[];
  queries?: number;
  source: string;
}

/** Disagreements between the doc's claim and what the real library did (empty = agrees). */
export function checkClaim(real: LookupObservation[], claim: Claim, o: { absToleranceMs?: number; relTolerance?: number } = {}): string[] {
  const out: string[] = [];
  const abs = o.absToleranceMs ?? 200;
  const rel = o.relTolerance ?? 0.05;
  real.forEach((l, i) => {
    const at = real.length > 1 ? `lookup ${i + 1}: ` : '';
    if (claim.error !== undefined && (l.error ?? null) !== claim.error) out.push(`${at}doc says ${claim.error ?? 'success'}, real ${describeResult(l)}`);
    if (claim.addresses !== undefined && !l.error && asSet(l) !== asSet({ addresses: claim.addresses, error: null })) {
      out.push(`${at}doc says ${describeResult({ addresses: claim.addresses, error: null })}, real ${describeResult(l)}`);
    }
    const want = claim.elapsedMs?.[i] ?? (claim.elapsedMs && claim.elapsedMs.length === 1 ? claim.elapsedMs[0] : undefined);
    if (want !== undefined && Math.abs(l.elapsed_ms - want) > Math.max(abs, rel * want)) {
      out.push(`${at}doc says ${fmtSeconds(want)}, real ${fmtSeconds(l.elapsed_ms)}`);
    }
  });
  if (claim.queries !== undefined) {
    const n = real.reduce((s, l) => s + l.queries.length, 0);
    if (n !== claim.queries) out.push(`doc says ${claim.queries} queries, the servers saw ${n}`);
  }
  return out;
}

export const fmtSeconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10 ? 3 : 2)} s`;
