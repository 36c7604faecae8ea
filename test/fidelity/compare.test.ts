import { describe, expect, it } from 'vitest';
import {
  mergeBurst,
  checkClaim,
  compareRuns,
  formatPlan,
  normalizeAddress,
  parseLog,
  plansFromStarts,
  plansFromTraces,
  relabelRotation,
  sameResult,
  timingOnly,
  tolerance,
  type LookupObservation,
  type PlanQuery,
} from './compare.js';

const q = (t_ms: number, qtype: string, server = 'ns1', qname = 'db.fy.test', transport = 'udp'): PlanQuery => ({ t_ms, server, transport, qname, qtype });
const ok = (queries: PlanQuery[], elapsed_ms: number, addresses = ['10.50.0.5', 'fd00:50::5']): LookupObservation => ({ addresses, error: null, elapsed_ms, queries });
const fail = (queries: PlanQuery[], elapsed_ms: number, error = 'EAI_AGAIN'): LookupObservation => ({ addresses: [], error, elapsed_ms, queries });

// glibc, first of two servers blackholed: A+AAAA to ns1, 5 s later A+AAAA to ns2.
const glibcFirstBlackholed = [ok([q(0.1, 'A'), q(0.2, 'AAAA'), q(5001, 'A', 'ns2'), q(5001.1, 'AAAA', 'ns2')], 5002)];

