// tsnet trace against the real libraries: the fidelity suite's getaddrinfo programs (glibc, static
// musl, eventlet's greendns) run inside a tsnet container (no process for trace to inspect: all it
// has is the wire) while `tsnet trace NAME -- CMD` watches. The oracles are independent of the
// trace: each program's own per-call log (start and elapsed time of every lookup) and which
// program, built against which library, was run; the fake upstream's log counts the queries.
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceReport } from '../../src/trace/report.js';
import { buildReferences, PYTHON } from '../fidelity/run.js';
import { Lab, requireRootOrSkip } from '../support/lab.js';
import { sleep, spawnCli, startUpstream, stopSpawned, waitFor, type Upstream } from '../support/upstream.js';

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
  const RACE = lab.ip(252);
  const NAME = 'db.fy.test';

  beforeAll(async () => {
    refs = buildReferences(work);
    up = await startUpstream(lab, lab.name('up'), [{ address: GOOD, behaviour: 'answer' }, { address: DEAD, behaviour: 'blackhole' }, { address: RACE, behaviour: 'race-drop:50' }], [`${NAME}=A:10.50.0.5`, `${NAME}=AAAA:fd00:50::5`]);
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
    { program: 'Go (CGO_ENABLED=0)', cmd: () => gai(() => refs.goPure ?? 'go_lookup was not built: apt-get install golang-go'), expected: 'go' },
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

  it('a healthy server: glibc, glibc with single-request and musl send the same plan (ambiguous, said so); eventlet and Go too (two sockets, ms apart); single-request-reopen is told apart', async () => {
    const g = await traced('healthy', ['--dns', GOOD], gai(() => refs.gaiGlibc));
    expectGrouping(g.report, g.calls, g.summary);
    expect(g.report.fingerprint.verdict, g.summary).toBe('ambiguous');
    // single-request would send AAAA after A's reply: alike on the wire with a server this fast
    expect(g.report.fingerprint.strategies, g.summary).toEqual(['glibc', 'glibc+single-request', 'musl']);
    const e = await traced('healthyev', ['--dns', GOOD], [PYTHON, refs.eventletScript, NAME, 'any', 'nocanon', '1']);
    // AAAA then A from two sockets 2-3 ms apart: Go's two goroutines send the same (in either order)
    expect(e.report.fingerprint.strategies, e.summary).toEqual(['eventlet', 'go']);
    // over TCP (RES_OPTIONS=use-vc): nothing else sends that
    const vc = await traced('healthyvc', ['--dns', GOOD], ['env', 'RES_OPTIONS=use-vc', ...gai(() => refs.gaiGlibc)]);
    expectGrouping(vc.report, vc.calls, vc.summary);
    expect(vc.report.lookups[0]!.attempts.map((a) => a.transport), vc.summary).toEqual(['tcp', 'tcp']);
    expect(vc.report.fingerprint.strategies, vc.summary).toEqual(['glibc+use-vc']);
  }, 60_000);

  it('the conntrack race: glibc\'s three lookups (timeout, single-request on a new socket colliding again, then reopen) replay as glibc in one process; musl as musl', async () => {
    const g = await traced('raceg', ['--dns', RACE, '--dns-option', 'timeout:1'], [refs.gaiGlibc, NAME, 'any', 'nocanon', '3', '300']);
    expectGrouping(g.report, g.calls, g.summary);
    expect(g.report.lookups.map((l) => Math.round(l.elapsed_ms / 1000)), g.summary).toEqual([1, 1, 0]);
    expect(g.report.fingerprint.strategies, g.summary).toEqual(['glibc']);
    const m = await traced('racem', ['--dns', RACE, '--dns-option', 'timeout:1'], [refs.gaiMusl, NAME, 'any', 'nocanon', '2', '300']);
    expectGrouping(m.report, m.calls, m.summary);
    expect(m.report.fingerprint.strategies, m.summary).toEqual(['musl']);
  }, 60_000);

  it('Ctrl-C ends a trace at once with a report of what was seen; --pid watches a process\'s namespace', async () => {
    const app = lab.name('sig');
    expect((await lab.create(app, ['--dns-mode', 'direct', '--dns', GOOD])).code).toBe(0);
    const holder = spawnCli(lab, ['exec', app, '--', 'sleep', '30']);
    try {
      // it has joined the container's network namespace once its own differs from ours
      const ours = readlinkSync('/proc/self/ns/net');
      await waitFor('the exec holder in the container', () => {
        try {
          return holder.child.pid !== undefined && readlinkSync(`/proc/${holder.child.pid}/ns/net`) !== ours;
        } catch {
          return false;
        }
      });
      const t = spawnCli(lab, ['trace', '--pid', String(holder.child.pid), '--duration', '60', '--json']);
      await waitFor('trace to start', () => /tracing /.test(t.stderr()));
      const r = await lab.cli(['exec', app, '--', refs.gaiGlibc, NAME]);
      expect(r.code, r.stderr).toBe(0);
      const at = Date.now();
      t.child.kill('SIGINT');
      const done = await Promise.race([t.done, sleep(10_000).then(() => stopSpawned(t))]);
      expect(Date.now() - at).toBeLessThan(2000);
      expect(done.code, done.stderr).toBe(0);
      const report = JSON.parse(done.stdout) as TraceReport;
      expect(report.target).toMatch(new RegExp(`^process ${holder.child.pid} `));
      expect(report.lookups.map((l) => `${l.name} ${l.result}`)).toEqual([`${NAME} answer`]);
    } finally {
      await stopSpawned(holder);
      await lab.cli(['rm', app]);
    }
  }, 60_000);

  it('stopping a trace stops its command too, and the report still comes', async () => {
    const app = lab.name('stopcmd');
    expect((await lab.create(app, ['--dns-mode', 'direct', '--dns', GOOD])).code).toBe(0);
    try {
      const t = spawnCli(lab, ['trace', app, '--json', '--', 'sh', '-c', `${refs.gaiGlibc} ${NAME}; exec sleep 60`]);
      await waitFor('the lookup', () => t.stderr().includes('"start_ms"'));
      const at = Date.now();
      t.child.kill('SIGTERM');
      const done = await Promise.race([t.done, sleep(10_000).then(() => stopSpawned(t))]);
      expect(Date.now() - at).toBeLessThan(3000);
      expect(done.code, done.stderr).toBe(0);
      const report = JSON.parse(done.stdout) as TraceReport & { command: { exit: number | null } };
      expect(report.lookups.map((l) => l.result)).toEqual(['answer']);
      expect(report.command.exit).not.toBe(0);
    } finally {
      await lab.cli(['rm', app]);
    }
  }, 60_000);

  it('a target that is not there: exit 3, one line', async () => {
    const r = await lab.cli(['trace', lab.name('nosuch'), '--duration', '1']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a flood of 100k queries in the window: memory bounded by --max-records, every packet either seen or reported dropped', async () => {
    const app = lab.name('flood');
    expect((await lab.create(app, ['--dns-mode', 'direct', '--dns', DEAD])).code).toBe(0);
    // one socket, 100k queries to the blackholed server (no replies: every captured packet is a
    // query), in bursts of 2000 every 50 ms (~6 s): a flood for the tracer, paced so the softirq
    // work does not take the machine from the latency tests running beside this file (driver-wire)
    const script = `
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
q = struct.pack('>HHHHHH', 1, 0x100, 1, 0, 0, 0) + b'\\x05flood\\x07example\\x00' + struct.pack('>HH', 1, 1)
sent = 0
for i in range(100000):
    s.sendto(struct.pack('>H', i & 0xffff) + q[2:], ('${DEAD}', 53)); sent += 1
    if i % 2000 == 1999: time.sleep(0.05)
print(sent)
`;
    const t = spawnCli(lab, ['trace', app, '--duration', '14', '--max-records', '50000', '--json']);
    // the tracer's peak resident memory (VmHWM), read while it runs
    let peakKib = 0;
    const sampler = setInterval(() => {
      try {
        peakKib = Math.max(peakKib, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${t.child.pid}/status`, 'utf8'))?.[1] ?? 0));
      } catch {
        // exited
      }
    }, 50);
    try {
      await waitFor('trace to start', () => /tracing /.test(t.stderr()));
      const r = await lab.cli(['exec', app, '--', 'python3', '-c', script]);
      expect(r.code, r.stderr).toBe(0);
      const sent = Number(r.stdout.trim());
      expect(sent).toBe(100_000);
      const done = await t.done; // --duration ends it
      expect(done.code, done.stderr).toBe(0);
      const report = JSON.parse(done.stdout) as TraceReport;
      const c = report.capture;
      expect(c.kept).toBeLessThanOrEqual(50_000);
      // every query sent was read (kept, or past the bound and counted) or is in the kernel's drop
      // count; what else the filter lets through (IPv6 neighbour discovery) only adds to `packets`
      expect(c.packets + c.kernelDrops, JSON.stringify(c)).toBeGreaterThanOrEqual(sent);
      expect(c.kept, JSON.stringify(c)).toBeLessThanOrEqual(50_000);
      expect(c.kept + c.overflow + c.undecoded, JSON.stringify(c)).toBe(c.packets);
      expect(report.summary.servers.map((h) => [h.server, h.queries]), JSON.stringify(c)).toEqual([[DEAD, c.kept]]);
      // bounded: node itself is ~50 MiB; 50 000 records, their lookups and the replay stay well under this
      expect(peakKib / 1024, JSON.stringify(c)).toBeLessThan(300);
      console.log(`trace flood: ${sent} sent, ${c.packets} read (${c.kept} kept, ${c.overflow} past --max-records), ${c.kernelDrops} dropped by the kernel, peak RSS ${(peakKib / 1024).toFixed(0)} MiB`);
    } finally {
      clearInterval(sampler);
      await stopSpawned(t);
      await lab.cli(['rm', app]);
    }
  }, 120_000);
});
