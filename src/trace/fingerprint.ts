// PURE: which resolver library's strategy sent what was observed. Each lookup's servers are
// replayed — every query gets what that server did with it on the wire (the same reply after the
// same delay, the same loss, the same ICMP error) — through each emulator on the simulated
// network, and the emulator's plan is compared with the observed one: the same queries (server,
// transport, name, type) at the same times (FINGERPRINT_TOLERANCE), sharing sockets the same way
// (A and AAAA from one socket, or each from its own). From the wire alone: a process's libraries
// may confirm what this says, never decide it. Lookups are replayed in order through one emulated
// process per strategy, so state a library keeps between lookups (glibc's sticky single-request
// fallback) carries over as it does in the real process.
import { LIBRARY_RULES, parseResolverConfig, type ResolverConfig } from '../../resolvers/core/config.js';
import { countDots } from '../../resolvers/core/search.js';
import type { ScriptedOutcome } from '../../resolvers/core/scenario.js';
import { seededRandom, simulateLookup } from '../../resolvers/core/sim.js';
import type { Family, LibraryInput, QType } from '../../resolvers/core/types.js';
import { emulatorFor } from '../../resolvers/index.js';
import type { Exchange } from './exchanges.js';
import type { Lookup } from './lookups.js';

/** A candidate: an emulator, with an option a program may set for itself (RES_OPTIONS) that resolv.conf does not show. */
export interface Strategy {
  id: string;
  mode: string;
  resOptions?: string;
}

export const STRATEGIES: Strategy[] = [
  { id: 'glibc', mode: 'glibc' },
  { id: 'glibc+single-request', mode: 'glibc', resOptions: 'single-request' },
  { id: 'glibc+single-request-reopen', mode: 'glibc', resOptions: 'single-request-reopen' },
  { id: 'glibc+use-vc', mode: 'glibc', resOptions: 'use-vc' },
  { id: 'musl', mode: 'musl' },
  { id: 'eventlet', mode: 'eventlet' },
  // Go's own resolver: A and AAAA at once, each from a socket of its own, a flat timeout per try
  { id: 'go', mode: 'go' },
];

/** Lookups replayed at most (the first ones): the verdict's work stays bounded on a long, busy capture. */
export const FINGERPRINT_MAX_LOOKUPS = 2000;

/** Sends are "at the same time" within this much (the fidelity suite's tolerance), or 10 % of the time since the lookup began. */
export const FINGERPRINT_TOLERANCE_MS = 50;

export interface PlanStep {
  /** ms since the lookup's first query */
  t: number;
  server: string;
  transport: 'udp' | 'tcp';
  qname: string;
  qtype: string;
  /** the socket, numbered by first use within the lookup */
  socket: number;
}

export interface LookupFit {
  strategy: string;
  /** the same queries, times and sockets */
  matches: boolean;
  /** the first difference, when it does not match */
  difference?: string;
}

export interface LookupFingerprint {
  /** the name replayed (the search list stripped) and its family */
  name: string;
  family: Family;
  /** strategies that send exactly the observed plan */
  matching: string[];
  fits: LookupFit[];
  /** why it was not replayed (then matching and fits are empty): not an address lookup, or past the first FINGERPRINT_MAX_LOOKUPS */
  notReplayed?: string;
}

export interface Fingerprint {
  /** 'match': one strategy fits every lookup; 'ambiguous': several do, alike on everything observed; 'none': none fits every lookup */
  verdict: 'match' | 'ambiguous' | 'none' | 'no-lookups';
  strategies: string[];
  /** why, in one or two sentences: what told the others apart, or what nothing explains */
  why: string;
  lookups: LookupFingerprint[];
}

const numberSockets = (keys: string[]) => {
  const seen = new Map<string, number>();
  return keys.map((k) => seen.get(k) ?? seen.set(k, seen.size).get(k)!);
};

