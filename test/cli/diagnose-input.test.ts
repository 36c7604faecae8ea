// tsnet diagnose, bad input: one line on stderr naming the problem, the documented exit code
// (2 usage, 3 target not reachable), no packet sent, nothing left behind. And --no-live predicts
// without sending anything.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot } from '../support/lab.js';
import { DnsLab, sh, summary } from '../support/dns-lab.js';

describe.skipIf(!isRoot)('tsnet diagnose: bad input is refused clearly, with nothing sent and nothing left', () => {
  let dns: DnsLab | undefined;
  const d = () => dns!;
  let app = '';
  let sleeper: ReturnType<typeof spawn> | undefined;

  beforeAll(async () => {
    // no warm-up query: the fake-dns log must stay empty unless diagnose sends something
    dns = await DnsLab.start(undefined, undefined, { warmUp: false });
    app = await dns.app('input', { dns: [dns.addr('blackhole'), dns.addr('answer')], options: ['timeout:1'] });
  });
  afterAll(async () => {
    if (sleeper && sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
    if (dns) expect(await dns.destroy()).toEqual([]);
  });

  /** Everything a diagnose could leave or change: lab objects, processes, packets sent. */
  const state = async () => ({
    leftovers: d().lab.leftovers(),
    processes: (await sh('pgrep', ['-af', '--', `--root ${d().lab.root} `])).stdout.split('\n').filter(Boolean).sort(),
    queries: d().main!.log().length,
  });

  async function refused(args: string[], code: number, message: RegExp, asUser?: number) {
    const before = await state();
    const { res } = await d().diagnose(args, asUser === undefined ? {} : { asUser });
    expect(res.code, res.stderr).toBe(code);
    expect(res.stdout).toBe('');
    const lines = res.stderr.split('\n').filter(Boolean);
    expect(lines, res.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^tsnet: /);
    expect(lines[0]).toMatch(message);
    expect(await state()).toEqual(before); // nothing sent (the upstream's log), nothing left
  }

  // One rule for every target (src/engines/target.ts): well formed but not there is 3, as for a
  // PID that is not running or a Podman container its engine does not know.
  it('an unknown container: 3', async () => {
    await refused([d().lab.name('nope'), 'db.example'], 3, /no such container ".*-nope"/);
  });

  it('a malformed runtime target: 2, before anything is spawned', async () => {
    await refused(['podman:-x', 'db.example'], 2, /invalid target "podman:-x": a podman container name cannot start with "-"/);
    await refused(['crio:web', 'db.example'], 2, /unknown container engine "crio"/);
  });

  it('no target at all: 2', async () => {
    await refused([], 2, /give a container, or --pid PID/);
  });

  it('a PID that is not running: 3', async () => {
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    expect(existsSync(`/proc/${gone.pid}`)).toBe(false);
    await refused(['--pid', String(gone.pid), 'db.example'], 3, new RegExp(`no process ${gone.pid} \\(`));
  });

  it('a PID that is not a number: 2', async () => {
    await refused(['--pid', '12ab', 'db.example'], 2, /invalid --pid "12ab"/);
  });

  // The code documents this one as "target not reachable" (3): pidTarget throws TargetError
  // "cannot open /proc/PID/ns/net: EACCES" with the hint "run as root". diagnose has no upfront
  // "needs root" check (that would be 2).
  it('a root process, diagnosed as uid 65534: 3, "cannot open … EACCES (run as root)"', async () => {
    sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = sleeper.pid!;
    await refused(['--pid', String(pid), 'db.example'], 3, new RegExp(`cannot open /proc/${pid}/ns/net: EACCES \\(run as root\\)`), 65534);
    sleeper.kill('SIGKILL');
  });

  it('an unknown --what-if: 2', async () => {
    await refused([app, 'db.example', '--what-if', 'frobnicate 1'], 2, /invalid --what-if "frobnicate 1": unknown change "frobnicate"/);
  });

  it('an unknown mode in --modes: 2', async () => {
    await refused([app, 'db.example', '--modes', 'glibc,bind'], 2, /unknown mode "bind" in --modes: use glibc, musl, eventlet, eventlet-0\.24/);
  });

  it('an unknown --family: 2', async () => {
    await refused([app, 'db.example', '--family', 'ipx'], 2, /unknown --family "ipx": use any, inet or inet6/);
  });

  it('an invalid name: 2', async () => {
    await refused([app, 'a..b'], 2, /invalid name "a\.\.b"/);
  });

  it('--no-live on a container: a prediction, and not one packet sent', async () => {
    const before = await state();
    expect(before.queries).toBe(0);
    const { res, report } = await d().diagnose([app, 'db.example', '--no-live']);
    expect(res.code, summary(report, res)).toBe(0);
    expect(res.stderr).toBe('');
    expect(report!.live).toBe(false);
    expect(report!.target.nameservers).toEqual([d().addr('blackhole'), d().addr('answer')]);
    expect(report!.rows.map((r) => r.label)).toEqual(['glibc', 'musl', 'eventlet', 'go']);
    // simulated: every server answers, as far as anything is known without measuring
    for (const r of report!.rows) expect(r.traces[0]!.result.addresses.length, r.label).toBeGreaterThan(0);
    expect(await state()).toEqual(before);
    // The upstream's own log is the proof that nothing was sent (a wall-clock bound here only
    // measured how busy the machine was).
    expect(d().main!.log()).toEqual([]);
  });

  it('a --what-if that does not fit the resolv.conf: 2, before anything is sent', async () => {
    await refused([app, 'db.example', '--what-if', 'nameserver-remove 5'], 2, /invalid --what-if "nameserver-remove 5": there are only 2 nameserver lines/);
  });
});
