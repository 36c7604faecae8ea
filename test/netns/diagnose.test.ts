// tsnet diagnose on real namespaces: for each classic DNS stall, a container pointed at a fake
// upstream that misbehaves in exactly that way, and the report must name that cause first, with
// timings that match the configuration (timeout:1 throughout) and fix predictions that hold when
// the fix is really applied. Every packet stays on this lab's bridge and namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReferences } from '../fidelity/run.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { isRoot } from '../support/lab.js';
import { sleep, waitFor } from '../support/upstream.js';
import { DnsLab, FAST_MS, finding, near, row, sh as run, summary, total, withFix, type DiagnoseRun, type FakeDns } from '../support/dns-lab.js';

/** Runs `f` once, on first use; later callers get the same promise (a scenario shared by several its). */
const once = <T>(f: () => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
};

describe.skipIf(!isRoot)('tsnet diagnose names the cause (real namespaces, fake upstreams)', () => {
  let dns: DnsLab | undefined;
  const d = () => dns!;

  beforeAll(async () => {
    dns = await DnsLab.start();
  });
  afterAll(async () => {
    if (dns) expect(await dns.destroy()).toEqual([]);
  });

  /** diagnose with the usual expectations: it ran, printed a report, exit code = report's. */
  async function diagnose(args: string[]): Promise<DiagnoseRun & { report: NonNullable<DiagnoseRun['report']> }> {
    const r = await d().diagnose(args);
    expect(r.report, summary(r.report, r.res)).toBeDefined();
    expect(r.res.code, summary(r.report, r.res)).toBe(r.report!.exitCode);
    return r as DiagnoseRun & { report: NonNullable<DiagnoseRun['report']> };
  }

  it('first of two nameservers blackholed: blackholed-nameserver (error); glibc ≈ 1 s, musl ≈ 0; the fix, really applied, costs what it predicted', async () => {
    // dns-mode glibc (the default): the application's path goes through the tsnet stub too.
    const opts = { mode: 'glibc' as const, options: ['timeout:1'] };
    const app = await d().app('bh', { ...opts, dns: [d().addr('blackhole'), d().addr('answer')] });
    const { report, res } = await diagnose([app, 'db.example']);
    const s = summary(report, res);
    expect(res.code, s).toBe(1);
    expect(report.target.upstreams).toEqual([d().addr('blackhole'), d().addr('answer')]);
    const top = report.findings[0]!;
    expect(top, s).toMatchObject({ id: 'blackholed-nameserver', severity: 'error', whatIf: 'nameserver-remove 1' });
    expect(top.title).toContain(d().addr('blackhole'));
    const glibc = total(row(report, 'glibc'));
    expect(near(glibc, 1000), `glibc ${glibc} ms ≈ 1000 ms; ${s}`).toBe(true);
    expect(total(row(report, 'musl')), s).toBeLessThan(FAST_MS);
    // eventlet pays the timeout once per query type (AAAA, then A)
    expect(near(total(row(report, 'eventlet')), 2000), s).toBe(true);
    // the application's own path, glibc → stub → upstreams, waits the same second
    expect(near(total(row(report, 'glibc → stub')), 1000), s).toBe(true);
    for (const r of report.rows) expect(r.traces[0]!.result.addresses, r.label).toContain('192.0.2.10');

    const predicted = withFix(top, 'glibc');
    expect(predicted, s).not.toBeNull();
    expect(predicted!, s).toBeLessThan(50);

    // Apply the fix for real: the same container without the dead server.
    await d().rmApp(app);
    const fixed = await d().app('bh-fixed', { ...opts, dns: [d().addr('answer')] });
    const again = await diagnose([fixed, 'db.example']);
    const s2 = summary(again.report, again.res);
    const measured = total(row(again.report, 'glibc'));
    expect(near(measured, predicted!), `fixed glibc ${measured} ms vs predicted ${predicted} ms; ${s2}`).toBe(true);
    expect(again.report.findings.filter((f) => f.severity === 'error'), s2).toEqual([]);
    expect(again.res.code, s2).toBe(0);
    await d().rmApp(fixed);
  });

  it('first nameserver ICMP-closed: closed-nameserver first; glibc ≈ 0 (it sees the ICMP), musl ≈ 0, eventlet pays the per-try timeout', async () => {
    // A fresh container: the kernel's ICMP rate limit (6 per peer in a burst, then 1/s) is not
    // reached by one diagnose (about 5 queries reach the closed server).
    const app = await d().app('closed', { dns: [d().addr('closed'), d().addr('answer')], options: ['timeout:1'] });
    const { report, res } = await diagnose([app, 'db.example']);
    const s = summary(report, res);
    expect(report.findings[0], s).toMatchObject({ id: 'closed-nameserver', severity: 'warning', whatIf: 'nameserver-remove 1' });
    expect(report.findings[0]!.title).toContain(d().addr('closed'));
    const g = row(report, 'glibc').traces[0]!;
    expect(g.queries.filter((q) => q.server === d().addr('closed')).map((q) => q.outcome), s).toEqual(['icmp-unreachable', 'icmp-unreachable']);
    expect(g.elapsed_ms, s).toBeLessThan(FAST_MS);
    expect(total(row(report, 'musl')), s).toBeLessThan(FAST_MS);
    // eventlet: unconnected sockets, no ICMP: one full timeout on the closed server per query type
    const ev = row(report, 'eventlet');
    expect(near(total(ev), 2000), s).toBe(true);
    expect(ev.traces[0]!.queries.filter((q) => q.server === d().addr('closed')).map((q) => q.outcome)).toEqual(['timeout', 'timeout']);
    for (const r of report.rows) expect(r.traces[0]!.result.addresses, r.label).toContain('192.0.2.10');
    await d().rmApp(app);
  });

  it('AAAA dropped: aaaa-lost (error); musl fails the lookup with EAI_AGAIN, glibc returns IPv4', async () => {
    const app = await d().app('dropaaaa', { dns: [d().addr('drop-aaaa')], options: ['timeout:1'] });
    const { report, res } = await diagnose([app, 'db.example']);
    const s = summary(report, res);
    expect(res.code, s).toBe(1);
    expect(report.findings[0], s).toMatchObject({ id: 'aaaa-lost', severity: 'error' });
    expect(row(report, 'musl').traces[0]!.result.error, s).toBe('EAI_AGAIN');
    expect(row(report, 'glibc').traces[0]!.result, s).toEqual({ addresses: ['192.0.2.10'], error: null });
    await d().rmApp(app);
  });

  it('the conntrack race (race-drop): conntrack-race first; glibc ≈ 1 s, musl ≈ its 500 ms resend, eventlet and the stub (one query per socket) ≈ 0; single-request-reopen, really applied, fixes glibc', async () => {
    const app = await d().app('race', { mode: 'glibc', dns: [d().addr('race-drop:50')], options: ['timeout:1'] });
    const { report, res } = await diagnose([app, 'db.example']);
    const s = summary(report, res);
    expect(report.findings[0], s).toMatchObject({ id: 'conntrack-race', whatIf: 'options single-request-reopen' });
    expect(near(total(row(report, 'glibc')), 1000), s).toBe(true);
    expect(near(total(row(report, 'musl')), 500), s).toBe(true);
    expect(total(row(report, 'eventlet')), s).toBeLessThan(FAST_MS);
    expect(total(row(report, 'glibc → stub')), s).toBeLessThan(FAST_MS);
    for (const r of report.rows) expect(r.traces[0]!.result.addresses.sort(), r.label).toEqual(['192.0.2.10', '2001:db8::10']);
    const predicted = withFix(report.findings[0]!, 'glibc');
    expect(predicted!, s).toBeLessThan(50);
    await d().rmApp(app);
    const fixed = await d().app('race-fixed', { dns: [d().addr('race-drop:50')], options: ['timeout:1', 'single-request-reopen'] });
    const again = await diagnose([fixed, 'db.example']);
    const s2 = summary(again.report, again.res);
    expect(near(total(row(again.report, 'glibc')), predicted!), s2).toBe(true);
    expect(again.report.findings.filter((f) => f.id === 'conntrack-race').flatMap((f) => f.modes).find((m) => m.mode === 'glibc')?.measured_ms ?? 0, s2).toBeLessThan(FAST_MS);
    await d().rmApp(fixed);
  });

  it('--observe: the application\'s own lookups (glibc, behind the conntrack race) are watched first, fingerprinted, and cited in the finding', async () => {
    const app = await d().app('raceobs', { dns: [d().addr('race-drop:50')], options: ['timeout:1'] });
    const refsDir = mkdtempSync(join(tmpdir(), 'tsnet-diag-refs-'));
    onTestFinished(() => rmSync(refsDir, { recursive: true, force: true }));
    const refs = buildReferences(refsDir);
    // the application: two lookups 300 ms apart, starting once diagnose observes (a lookup seen
    // from its middle would look like another strategy: glibc's retry alone is single-request)
    const running = d().lab.cli(['exec', app, '--', 'sh', '-c', `sleep 1.5; exec ${refs.gaiGlibc} db.example any nocanon 2 300`]);
    const { report, res } = await diagnose([app, '--observe', '5']);
    const s = summary(report, res);
    const appRun = await running;
    expect(appRun.code, appRun.stderr).toBe(0);
    expect(report.observed!.lookups.map((l) => l.name), s).toEqual(['db.example', 'db.example']);
    expect(report.observed!.fingerprint.strategies, s).toEqual(['glibc']);
    expect(report.names).toEqual({ list: ['db.example'], why: 'the names the application looked up while observed' });
    const f = report.findings.find((x) => x.id === 'conntrack-race');
    expect(f?.evidence.join(' '), s).toMatch(/the application's own lookups \(observed\): 2 queries lost right behind another/);
    await d().rmApp(app);
  }, 60_000);

  it('AAAA SERVFAIL: aaaa-servfail first; musl fails (EAI_AGAIN), glibc and eventlet return IPv4', async () => {
    const app = await d().app('sfaaaa', { dns: [d().addr('servfail-aaaa')], options: ['timeout:1'] });
    const { report, res } = await diagnose([app, 'db.example']);
    const s = summary(report, res);
    expect(report.findings[0], s).toMatchObject({ id: 'aaaa-servfail', severity: 'error' });
    expect(row(report, 'musl').traces[0]!.result.error, s).toBe('EAI_AGAIN');
    expect(row(report, 'glibc').traces[0]!.result.addresses, s).toEqual(['192.0.2.10']);
    expect(row(report, 'eventlet').traces[0]!.result.addresses, s).toEqual(['192.0.2.10']);
    expect(res.code).toBe(1);
    await d().rmApp(app);
  });

  it('the only server REFUSED: only-server-failing (error)', async () => {
    const app = await d().app('refused', { dns: [d().addr('refused')], options: ['timeout:1'] });
    const { report, res } = await diagnose([app, 'db.example']);
    const s = summary(report, res);
    expect(report.findings[0], s).toMatchObject({ id: 'only-server-failing', severity: 'error' });
    expect(report.findings[0]!.title).toMatch(/REFUSED/);
    for (const r of report.rows) expect(r.traces[0]!.result.addresses, `${r.label}; ${s}`).toEqual([]);
    expect(res.code).toBe(1);
    await d().rmApp(app);
  });

  it('truncated replies: truncation-without-tcp (musl); glibc and eventlet retry over TCP', async () => {
    const app = await d().app('trunc', { dns: [d().addr('truncate')], options: ['timeout:1'] });
    const { report, res } = await diagnose([app, 'db.example']);
    const s = summary(report, res);
    const f = finding(report, 'truncation-without-tcp');
    expect(f.evidence.join(' '), s).toMatch(/musl/);
    expect(row(report, 'musl').traces[0]!.result.addresses, s).toEqual([]);
    for (const label of ['glibc', 'eventlet']) {
      const t = row(report, label).traces[0]!;
      expect(t.queries.some((q) => q.transport === 'tcp' && q.outcome === 'answer'), `${label}; ${s}`).toBe(true);
      expect(t.result.addresses, `${label}; ${s}`).toContain('192.0.2.10');
    }
    expect(report.findings[0]!.id, s).toBe('truncation-without-tcp');
    await d().rmApp(app);
  });

  it('NODATA in the first search domain: nodata-ends-search (error); glibc goes on to the second domain', async () => {
    const app = await d().app('nodata', { dns: [d().addr('answer')], search: ['a.example', 'b.example'], options: ['timeout:1'] });
    const { report, res } = await diagnose([app, 'db']);
    const s = summary(report, res);
    expect(report.findings[0], s).toMatchObject({ id: 'nodata-ends-search', severity: 'error' });
    expect(report.findings[0]!.evidence.join(' ')).toMatch(/db\.a\.example/);
    expect(row(report, 'glibc').traces[0]!.result.addresses, s).toEqual(['192.0.2.11']);
    expect(row(report, 'musl').traces[0]!.result.error, s).toBe('EAI_NONAME');
    expect(res.code).toBe(1);
    await d().rmApp(app);
  });

  it('search amplification: ndots:5, 3 search domains, a dotted name; --what-if "options ndots:1" predicts the drop, and it holds when applied', async () => {
    // a server answering after 100 ms makes every extra round of the search list visible in time
    const server = d().addr('delay:100');
    const search = ['s1.example', 's2.example', 's3.example'];
    const app = await d().app('amp', { dns: [server], search, options: ['ndots:5', 'timeout:1'] });
    const { report, res } = await diagnose([app, 'db.example', '--what-if', 'options ndots:1']);
    const s = summary(report, res);
    const f = report.findings[0]!;
    expect(f, s).toMatchObject({ id: 'search-amplification', whatIf: 'options ndots:1' });
    const g = row(report, 'glibc').traces[0]!;
    expect(new Set(g.queries.map((q) => q.qname)), s).toEqual(new Set([...search.map((x) => `db.example.${x}`), 'db.example']));
    expect(g.queries.length, s).toBe(8);
    // four rounds of the search list, each at least the server's 100 ms
    expect(g.elapsed_ms, s).toBeGreaterThanOrEqual(400);
    expect(g.elapsed_ms, s).toBeLessThan(700);
    const w = report.whatIf.find((x) => x.spec === 'options ndots:1');
    const wg = w?.rows.find((r) => r.mode === 'glibc');
    expect(wg, s).toBeDefined();
    expect(wg!.predicted_error).toBeNull();
    expect(wg!.measured_ms).toBeCloseTo(g.elapsed_ms, 3);
    expect(wg!.predicted_ms, JSON.stringify(w)).toBeLessThan(wg!.measured_ms / 2);
    expect(withFix(f, 'glibc')).toBeCloseTo(wg!.predicted_ms, 3);
    await d().rmApp(app);

    // Apply it: the same container with ndots:1.
    const fixed = await d().app('amp-fixed', { dns: [server], search, options: ['ndots:1', 'timeout:1'] });
    const again = await diagnose([fixed, 'db.example']);
    const s2 = summary(again.report, again.res);
    const g2 = row(again.report, 'glibc').traces[0]!;
    expect(g2.queries.map((q) => q.qname), s2).toEqual(['db.example', 'db.example']);
    expect(near(g2.elapsed_ms, wg!.predicted_ms), `measured ${g2.elapsed_ms} ms vs predicted ${wg!.predicted_ms} ms; ${s2}`).toBe(true);
    expect(again.report.findings.map((x) => x.id), s2).not.toContain('search-amplification');
    await d().rmApp(fixed);
  });

  it('--dns-profile kubernetes reproduces a pod\'s lookups without a cluster: an outside name walks the namespace\'s search list first', async () => {
    const app = await d().app('k8s', { dns: [d().addr('answer')], options: ['timeout:1'], extra: ['--dns-profile', 'kubernetes', '--k8s-namespace', 'shop'] });
    const resolv = readFileSync(join(d().lab.paths.etcDir(app), 'resolv.conf'), 'utf8');
    expect(resolv).toMatch(/^search shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
    expect(resolv).toMatch(/^options ndots:5 timeout:1$/m);
    const { report, res } = await diagnose([app, 'api.example.com']);
    const s = summary(report, res);
    const f = report.findings.find((x) => x.id === 'search-amplification');
    expect(f, s).toMatchObject({ whatIf: 'options ndots:2' });
    const g = row(report, 'glibc').traces[0]!;
    const asked = ['api.example.com.shop.svc.cluster.local', 'api.example.com.svc.cluster.local', 'api.example.com.cluster.local', 'api.example.com'];
    expect([...new Set(g.queries.map((q) => q.qname))], s).toEqual(asked);
    expect(g.queries.length, s).toBe(8); // A and AAAA for each
    await d().rmApp(app);
  });

  // Three runs at once (their ~10 s are eventlet's timers, not CPU): the default modes, eventlet
  // alone, and 13 eventlet rows in one process.
  const ev5 = once(async () => {
    const opts = { dns: [d().addr('blackhole'), d().addr('answer')], options: ['timeout:5'] };
    const [all, alone, many] = await Promise.all([d().app('ev5', opts), d().app('ev5only', opts), d().app('ev5many', opts)]);
    const runs = await Promise.all([
      diagnose([all, 'db.example']),
      diagnose([alone, 'db.example', '--modes', 'eventlet']),
      diagnose([many, 'db.example', '--modes', Array(13).fill('eventlet').join(',')]),
    ]);
    for (const a of [all, alone, many]) await d().rmApp(a);
    return runs;
  });

  it('eventlet with timeout:5 and a blackholed first server: eventlet-timeout-ge-5 first; eventlet fails with EAI_AGAIN after ≈ 10 s', async () => {
    const [{ report, res }] = await ev5();
    const s = summary(report, res);
    expect(report.findings[0], s).toMatchObject({ id: 'eventlet-timeout-ge-5', severity: 'error', whatIf: 'options timeout:2' });
    const ev = row(report, 'eventlet').traces[0]!;
    expect(ev.result.error, s).toBe('EAI_AGAIN');
    expect(near(ev.elapsed_ms, 10_000), s).toBe(true);
    // the whole 5 s lifetime of each query goes to the first server; the second is never asked
    expect(ev.queries.map((q) => `${q.qtype} ${q.server} ${q.outcome}`), s).toEqual([`AAAA ${d().addr('blackhole')} timeout`, `A ${d().addr('blackhole')} timeout`]);
    expect(near(total(row(report, 'glibc')), 5000), s).toBe(true);
    expect(total(row(report, 'musl')), s).toBeLessThan(FAST_MS);
    const fixed = withFix(report.findings[0]!, 'eventlet');
    expect(fixed, s).not.toBeNull();
    // timeout:2 → 2 s on the first server, then the second one answers, per query type
    expect(near(fixed!, 4000), s).toBe(true);
    expect(res.code).toBe(1);
  });

  // Regression (fixed in 7607c4a while this file was written): Node timers fire up to ~1 ms early,
  // and the eventlet emulator then found a sliver of its 5 s lifetime left and asked the second
  // server with it — 7 to 12 of 13 concurrent rows did, so the same container gave EAI_AGAIN or an
  // answer from run to run.
  it('…and eventlet never asks the second server, however its timers fire (13 eventlet rows at once)', async () => {
    const [, , { report, res }] = await ev5();
    const s = summary(report, res);
    expect(report.rows).toHaveLength(13);
    for (const [i, r] of report.rows.entries()) {
      const t = r.traces[0]!;
      expect(t.queries.filter((q) => q.server === d().addr('answer')).map((q) => `${q.qtype} at ${q.t_ms.toFixed(2)} ms`), `row ${i}; ${s}`).toEqual([]);
      expect(t.result.error, `row ${i}; ${s}`).toBe('EAI_AGAIN');
    }
  });

  it('…and the fix predictions do not depend on which other modes ran (--modes eventlet alone)', async () => {
    const [both, { report, res }] = await ev5();
    const s = summary(report, res);
    expect(report.findings.map((f) => f.id), s).toContain('eventlet-timeout-ge-5');
    const measured = total(row(report, 'eventlet'));
    for (const id of ['eventlet-timeout-ge-5', 'blackholed-nameserver']) {
      const alone = withFix(finding(report, id), 'eventlet')!;
      const withOthers = withFix(finding(both.report, id), 'eventlet')!;
      expect(alone, `${id}: predicted ${alone} ms with --modes eventlet, ${withOthers} ms with all modes, measured ${measured} ms`).toBeLessThan(measured / 2);
      expect(near(alone, withOthers), `${id}: ${alone} ms alone vs ${withOthers} ms with all modes`).toBe(true);
    }
  });

  it('a name from --add-host with a blackholed DNS, --modes glibc,eventlet,eventlet-0.24: eventlet-0.24-hosts-stall first', async () => {
    const app = await d().app('hosts', { dns: [d().addr('blackhole')], options: ['timeout:1'], addHosts: [`cache.internal:${d().lab.ip(9)}`] });
    const { report, res } = await diagnose([app, 'cache.internal', '--modes', 'glibc,eventlet,eventlet-0.24']);
    const s = summary(report, res);
    expect(report.rows.map((r) => r.label)).toEqual(['glibc', 'eventlet', 'eventlet-0.24']);
    expect(report.findings[0], s).toMatchObject({ id: 'eventlet-0.24-hosts-stall', severity: 'error', whatIf: 'env EVENTLET_NO_GREENDNS=yes' });
    for (const label of ['glibc', 'eventlet']) {
      const t = row(report, label).traces[0]!;
      expect(t.queries, `${label}; ${s}`).toEqual([]);
      expect(t.elapsed_ms, s).toBeLessThan(FAST_MS);
    }
    const old = row(report, 'eventlet-0.24').traces[0]!;
    expect(old.result.addresses, s).toEqual([d().lab.ip(9)]);
    expect(old.elapsed_ms, s).toBeGreaterThan(1000);
    expect(withFix(report.findings[0]!, 'eventlet-0.24')!, s).toBeLessThan(50);
    expect(res.code).toBe(1);
    await d().rmApp(app);
  });

  it('a healthy container: exit 0, no error finding, well under a second', async () => {
    const app = await d().app('healthy', { dns: [d().addr('answer')], options: ['timeout:1'] });
    const { report, res, wallMs } = await diagnose([app, 'db.example']);
    const s = summary(report, res);
    expect(res.code, s).toBe(0);
    expect(res.stderr).toBe('');
    expect(report.findings.filter((f) => f.severity === 'error'), s).toEqual([]);
    for (const r of report.rows) expect(r.traces[0]!.result.addresses.sort(), r.label).toEqual(['192.0.2.10', '2001:db8::10']);
    expect(wallMs, s).toBeLessThan(1000);
    await d().rmApp(app);
  });

  it('an IPv4-only container and a name with an AAAA: the sorting libraries return the routable IPv4 first, eventlet the AAAA (first-address-unroutable names it); the kernel says so, no packet sent', async () => {
    const app = await d().app('v4only', { dns: [d().addr('answer')], options: ['timeout:1'] });
    // the oracle for "no route": the kernel of the container's namespace, asked by ip(8)
    const routed = async (addr: string) => (await d().lab.cli(['exec', app, '--', 'ip', 'route', 'get', addr])).code === 0;
    expect(await routed('192.0.2.10')).toBe(true);
    expect(await routed('2001:db8::10')).toBe(false);
    const { report, res } = await diagnose([app, 'db.example']);
    const s = summary(report, res);
    for (const m of ['glibc', 'musl', 'go']) expect(row(report, m).traces[0]!.result.addresses, `${m}; ${s}`).toEqual(['192.0.2.10', '2001:db8::10']);
    expect(row(report, 'eventlet').traces[0]!.result.addresses, s).toEqual(['2001:db8::10', '192.0.2.10']);
    const f = finding(report, 'first-address-unroutable');
    expect(f, s).toMatchObject({ severity: 'warning' });
    expect(f!.title, s).toMatch(/^db\.example: eventlet returns 2001:db8::10 first, and the target has no route to it/);
    await d().rmApp(app);
  });

  describe('--pid: a process in a namespace made outside tsnet, with its own resolv.conf', () => {
    // The namespace reaches the upstream container over a veth of its own; the nameserver address
    // exists only on that veth (a /32 in the lab's subnet, so even a wrong path stays on the lab).
    const tag = randomBytes(2).toString('hex');
    const ns = `tsdg${tag}`;
    const [inner, outer] = [`dg${tag}a`, `dg${tag}b`];
    let server: FakeDns | undefined;
    let sleeper: ChildProcess | undefined;
    let made = false;

    const ip = async (args: string[]) => {
      const r = await run('ip', args);
      if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
      return r.stdout;
    };

    afterAll(async () => {
      if (sleeper && sleeper.exitCode === null && sleeper.signalCode === null) {
        sleeper.kill('SIGKILL');
        await new Promise((r) => sleeper!.once('exit', r));
      }
      await server?.stop();
      if (made) await run('ip', ['netns', 'del', ns]); // takes both veth ends with it
      await sleep(100);
      expect(existsSync(`/run/netns/${ns}`)).toBe(false);
      expect((await run('ip', ['-o', 'link', 'show', 'dev', outer])).code).not.toBe(0);
      if (dns) expect((await run('ip', ['-n', `tsnet-${d().upstream}`, '-o', 'link', 'show', 'dev', outer])).code).not.toBe(0);
    });

    it('reads that process\'s resolv.conf and measures through its network namespace', async () => {
      const nsAddr = d().lab.ip(201);
      const serverAddr = d().lab.ip(200);
      const upNs = `tsnet-${d().upstream}`;
      await ip(['netns', 'add', ns]);
      made = true;
      await ip(['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer]);
      await ip(['link', 'set', inner, 'netns', ns]);
      await ip(['link', 'set', outer, 'netns', upNs]);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'addr', 'add', `${nsAddr}/32`, 'dev', inner]);
      await ip(['-n', ns, 'link', 'set', inner, 'up']);
      await ip(['-n', ns, 'route', 'add', `${serverAddr}/32`, 'dev', inner]);
      await ip(['-n', upNs, 'addr', 'add', `${serverAddr}/32`, 'dev', outer]);
      await ip(['-n', upNs, 'link', 'set', outer, 'up']);
      await ip(['-n', upNs, 'route', 'add', `${nsAddr}/32`, 'dev', outer]);
      server = await d().fakeDns([`${serverAddr}=answer`]);

      const resolv = join(d().dir, 'pid-resolv.conf');
      writeFileSync(resolv, `nameserver ${serverAddr}\nsearch pid.example\noptions timeout:1\n`);
      sleeper = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', 'sh', '-c', `mount --bind ${resolv} /etc/resolv.conf && exec sleep 60`], { stdio: 'ignore' });
      const pid = sleeper.pid!;
      await waitFor('the sleeper with its resolv.conf', () => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n' && readFileSync(`/proc/${pid}/root/etc/resolv.conf`, 'utf8').includes(serverAddr);
        } catch {
          return false;
        }
      });
      expect(readFileSync('/etc/resolv.conf', 'utf8')).not.toContain(serverAddr); // the host's is untouched

      const txPackets = async () => (JSON.parse(await ip(['-n', ns, '-s', '-j', 'link', 'show', 'dev', inner])) as Array<{ stats64: { tx: { packets: number } } }>)[0]!.stats64.tx.packets;
      const before = await txPackets();
      const { report, res } = await diagnose(['--pid', String(pid), 'db.example']);
      const s = summary(report, res);
      expect(report.target, s).toMatchObject({ nameservers: [serverAddr], search: ['pid.example'], options: ['timeout:1'], upstreams: null });
      expect(report.target.label).toBe(`process ${pid} (sleep)`);
      expect(report.names.list).toEqual(['db.example']);
      let queries = 0;
      for (const r of report.rows) {
        const t = r.traces[0]!;
        expect(t.result.addresses.sort(), `${r.label}; ${s}`).toEqual(['192.0.2.10', '2001:db8::10']);
        expect(t.queries.every((q) => q.server === serverAddr && q.outcome === 'answer'), `${r.label}; ${s}`).toBe(true);
        queries += t.queries.length;
      }
      expect(res.code, s).toBe(0);
      // The queries went out of that namespace's veth and reached the server behind it.
      expect(await txPackets()).toBeGreaterThanOrEqual(before + queries);
      expect(server.log().filter((q) => q.server === serverAddr && q.qname === 'db.example').length).toBe(queries);
    });
  });
});