export function observedPlan(l: Lookup): PlanStep[] {
  const sockets = numberSockets(l.exchanges.map((e) => `${e.transport} ${e.client} ${e.clientPort} ${e.transport === 'tcp' ? e.server : ''}`));
  return l.exchanges.map((e, i) => ({ t: e.t - l.start, server: e.server, transport: e.transport, qname: e.qname, qtype: e.qtype, socket: sockets[i]! }));
}

const RCODE: Partial<Record<Exchange['outcome'], number>> = { answer: 0, nodata: 0, truncated: 0, nxdomain: 3, servfail: 2, refused: 5, formerr: 1, notimp: 4 };

function outcome(e: Exchange): ScriptedOutcome {
  if (e.outcome === 'timeout') return { kind: 'drop' };
  if (e.outcome === 'icmp-unreachable' || e.outcome === 'connection-refused') return { kind: 'closed' };
  return { kind: 'reply', rcode: RCODE[e.outcome] ?? 2, answered: e.answers > 0, truncated: e.outcome === 'truncated', delayMs: Math.max(0, e.rtt ?? 0) };
}

/** The lookup's servers as a script: the nth query of a question gets what the nth one on the wire got (then the last again). */
function script(l: Lookup) {
  const seen = new Map<string, Exchange[]>();
  for (const e of l.exchanges) {
    const k = `${e.server} ${e.transport} ${e.qname} ${e.qtype}`;
    const list = seen.get(k);
    if (list) list.push(e);
    else seen.set(k, [e]);
  }
  const replied = new Set(l.exchanges.filter((e) => e.rtt !== null && e.outcome !== 'icmp-unreachable').map((e) => e.server));
  const closed = new Set(l.exchanges.filter((e) => e.outcome === 'icmp-unreachable').map((e) => e.server));
  return (server: string, transport: 'udp' | 'tcp', qname: string, qtype: string, nth: number): ScriptedOutcome => {
    const list = seen.get(`${server} ${transport} ${qname} ${qtype}`);
    if (list) return outcome(list[Math.min(nth, list.length - 1)]!);
    // a question the program never asked: the plans already differ; answer as that server would likely
    if (closed.has(server)) return { kind: 'closed' };
    return replied.has(server) ? { kind: 'reply', rcode: 3, answered: false, truncated: false, delayMs: 0 } : { kind: 'drop' };
  };
}

/** The first name a getaddrinfo of `name` sends (glibc's and musl's order; eventlet's and Go's alike). */
function firstSent(name: string, cfg: Pick<ResolverConfig, 'search' | 'ndots'>): string {
  if (name.endsWith('.')) return name.slice(0, -1);
  if (cfg.search.length === 0 || countDots(name) >= cfg.ndots) return name;
  return `${name}.${cfg.search[0]!.toLowerCase()}`;
}

/**
 * The name the program asked for: the first name sent with a search domain taken off — or, when
 * that would not have been sent first, the first name as an absolute one ("name." skips the search
 * list, as applications do to avoid ndots:5).
 */
export function requestedName(l: Lookup, cfg: Pick<ResolverConfig, 'search' | 'ndots'>): string {
  const first = l.names[0]!;
  const domain = [...cfg.search].sort((a, b) => b.length - a.length).find((d) => first.endsWith(`.${d.toLowerCase()}`));
  const candidates = [...(domain ? [first.slice(0, -(domain.length + 1))] : []), first, `${first}.`];
  return candidates.find((c) => firstSent(c, cfg) === first) ?? first;
}

/** Only address lookups (A, AAAA) are getaddrinfo's: a PTR, SRV or MX query is another call, not replayed. */
const addressLookup = (l: Lookup) => l.types.every((t) => t === 'A' || t === 'AAAA');

function familyOf(l: Lookup): Family {
  const a = l.types.includes('A');
  const aaaa = l.types.includes('AAAA');
  return a && aaaa ? 'any' : aaaa ? 'inet6' : 'inet';
}

