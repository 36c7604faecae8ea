// Runs the fidelity matrix: for each scenario × library, on one lane of the topology,
//   (a) the REAL library (gai.c built against glibc / musl, or eventlet_gai.py) in the client
//       namespace, with the scenario's resolv.conf, hosts and nsswitch.conf bind-mounted over
//       /etc in a private mount namespace (the host's /etc never changes);
//   (b) `tsnet resolve --mode M --netns <client ns>` (the emulator on real sockets);
//   (c) `tsnet resolve --mode M --simulate scenario.json` (the emulator on the simulated network);
// against one `tsnet fake-dns` in the server namespace. (a) and (b) are judged by what the fake
// server logged, (c) by its own trace; see compare.ts for the verdict.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseBehaviour } from '../../resolvers/core/responder.js';
import type { Trace } from '../../resolvers/core/types.js';
import {
  checkClaim,
  compareRuns,
  timingOnly,
  parseLog,
  plansFromStarts,
  plansFromTraces,
  type Comparison,
  type LogLine,
  type LookupObservation,
} from './compare.js';
import { DEFAULT_NSSWITCH, renderResolvConf, type FidelityScenario, type Library } from './scenarios.js';
import { trackChild, type Lane, type Topology } from './topology.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const REF_DIR = join(import.meta.dirname, 'ref');
/** Debian's interpreter: python3-eventlet 0.33.1 and python3-dnspython 2.3.0 live there */
export const PYTHON = '/usr/bin/python3';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Tools {
  node: string;
  /** the snapshot of dist/tsnet.js this run uses */
  cli: string;
  gaiGlibc: string;
  gaiMusl: string;
  eventletScript: string;
  python: string;
}

export type RunStatus = 'ok' | 'pending' | 'error';

export interface RunRecord {
  status: RunStatus;
  /** pending reason or error message */
  message?: string;
  /** one per lookup; queries as the fake server saw them ((a), (b)) or as traced ((c)) */
  lookups: LookupObservation[];
  command: string[];
  /** wall time of the whole child process (start-up included) */
  wallMs: number;
  stderr?: string;
  /** (b): the emulator's own traces vs the wire, when they disagree */
  traceVsWire?: string[];
  /** (b), (c): what the emulator traced for servers the log cannot see (`closed`), with outcomes */
  hidden?: string;
}

export type RowStatus = 'pass' | 'fail' | 'pending' | 'error';

export interface RowResult {
  scenario: string;
  library: Library;
  lane: number;
  status: RowStatus;
  real: RunRecord;
  emulated: RunRecord;
  simulated: RunRecord;
  emulatedVsReal: Comparison | null;
  simulatedVsReal: Comparison | null;
  /** resolver-behavior.md's claim vs the real library */
  doc: { source: string; disagreements: string[] } | null;
  /** set when the row failed on timing alone and was run again, alone: the first attempt's differences */
  firstAttempt?: string[];
  /** how far the fake server's log clock ran ahead of CLOCK_REALTIME (subtracted) */
  clockOffsetMs?: number;
  /** the files the library saw (resolv.conf rendered with ns1.. names) */
  files: { resolvConf: string };
}

export interface FidelityResults {
  version: 1;
  started: string;
  finished: string;
  durationMs: number;
  lanes: number;
  host: Record<string, string>;
  scenarios: Array<Omit<FidelityScenario, 'doc'> & { doc?: FidelityScenario['doc'] }>;
  rows: RowResult[];
}

// ---------------------------------------------------------------------------------------------
// preparation

/** Builds the reference programs into `dir` (binaries never enter the repository). */
export function buildReferences(dir: string): Pick<Tools, 'gaiGlibc' | 'gaiMusl' | 'eventletScript' | 'python'> {
  mkdirSync(dir, { recursive: true });
  const src = join(REF_DIR, 'gai.c');
  const gaiGlibc = join(dir, 'gai-glibc');
  const gaiMusl = join(dir, 'gai-musl');
  execFileSync('gcc', ['-O2', '-Wall', '-o', gaiGlibc, src], { stdio: 'pipe' });
  execFileSync('musl-gcc', ['-static', '-O2', '-Wall', '-o', gaiMusl, src], { stdio: 'pipe' });
  return { gaiGlibc, gaiMusl, eventletScript: join(REF_DIR, 'eventlet_gai.py'), python: PYTHON };
}

