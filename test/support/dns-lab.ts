// A DNS lab for `tsnet diagnose` tests, on top of Lab: an upstream tsnet container (dns-mode
// direct, eth0 at lab.ip(50), more addresses added inside it with `ip addr add`) running
// `tsnet fake-dns --netns <its net namespace>` with one behaviour per address, app containers
// pointed at those addresses, and `tsnet diagnose --json` parsed. Every packet stays on the lab's
// bridge and namespaces. destroy() stops the servers, removes every container, checks that no
// stub daemon or fake-dns of this lab is left and returns whatever leaked (expect []).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/diagnose/diagnose.js';
import { Lab, run, type RunResult } from './lab.js';
import { spawnCli, stopSpawned, waitFor, sleep, type FakeDnsQuery, type Spawned } from './upstream.js';

export type { Report };
export type Finding = Report['findings'][number];
export type Row = Report['rows'][number];
export type Trace = Row['traces'][number];

/** Host part → behaviour of the standard upstream (addresses lab.ip(host)). */
export const STANDARD_LISTEN: Record<number, string> = {
  50: 'blackhole',
  51: 'answer',
  52: 'closed',
  53: 'drop-aaaa',
  54: 'servfail-aaaa',
  55: 'refused',
  56: 'truncate',
  57: 'delay:100',
  // the conntrack race; a 50 ms window, as fake-dns sees a packet only when its event loop gets to it
  58: 'race-drop:50',
};

/** Zone data every server of the standard upstream serves. */
export const STANDARD_ZONE = [
  'db.example=A:192.0.2.10',
  'db.example=AAAA:2001:db8::10',
  // NODATA in the first search domain, the name in the second
  'db.a.example=TXT:x',
  'db.b.example=A:192.0.2.11',
];

export interface FakeDns {
  /** ADDR=BEHAVIOUR as given to --listen */
  listen: string[];
  server: Spawned;
  /** the JSON lines fake-dns logged: one per query received */
  log(): FakeDnsQuery[];
  stop(): Promise<void>;
}

export interface AppOptions {
  /** --dns-mode (default direct: the container's resolv.conf lists the upstreams itself) */
  mode?: 'direct' | 'glibc' | 'musl';
  dns: string[];
  options?: string[];
  search?: string[];
  addHosts?: string[];
  extra?: string[];
}

export interface DiagnoseRun {
  res: RunResult;
  /** the parsed --json report (undefined when stdout was not JSON) */
  report: Report | undefined;
  /** wall time of the whole CLI invocation */
  wallMs: number;
}

/** Runs a quick command (lab.ts's runner, which tolerates a child that exits before reading stdin). */
export const sh = (cmd: string, args: string[]): Promise<RunResult> => run(cmd, args);

export class DnsLab {
  readonly lab = new Lab();
  readonly upstream: string;
  readonly dir = mkdtempSync(join(tmpdir(), 'tsnet-dnslab-'));
  /** host part → behaviour, as started */
  listen: Record<number, string> = {};
  private servers: FakeDns[] = [];
  private apps = new Set<string>();
  private upstreamMade = false;
  main: FakeDns | undefined;

  constructor() {
    this.upstream = this.lab.name('upstream');
  }

  /** Creates the upstream container and starts the standard fake-dns (or the given behaviours). */
  static async start(listen: Record<number, string> = STANDARD_LISTEN, zone: string[] = STANDARD_ZONE, opts: { warmUp?: boolean } = {}): Promise<DnsLab> {
    const d = new DnsLab();
    try {
      await d.makeUpstream(Object.keys(listen).map(Number));
      d.listen = listen;
      d.main = await d.fakeDns(Object.entries(listen).map(([h, b]) => `${d.lab.ip(Number(h))}=${b}`), zone);
      if (opts.warmUp !== false) await d.warmUp();
    } catch (err) {
      const left = await d.destroy();
      throw new Error(`DnsLab.start: ${(err as Error).message}${left.length ? `; left behind: ${left.join(', ')}` : ''}`);
    }
    return d;
  }

  /** The address of the standard upstream with this behaviour. */
  addr(behaviour: string): string {
    const host = Object.entries(this.listen).find(([, b]) => b === behaviour)?.[0];
    if (host === undefined) throw new Error(`no upstream address with behaviour ${behaviour}`);
    return this.lab.ip(Number(host));
  }