const describe = (s: PlanStep) => `${s.qtype} ${s.qname} to ${s.server}/${s.transport} at ${s.t.toFixed(0)} ms`;

/**
 * Whether `sim` is `obs`: the same queries, times within tolerance, sockets shared alike; else the
 * first difference. Not compared: whether a query left before or after its partner's reply. That
 * would tell glibc's A and AAAA sent together from single-request's one after the other, but on
 * this machine (2 vCPUs) the real glibc's sendmmsg let AAAA out 0.6 ms after A, after A's reply
 * had come back: on the wire the two are alike whenever the server answers that fast.
 */
export function comparePlans(obs: PlanStep[], sim: PlanStep[]): string | undefined {
  const used = new Set<number>();
  const pairs: Array<[PlanStep, PlanStep]> = [];
  for (const o of obs) {
    const tol = Math.max(FINGERPRINT_TOLERANCE_MS, 0.1 * o.t);
    const i = sim.findIndex((s, j) => !used.has(j) && s.server === o.server && s.transport === o.transport && s.qname === o.qname && s.qtype === o.qtype && Math.abs(s.t - o.t) <= tol);
    if (i < 0) {
      const same = sim.find((s, j) => !used.has(j) && s.server === o.server && s.transport === o.transport && s.qname === o.qname && s.qtype === o.qtype);
      return same ? `observed ${describe(o)}, it sends that at ${same.t.toFixed(0)} ms` : `observed ${describe(o)}, it never sends that`;
    }
    used.add(i);
    pairs.push([o, sim[i]!]);
  }
  const extra = sim.find((_, j) => !used.has(j));
  if (extra) return `it also sends ${describe(extra)}, never observed`;
  // order: what it sends one after the other must have left in that order (sends at one instant may leave in any)
  for (const [a, x] of pairs) {
    for (const [b, y] of pairs) {
      if (x.t < y.t && a.t > b.t) return `${describe(a)} left after ${b.qtype} ${b.qname}, it sends it before`;
    }
  }
  // sockets: two queries share one on the wire exactly when they share one in the plan
  for (const [a, x] of pairs) {
    for (const [b, y] of pairs) {
      if (a === b || a.qname !== b.qname || (a.socket === b.socket) === (x.socket === y.socket)) continue;
      return `${a.qtype} and ${b.qtype} ${a.qname} left ${a.socket === b.socket ? 'one socket' : 'two sockets'}, it uses ${x.socket === y.socket ? 'one' : 'two'}`;
    }
  }
  return undefined;
}

/** Strategies that apply here: a variant whose option resolv.conf already sets is the base strategy itself. */
function candidates(input: LibraryInput): Strategy[] {
  const flags = parseResolverConfig(input.resolvConf, LIBRARY_RULES.glibc, () => {}).flags;
  return STRATEGIES.filter((s) => !s.resOptions || !flags.has(s.resOptions));
}

function replay(strategy: Strategy, input: LibraryInput, lookups: Lookup[], cfg: ResolverConfig): LookupFit[] {
  const emulator = emulatorFor(strategy.mode)!;
  const env = strategy.resOptions ? { ...input.env, RES_OPTIONS: `${input.env.RES_OPTIONS ?? ''} ${strategy.resOptions}`.trim() } : input.env;
  const process = emulator.createProcess({ input: { ...input, env }, random: seededRandom(1), warn: () => {} });
  let at = 0;
  return lookups.map((l) => {
    const servers = new Map([...new Set(l.exchanges.map((e) => e.server))].map((s) => [s, { base: 'answer' as const, delayMs: 0 }]));
    let run: ReturnType<typeof simulateLookup>;
    try {
      run = simulateLookup(process, { name: requestedName(l, cfg), family: familyOf(l), canonname: false }, { servers, zone: new Map(), rttMs: 0, script: script(l) }, { mode: strategy.mode, startAt: at });
    } catch (err) {
      // a name off the wire the library would refuse to look up, say: no plan to compare
      return { strategy: strategy.id, matches: false, difference: `it cannot replay this lookup (${(err as Error).message})` };
    }
    at = run.endAt + 1;
    const sockets = numberSockets(run.sockets);
    const plan = run.trace.queries.map((q, i) => ({ t: q.t_ms, server: q.server, transport: q.transport, qname: q.qname, qtype: q.qtype as QType, socket: sockets[i]! }));
    const difference = comparePlans(observedPlan(l), plan);
    return { strategy: strategy.id, matches: difference === undefined, ...(difference ? { difference } : {}) };
  });
}

