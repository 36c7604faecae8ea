// Runs the fidelity matrix: for each scenario × library, on one lane of the topology,
//   (a) the REAL library (gai.c built against glibc / musl, eventlet_gai.py, or go_lookup.go
//       built without and with cgo) in the client
//       namespace, with the scenario's resolv.conf, hosts and nsswitch.conf bind-mounted over
//       /etc in a private mount namespace (the host's /etc never changes);
//   (b) `tsnet resolve --mode M --netns <client ns>` (the emulator on real sockets);
//   (c) `tsnet resolve --mode M --simulate scenario.json` (the emulator on the simulated network);
// against one `tsnet fake-dns` in the server namespace. (a) and (b) are judged by the wire: a
// packet capture (src/capture) in the client namespace records every query leaving for a server
// address — also those where nothing listens (`closed`) — stamped by the kernel on CLOCK_REALTIME
// (the clock the reference programs report their start on) as the sending call hands it to the
// interface. Not in the server namespace: there a packet is stamped when the receive softirq gets
// to it, which on a busy machine (ksoftirqd) lags the send by 10 ms and more. (c) is judged by its own trace; (b)'s
// own trace must say what its wire saw. See compare.ts for the verdict.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Trace } from '../../resolvers/core/types.js';
import { DnsCapture, type WireRecord } from '../../src/capture/capture.js';
import { inNetns } from '../../src/ns/enter.js';
import { readLocalNet } from '../../src/net/local-net.js';
import {
  checkClaim,
  compareRuns,
  timingOnly,
  plansFromStarts,
  plansFromTraces,
  type Comparison,
  type LogLine,
  type LookupObservation,
  type PlanQuery,
  mergeBurst,
} from './compare.js';
import { DEFAULT_GAI_CONF, DEFAULT_NSSWITCH, renderResolvConf, type FidelityScenario, type Library } from './scenarios.js';
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
  /** go_lookup.go built with CGO_ENABLED=0 / =1; absent when `go` is not installed */
  goPure?: string;
  goCgo?: string;
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
  /** (b): the emulator's own traces vs the wire, when they disagree (the row fails) */
  traceVsWire?: string[];
}

export type RowStatus = 'pass' | 'fail' | 'inconclusive' | 'pending' | 'error';

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
  /**
   * A row that failed on timing alone is run once more, alone, and that verdict is shown here —
   * it never replaces the failure (`status` stays 'fail').
   */
  rerun?: { status: RowStatus; differences: string[] };
  /** how busy the machine was while the row ran (see machineLoad) */
  load: MachineLoad;
  /** the real library's worst stall after a reply (see realStall), when it was STALL_MS or more */
  stall?: Stall;
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

/** Whether the Go toolchain (Debian's golang-go) is installed. */
export function haveGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds go_lookup.go twice: CGO_ENABLED=0 (Go's own resolver only) and CGO_ENABLED=1 (Go
 * decides per lookup: its own resolver or getaddrinfo). Standard library only, no module
 * download (GOPROXY=off); the build cache and GOPATH live in `dir`.
 */
export function buildGo(dir: string): Pick<Tools, 'goPure' | 'goCgo'> {
  const src = join(REF_DIR, 'go_lookup.go');
  const goPure = join(dir, 'go-pure');
  const goCgo = join(dir, 'go-cgo');
  const env = { ...process.env, GOCACHE: join(dir, 'go-cache'), GOPATH: join(dir, 'gopath'), GOFLAGS: '', GOPROXY: 'off', GOTOOLCHAIN: 'local', GO111MODULE: 'on' };
  execFileSync('go', ['build', '-o', goPure, src], { stdio: 'pipe', cwd: dir, env: { ...env, CGO_ENABLED: '0' } });
  execFileSync('go', ['build', '-o', goCgo, src], { stdio: 'pipe', cwd: dir, env: { ...env, CGO_ENABLED: '1' } });
  return { goPure, goCgo };
}

