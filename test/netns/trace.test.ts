// tsnet trace against the real libraries: the fidelity suite's getaddrinfo programs (glibc, static
// musl, eventlet's greendns) run inside a tsnet container (no process for trace to inspect: all it
// has is the wire) while `tsnet trace NAME -- CMD` watches. The oracles are independent of the
// trace: each program's own per-call log (start and elapsed time of every lookup) and which
// program, built against which library, was run; the fake upstream's log counts the queries.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceReport } from '../../src/trace/report.js';
import { buildReferences, PYTHON } from '../fidelity/run.js';
import { Lab, requireRootOrSkip } from '../support/lab.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const runIt = requireRootOrSkip();

interface CallLog {
  addresses: string[];
  error: string | null;
  start_ms: number;
  elapsed_ms: number;
}

describe.skipIf(!runIt)('tsnet trace: real libraries fingerprinted from the wire', () => {
  const lab = new Lab();
  let up: Upstream;
  let refs: ReturnType<typeof buildReferences>;
  const work = mkdtempSync(join(tmpdir(), 'tsnet-trace-test-'));
  // high host numbers: the containers made below get theirs from the allocator (.2 up)
  const GOOD = lab.ip(250);
  const DEAD = lab.ip(251);
  const NAME = 'db.fy.test';

  beforeAll(async () => {
    refs = buildReferences(work);
    up = await startUpstream(lab, lab.name('up'), [{ address: GOOD, behaviour: 'answer' }, { address: DEAD, behaviour: 'blackhole' }], [`${NAME}=A:10.50.0.5`, `${NAME}=AAAA:fd00:50::5`]);
  }, 120_000);

  afterAll(async () => {
    await up?.stop();
    rmSync(work, { recursive: true, force: true });
    expect(await lab.destroy()).toEqual([]);
  });

  /** Traces one program in a fresh container; returns the report and the program's own per-call log. */
  async function traced(app: string, createArgs: string[], cmd: string[]): Promise<{ report: TraceReport; calls: CallLog[]; summary: string }> {
    const c = await lab.create(lab.name(app), ['--dns-mode', 'direct', ...createArgs]);
    expect(c.code, c.stderr).toBe(0);
    const r = await lab.cli(['trace', lab.name(app), '--json', '--', ...cmd]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as TraceReport;
    const calls = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as CallLog);
    await lab.cli(['rm', lab.name(app)]);
    const summary = `${report.fingerprint.verdict} ${report.fingerprint.strategies.join(',')}: ${report.fingerprint.why}; lookups ${report.lookups.map((l) => `${l.start_ms}+${l.elapsed_ms} [${l.attempts.map((a) => `${a.t_ms} ${a.qtype} ${a.server} ${a.outcome} s${a.socket}`).join(', ')}] ${l.matching.join('/')}`).join(' | ')}; calls ${calls.map((x) => `${x.start_ms}+${x.elapsed_ms}`).join(' ')}`;
    return { report, calls, summary };
  }

  /** Each traced lookup is one call of the program: as many, starting and lasting as the program says (fidelity tolerance). */
  function expectGrouping(report: TraceReport, calls: CallLog[], summary: string) {
    expect(report.lookups.length, summary).toBe(calls.length);
    const started = Date.parse(report.started);
    report.lookups.forEach((l, i) => {
      expect(Math.abs(started + l.start_ms - calls[i]!.start_ms), `lookup ${i + 1} start; ${summary}`).toBeLessThan(50);
      expect(Math.abs(l.elapsed_ms - calls[i]!.elapsed_ms), `lookup ${i + 1} elapsed; ${summary}`).toBeLessThan(50);
      // every attempt is a query the fake server logged (its own receive time)
      for (const a of l.attempts) {
        const at = started + l.start_ms + a.t_ms;
        const seen = up.log().find((q) => q.server === a.server && q.client_port === a.client_port && q.qname === a.qname && q.qtype === a.qtype && Math.abs(q.ts - at) < 50);
        expect(seen, `${a.qtype} ${a.qname} to ${a.server} from port ${a.client_port} at ${at}; ${summary}`).toBeDefined();
      }
    });
  }

  const servers = ['--dns', DEAD, '--dns', GOOD, '--dns-option', 'timeout:1'];
  const gai = (bin: () => string) => [bin(), NAME, 'any', 'nocanon', '2', '300'];
  const cases: Array<{ program: string; cmd: () => string[]; expected: string }> = [
    { program: 'glibc', cmd: () => gai(() => refs.gaiGlibc), expected: 'glibc' },
    { program: 'glibc with RES_OPTIONS=single-request', cmd: () => ['env', 'RES_OPTIONS=single-request', ...gai(() => refs.gaiGlibc)], expected: 'glibc+single-request' },
    { program: 'glibc with RES_OPTIONS=single-request-reopen', cmd: () => ['env', 'RES_OPTIONS=single-request-reopen', ...gai(() => refs.gaiGlibc)], expected: 'glibc+single-request-reopen' },
    { program: 'musl (static)', cmd: () => gai(() => refs.gaiMusl), expected: 'musl' },
    // one lookup: the second would be answered from greendns' cache, with nothing on the wire
    { program: 'eventlet greendns', cmd: () => [PYTHON, refs.eventletScript, NAME, 'any', 'nocanon', '1'], expected: 'eventlet' },
  ];

  for (const k of cases) {
    it(`the first nameserver dead: ${k.program} is fingerprinted as ${k.expected}, its lookups grouped as it made them`, async () => {
      const { report, calls, summary } = await traced(k.expected.replace(/[^a-z]/g, '').slice(0, 12), servers, k.cmd());
      expect(calls.length, summary).toBe(k.expected === 'eventlet' ? 1 : 2);
      expect(calls.every((x) => x.error === null), summary).toBe(true);
      expectGrouping(report, calls, summary);
      expect(report.fingerprint.verdict, summary).toBe('match');
      expect(report.fingerprint.strategies, summary).toEqual([k.expected]);
    }, 60_000);
  }

  it('a healthy server: glibc and musl send the same plan (ambiguous, said so); eventlet and single-request-reopen are told apart', async () => {
    const g = await traced('healthy', ['--dns', GOOD], gai(() => refs.gaiGlibc));
    expectGrouping(g.report, g.calls, g.summary);
    expect(g.report.fingerprint.verdict, g.summary).toBe('ambiguous');
    // single-request differs only in sending AAAA after A's reply, a fraction of a millisecond
    // here: a tie-breaker that a busy machine can blur, so it may stay among the candidates
    expect(g.report.fingerprint.strategies, g.summary).toEqual(expect.arrayContaining(['glibc', 'musl']));
    expect(g.report.fingerprint.strategies, g.summary).not.toContain('eventlet');
    expect(g.report.fingerprint.strategies, g.summary).not.toContain('glibc+single-request-reopen');
    const e = await traced('healthyev', ['--dns', GOOD], [PYTHON, refs.eventletScript, NAME, 'any', 'nocanon', '1']);
    expect(e.report.fingerprint.strategies, e.summary).toEqual(['eventlet']);
  }, 60_000);
});