export function fingerprint(all: Lookup[], input: LibraryInput): Fingerprint {
  const cfg = parseResolverConfig(input.resolvConf, LIBRARY_RULES.glibc, () => {});
  // replayed: address lookups among the first FINGERPRINT_MAX_LOOKUPS (their numbers kept for the report)
  const picked = all.map((l, i) => ({ l, n: i + 1 })).filter(({ l, n }) => n <= FINGERPRINT_MAX_LOOKUPS && addressLookup(l));
  const fits = new Map(candidates(input).map((s) => [s.id, replay(s, input, picked.map((p) => p.l), cfg)]));
  const byLookup = new Map(picked.map((p, j) => [p.l, j]));
  const lookups = all.map((l, i): LookupFingerprint => {
    const base = { name: requestedName(l, cfg), family: familyOf(l) };
    const j = byLookup.get(l);
    if (j === undefined) {
      const notReplayed = i >= FINGERPRINT_MAX_LOOKUPS ? `past the first ${FINGERPRINT_MAX_LOOKUPS} lookups` : `not an address lookup (${l.types.join(' ')})`;
      return { ...base, matching: [], fits: [], notReplayed };
    }
    const row = [...fits.values()].map((f) => f[j]!);
    return { ...base, matching: row.filter((f) => f.matches).map((f) => f.strategy), fits: row };
  });
  const f = verdict(fits, picked.map((p) => p.n));
  const skipped = all.length - picked.length;
  return { ...f, why: skipped > 0 ? `${f.why} (${skipped} of ${all.length} lookups not replayed: see each)` : f.why, lookups };
}

/** The verdict over the replayed lookups; `numbers`: each one's number in the whole capture. */
function verdict(fits: Map<string, LookupFit[]>, numbers: number[]): Omit<Fingerprint, 'lookups'> {
  if (numbers.length === 0) return { verdict: 'no-lookups', strategies: [], why: 'no address lookup was seen' };
  const fitAll = [...fits].filter(([, f]) => f.every((x) => x.matches)).map(([id]) => id);
  const toldApart = (id: string) => {
    const i = fits.get(id)!.findIndex((x) => !x.matches);
    return `${id} (lookup ${numbers[i]}: ${fits.get(id)![i]!.difference})`;
  };
  const others = [...fits.keys()].filter((id) => !fitAll.includes(id));
  const n = numbers.length;
  if (fitAll.length === 1) return { verdict: 'match', strategies: fitAll, why: `${fitAll[0]} sends every observed lookup's plan (${n}); not ${others.map(toldApart).join('; not ')}` };
  if (fitAll.length > 1) {
    const apart = others.length ? `; not ${others.map(toldApart).join('; not ')}` : '';
    return { verdict: 'ambiguous', strategies: fitAll, why: `${fitAll.join(', ')} send the same plan for everything observed (${n} lookups)${apart}` };
  }
  const [id, hits] = [...fits].map(([s, f]) => [s, f.filter((x) => x.matches).length] as const).sort((a, b) => b[1] - a[1])[0]!;
  return {
    verdict: 'none',
    strategies: [],
    why: hits > 0 ? `no strategy sends every observed plan; closest: ${id}, ${hits} of ${n} lookups; ${toldApart(id)}` : `no strategy sends any observed plan; e.g. ${toldApart(id)}`,
  };
}
