// Errors that reach the user. Each carries a stable code, an exit status and, where there is one,
// a hint saying what to do. Only cli/main.ts prints them and exits.

export type ErrorCode =
  | 'TSNET_USAGE' // bad input: names, addresses, options, files
  | 'TSNET_NOT_ROOT'
  | 'TSNET_NOT_FOUND'
  | 'TSNET_CONFLICT' // duplicate name, address taken, overlapping subnet
  | 'TSNET_STATE' // unreadable or corrupt state on disk
  | 'TSNET_SYSTEM' // a syscall or netlink request failed
  | 'TSNET_LOCK_TIMEOUT';

const exitCodes: Record<ErrorCode, number> = {
  TSNET_USAGE: 2,
  TSNET_NOT_ROOT: 2,
  TSNET_NOT_FOUND: 2,
  TSNET_CONFLICT: 2,
  TSNET_STATE: 1,
  TSNET_SYSTEM: 1,
  TSNET_LOCK_TIMEOUT: 1,
};

const brand = Symbol.for('tsnet.error');

export class TsnetError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly [brand] = true;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TsnetError';
    this.code = code;
    this.hint = opts.hint;
  }

  get exitCode(): number {
    return exitCodes[this.code];
  }
}

/**
 * A target (a tsnet container, a process, a Podman, containerd or Docker container) that was named
 * correctly but is not there or cannot be reached: not found, not running, its runtime not
 * installed or not answering. Exit 3 for every command that takes a target (diagnose, resolve --in);
 * a target that is not even well formed is bad input (TSNET_USAGE, exit 2).
 */
export class TargetError extends TsnetError {
  override get exitCode(): number {
    return 3;
  }
}

export function isTsnetError(err: unknown): err is TsnetError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[brand] === true;
}

export function usageError(message: string, hint?: string): TsnetError {
  return new TsnetError('TSNET_USAGE', message, hint === undefined ? {} : { hint });
}

/** Adds the step that failed in front of an error's message: "create veth tsv1: EEXIST ...". */
export function wrap(step: string, err: unknown): TsnetError {
  if (isTsnetError(err)) {
    return new TsnetError(err.code, `${step}: ${err.message}`, {
      ...(err.hint === undefined ? {} : { hint: err.hint }),
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string } | null)?.code;
  const hint =
    code === 'EPERM' || code === 'EACCES'
      ? 'run tsnet as root (it needs CAP_SYS_ADMIN and CAP_NET_ADMIN)'
      : undefined;
  return new TsnetError('TSNET_SYSTEM', `${step}: ${message}`, {
    ...(hint === undefined ? {} : { hint }),
    cause: err,
  });
}

/** Runs every cleanup step, collecting failures instead of stopping at the first (netavark-style). */
export function runAll(steps: Array<[string, () => void]>): string[] {
  const failures: string[] = [];
  for (const [name, step] of steps) {
    try {
      step();
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failures;
}
