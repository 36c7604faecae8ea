// Starting, reloading and finding the stub daemon from create/rm/prune and the CLI.
import { createRequire } from 'node:module';
import { closeSync, existsSync, fchmodSync, openSync, readFileSync } from 'node:fs';
import { makeDirs } from '../state/atomic.js';
import { SUPERVISOR_SCRIPT } from './supervisor.js';
import type { Paths } from '../state/paths.js';
import * as native from '../../native/index.js';
import { TsnetError } from '../errors.js';
import { builtEntry } from '../built.js';
import type { Deps } from '../deps.js';

/**
 * CLOCK_MONOTONIC in ms (sub-ms precision): comparable between processes on this machine, so create
 * can wait for a reload that began after its record was written. Not `performance`: its first use
 * loads perf_hooks, 2 ms of a CNI ADD (measured).
 */
export const sharedClockMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Now, on both clocks a ready file may use (a daemon still running from before an upgrade wrote wall-clock time). */
const bothClocks = () => ({ mono: sharedClockMs(), wall: Date.now() });
/** Whether the reload behind `r` began after `since`. */
const readAfter = (r: ReadyFile, since: { mono: number; wall: number }): boolean =>
  r.stateReadAt > (r.clock === 'monotonic' ? since.mono : since.wall);

/** What a daemon writes after each reload (<root>/stub/ready.json). */
export interface ReadyFile {
  pid: number;
  generation: number;
  /** sharedClockMs() when the reload behind this file began reading the state */
  stateReadAt: number;
  /** 'monotonic' (this version); absent: a daemon from before it, whose stateReadAt is wall-clock ms */
  clock?: 'monotonic';
  addresses: string[];
  containers: number;
}

/** The stub's directory holds every container's query log: root's alone. */
export function makeStubDir(paths: Paths): void {
  makeDirs(paths.stubDir, 0o700);
}

/** Opens a file for appending that only root may read, whatever mode an older version gave it. */
export function openPrivate(path: string): number {
  const fd = openSync(path, 'a', 0o600);
  fchmodSync(fd, 0o600);
  return fd;
}

function readReady(deps: Deps): ReadyFile | undefined {
  try {
    return JSON.parse(readFileSync(deps.paths.stubReady, 'utf8')) as ReadyFile;
  } catch {
    return undefined;
  }
}

/** Whether a daemon holds the stub lock (a dead one cannot: the kernel dropped its flock). */
export function stubRunning(deps: Deps): boolean {
  if (!existsSync(deps.paths.stubLock)) return false;
  const fd = openSync(deps.paths.stubLock, 'r');
  try {
    if (native.flock(fd, native.LOCK_SH | native.LOCK_NB, deps.paths.stubLock)) {
      native.flock(fd, native.LOCK_UN);
      return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/**
 * Polls `cond` until it holds or `ms` pass. A reload takes a few ms and every CNI ADD waits for
 * one: 1 ms polls for the first 100 ms (a check is a small read and a kill(pid, 0)), 5 ms after.
 */
async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, Date.now() - start < 100 ? 1 : 5));
  }
  return cond();
}

/** The ready file, if the daemon that wrote it is alive (a SIGKILLed one leaves its file behind). */
function liveReady(deps: Deps): ReadyFile | undefined {
  const ready = readReady(deps);
  if (!ready) return undefined;
  try {
    process.kill(ready.pid, 0);
    return ready;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? ready : undefined;
  }
}

/** How long a daemon may take to start or to reload: Node's start-up on a busy 2-core machine is seconds, not milliseconds. */
const DAEMON_WAIT_MS = 15_000;

/**
 * Makes sure a daemon runs and has read the current state (call after writing records). Done only
 * when a live daemon has finished a reload that began after this call: a daemon that exits
 * instead (the last rm's reload stopping it) is replaced, not taken for success.
 */
export async function ensureStub(deps: Deps): Promise<void> {
  makeStubDir(deps.paths);
  const since = bothClocks();
  const current = () => {
    const r = liveReady(deps);
    return r !== undefined && readAfter(r, since) && r.containers > 0 && stubRunning(deps);
  };
  for (let attempt = 0; attempt < 4; attempt++) {
    if (stubRunning(deps)) {
      // A daemon holds the lock: once its ready file is its own, make it re-read the state.
      if (!(await waitFor(() => liveReady(deps) !== undefined || !stubRunning(deps), DAEMON_WAIT_MS))) continue;
      const ready = liveReady(deps);
      if (!ready) continue;
      try {
        process.kill(ready.pid, 'SIGHUP');
      } catch {
        continue;
      }
      await waitFor(() => current() || !stubRunning(deps), DAEMON_WAIT_MS);
      if (current()) return;
      continue;
    }
    const child = spawnDaemon(deps);
    // Ours is ready (its first reload read the records just written), or another one won the lock
    // race and the next round tells that one to re-read; a daemon that died is not waited for.
    await waitFor(() => child.exited || current() || (stubRunning(deps) && liveReady(deps) !== undefined), DAEMON_WAIT_MS);
    if (current()) return;
  }
  throw new TsnetError('TSNET_SYSTEM', `the stub resolver did not start; see ${deps.paths.stubOutput}`);
}

/** Starts a detached supervised daemon; `exited` turns true if its supervisor fails to start or ends. */
function spawnDaemon(deps: Deps): { pid: number | undefined; exited: boolean } {
  // required here, not imported: a daemon usually runs already, and child_process costs a CNI ADD
  // 3 ms to load (measured). A require, not import(): the plugin's loader runs no ES modules.
  const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const out = openPrivate(deps.paths.stubOutput);
  // The supervisor (a shell loop) runs the daemon and restarts it if it dies. A small young
  // generation keeps the daemon's RSS bounded under load (more, cheaper scavenges).
  const child = spawn('/bin/sh', ['-c', SUPERVISOR_SCRIPT, 'tsnet-stub-supervisor'], {
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      TSNET_LOG_LEVEL: deps.log.level === 'silent' ? 'warn' : deps.log.level,
      TSNET_STUB_NODE: process.execPath, TSNET_STUB_CLI: builtEntry('tsnet.js'), TSNET_STUB_ROOT: deps.paths.root,
    },
  });
  closeSync(out);
  const state = { pid: child.pid, exited: child.pid === undefined };
  child.once('error', () => (state.exited = true));
  child.once('exit', () => (state.exited = true));
  child.unref();
  return state;
}

/** Tells a running daemon to re-read the state (after rm); waits until it has, or has exited. */
export async function notifyStub(deps: Deps): Promise<void> {
  const ready = liveReady(deps);
  if (!ready || !stubRunning(deps)) return;
  const since = bothClocks();
  try {
    process.kill(ready.pid, 'SIGHUP');
  } catch {
    return;
  }
  await waitFor(() => {
    const r = readReady(deps);
    return !stubRunning(deps) || r === undefined || readAfter(r, since);
  }, DAEMON_WAIT_MS);
  // When that was the last container, wait for the process to let go of everything.
  if ((readReady(deps)?.containers ?? 0) === 0) await waitFor(() => !stubRunning(deps), DAEMON_WAIT_MS);
}