describe('compareRuns', () => {
  it('matches an identical run', () => {
    const c = compareRuns(glibcFirstBlackholed, glibcFirstBlackholed);
    expect(c).toEqual({ match: true, first: null, differences: [], notes: [] });
  });

  it('accepts queries of one burst in either order, and says so in a note', () => {
    const other = [ok([q(0, 'AAAA'), q(0.3, 'A'), q(5000, 'AAAA', 'ns2'), q(5000.2, 'A', 'ns2')], 5001)];
    const c = compareRuns(glibcFirstBlackholed, other);
    expect(c.match).toBe(true);
    expect(c.notes.length).toBeGreaterThan(0);
  });

  it('rejects a reorder across bursts', () => {
    // eventlet order (AAAA round then A round) vs an emulator doing A first
    const real = [ok([q(0, 'AAAA'), q(2000, 'AAAA', 'ns2'), q(2001, 'A'), q(4001, 'A', 'ns2')], 4002)];
    const emu = [ok([q(0, 'A'), q(2000, 'A', 'ns2'), q(2001, 'AAAA'), q(4001, 'AAAA', 'ns2')], 4002)];
    const c = compareRuns(real, emu);
    expect(c.match).toBe(false);
    expect(c.first).toMatch(/^query 1: real sent AAAA db.fy.test @ns1\/udp at 0 ms, emulated A db.fy.test @ns1\/udp at 0 ms first/);
  });

  it('rejects a reorder that is a burst on the emulated side only', () => {
    const real = [ok([q(0, 'A'), q(1000, 'AAAA')], 1001)];
    const emu = [ok([q(0, 'AAAA'), q(1, 'A')], 1001)];
    const c = compareRuns(real, emu);
    expect(c.match).toBe(false);
    expect(c.first).toBe('query 2: emulated sent AAAA db.fy.test @ns1/udp at 0 ms before A db.fy.test @ns1/udp at 1 ms; real sent the AAAA 1000 ms after the A');
  });

  it('reports a missing query, an extra query and a wrong server', () => {
    const missing = compareRuns(glibcFirstBlackholed, [ok(glibcFirstBlackholed[0]!.queries.slice(0, 3), 5002)]);
    expect(missing.first).toMatch(/^query 4: real sent AAAA db.fy.test @ns2\/udp at 5001 ms, emulated sent nothing more \(real 4 queries, emulated 3\)/);
    const extra = compareRuns(glibcFirstBlackholed, [ok([...glibcFirstBlackholed[0]!.queries, q(5002, 'A', 'ns3')], 5002)]);
    expect(extra.first).toMatch(/^query 5: real sent nothing more \(4 queries\), emulated sent A db.fy.test @ns3\/udp at 5002 ms \(5 queries\)/);
    const wrong = compareRuns(glibcFirstBlackholed, [ok([q(0, 'A'), q(0, 'AAAA'), q(5000, 'A', 'ns3'), q(5000, 'AAAA', 'ns3')], 5001)]);
    expect(wrong.first).toMatch(/^query 3: real sent A db.fy.test @ns2\/udp at 5001 ms, emulated A db.fy.test @ns3\/udp at 5000 ms \(and never the former\)/);
  });

  it('checks transport and qname', () => {
    const real = [ok([q(0, 'A'), q(0, 'AAAA'), q(1, 'A', 'ns1', 'db.fy.test', 'tcp')], 2)];
    const emu = [ok([q(0, 'A'), q(0, 'AAAA'), q(1, 'A', 'ns1', 'db.fy.test', 'udp')], 2)];
    expect(compareRuns(real, emu).match).toBe(false);
    const emu2 = [ok([q(0, 'A'), q(0, 'AAAA'), q(1, 'A', 'ns1', 'DB.fy.test.', 'tcp')], 2)];
    expect(compareRuns(real, emu2).match).toBe(true);
  });

  it('holds send times and elapsed to max(50 ms, 5 %)', () => {
    expect(tolerance(100)).toBe(50);
    expect(tolerance(5000)).toBe(250);
    const late = [ok([q(0.1, 'A'), q(0.2, 'AAAA'), q(5300, 'A', 'ns2'), q(5300, 'AAAA', 'ns2')], 5301)];
    const c = compareRuns(glibcFirstBlackholed, late);
    expect(c.match).toBe(false);
    expect(c.differences[0]).toMatch(/^query 3 \(A db.fy.test @ns2\/udp\): emulated sent it at 5300 ms, real at 5001 ms \(tolerance 250 ms\)$/);
    expect(c.differences[1]).toMatch(/^elapsed: emulated 5301 ms, real 5002 ms/);
    const within = [ok([q(40, 'A'), q(40, 'AAAA'), q(5200, 'A', 'ns2'), q(5200, 'AAAA', 'ns2')], 5200)];
    expect(compareRuns(glibcFirstBlackholed, within).match).toBe(true);
  });

  it('compares results as ordered addresses (applications connect to the first) with canonical IPv6, and errors by name', () => {
    expect(sameResult({ addresses: ['fd00:50:0::5', '10.50.0.5'], error: null }, { addresses: ['FD00:50::5', '10.50.0.5', 'fd00:50::5'], error: null })).toBe(true);
    expect(sameResult({ addresses: ['fd00:50:0::5', '10.50.0.5'], error: null }, { addresses: ['10.50.0.5', 'FD00:50::5'], error: null })).toBe(false);
    expect(sameResult({ addresses: ['10.50.0.5'], error: null }, { addresses: ['10.50.0.5', 'fd00:50::5'], error: null })).toBe(false);
    const c = compareRuns([fail([], 0)], [fail([], 0, 'EAI_NONAME')]);
    expect(c.first).toBe('result: real EAI_AGAIN, emulated EAI_NONAME');
    expect(normalizeAddress('FD00:0050:0000:0000:0000:0000:0000:0005')).toBe('fd00:50::5');
    expect(normalizeAddress('10.1.2.3')).toBe('10.1.2.3');
  });

  it('names each lookup of a repeated run', () => {
    const real = [ok([q(0, 'A'), q(0, 'AAAA')], 3000, ['10.50.0.5']), ok([q(0, 'A'), q(0, 'AAAA')], 1000, ['10.50.0.5'])];
    const emu = [ok([q(0, 'A'), q(0, 'AAAA')], 3000, ['10.50.0.5']), ok([q(0, 'A'), q(0, 'AAAA')], 3000, ['10.50.0.5'])];
    const c = compareRuns(real, emu);
    expect(c.first).toMatch(/^lookup 2: elapsed: emulated 3000 ms, real 1000 ms/);
    expect(compareRuns(real, emu.slice(0, 1)).first).toBe('lookups: real 2, emulated 1');
  });

  it('compares the rotation pattern, not the random first server', () => {
    const run = (first: number) =>
      Array.from({ length: 4 }, (_, i) => {
        const s = `ns${((first + i) % 3) + 1}`;
        return ok([q(0, 'A', s), q(0, 'AAAA', s)], 1);
      });
    const servers = ['ns1', 'ns2', 'ns3'];
    expect(compareRuns(run(0), run(2), { rotate: servers }).match).toBe(true);
    expect(compareRuns(run(0), run(2)).match).toBe(false);
    // no rotation at all (always ns2) is a different pattern
    const fixed = Array.from({ length: 4 }, () => ok([q(0, 'A', 'ns2'), q(0, 'AAAA', 'ns2')], 1));
    expect(compareRuns(run(1), fixed, { rotate: servers }).match).toBe(false);
    expect(relabelRotation(run(2), servers).map((l) => l.queries[0]!.server)).toEqual(['ns1', 'ns2', 'ns3', 'ns1']);
  });

  it('tells timing-only differences from the rest', () => {
    const late = [ok([q(0.1, 'A'), q(0.2, 'AAAA'), q(5300, 'A', 'ns2'), q(5300, 'AAAA', 'ns2')], 5301)];
    expect(timingOnly(compareRuns(glibcFirstBlackholed, late))).toBe(true);
    expect(timingOnly(compareRuns([ok([], 1), ok([], 1)], [ok([], 1), ok([], 900)]))).toBe(true);
    expect(timingOnly(compareRuns([fail([], 0)], [ok([], 0)]))).toBe(false);
    expect(timingOnly(compareRuns(glibcFirstBlackholed, [ok([q(0, 'A')], 5002)]))).toBe(false);
    expect(timingOnly(null)).toBe(true);
  });

  it('uses custom side names', () => {
    const c = compareRuns([fail([], 0)], [ok([], 0)], { names: ['wire', 'trace'] });
    expect(c.first).toBe('result: wire EAI_AGAIN, trace 10.50.0.5 fd00:50::5');
  });
});