/**
 * Copies dist/ (just bundled by the global setup) into `dir`, with node_modules linked next to it,
 * so an engineer re-bundling dist/ during the run cannot pull the CLI out from under the suite.
 */
export function snapshotCli(dir: string): string {
  const src = join(REPO, 'dist');
  if (!existsSync(join(src, 'tsnet.js'))) throw new Error('dist/tsnet.js is missing: run node scripts/bundle.mjs');
  cpSync(src, join(dir, 'dist'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'dist', 'tsnet.js');
}

export function hostInfo(): Record<string, string> {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    kernel: sh('uname', ['-r']),
    glibc: sh('ldd', ['--version']).split('\n')[0] ?? 'unknown',
    musl: sh('dpkg-query', ['-W', '-f', '${Version}', 'musl']),
    eventlet: sh('dpkg-query', ['-W', '-f', '${Version}', 'python3-eventlet']),
    dnspython: sh('dpkg-query', ['-W', '-f', '${Version}', 'python3-dnspython']),
    node: process.version,
  };
}

// ---------------------------------------------------------------------------------------------
// child processes

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  startedAt: number;
  endedAt: number;
  timedOut: boolean;
  /** killed by the suite after stderr matched `killOn` */
  killedOnPattern: boolean;
}

/**
 * Every process whose timing is compared (the real library's program, the emulator's CLI, the
 * fake server that timestamps the wire) runs at nice -10, all alike: on a 2-core machine busy with
 * other work (CI, `stress-ng --cpu 2`) a nice-0 process can wait tens of milliseconds for a core,
 * which is the machine's noise, not the library's behaviour. Both sides of every comparison get
 * the same priority, so neither is favoured.
 */
function measured(child: ChildProcess): ChildProcess {
  if (child.pid !== undefined) {
    try {
      setPriority(child.pid, -10);
    } catch {
      // not root: the suite is skipped anyway; an already exited child: nothing to raise
    }
  }
  return child;
}

/**
 * Runs a child to completion. `killOn`: a stderr pattern after which the child is killed (after a
 * short grace) — a CLI that reported an internal error but keeps its event loop alive.
 */