  /** The upstream container's network namespace handle (from inspect --json). */
  async upstreamNetns(): Promise<string> {
    const r = await this.lab.cli(['inspect', this.upstream, '--json']);
    if (r.code !== 0) throw new Error(`inspect ${this.upstream}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { namespaces: { net: string } }).namespaces.net;
  }

  private async makeUpstream(hosts: number[]): Promise<void> {
    const [first, ...rest] = hosts;
    const created = await this.lab.create(this.upstream, ['--ip', this.lab.ip(first!)]);
    if (created.code !== 0) throw new Error(`create ${this.upstream}: ${created.stderr}`);
    this.upstreamMade = true;
    for (const h of rest) {
      const r = await this.lab.cli(['exec', this.upstream, '--', 'ip', 'addr', 'add', `${this.lab.ip(h)}/24`, 'dev', 'eth0']);
      if (r.code !== 0) throw new Error(`ip addr add ${this.lab.ip(h)} in ${this.upstream}: ${r.stderr}`);
    }
  }

  /**
   * Runs `tsnet fake-dns --netns <upstream's netns>` with these listeners (the addresses must exist
   * in the upstream's namespace) until stop() or destroy(); resolves once it is listening.
   */
  async fakeDns(listen: string[], zone: string[] = STANDARD_ZONE): Promise<FakeDns> {
    const tag = `fd${this.servers.length}`;
    const ready = join(this.dir, `${tag}.ready`);
    const logFile = join(this.dir, `${tag}.jsonl`);
    const server = spawnCli(this.lab, [
      'fake-dns', '--netns', await this.upstreamNetns(),
      ...listen.flatMap((l) => ['--listen', l]),
      ...zone.flatMap((z) => ['--zone', z]),
      '--log', logFile, '--ready-file', ready,
    ]);
    const fd: FakeDns = {
      listen,
      server,
      log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeDnsQuery) : []),
      stop: async () => {
        await stopSpawned(server);
      },
    };
    this.servers.push(fd);
    // `closed` listeners bind nothing and are not in the ready file.
    const bound = listen.filter((l) => !/=(.*,)?closed(,|$)/.test(l)).map((l) => `${l.split('=')[0]}:53`);
    await waitFor(`fake-dns ${listen.join(' ')}`, () => {
      if (server.child.exitCode !== null) throw new Error(`fake-dns exited ${server.child.exitCode}: ${server.stderr()}`);
      if (!existsSync(ready)) return false;
      const lines = readFileSync(ready, 'utf8').trim().split('\n');
      return bound.every((b) => lines.includes(b));
    });
    return fd;
  }

  /** One query to the answering server, so fake-dns's first reply is not a cold (JIT) one. */
  private async warmUp(): Promise<void> {
    const ans = Object.entries(this.listen).find(([, b]) => b === 'answer');
    if (!ans) return;
    for (let i = 0; i < 3; i++) {
      await this.lab.cli(['exec', this.upstream, '--', 'dig', '+tries=1', '+time=1', '+short', `@${this.lab.ip(Number(ans[0]))}`, 'db.example']);
    }
  }

  /** Creates an app container; returns its name. */
  async app(short: string, o: AppOptions): Promise<string> {
    const name = this.lab.name(short);
    const args = [
      '--dns-mode', o.mode ?? 'direct',
      ...o.dns.flatMap((d) => ['--dns', d]),
      ...(o.options ?? []).flatMap((x) => ['--dns-option', x]),
      ...(o.search ?? []).flatMap((x) => ['--dns-search', x]),
      ...(o.addHosts ?? []).flatMap((x) => ['--add-host', x]),
      ...(o.extra ?? []),
    ];
    const r = await this.lab.create(name, args);
    if (r.code !== 0) throw new Error(`create ${name} ${args.join(' ')}: ${r.stderr}`);
    this.apps.add(name);
    // The upstream's extra addresses were added behind the allocator's back: make sure it did not
    // hand one of them out.
    const address = r.stdout.trim().split(/\s+/)[1];
    const upstreamAddresses = Object.keys(this.listen).map((h) => this.lab.ip(Number(h)));
    if (address === undefined || upstreamAddresses.includes(address)) throw new Error(`create ${name}: got address ${address}, one of the upstream's`);
    return name;
  }