describe('plans from the fake server log', () => {
  const line = (ts: number, qtype: string, server = 'ns1') => ({ ts, server, transport: 'udp', client_port: 1, id: 1, qname: 'db.fy.test', qtype, action: 'answer' });

  it('parses JSON lines in time order and skips broken ones', () => {
    const text = `${JSON.stringify(line(2, 'A'))}\n${JSON.stringify(line(1, 'AAAA'))}\n{"ts": 3, "ser\n\n`;
    expect(parseLog(text).map((l) => l.qtype)).toEqual(['AAAA', 'A']);
  });

  it('splits a real run by the start_ms of each lookup', () => {
    // lookup 2 starts 50 ms after lookup 1 ended; a little clock skew shows as negative times
    const log = [line(999.5, 'A'), line(1000.6, 'AAAA'), line(3949.9, 'A', 'ns2'), line(3999.9, 'A'), line(4000.3, 'AAAA')];
    const plans = plansFromStarts(log, [1000, 4000], 25);
    expect(plans.map((p) => p.map((x) => Math.round(x.t_ms * 10) / 10))).toEqual([[-0.5, 0.6, 2949.9], [-0.1, 0.3]]);
  });

  it('splits an emulated run by the queries of its traces, anchored on the earliest-logged pairing', () => {
    const t0 = 1_700_000_000_000;
    // lookup 1: A at 0.4 and 3000.4 — the first one logged 30 ms late (a busy server); lookup 2: A at 0.3
    const log = [line(t0 + 30.5, 'A'), line(t0 + 3000.5, 'A', 'ns2'), line(t0 + 3001.5 + 0.4, 'A')];
    const { plans, starts } = plansFromTraces(log, [
      { queries: [q(0.4, 'A'), q(3000.4, 'A', 'ns2')] },
      { queries: [q(0.3, 'A')] },
    ]);
    expect(plans.map((p) => p.length)).toEqual([2, 1]);
    expect(plans[0]!.map((x) => Math.round(x.t_ms * 10) / 10)).toEqual([30.4, 3000.4]);
    expect(plans[1]![0]!.t_ms).toBeCloseTo(0.3, 3);
    expect(starts[0]).toBeCloseTo(t0 + 0.1, 3);
  });

  it('copes with lookups that sent nothing, and gives a surplus to the last lookup', () => {
    const log = [line(10.2, 'A'), line(10.3, 'AAAA')];
    const { plans, starts } = plansFromTraces(log, [{ queries: [] }, { queries: [q(0.2, 'A')] }]);
    expect(plans.map((p) => p.length)).toEqual([0, 2]);
    expect(starts).toEqual([null, 10]);
    expect(plansFromTraces([], [{ queries: [] }]).plans).toEqual([[]]);
  });
});

