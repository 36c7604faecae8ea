// Upstream nameservers for stub-resolver tests: a tsnet container in dns-mode direct on the lab's
// network, with extra addresses inside it, running `tsnet fake-dns` (one behaviour per address)
// as a child of `tsnet exec`. The stub (host namespace) reaches those addresses over the lab's
// bridge; no packet leaves the lab's bridge and namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, run, type Lab, type RunResult } from './lab.js';
import type { FakeDnsLogLine } from '../../src/fakedns/server.js';
import type { QueryLogLine } from '../../src/stub/server.js';
import type { StubStatus } from '../../src/stub/status.js';
import type { TraceQuery } from '../../resolvers/core/types.js';

export interface Spawned {
  child: ChildProcess;
  /** resolves when the process has exited (never rejects) */
  done: Promise<RunResult>;
  stdout: () => string;
  stderr: () => string;
}

/** Like `lab.cli`, but returns the ChildProcess (for long-running commands: fake-dns, exec). */
export function spawnCli(lab: Lab, args: string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, [CLI, '--root', lab.root, ...args], {
    env: { ...process.env, TSNET_LOG_LEVEL: 'warn', TSNET_DEFAULT_SUBNET: lab.subnet, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<RunResult>((ok) => {
    child.on('error', (err) => ok({ code: null, signal: null, stdout, stderr: stderr + String(err) }));
    child.on('close', (code, signal) => ok({ code, signal, stdout, stderr }));
  });
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** Stops a spawned CLI: SIGTERM (tsnet exec forwards it), SIGKILL if it is still there after `ms`. */
export async function stopSpawned(s: Spawned, ms = 5000): Promise<RunResult> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), ms);
  const res = await s.done;
  clearTimeout(timer);
  return res;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** One line of the fake server's query log. */
export type FakeDnsQuery = FakeDnsLogLine;

export interface Upstream {
  /** the container the servers run in (dns-mode direct) */
  container: string;
  /** its addresses: the first is eth0's, the others were added with `ip addr add` */
  addresses: string[];
  /** behaviour → address, as given */
  listen: Array<{ address: string; behaviour: string }>;
  dir: string;
  server: Spawned;
  /** the fake-dns query log (JSON lines) */
  log(): FakeDnsQuery[];
  /** SIGTERM to fake-dns (through tsnet exec), then rm of the container and its temp dir */
  stop(): Promise<void>;
}

/**
 * Creates the upstream container at `listen[0].address` (which must be in the lab's subnet and
 * free), adds the other addresses inside it, and runs fake-dns there until stop().
 */
export async function startUpstream(lab: Lab, name: string, listen: Array<{ address: string; behaviour: string }>, zone: string[]): Promise<Upstream> {
  const addresses = [...new Set(listen.map((l) => l.address))];
  const created = await lab.create(name, ['--ip', addresses[0]!]);
  if (created.code !== 0) throw new Error(`create ${name}: ${created.stderr}`);
  for (const a of addresses.slice(1)) {
    const r = await lab.cli(['exec', name, '--', 'ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    if (r.code !== 0) throw new Error(`ip addr add ${a} in ${name}: ${r.stderr}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-upstream-'));
  const ready = join(dir, 'ready');
  const logFile = join(dir, 'queries.jsonl');
  const zoneFile = join(dir, 'zone');
  writeFileSync(zoneFile, zone.map((z) => z.replace(/^([^=]+)=([A-Z]+):(.*)$/, '$1 $2 $3')).join('\n') + '\n');
  const server = spawnCli(lab, [
    'exec', name, '--', process.execPath, CLI, 'fake-dns',
    ...listen.flatMap((l) => ['--listen', `${l.address}=${l.behaviour}`]),
    '--zone-file', zoneFile, '--ready-file', ready, '--log', logFile,
  ]);
  const stop = async () => {
    await stopSpawned(server);
    await lab.cli(['rm', name]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`fake-dns in ${name} (${server.stderr()})`, () => {
      if (server.child.exitCode !== null) throw new Error(`fake-dns exited ${server.child.exitCode}: ${server.stderr()}`);
      return existsSync(ready) && readFileSync(ready, 'utf8').trim().split('\n').length === listen.length;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    container: name,
    addresses,
    listen,
    dir,
    server,
    log: () =>
      existsSync(logFile)
        ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeDnsQuery)
        : [],
    stop,
  };
}

// ---- the stub, seen from outside ---------------------------------------------------------------

/** An upstream attempt in the stub's log: the trace shape of docs/resolvers.md. */
export type UpstreamTraceQuery = TraceQuery;

/** One line of the stub's timing log (`tsnet stub logs --json`). */
export type StubLogLine = QueryLogLine;

/** `tsnet stub status --json`. */
export type StubStatusJson = StubStatus;

export async function stubStatus(lab: Lab): Promise<StubStatusJson> {
  const r = await lab.cli(['stub', 'status', '--json']);
  if (r.code !== 0) throw new Error(`stub status: ${r.stderr}`);
  return JSON.parse(r.stdout) as StubStatusJson;
}

/** The stub's status after its 1 s status timer has run again (stats in status.json lag by up to 1 s). */
export async function stubStatusSettled(lab: Lab): Promise<StubStatusJson> {
  await sleep(1200);
  return stubStatus(lab);
}

export async function stubLogs(lab: Lab, container?: string): Promise<StubLogLine[]> {
  const r = await lab.cli(['stub', 'logs', ...(container ? [container] : []), '--json']);
  if (r.code !== 0) throw new Error(`stub logs: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as StubLogLine);
}

/** The log line for the last query of `container` for qname/qtype (the log is written asynchronously). */
export async function lastLogLine(lab: Lab, container: string, qname: string, qtype: string, ms = 5000): Promise<StubLogLine> {
  return waitFor(`stub log line ${container} ${qname} ${qtype}`, async () => {
    const lines = (await stubLogs(lab, container)).filter((l) => l.qname === qname && l.qtype === qtype);
    return lines.at(-1);
  }, ms);
}

/** pids of `tsnet stub daemon` processes for this lab's root. */
export async function stubDaemonPids(lab: Lab): Promise<number[]> {
  const r = await run('pgrep', ['-f', '--', `--root ${lab.root} stub daemon`]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`pgrep: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map(Number).filter((p) => p !== process.pid);
}

/** VmRSS of a process in kB. */
export function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

export interface DigResult {
  code: number | null;
  stdout: string;
  stderr: string;
  status: string | undefined;
  flags: string[];
  /** answer-section records as "name type data" */
  answers: string[];
  wallMs: number;
}

/** dig inside a container (full output, parsed). */
export async function dig(lab: Lab, container: string, args: string[]): Promise<DigResult> {
  const start = performance.now();
  const r = await lab.cli(['exec', container, '--', 'dig', '+tries=1', '+time=10', ...args]);
  const wallMs = performance.now() - start;
  const status = /status: ([A-Z]+)/.exec(r.stdout)?.[1];
  const flags = /;; flags: ([a-z ]+);/.exec(r.stdout)?.[1]?.trim().split(/\s+/) ?? [];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(r.stdout)?.[1] ?? '';
  const answers = section.split('\n').filter(Boolean).map((l) => {
    const f = l.split(/\s+/);
    return `${f[0]} ${f[3]} ${f.slice(4).join(' ')}`;
  });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, status, flags, answers, wallMs };
}

/** Tears a stub lab down: every container and file, then any stub daemon still alive for its root (killed, and reported). */
export async function destroyStubLab(lab: Lab): Promise<{ leftovers: string[]; daemons: number[] }> {
  const leftovers = await lab.destroy();
  const daemons = await stubDaemonPids(lab);
  killStubDaemons(daemons);
  return { leftovers, daemons };
}

/** SIGKILLs daemons and, first, their supervisors (which would otherwise start them again). */
export function killStubDaemons(pids: number[]): void {
  for (const pid of pids) {
    try {
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
      if (readFileSync(`/proc/${ppid}/cmdline`, 'utf8').includes('tsnet-stub-supervisor')) process.kill(ppid, 'SIGKILL');
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