  async rmApp(name: string): Promise<void> {
    const r = await this.lab.cli(['rm', name]);
    if (r.code !== 0) throw new Error(`rm ${name}: ${r.stderr}`);
    this.apps.delete(name);
  }

  /** `tsnet diagnose ARGS... --json`, parsed. */
  async diagnose(args: string[], opts: { asUser?: number } = {}): Promise<DiagnoseRun> {
    const start = performance.now();
    const res = await this.lab.cli(['diagnose', ...args, '--json'], opts.asUser === undefined ? {} : { asUser: opts.asUser });
    const wallMs = performance.now() - start;
    let report: Report | undefined;
    try {
      report = JSON.parse(res.stdout) as Report;
    } catch {
      report = undefined;
    }
    return { res, report, wallMs };
  }

  /** Command lines of this lab's `stub daemon` and `fake-dns` processes still running. */
  async processes(): Promise<string[]> {
    // `--` first: a pattern starting with "--root" would otherwise be taken for an option (pgrep exits 2).
    const r = await sh('pgrep', ['-af', '--', `--root ${this.lab.root} (stub daemon|fake-dns)`]);
    if (r.code !== 0 && r.code !== 1) throw new Error(`pgrep: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean).filter((l) => Number(l.split(' ')[0]) !== process.pid);
  }

  /** Stops every server, removes every container, waits for the stub to go; returns what is left. */
  async destroy(): Promise<string[]> {
    for (const s of this.servers) await s.stop();
    this.servers = [];
    for (const a of [...this.apps]) await this.lab.cli(['rm', a]);
    this.apps.clear();
    if (this.upstreamMade) await this.lab.cli(['rm', this.upstream]);
    // The stub daemon exits on its own after the last stub-mode container; give it a moment.
    for (let i = 0; i < 100 && (await this.processes()).length > 0; i++) await sleep(50);
    const procs = (await this.processes()).map((p) => `process ${p}`);
    const left = [...(await this.lab.destroy()), ...procs];
    rmSync(this.dir, { recursive: true, force: true });
    return left;
  }
}

// ---- report helpers -------------------------------------------------------------------------------

export const total = (row: Row | undefined): number => (row ? row.traces.reduce((s, t) => s + t.elapsed_ms, 0) : NaN);

export function row(report: Report, label: string): Row {
  const r = report.rows.find((x) => x.label === label);
  if (!r) throw new Error(`no row ${label} in ${report.rows.map((x) => x.label).join(', ')}`);
  return r;
}

export function finding(report: Report, id: string): Finding {
  const f = report.findings.find((x) => x.id === id);
  if (!f) throw new Error(`no finding ${id}; findings: ${report.findings.map((x) => `${x.id}(${x.severity})`).join(', ') || 'none'}`);
  return f;
}

export const withFix = (f: Finding, mode: string): number | null => f.modes.find((m) => m.mode === mode)?.with_fix_ms ?? null;

/** |measured − expected| ≤ max(floor, pct % of expected) */
/**
 * The scenarios use timeout:1, so "waits" and "does not wait" are ≥ 1000 ms apart: a floor of
 * 250 ms keeps them apart and still holds on a 2-core machine busy with other work, where a
 * process may wait tens of milliseconds for a core before it sends or reads anything.
 */
export const FAST_MS = 250;

export function near(measured: number, expected: number, floorMs = FAST_MS, pct = 5): boolean {
  return Math.abs(measured - expected) <= Math.max(floorMs, (pct / 100) * Math.abs(expected));
}

/** A one-line summary for assertion messages. */
export function summary(report: Report | undefined, res?: RunResult): string {
  if (!report) return `no JSON report; exit ${res?.code}; stderr: ${res?.stderr.trim()}`;
  const rows = report.rows.map((r) => `${r.label}: ${r.traces.map((t) => `${t.result.error ?? t.result.addresses.join(' ')} in ${t.elapsed_ms.toFixed(0)} ms, ${t.queries.length} q`).join('; ')}`);
  const fs = report.findings.map((f) => `${f.id}(${f.severity})`);
  return `rows [${rows.join(' | ')}] findings [${fs.join(', ')}] exit ${report.exitCode}`;
}