describe('checkClaim (resolver-behavior.md vs the real library)', () => {
  it('agrees within max(200 ms, 5 %)', () => {
    expect(checkClaim(glibcFirstBlackholed, { error: null, addresses: ['10.50.0.5', 'fd00:50::5'], elapsedMs: [5000], queries: 4, source: 'x' })).toEqual([]);
  });

  it('lists every disagreement', () => {
    const d = checkClaim(glibcFirstBlackholed, { error: 'EAI_AGAIN', elapsedMs: [10000], queries: 2, source: 'x' });
    expect(d).toEqual(['doc says EAI_AGAIN, real 10.50.0.5 fd00:50::5', 'doc says 10.00 s, real 5.00 s', 'doc says 2 queries, the servers saw 4']);
    const v4 = checkClaim(glibcFirstBlackholed, { addresses: ['10.50.0.5'], source: 'x' });
    expect(v4).toEqual(['doc says 10.50.0.5, real 10.50.0.5 fd00:50::5']);
  });

  it('checks each lookup of a repeated run against its own time', () => {
    const real = [ok([], 3000), ok([], 3000)];
    expect(checkClaim(real, { elapsedMs: [3000, 1000], source: 'x' })).toEqual(['lookup 2: doc says 1.00 s, real 3.00 s']);
  });
});

describe('formatPlan', () => {
  it('is short and readable', () => {
    expect(formatPlan(glibcFirstBlackholed[0]!.queries)).toBe('0 A db.fy.test@ns1, 0 AAAA db.fy.test@ns1, 5001 A db.fy.test@ns2, 5001 AAAA db.fy.test@ns2');
    expect(formatPlan([q(3, 'A', 'ns1', 'x', 'tcp')])).toBe('3 A x@ns1/tcp');
    expect(formatPlan([])).toBe('(no query)');
  });
});

describe('compareRuns: the canonical name', () => {
  it('a different canonical name is a mismatch; absent on one side equals null on the other', () => {
    const real = [{ ...ok([q(0, 'A')], 1), canonname: 'db.fy.test' }];
    expect(compareRuns(real, [{ ...ok([q(0, 'A')], 1), canonname: 'DB.fy.test' }]).first).toBe('canonical name: real "db.fy.test", emulated "DB.fy.test"');
    expect(compareRuns(real, [ok([q(0, 'A')], 1)]).first).toBe('canonical name: real "db.fy.test", emulated null');
    expect(compareRuns([{ ...ok([q(0, 'A')], 1), canonname: null }], [ok([q(0, 'A')], 1)]).match).toBe(true);
    expect(timingOnly(compareRuns(real, [ok([q(0, 'A')], 1)]))).toBe(false);
  });
});

describe('bursts (lookups called at once): results and times fastest first, queries matched in any order', () => {
  // node-burst-8 × node in a fresh-clone run (6774cf6): the emulated wave's second lookup reached
  // the wire 20 ms after the first; the real one's two lookups went together
  const lookup = (start: number, elapsed: number) => ok([q(start, 'A', 'ns1'), q(start, 'AAAA', 'ns1'), q(start + 1000, 'A', 'ns2'), q(start + 1000, 'AAAA', 'ns2')], elapsed);
  const real = mergeBurst([lookup(0, 1001), lookup(0, 1001), lookup(1001, 2002), lookup(1001, 2002)]);
  it('interleaved differently within tolerance: a match', () => {
    const emulated = mergeBurst([lookup(0, 1001), lookup(20, 1021), lookup(1001, 2002), lookup(1021, 2022)]);
    expect(compareRuns([real], [emulated]).differences).toEqual([]);
  });
  it('a query sent too late, or a lookup missing, is a difference', () => {
    const late = mergeBurst([lookup(0, 1001), lookup(0, 1001), lookup(1001, 2002), lookup(1301, 2302)]);
    expect(compareRuns([real], [late]).first).toMatch(/^burst/);
    const three = mergeBurst([lookup(0, 1001), lookup(0, 1001), lookup(1001, 2002)]);
    expect(compareRuns([real], [three]).differences.join(' ')).toMatch(/burst: real 4 lookups, emulated 3/);
  });
});
