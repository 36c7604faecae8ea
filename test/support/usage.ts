// Helpers for tests of strict validators: they may only fail with a usage error (exit 2).
import { expect } from 'vitest';
import { TsnetError } from '../../src/errors.js';

/** Runs f; returns 'ok' or 'usage' (a TsnetError TSNET_USAGE with exit code 2); rethrows anything else. */
export function outcome(f: () => unknown): 'ok' | 'usage' {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (err instanceof TsnetError && err.code === 'TSNET_USAGE' && err.exitCode === 2) return 'usage';
    throw err;
  }
}

/** The usage error f throws (failing the test when it throws nothing or something else). */
export function usageErrorOf(f: () => unknown): TsnetError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(TsnetError);
    const e = err as TsnetError;
    expect(e.code).toBe('TSNET_USAGE');
    expect(e.exitCode).toBe(2);
    return e;
  }
  throw new Error('expected a usage error, got none');
}