/** Builds the reference programs into `dir` (binaries never enter the repository). Go's only with `withGo`. */
export function buildReferences(dir: string, withGo = haveGo()): Pick<Tools, 'gaiGlibc' | 'gaiMusl' | 'eventletScript' | 'python' | 'goPure' | 'goCgo'> {
  mkdirSync(dir, { recursive: true });
  const src = join(REF_DIR, 'gai.c');
  const gaiGlibc = join(dir, 'gai-glibc');
  const gaiMusl = join(dir, 'gai-musl');
  execFileSync('gcc', ['-O2', '-Wall', '-o', gaiGlibc, src], { stdio: 'pipe' });
  execFileSync('musl-gcc', ['-static', '-O2', '-Wall', '-o', gaiMusl, src], { stdio: 'pipe' });
  return { gaiGlibc, gaiMusl, eventletScript: join(REF_DIR, 'eventlet_gai.py'), python: PYTHON, ...(withGo ? buildGo(dir) : {}) };
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
    go: sh('go', ['version']),
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
 * Every process of a row runs at a negative nice (set by nice(1) before it starts, so whatever it
 * forks inherits it): the rest of the test suite, and the suite's own other lanes, run beside it
 * on two cores (CI, `stress-ng --cpu 2`), and neither a library's decisions at a timing margin
 * (musl-overshoot-7: 6 ms over 7 wake-ups) nor its CPU time (eventlet's Python: ~1-2 ms a query,
 * stretched to 30+ ms waiting behind other lanes' start-ups) should be set by that. All at -10,
 * both sides alike (tried: the real library at -15 moved the stalls to the emulator's side). A
 * negative nice leaves the kernel's poll() slack as it is (0.1 % of the timeout; only nice > 0
 * widens it: fs/select.c __estimate_accuracy).
 */
const NICE = ['-n', '-10'];

/**
 * Runs a child to completion. `killOn`: a stderr pattern after which the child is killed (after a
 * short grace) — a CLI that reported an internal error but keeps its event loop alive.
 */
function runChild(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number, killOn?: RegExp): Promise<ChildResult> {
  return new Promise((done, fail) => {
    const startedAt = Date.now();
    const child = trackChild(spawn('nice', [...NICE, cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
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
  for (const [slot, behaviour] of Object.entries(scenario.servers)) args.push('--listen', `${lane.server(slot)}=${behaviour}`);
  for (const z of scenario.zone) args.push('--zone', z);
  const child = trackChild(spawn('nice', [...NICE, tools.node, ...args], { env: { PATH, TSNET_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] }));
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

/** How busy the machine was during a row: what a timing failure should be read against. */
export interface MachineLoad {
  /** share of the row's wall time in which some task waited for a CPU (/proc/pressure/cpu "some") */
  cpuPressure: number | null;
  loadavg1: number;
}

function cpuStallUs(): number | null {
  try {
    const m = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // a kernel without PSI
  }
}

/** Starts measuring; the returned function ends the measurement. */
function machineLoad(): () => MachineLoad {
  const t0 = performance.now();
  const s0 = cpuStallUs();
  return () => {
    const s1 = cpuStallUs();
    const wallUs = (performance.now() - t0) * 1000;
    return { cpuPressure: s0 === null || s1 === null || wallUs <= 0 ? null : Math.min(1, (s1 - s0) / wallUs), loadavg1: loadavg()[0]! };
  };
}

/** The queries sent to the lane's servers (captured leaving the client namespace), as log lines (server = its ns label). */
/** Replies from the fake servers as the client namespace received them (kernel time, ms). */
export function wireReplies(records: WireRecord[], servers: Map<string, string>): number[] {
  return records.filter((r) => !r.outgoing && r.dns?.qr && r.sport === 53 && servers.has(r.src)).map((r) => r.ts).sort((a, b) => a - b);
}

export function wireQueries(records: WireRecord[], servers: Map<string, string>): LogLine[] {
  return records
    .filter((r) => r.outgoing && r.dns && !r.dns.qr && r.dport === 53 && servers.has(r.dst))
    .map((r) => ({ ts: r.ts, server: servers.get(r.dst)!, transport: r.transport, client_port: r.sport, id: r.dns!.id, qname: r.dns!.qname, qtype: r.dns!.qtype }))
    .sort((a, b) => a.ts - b.ts);
}

// ---------------------------------------------------------------------------------------------
// one row

interface UnitFiles {
  resolvConf: string;
  hosts: string;
  nsswitch: string;
  /** bind-mounted over /etc/gai.conf (libc-bin ships one on Debian: a mount needs a target) */
  gaiConf: string;
  simulate: string;
}

const CHILD_TIMEOUT_MS = 120_000;
const MOUNT_SCRIPT =
  'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && mount --bind "$3" /etc/nsswitch.conf && mount --bind "$4" /etc/gai.conf && shift 4 && exec "$@"';

const libraryEnv = (s: FidelityScenario, lib: Library): Record<string, string> => ({
  ...(s.env ?? {}),
  ...(lib === 'eventlet-nogreendns' ? { EVENTLET_NO_GREENDNS: 'yes' } : {}),
});

/**
 * The emulator's --mode. go-cgo has its own (resolvers/go.ts): the files cannot tell whether a
 * binary was built with cgo, and that decides where an unknown resolv.conf option or RES_OPTIONS
 * sends the lookup (glibc's getaddrinfo, or Go's own resolver in files,dns order).
 */
const modeOf = (lib: Library) => (lib === 'eventlet-nogreendns' ? 'eventlet' : lib);

/** Pause between the real library's repeated lookups, so the log splits cleanly (plansFromStarts). */
const REPEAT_PAUSE_MS = 50;

function realCommand(tools: Tools, s: FidelityScenario, lib: Library): string[] {
  const args = [s.name, s.family, s.canonname ? 'canon' : 'nocanon', String(s.repeat), String(REPEAT_PAUSE_MS)];
  if (lib === 'glibc') return [tools.gaiGlibc, ...args];
  if (lib === 'musl') return [tools.gaiMusl, ...args];
  if (lib === 'node') return [tools.node, join(REF_DIR, 'node_lookup.mjs'), ...args, String(s.concurrency ?? 1)];
  if (lib === 'go' || lib === 'go-cgo') {
    const bin = lib === 'go' ? tools.goPure : tools.goCgo;
    if (!bin) throw new Error(`${lib}: go_lookup was not built (golang-go is not installed)`);
    return [bin, ...args];
  }
  return [tools.python, tools.eventletScript, ...args];
}

/** Lookups per run: rounds × lookups called at once. */
const lookupCount = (s: FidelityScenario) => s.repeat * (s.concurrency ?? 1);

/** A run's lookups as observations: each round of a burst (concurrency > 1) merged into one. */
function byRound(lookups: LookupObservation[], s: FidelityScenario): LookupObservation[] {
  const n = s.concurrency ?? 1;
  if (n === 1) return lookups;
  return Array.from({ length: Math.ceil(lookups.length / n) }, (_, r) => mergeBurst(lookups.slice(r * n, (r + 1) * n)));
}

interface GaiLine {
  /** node_lookup.mjs with CONCURRENCY > 1: which round (from 1); lines come in completion order */
  round?: number;
  addresses: string[];
  error: string | null;
  canonname?: string | null;
  start_ms: number;
  elapsed_ms: number;
}

/** The scenario's server addresses on this lane → their labels (ns1..), `closed` ones included. */
function laneServers(s: FidelityScenario, lane: Lane): Map<string, string> {
  const m = new Map<string, string>();
  for (const slot of Object.keys(s.servers)) m.set(lane.server(slot), `ns${slot}`);
  return m;
}

async function runReal(tools: Tools, lane: Lane, s: FidelityScenario, lib: Library, f: UnitFiles): Promise<{ rec: RunRecord; starts: number[]; window: [number, number] }> {
  const cmd = realCommand(tools, s, lib);
  const args = ['netns', 'exec', lane.clientNs, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', MOUNT_SCRIPT, 'sh', f.resolvConf, f.hosts, f.nsswitch, f.gaiConf, ...cmd];
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
  lines.sort((a, b) => (a.round ?? 0) - (b.round ?? 0)); // stable: completion order within a round
  const perRound = s.concurrency ?? 1;
  const starts = lines.filter((_, i) => i % perRound === 0).map((l) => l.start_ms);
  rec.lookups = byRound(lines.map((l) => ({ addresses: l.addresses, error: l.error, canonname: l.canonname ?? null, elapsed_ms: l.elapsed_ms, queries: [] })), s);
  if (r.signal === 'SIGFPE' && lines.length < s.repeat) {
    rec.lookups.push({ addresses: [], error: 'SIGFPE', elapsed_ms: 0, queries: [] });
    starts.push(r.startedAt);
  } else if (r.timedOut) {
    rec.status = 'error';
    rec.message = `timed out after ${CHILD_TIMEOUT_MS} ms`;
  } else if (r.code !== 0 || lines.length !== lookupCount(s)) {
    rec.status = 'error';
    rec.message = `exit ${r.code ?? r.signal} with ${lines.length} of ${lookupCount(s)} result lines`;
  }
  return { rec, starts, window: [r.startedAt, r.endedAt] };
}

/** Every traced query, servers named by their labels (an address off the lane keeps its own name). */
function traceLookups(traces: Trace[], label: (addr: string) => string): LookupObservation[] {
  return traces.map((t) => ({
    addresses: t.result.addresses,
    error: t.result.error,
    canonname: t.result.canonname ?? null,
    elapsed_ms: t.elapsed_ms,
    queries: t.queries.map((q) => ({ t_ms: q.t_ms, server: label(q.server), transport: q.transport, qname: q.qname, qtype: q.qtype })),
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
  const args = [tools.cli, 'resolve', s.name, '--mode', modeOf(lib), ...where, '--resolv-conf', f.resolvConf, '--hosts', f.hosts, '--nsswitch', f.nsswitch, '--gai-conf', f.gaiConf];
  for (const [k, v] of Object.entries(libraryEnv(s, lib))) args.push('--env', `${k}=${v}`);
  args.push('--family', s.family, '--repeat', String(s.repeat), '--json');
  if ((s.concurrency ?? 1) > 1) args.push('--concurrency', String(s.concurrency));
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
  if (rec.status === 'ok' && traces.length !== lookupCount(s)) {
    rec.status = 'error';
    rec.message = `${traces.length} traces for ${lookupCount(s)} lookups`;
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
    gaiConf: join(dir, 'gai.conf'),
    simulate: join(dir, 'scenario.json'),
  };
  writeFileSync(files.resolvConf, resolvConf);
  writeFileSync(files.hosts, s.hosts);
  writeFileSync(files.nsswitch, s.nsswitch ?? DEFAULT_NSSWITCH);
  writeFileSync(files.gaiConf, s.gaiConf ?? DEFAULT_GAI_CONF);
  const simServers: Record<string, string> = {};
  for (const [slot, b] of Object.entries(s.servers)) simServers[lane.server(slot)] = b;
  // the client's addresses and routes: the simulated run sorts addresses as on the lane (its source model)
  const network = inNetns(lane.clientNsPath, readLocalNet);
  writeFileSync(files.simulate, JSON.stringify({ servers: simServers, zone: s.zone, network }, null, 2));

  const servers = laneServers(s, lane);
  const label = (addr: string) => servers.get(addr) ?? addr;
  const error = (m: string): RunRecord => ({ status: 'error', message: m, lookups: [], command: [], wallMs: 0 });

  let real: RunRecord;
  let emulated: RunRecord;
  let realStarts: number[] = [];
  let emuTraces: Trace[] = [];
  let realWire: WireRecord[] = [];
  let emuWire: WireRecord[] = [];
  let emuStarts: Array<number | null> = [];
  const endLoad = machineLoad();
  const capture = inNetns(lane.clientNsPath, () => DnsCapture.open({ ports: [53] }));
  try {
    const server = await startFakeDns(tools, lane, s, dir);
    try {
      capture.take(); // nothing of the row's yet
      const a = await runReal(tools, lane, s, lib, files);
      realWire = capture.take();
      real = a.rec;
      realStarts = a.starts;
      // The emulator gets the real library's time and then some (a CLI that hangs is cut short).
      const realMs = real.lookups.reduce((sum, l) => sum + l.elapsed_ms, 0);
      const b = await runTsnet(tools, s, lib, files, ['--netns', lane.clientNsPath], ctx.workDir, Math.max(20_000, 3 * realMs + 10_000));
      emuWire = capture.take();
      emulated = b.rec;
      emuTraces = b.traces;
    } finally {
      await server.stop();
    }
  } catch (err) {
    real = error((err as Error).message);
    emulated = error('not run');
  } finally {
    capture.close();
  }

  if (real.status === 'ok') {
    const plans = plansFromStarts(wireQueries(realWire, servers), realStarts, REPEAT_PAUSE_MS / 2);
    real.lookups = real.lookups.map((l, i) => ({ ...l, queries: plans[i] ?? [] }));
  }
  if (emulated.status === 'ok') {
    const traced = byRound(traceLookups(emuTraces, label), s);
    const { plans, starts } = plansFromTraces(wireQueries(emuWire, servers), traced);
    emuStarts = starts;
    emulated.lookups = traced.map((t, i) => ({ ...t, queries: plans[i] ?? [] }));
    // The emulator's own trace must say what its wire saw: a driver that claims a send the
    // kernel refused (or sends what it does not trace) fails the row.
    const tw = compareRuns(emulated.lookups, traced, { names: ['wire', 'trace'], absToleranceMs: 10, relTolerance: 0 });
    if (!tw.match) emulated.traceVsWire = tw.differences;
  }

  const c = await runTsnet(tools, s, lib, files, ['--simulate', files.simulate], ctx.workDir, 30_000).catch((err: Error) => ({ rec: error(err.message), traces: [] as Trace[], window: [0, 0] as [number, number] }));
  const simulated = c.rec;
  if (simulated.status === 'ok') simulated.lookups = byRound(traceLookups(c.traces, label), s);

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

  const load = endLoad();
  // only on a busy machine: there a process that was not running is the likely reason
  const busy = load.cpuPressure !== null && load.cpuPressure > 0.2;
  let stall: Stall | undefined;
  if (busy && real.status === 'ok' && simulated.status === 'ok' && (s.concurrency ?? 1) === 1) {
    const sim = simRuns(c.traces, label);
    const realEvents = realRuns(real, realStarts, wireReplies(realWire, servers));
    const emuEvents = emulated.status === 'ok' ? realRuns(emulated, emuStarts.map((x) => x ?? 0), wireReplies(emuWire, servers)) : [];
    const answered = wireAnswered(realWire, servers);
    const simAnswers = simAnswered(c.traces, label);
    stall =
      realStall(realEvents, sim) ??
      serverLate(answered, simAnswers) ??
      slowReactions(realEvents, sim, 'library') ??
      slowReactions(emuEvents, sim, 'emulator') ??
      slowRealRun(realEvents, answered, sim, simAnswers);
  }

  const claim = s.doc?.[lib];
  const doc = claim && real.status === 'ok' ? { source: claim.source, disagreements: checkClaim(real.lookups, claim) } : null;

  // error = the suite could not observe the real library; an emulator run that fails or hangs
  // is the emulator's failure (fail), an emulator that does not exist yet is pending.
  let status: RowStatus;
  if (real.status !== 'ok') status = 'error';
  else if (emulated.status === 'pending') status = 'pending';
  else if (emulatedVsReal?.match && simulatedVsReal?.match && !emulated.traceVsWire) status = 'pass';
  else if (emulated.traceVsWire) status = 'fail';
  else if (offPremise(s, real) !== undefined) status = 'inconclusive';
  else status = stall && timingOnly(emulatedVsReal) && timingOnly(simulatedVsReal) ? 'inconclusive' : 'fail';

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
    load,
    ...(stall ? { stall } : {}),
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

/**
 * How late the real library's resend chain ran (ms), for a scenario about a timing margin, when
 * at least its `lateMs`: then the real run is off the scenario's premise (on-time wake-ups).
 */
export function offPremise(s: FidelityScenario, real: RunRecord): number | undefined {
  if (!s.clockMargin || real.status !== 'ok') return undefined;
  const { qtype, intervalMs, lateMs } = s.clockMargin;
  const late = Math.max(0, ...real.lookups.map((l) => chainLateness(l.queries.filter((q) => q.qtype === qtype).map((q) => q.t_ms), intervalMs)));
  return late >= lateMs ? late : undefined;
}

/** The last send's delay against on-time wake-ups every `intervalMs` (+ poll's 0.1 % slack) from the first. */
export function chainLateness(sends: number[], intervalMs: number): number {
  if (sends.length < 2) return 0;
  const n = sends.length - 1;
  return sends[n]! - sends[0]! - n * intervalMs * 1.001;
}

/**
 * A send a library makes the moment a reply arrives (glibc's next search name after NXDOMAIN, its
 * plain retry after FORMERR) that the real process made STALL_MS or more after that reply: it was
 * not running — the scheduler's doing, not the library's logic, and off every scenario's premise.
 * Seen once in nine fresh-clone runs: glibc's FORMERR retry 66 ms late, "tasks waited for a CPU
 * 49 % of the time". A timing-only mismatch of such a row is inconclusive, never a pass.
 */
export const STALL_MS = 25;
/**
 * ...and less than this: a send that comes a retry interval later (the shortest: musl's
 * timeout/attempts, 200 ms at timeout:1 attempts:5) is the library waiting on a timer — a
 * difference in its logic, which must fail the row, not a stall.
 */
export const STALL_MAX_MS = 150;

export interface Stall {
  /** library / emulator: it sent late after replies; server: the fake server answered the real run late */
  kind: 'library' | 'emulator' | 'server';
  /** the lookup (library stalls) */
  lookup?: number;
  /** "AAAA db.fy.test@ns1 #2": that question's k-th send */
  query: string;
  /** library: how long after the reply it sent; server: how much later than the scenario says it answered */
  lateMs: number;
}

/** One lookup's sends (keyed by question and server) and replies, ms on one clock. */
export interface RunEvents {
  sends: Array<{ t: number; key: string }>;
  replies: number[];
}

const planKey = (q: PlanQuery) => `${q.qtype} ${q.qname}@${q.server}`;

/** The real run's lookups as events, its replies cut at each lookup's start. */
export function realRuns(real: RunRecord, starts: number[], replies: number[]): RunEvents[] {
  return real.lookups.map((l, i) => {
    const start = starts[i] ?? 0;
    const next = starts[i + 1] ?? Infinity;
    return { sends: l.queries.map((q) => ({ t: q.t_ms, key: planKey(q) })), replies: replies.filter((r) => r >= start && r < next).map((r) => r - start) };
  });
}

/** The simulated run's lookups as events (its traces: the library's logic on a clock no scheduler touches). */
export function simRuns(traces: Trace[], label: (addr: string) => string): RunEvents[] {
  return traces.map((t) => ({
    sends: t.queries.map((q) => ({ t: q.t_ms, key: `${q.qtype} ${q.qname}@${label(q.server)}` })),
    replies: t.queries.filter((q) => q.rtt_ms !== null && q.outcome !== 'timeout').map((q) => q.t_ms + q.rtt_ms!),
  }));
}

/** Every send the simulated library makes at the reply that causes it, with how long after that reply `run` made it. */
function reactions(run: RunEvents[], sim: RunEvents[]): Array<{ lookup: number; query: string; late: number }> {
  const out: Array<{ lookup: number; query: string; late: number }> = [];
  sim.forEach((s, i) => {
    const r = run[i];
    if (!r) return;
    const seen = new Map<string, number>();
    for (const send of s.sends) {
      const nth = seen.get(send.key) ?? 0;
      seen.set(send.key, nth + 1);
      if (!s.replies.some((x) => x <= send.t && send.t - x <= 1)) continue; // not a send a reply caused
      const match = r.sends.filter((x) => x.key === send.key)[nth];
      if (!match) continue;
      const before = r.replies.filter((x) => x < match.t);
      if (before.length === 0) continue;
      const late = match.t - Math.max(...before);
      // a send a retry interval later is the library waiting on a timer: its logic, not a stall
      if (late < STALL_MAX_MS) out.push({ lookup: i + 1, query: `${send.key} #${nth + 1}`, late });
    }
  });
  return out;
}

/** The worst stall of the real library after a reply whose send the simulated library makes at once; undefined outside [STALL_MS, STALL_MAX_MS). */
export function realStall(real: RunEvents[], sim: RunEvents[]): Stall | undefined {
  const worst = reactions(real, sim).reduce<{ lookup: number; query: string; late: number } | undefined>((w, x) => (x.late >= STALL_MS && (!w || x.late > w.late) ? x : w), undefined);
  return worst && { kind: 'library', lookup: worst.lookup, query: worst.query, lateMs: worst.late };
}

/**
 * The same in small steps: every reply-driven send of a run (real library or emulator) a few ms
 * late, STALL_MS or more in all — seen in a fresh-clone run (e8276ee): search-six × glibc, the
 * emulator's seven reply-driven sends 66 ms in all against the real glibc's 15; × eventlet, the
 * real Python's eight steps 57 ms against 2 simulated; both passed re-run alone. No single step
 * is a stall; together they are a process that was not running, not a library's logic.
 */
export function slowReactions(run: RunEvents[], sim: RunEvents[], who: 'library' | 'emulator'): Stall | undefined {
  const r = reactionLateness(run, sim);
  return r.total >= STALL_MS ? { kind: who, query: `${r.steps} sends that follow a reply`, lateMs: r.total } : undefined;
}

/** How late, in all, a run's reply-driven sends were (the first millisecond of each free), and how many. */
function reactionLateness(run: RunEvents[], sim: RunEvents[]): { total: number; steps: number } {
  const steps = reactions(run, sim);
  // ...and the way to the first query, where the simulated library sends at once (truncate-tcp ×
  // eventlet-nogreendns in 8bd18b5's run: the CLI's first query at 9.3 ms, the real glibc's at 1.5)
  const starts = sim.map((s, i) => (s.sends[0]?.t === 0 && run[i]?.sends[0] ? run[i]!.sends[0]!.t : 0));
  const total = steps.reduce((sum, x) => sum + Math.max(0, x.late - 1), 0) + starts.reduce((sum, t) => sum + Math.max(0, t - 1), 0);
  return { total, steps: steps.length };
}

/** A question's answered sends in send order, with their round trip (ms). */
export interface Answered {
  key: string;
  rtt: number;
}

/** The real run's answered queries off its wire: each reply paired with the latest unanswered send of its id and question on its socket. */
export function wireAnswered(records: WireRecord[], servers: Map<string, string>): Answered[] {
  const sends: Array<Answered & { t: number; sock: string; done: boolean }> = [];
  for (const r of [...records].sort((a, b) => a.ts - b.ts)) {
    if (!r.dns) continue;
    if (r.outgoing && !r.dns.qr && r.dport === 53 && servers.has(r.dst)) {
      sends.push({ key: `${r.dns.qtype} ${r.dns.qname}@${servers.get(r.dst)}`, rtt: NaN, t: r.ts, sock: `${r.transport} ${r.sport} ${r.dst} ${r.dns.id}`, done: false });
    } else if (!r.outgoing && r.dns.qr && r.sport === 53 && servers.has(r.src)) {
      const key = `${r.dns.qtype} ${r.dns.qname}@${servers.get(r.src)}`;
      const sock = `${r.transport} ${r.dport} ${r.src} ${r.dns.id}`;
      for (let i = sends.length - 1; i >= 0; i--) {
        const s = sends[i]!;
        if (s.done || s.sock !== sock || s.key !== key) continue;
        Object.assign(s, { done: true, rtt: r.ts - s.t });
        break;
      }
    }
  }
  return sends.filter((s) => s.done).map(({ key, rtt }) => ({ key, rtt }));
}

/** The simulated run's answered queries (the scenario's own delays, on a clock no scheduler touches). */
export function simAnswered(traces: Trace[], label: (addr: string) => string): Answered[] {
  return traces.flatMap((t) => t.queries.filter((q) => q.rtt_ms !== null && q.outcome !== 'timeout').map((q) => ({ key: `${q.qtype} ${q.qname}@${label(q.server)}`, rtt: q.rtt_ms! })));
}

/**
 * The fake server answering the real run STALL_MS or more later than the scenario says (its
 * delay, as the simulated run has it) — at one reply, or a few ms at each, STALL_MS or more in all
 * (truncate-tcp × eventlet in e3067ff's CI run: each of four replies ~20 ms late at 65 % CPU
 * pressure, the real Python quick after each): then the two runs did not meet the same server — a
 * fake server that was not running — and a timing-only mismatch says nothing about the library.
 */
export function serverLate(real: Answered[], sim: Answered[]): Stall | undefined {
  const l = serverLateness(real, sim);
  if (l.worst && l.worst.lateMs >= STALL_MS) return l.worst;
  return l.total >= STALL_MS ? { kind: 'server', query: `${l.replies} replies`, lateMs: l.total } : undefined;
}

/** Each answered query's lateness against the scenario's delay: the worst, and the sum (the first millisecond of each free). */
function serverLateness(real: Answered[], sim: Answered[]): { worst?: Stall; total: number; replies: number } {
  const expected = new Map<string, number[]>();
  for (const a of sim) expected.set(a.key, [...(expected.get(a.key) ?? []), a.rtt]);
  const seen = new Map<string, number>();
  let worst: Stall | undefined;
  let total = 0;
  let replies = 0;
  for (const a of real) {
    const nth = seen.get(a.key) ?? 0;
    seen.set(a.key, nth + 1);
    const want = expected.get(a.key)?.[nth];
    if (want === undefined) continue;
    const late = a.rtt - want;
    replies++;
    total += Math.max(0, late - 1);
    if (!worst || late > worst.lateMs) worst = { kind: 'server', query: `${a.key} #${nth + 1}`, lateMs: late };
  }
  return { ...(worst ? { worst } : {}), total, replies };
}

/**
 * The real run slow at both ends — the fake server late at some replies, the library late after
 * others — STALL_MS or more in all, though neither alone: the same machine that was not running
 * either of them, not the library's logic.
 */
export function slowRealRun(real: RunEvents[], answered: Answered[], sim: RunEvents[], simAnswers: Answered[]): Stall | undefined {
  const server = serverLateness(answered, simAnswers).total;
  const library = reactionLateness(real, sim).total;
  return server + library >= STALL_MS ? { kind: 'server', query: `replies (${server.toFixed(1)} ms) and the library's sends after them (${library.toFixed(1)} ms)`, lateMs: server + library } : undefined;
}

/** One line for an inconclusive row's stall. */
export function describeStall(st: Stall): string {
  if (st.kind === 'library' && st.lookup !== undefined) return `the real library sent ${st.query} of lookup ${st.lookup} ${st.lateMs.toFixed(1)} ms after the reply that causes it (it was not running)`;
  if (st.kind !== 'server') return `the ${st.kind === 'library' ? 'real library' : "emulator's CLI"} made its ${st.query} ${st.lateMs.toFixed(1)} ms late in all (it was not running)`;
  return `the fake server answered the real run's ${st.query} ${st.lateMs.toFixed(1)} ms later${/ #\d+$/.test(st.query) ? '' : ' in all'} than the scenario says (it was not running)`;
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
        row = { scenario: u.s.id, library: u.lib, lane: lane.index, status: 'error', real: rec, emulated: rec, simulated: rec, emulatedVsReal: null, simulatedVsReal: null, doc: null, load: { cpuPressure: null, loadavg1: loadavg()[0]! }, files: { resolvConf: '' } };
      }
      results.set(`${u.s.id}/${u.lib}`, row);
      done++;
      const why = row.status === 'fail' ? ` — ${row.emulatedVsReal?.first ?? row.simulatedVsReal?.first ?? ''}` : row.status === 'error' ? ` — ${row.real.message ?? row.emulated.message ?? row.simulated.message}` : '';
      o.progress?.(`[${done}/${units.length}] lane ${lane.index} ${u.s.id} × ${u.lib}: ${row.status} (${((Date.now() - t0) / 1000).toFixed(1)} s)${why}`);
    }
  };
  await Promise.all(o.topology.lanes.map((lane) => worker(lane)));

  // A row that failed on timing alone is run once more, alone, and the second verdict is shown
  // beside the first — it never replaces it: the row stays failed. (Was it the machine? The
  // row's `load` says how busy the machine was while it ran.)
  const timingFailures = units.filter((u) => {
    const r = results.get(`${u.s.id}/${u.lib}`)!;
    return r.status === 'fail' && !r.emulated.traceVsWire && timingOnly(r.emulatedVsReal) && timingOnly(r.simulatedVsReal);
  });
  for (const u of timingFailures) {
    const first = results.get(`${u.s.id}/${u.lib}`)!;
    const again = await runRow({ tools: o.tools, lane: o.topology.lanes[0]!, workDir: join(o.workDir, 'rerun') }, u.s, u.lib).catch(() => undefined);
    if (again) first.rerun = { status: again.status, differences: [...(again.emulatedVsReal?.differences ?? []).map((d) => `emulated: ${d}`), ...(again.simulatedVsReal?.differences ?? []).map((d) => `simulated: ${d}`)] };
    o.progress?.(`re-run alone (shown, not counted as a pass): ${u.s.id} × ${u.lib} failed on timing; alone: ${again?.status ?? 'error'}`);
  }
  return units.sort((x, y) => x.order - y.order).map((u) => results.get(`${u.s.id}/${u.lib}`)!);
}

