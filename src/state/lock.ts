// One flock'd lock file per state root, held for each read-modify-write of shared state (network
// records, address reservations). The kernel drops an flock when its holder dies, so a crash never
// leaves a stale lock behind. LOCK_NB + 1 ms sleeps instead of a blocking flock keep a timeout possible.
import { closeSync, openSync, writeSync, ftruncateSync, fstatSync, statSync, rmSync } from 'node:fs';
import * as native from '../../native/index.js';
import { TsnetError } from '../errors.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);

/** Whether the locked fd is still the file at `path` (a holder may have deleted it meanwhile). */
function stillCurrent(fd: number, path: string): boolean {
  try {
    return fstatSync(fd).ino === statSync(path).ino;
  } catch {
    return false;
  }
}

export interface LockHandle {
  /** Deletes the lock file while holding it; safe because takers re-check the inode after locking. */
  remove(): void;
}

export function withLock<T>(path: string, fn: (lock: LockHandle) => T, timeoutMs = 30_000): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fd = openSync(path, 'a+', 0o600);
    try {
      if (native.flock(fd, native.LOCK_EX | native.LOCK_NB, path)) {
        if (stillCurrent(fd, path)) {
          ftruncateSync(fd, 0);
          writeSync(fd, `${process.pid}\n`);
          return fn({ remove: () => rmSync(path, { force: true }) });
        }
        continue; // locked a file that was deleted under us: take the new one
      }
    } finally {
      closeSync(fd); // closing the last fd releases the flock
    }
    if (Date.now() > deadline) {
      throw new TsnetError('TSNET_LOCK_TIMEOUT', `state lock ${path} still held after ${timeoutMs / 1000} s`, {
        hint: 'another tsnet command is running; `fuser -v` on the lock file shows which',
      });
    }
    // Holders keep the lock for well under a millisecond: poll finely rather than back off.
    sleepSync(1);
  }
}