function runChild(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number, killOn?: RegExp): Promise<ChildResult> {
  return new Promise((done, fail) => {
    const startedAt = Date.now();
    const child = measured(trackChild(spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })));
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let doomed = false;
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      if (killOn && !doomed && killOn.test(stderr)) {
        doomed = true;
        setTimeout(() => child.kill('SIGKILL'), 1000).unref();
      }
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, startedAt, endedAt: Date.now(), timedOut, killedOnPattern: doomed && signal === 'SIGKILL' });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FakeDnsHandle {
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

async function startFakeDns(tools: Tools, lane: Lane, scenario: FidelityScenario, dir: string): Promise<FakeDnsHandle> {
  const logFile = join(dir, 'fake-dns.jsonl');
  const ready = join(dir, 'fake-dns.ready');
  const args = [tools.cli, 'fake-dns', '--netns', lane.serverNsPath, '--log', logFile, '--ready-file', ready];
  for (const [slot, behaviour] of Object.entries(scenario.servers)) args.push('--listen', `${lane.server(Number(slot))}=${behaviour}`);
  args.push('--listen', `${PROBE_SERVER}=answer`);
  for (const z of scenario.zone) args.push('--zone', z);
  const child = measured(trackChild(spawn(tools.node, args, { env: { PATH, TSNET_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] })));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 15_000;
  while (!existsSync(ready)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`fake-dns exited before it was ready (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`fake-dns was not ready after 15 s: ${stderr.trim()}`);
    }
    await sleep(10);
  }
  return {
    child,
    logFile,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/**
 * The fake server stamps its log with Node's performance.timeOrigin + now(), which runs about a
 * millisecond ahead of CLOCK_REALTIME (timeOrigin is sampled at a slightly different moment than
 * the monotonic origin). The real library's start_ms is CLOCK_REALTIME, so measure the offset:
 * a glibc client on the server namespace's loopback looks a name up three times at a probe
 * listener; offset = min(logged ts − start_ms) (an upper bound, within ~0.2 ms).
 */
const PROBE_SERVER = '127.0.0.53';
const PROBE_NAME = 'fy-clock-probe.invalid';

async function measureClockOffset(tools: Tools, lane: Lane, dir: string, logFile: string): Promise<number> {
  const rc = join(dir, 'probe-resolv.conf');
  const nss = join(dir, 'probe-nsswitch.conf');
  writeFileSync(rc, `nameserver ${PROBE_SERVER}\noptions timeout:1 attempts:1\n`);
  writeFileSync(nss, 'hosts: dns\n');
  const r = await runChild(
    'ip',
    ['netns', 'exec', lane.serverNs, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', MOUNT_SCRIPT, 'sh', rc, '/etc/hosts', nss, tools.gaiGlibc, `${PROBE_NAME}.`, 'inet', 'nocanon', '3'],
    { PATH, LANG: 'C.UTF-8' },
    10_000,
  );
  const starts = r.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as GaiLine).start_ms);
  const probes = parseLog(readFileSync(logFile, 'utf8')).filter((l) => l.server === PROBE_SERVER && l.qname === PROBE_NAME);
  if (starts.length !== 3 || probes.length !== 3) throw new Error(`clock probe failed: ${starts.length} lookups, ${probes.length} logged queries; ${r.stderr.trim()}`);
  return Math.min(...probes.map((p, i) => p.ts - starts[i]!));
}

// ---------------------------------------------------------------------------------------------
// one row

interface UnitFiles {
  resolvConf: string;
  hosts: string;
  nsswitch: string;
  simulate: string;
}

const CHILD_TIMEOUT_MS = 120_000;
const MOUNT_SCRIPT =
  'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && mount --bind "$3" /etc/nsswitch.conf && shift 3 && exec "$@"';

const libraryEnv = (s: FidelityScenario, lib: Library): Record<string, string> => ({
  ...(s.env ?? {}),
  ...(lib === 'eventlet-nogreendns' ? { EVENTLET_NO_GREENDNS: 'yes' } : {}),
});

const modeOf = (lib: Library) => (lib === 'eventlet-nogreendns' ? 'eventlet' : lib);

/** Pause between the real library's repeated lookups, so the log splits cleanly (plansFromStarts). */
const REPEAT_PAUSE_MS = 50;

function realCommand(tools: Tools, s: FidelityScenario, lib: Library): string[] {
  const args = [s.name, s.family, s.canonname ? 'canon' : 'nocanon', String(s.repeat), String(REPEAT_PAUSE_MS)];
  if (lib === 'glibc') return [tools.gaiGlibc, ...args];
  if (lib === 'musl') return [tools.gaiMusl, ...args];
  return [tools.python, tools.eventletScript, ...args];
}

interface GaiLine {
  addresses: string[];
  error: string | null;
  start_ms: number;
  elapsed_ms: number;
}

/** Servers the fake-dns log can see: listed and not `closed` (nothing is bound for those). */
function visibleServers(s: FidelityScenario, lane: Lane): Map<string, string> {
  const m = new Map<string, string>();
  for (const [slot, b] of Object.entries(s.servers)) if (parseBehaviour(b).base !== 'closed') m.set(lane.server(Number(slot)), `ns${slot}`);
  return m;
}

const labelLog = (log: LogLine[], visible: Map<string, string>): LogLine[] =>
  log.filter((l) => visible.has(l.server)).map((l) => ({ ...l, server: visible.get(l.server)! }));

async function runReal(tools: Tools, lane: Lane, s: FidelityScenario, lib: Library, f: UnitFiles): Promise<{ rec: RunRecord; starts: number[]; window: [number, number] }> {
  const cmd = realCommand(tools, s, lib);
  const args = ['netns', 'exec', lane.clientNs, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', MOUNT_SCRIPT, 'sh', f.resolvConf, f.hosts, f.nsswitch, ...cmd];
  const env = { PATH, LANG: 'C.UTF-8', ...libraryEnv(s, lib) };
  const r = await runChild('ip', args, env, CHILD_TIMEOUT_MS);
  const rec: RunRecord = { status: 'ok', lookups: [], command: [...Object.entries(libraryEnv(s, lib)).map(([k, v]) => `${k}=${v}`), 'ip', ...args], wallMs: r.endedAt - r.startedAt };
  if (r.stderr.trim()) rec.stderr = r.stderr.trim().slice(0, 2000);
  const lines: GaiLine[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      lines.push(JSON.parse(line) as GaiLine);
    } catch {
      rec.status = 'error';
      rec.message = `unparseable output: ${line.slice(0, 200)}`;
    }
  }
  const starts = lines.map((l) => l.start_ms);
  rec.lookups = lines.map((l) => ({ addresses: l.addresses, error: l.error, elapsed_ms: l.elapsed_ms, queries: [] }));
  if (r.signal === 'SIGFPE' && lines.length < s.repeat) {
    rec.lookups.push({ addresses: [], error: 'SIGFPE', elapsed_ms: 0, queries: [] });
    starts.push(r.startedAt);
  } else if (r.timedOut) {
    rec.status = 'error';
    rec.message = `timed out after ${CHILD_TIMEOUT_MS} ms`;
  } else if (r.code !== 0 || lines.length !== s.repeat) {
    rec.status = 'error';
    rec.message = `exit ${r.code ?? r.signal} with ${lines.length} of ${s.repeat} result lines`;
  }
  return { rec, starts, window: [r.startedAt, r.endedAt] };
}

/** "0 A db.fy.test@ns1 icmp-unreachable, ..." for the traced queries to servers the log cannot see. */
function hiddenQueries(traces: Trace[], visible: Set<string>, label: (addr: string) => string): string | undefined {
  const parts = traces.map((t) =>
    t.queries
      .filter((q) => !visible.has(q.server))
      .map((q) => `${Math.round(q.t_ms)} ${q.qtype} ${q.qname}@${label(q.server)}${q.transport === 'udp' ? '' : '/' + q.transport} ${q.outcome}`)
      .join(', '),
  );
  return parts.some((p) => p) ? parts.join(' | ') : undefined;
}

function traceLookups(traces: Trace[], visible: Set<string>, label: (addr: string) => string): LookupObservation[] {
  return traces.map((t) => ({
    addresses: t.result.addresses,
    error: t.result.error,
    elapsed_ms: t.elapsed_ms,
    queries: t.queries.filter((q) => visible.has(q.server)).map((q) => ({ t_ms: q.t_ms, server: label(q.server), transport: q.transport, qname: q.qname, qtype: q.qtype })),
  }));
}

async function runTsnet(
  tools: Tools,
  s: FidelityScenario,
  lib: Library,
  f: UnitFiles,
  where: string[],
  workDir: string,
  timeoutMs: number,
): Promise<{ rec: RunRecord; traces: Trace[]; window: [number, number] }> {
  const args = [tools.cli, 'resolve', s.name, '--mode', modeOf(lib), ...where, '--resolv-conf', f.resolvConf, '--hosts', f.hosts, '--nsswitch', f.nsswitch];
  for (const [k, v] of Object.entries(libraryEnv(s, lib))) args.push('--env', `${k}=${v}`);
  args.push('--family', s.family, '--repeat', String(s.repeat), '--json');
  if (s.canonname) args.push('--canonname');
  const r = await runChild(tools.node, args, { PATH, TSNET_LOG_LEVEL: 'warn', TSNET_ROOT: join(workDir, 'tsnet-root') }, timeoutMs, /internal error/);
  const rec: RunRecord = { status: 'ok', lookups: [], command: ['node', 'dist/tsnet.js', ...args.slice(1)], wallMs: r.endedAt - r.startedAt };
  if (r.stderr.trim()) rec.stderr = r.stderr.trim().slice(0, 2000);
  let traces: Trace[] = [];
  if (r.code === 0 || r.code === 1) {
    try {
      const v = JSON.parse(r.stdout) as Trace | Trace[];
      traces = Array.isArray(v) ? v : [v];
    } catch {
      rec.status = 'error';
      rec.message = `unparseable --json output (exit ${r.code}): ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 300)}`;
    }
  } else if (/unknown --mode/.test(r.stderr)) {
    rec.status = 'pending';
    rec.message = `emulator not available yet: ${r.stderr.trim().split('\n')[0]}`;
  } else {
    rec.status = 'error';
    rec.message = r.timedOut
      ? `timed out after ${timeoutMs} ms`
      : r.killedOnPattern
        ? `${r.stderr.trim().split('\n')[0]} — and the CLI did not exit (killed by the suite 1 s later)`
        : `exit ${r.code ?? r.signal}: ${r.stderr.trim().slice(0, 500)}`;
  }
  if (rec.status === 'ok' && traces.length !== s.repeat) {
    rec.status = 'error';
    rec.message = `${traces.length} traces for --repeat ${s.repeat}`;
  }
  return { rec, traces, window: [r.startedAt, r.endedAt] };
}

export interface UnitContext {
  tools: Tools;
  lane: Lane;
  workDir: string;
}

/** Runs one scenario × library on one lane: (a), (b), (c) and the verdicts. */
export async function runRow(ctx: UnitContext, s: FidelityScenario, lib: Library): Promise<RowResult> {
  const { tools, lane } = ctx;
  const dir = join(ctx.workDir, `${s.id}--${lib}`);
  mkdirSync(dir, { recursive: true });
  const resolvConf = renderResolvConf(s.resolvConf, lane.server);
  const files: UnitFiles = {
    resolvConf: join(dir, 'resolv.conf'),
    hosts: join(dir, 'hosts'),
    nsswitch: join(dir, 'nsswitch.conf'),
    simulate: join(dir, 'scenario.json'),
  };
  writeFileSync(files.resolvConf, resolvConf);
  writeFileSync(files.hosts, s.hosts);
  writeFileSync(files.nsswitch, s.nsswitch ?? DEFAULT_NSSWITCH);
  const simServers: Record<string, string> = {};
  for (const [slot, b] of Object.entries(s.servers)) simServers[lane.server(Number(slot))] = b;
  writeFileSync(files.simulate, JSON.stringify({ servers: simServers, zone: s.zone }, null, 2));

  const visible = visibleServers(s, lane);
  const label = (addr: string) => {
    const m = /\.(\d+)$/.exec(addr);
    return addr.startsWith(`${lane.base}.`) && m ? `ns${m[1]}` : addr;
  };
  const error = (m: string): RunRecord => ({ status: 'error', message: m, lookups: [], command: [], wallMs: 0 });

  let real: RunRecord;
  let emulated: RunRecord;
  let realStarts: number[] = [];
  let emuTraces: Trace[] = [];
  let emuStartedAt = Infinity;
  let clockOffsetMs = 0;
  const server = await startFakeDns(tools, lane, s, dir);
  try {
    clockOffsetMs = await measureClockOffset(tools, lane, dir, server.logFile);
    const a = await runReal(tools, lane, s, lib, files);
    real = a.rec;
    realStarts = a.starts;
    // The emulator gets the real library's time and then some (a CLI that hangs is cut short).
    const realMs = real.lookups.reduce((sum, l) => sum + l.elapsed_ms, 0);
    const b = await runTsnet(tools, s, lib, files, ['--netns', lane.clientNsPath], ctx.workDir, Math.max(20_000, 3 * realMs + 10_000));
    emulated = b.rec;
    emuTraces = b.traces;
    emuStartedAt = b.window[0];
  } catch (err) {
    real = error((err as Error).message);
    emulated = error('not run');
  } finally {
    await server.stop();
  }
  // Log times on CLOCK_REALTIME; then everything before the emulator's start (plus the 20 ms it
  // takes Node to start at the very least) is the real library's, the rest the emulator's.
  const log = labelLog(parseLog(existsSync(server.logFile) ? readFileSync(server.logFile, 'utf8') : ''), visible).map((l) => ({ ...l, ts: l.ts - clockOffsetMs }));
  const boundary = emuStartedAt + 20;
  const realLog = log.filter((l) => l.ts < boundary);
  const emuLog = log.filter((l) => l.ts >= boundary);

  if (real.status === 'ok') {
    const plans = plansFromStarts(realLog, realStarts, REPEAT_PAUSE_MS / 2);
    real.lookups = real.lookups.map((l, i) => ({ ...l, queries: plans[i] ?? [] }));
  }
  if (emulated.status === 'ok') {
    const visibleSet = new Set(visible.keys());
    const traced = traceLookups(emuTraces, visibleSet, label);
    const { plans } = plansFromTraces(emuLog, traced);
    emulated.lookups = traced.map((t, i) => ({ ...t, queries: plans[i] ?? [] }));
    const hidden = hiddenQueries(emuTraces, visibleSet, label);
    if (hidden) emulated.hidden = hidden;
    // Does the emulator's own trace say what the wire saw? (A driver bug would show here.)
    const tw = compareRuns(emulated.lookups, traced, { names: ['wire', 'trace'], absToleranceMs: 10, relTolerance: 0 });
    if (!tw.match) emulated.traceVsWire = tw.differences;
  }

  const c = await runTsnet(tools, s, lib, files, ['--simulate', files.simulate], ctx.workDir, 30_000).catch((err: Error) => ({ rec: error(err.message), traces: [] as Trace[], window: [0, 0] as [number, number] }));
  const simulated = c.rec;
  if (simulated.status === 'ok') {
    simulated.lookups = traceLookups(c.traces, new Set(visible.keys()), label);
    const hidden = hiddenQueries(c.traces, new Set(visible.keys()), label);
    if (hidden) simulated.hidden = hidden;
  }

  const opts = {
    rotate: s.rotate ? [...s.resolvConf.matchAll(/nameserver \{ns([1-9])\}/g)].map((m) => `ns${m[1]}`) : undefined,
  };
  const cmp = (other: RunRecord, name: string): Comparison | null => {
    if (real.status !== 'ok' || other.status === 'pending') return null;
    if (other.status === 'error') {
      const why = `${name} run failed: ${(other.message ?? '').split('\n')[0]}`;
      return { match: false, first: why, differences: [why], notes: [] };
    }
    return compareRuns(real.lookups, other.lookups, { ...(opts.rotate ? { rotate: opts.rotate } : {}), names: ['real', name] });
  };
  const emulatedVsReal = cmp(emulated, 'emulated');
  const simulatedVsReal = cmp(simulated, 'simulated');

  const claim = s.doc?.[lib];
  const doc = claim && real.status === 'ok' ? { source: claim.source, disagreements: checkClaim(real.lookups, claim) } : null;

  // error = the suite could not observe the real library; an emulator run that fails or hangs
  // is the emulator's failure (fail), an emulator that does not exist yet is pending.
  let status: RowStatus;
  if (real.status !== 'ok') status = 'error';
  else if (emulated.status === 'pending') status = 'pending';
  else status = emulatedVsReal?.match && simulatedVsReal?.match ? 'pass' : 'fail';

  return {
    scenario: s.id,
    library: lib,
    lane: lane.index,
    status,
    real,
    emulated,
    simulated,
    emulatedVsReal,
    simulatedVsReal,
    doc,
    clockOffsetMs,
    files: { resolvConf: renderResolvConf(s.resolvConf, (i) => `ns${i}`) },
  };
}

// ---------------------------------------------------------------------------------------------
// the matrix

/** A rough duration of a row (real + emulated), for longest-first scheduling. */
export function estimateMs(s: FidelityScenario, lib: Library): number {
  const e = s.doc?.[lib]?.elapsedMs;
  const per = e && e.length > 0 ? e.reduce((a, b) => a + b, 0) * (e.length === 1 ? s.repeat : 1) : 3000;
  return 2 * per + 1500;
}

export interface MatrixOptions {
  tools: Tools;
  topology: Topology;
  workDir: string;
  progress?: (line: string) => void;
}

/** Runs every (scenario, library) on the lanes, longest first; rows come back in matrix order. */
export async function runMatrix(scenarios: FidelityScenario[], libraries: readonly Library[], o: MatrixOptions): Promise<RowResult[]> {
  const units = scenarios.flatMap((s, si) => s.libraries.filter((l) => libraries.includes(l)).map((lib) => ({ s, lib, order: si * 10 + libraries.indexOf(lib) })));
  const queue = [...units].sort((x, y) => estimateMs(y.s, y.lib) - estimateMs(x.s, x.lib));
  const results = new Map<string, RowResult>();
  let done = 0;
  const worker = async (lane: Lane) => {
    for (let u = queue.shift(); u !== undefined; u = queue.shift()) {
      const t0 = Date.now();
      let row: RowResult;
      try {
        row = await runRow({ tools: o.tools, lane, workDir: o.workDir }, u.s, u.lib);
      } catch (err) {
        const rec: RunRecord = { status: 'error', message: (err as Error).message, lookups: [], command: [], wallMs: 0 };
        row = { scenario: u.s.id, library: u.lib, lane: lane.index, status: 'error', real: rec, emulated: rec, simulated: rec, emulatedVsReal: null, simulatedVsReal: null, doc: null, files: { resolvConf: '' } };
      }
      results.set(`${u.s.id}/${u.lib}`, row);
      done++;
      const why = row.status === 'fail' ? ` — ${row.emulatedVsReal?.first ?? row.simulatedVsReal?.first ?? ''}` : row.status === 'error' ? ` — ${row.real.message ?? row.emulated.message ?? row.simulated.message}` : '';
      o.progress?.(`[${done}/${units.length}] lane ${lane.index} ${u.s.id} × ${u.lib}: ${row.status} (${((Date.now() - t0) / 1000).toFixed(1)} s)${why}`);
    }
  };
  await Promise.all(o.topology.lanes.map((lane) => worker(lane)));

  // Timing on a small, busy machine is noisy (4 lanes of Node and Python start-ups on 2 CPUs can
  // delay a process by tens of ms). A row that failed on timing alone is run once more, alone;
  // the second verdict stands and the first is kept in `firstAttempt`.
  const retry = units.filter((u) => {
    const r = results.get(`${u.s.id}/${u.lib}`)!;
    return r.status === 'fail' && timingOnly(r.emulatedVsReal) && timingOnly(r.simulatedVsReal);
  });
  for (const u of retry) {
    const first = results.get(`${u.s.id}/${u.lib}`)!;
    const lane = o.topology.lanes[0]!;
    const row = await runRow({ tools: o.tools, lane, workDir: join(o.workDir, 'retry') }, u.s, u.lib).catch(() => first);
    if (row !== first) row.firstAttempt = [...(first.emulatedVsReal?.differences ?? []).map((d) => `emulated: ${d}`), ...(first.simulatedVsReal?.differences ?? []).map((d) => `simulated: ${d}`)];
    results.set(`${u.s.id}/${u.lib}`, row);
    o.progress?.(`retry alone: ${u.s.id} × ${u.lib} (failed on timing only): ${row.status}`);
  }
  return units.sort((x, y) => x.order - y.order).map((u) => results.get(`${u.s.id}/${u.lib}`)!);
}

