// Running an engine's CLI (podman, ctr, docker) once: an argument vector, never a shell; a
// deadline after which the CLI is killed; stdout and stderr read up to a bound; the environment
// passed through as the user set it. Synchronous: a lookup runs before any socket is opened and
// nothing else is waiting.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

/** How long an engine's CLI may take to answer. */
export const ENGINE_DEADLINE_MS = 10_000;
/** The most of stdout (and of stderr) read from an engine's CLI. */
export const ENGINE_MAX_OUTPUT = 1 << 20;

export type CliOutcome =
  | { kind: 'done'; status: number; stdout: string; stderr: string }
  /** the program is not there (ENOENT on PATH) or cannot be run (EACCES) */
  | { kind: 'missing'; code: string }
  | { kind: 'timeout'; ms: number }
  | { kind: 'too-much'; bytes: number }
  | { kind: 'killed'; signal: string; stderr: string }
  | { kind: 'failed'; message: string };

export interface CliLimits {
  deadlineMs?: number;
  maxOutput?: number;
}

/** Where PATH finds the program `name` (an executable regular file), as execvp would; undefined when nowhere. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of path.split(':')) {
    if (dir === '') continue; // an empty entry means ".": never for a program run as root
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Runs `program` (found on PATH) with `args`; every way it can go is an outcome, nothing throws. */
export function runCli(program: string, args: readonly string[], limits: CliLimits = {}): CliOutcome {
  const ms = limits.deadlineMs ?? ENGINE_DEADLINE_MS;
  const bytes = limits.maxOutput ?? ENGINE_MAX_OUTPUT;
  const file = findOnPath(program);
  if (file === undefined) return { kind: 'missing', code: 'ENOENT' };
  const r = spawnSync(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: false,
    timeout: ms,
    killSignal: 'SIGKILL',
    maxBuffer: bytes,
    env: process.env,
  });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EACCES') return { kind: 'missing', code };
  if (code === 'ETIMEDOUT') return { kind: 'timeout', ms };
  if (code === 'ENOBUFS') return { kind: 'too-much', bytes };
  if (r.error) return { kind: 'failed', message: r.error.message };
  const stderr = r.stderr?.toString('utf8') ?? '';
  if (r.status === null) return { kind: 'killed', signal: r.signal ?? 'unknown signal', stderr };
  return { kind: 'done', status: r.status, stdout: r.stdout?.toString('utf8') ?? '', stderr };
}

/**
 * What an engine said on stderr, fit for a one-line message: its first line that is not empty,
 * control and bidi characters escaped, at most 300 characters.
 */
export function firstLine(stderr: string): string {
  const line = stderr.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  const safe = line.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return safe.length > 300 ? `${safe.slice(0, 300)}…` : safe;
}
