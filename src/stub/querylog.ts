// The stub's timing log: one JSON line per client query, in a file that is rotated by size
// (queries.log → queries.log.1 → ...), so it stays bounded. Lines are gathered here and handed to
// pino's destination (sonic-boom) a chunk at a time, every 200 ms or 64 KiB (one write(2) per
// batch, not per query; no fsync: it is a log); the size check and the rotation run off the query path. Each line is what
// pino's logger.info(line) wrote ({"level":30,...}), serialised by JSON.stringify: measured under
// dnsperf, pino's serialiser and sonic-boom's per-write accounting (it measures its whole pending
// string again on every write) took 22 % of a local answer's CPU; this takes ~4 %.
import { createRequire } from 'node:module';
import { chmodSync, existsSync } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import type { QueryLogLine } from './server.js';

export interface QueryLog {
  write(line: QueryLogLine): void;
  close(): void;
  /** characters of lines dropped because the file failed and the queue was full (status: queryLog.droppedChars) */
  readonly dropped: number;
}

/**
 * Characters waiting for the file at most (a file that failed: ENOSPC, EIO): past this, lines
 * are dropped, not queued — the daemon must not grow. dnsmasq's --log-async drops past its queue
 * the same way.
 */
const MAX_QUEUED = 2 * 1024 * 1024;

/** Characters gathered before they are written (at the latest every 200 ms). */
const CHUNK = 64 * 1024;

export function openQueryLog(path: string, maxBytes = 16 * 1024 * 1024, keep = 2): QueryLog {
  const require = createRequire(import.meta.url);
  const { pino } = require('pino') as typeof import('pino');
  // 0600: the log names every container's lookups (and a file an older version made is fixed).
  // Synchronous: one write(2) of up to 64 KiB into the page cache (~50 us, 200-600 a second at
  // 100k queries/s). Measured on one core at 93k queries/s: written from libuv's pool, the writes
  // fell behind the loop that fed them (20-30 % of the lines dropped, 82-125 MiB RSS); written
  // here, none dropped and 65 MiB. The trade-off: a file system that stalls (a frozen or failing
  // disk, the host's writeback throttling when other writers fill the page cache) stalls the
  // answers with it; the state root is a local directory, and the log's own dirty data is bounded
  // by the rotation (3 x 16 MiB). docs/stub.md says so.
  const dest = pino.destination({ dest: path, sync: true, mkdir: true, minLength: 0, maxLength: MAX_QUEUED, mode: 0o600 });
  let dropped = 0;
  dest.on('drop', (data: string) => (dropped += data.length));
  dest.on('error', () => {}); // a failed write stays queued (up to MAX_QUEUED) and is tried again with the next
  if (existsSync(path)) chmodSync(path, 0o600);
  let pending = '';
  let closed = false;
  const hand = () => {
    if (pending.length === 0) return;
    const chunk = pending;
    pending = '';
    dest.write(chunk);
  };
  let rotating = false;
  const rotate = async () => {
    rotating = true;
    try {
      for (let i = keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) await rename(`${path}.${i}`, `${path}.${i + 1}`);
      await rename(path, `${path}.1`); // the open fd keeps writing into what is now .1 ...
      dest.reopen(); // ... until the destination opens a fresh file under the name
    } finally {
      rotating = false;
    }
  };
  const flushTimer = setInterval(() => {
    try {
      hand(); // written at once (minLength 0); no flush(): that would fsync each time
    } catch {
      // a failed write stays queued (the 'error' handler): the next tick tries again
    }
  }, 200);
  const sizeTimer = setInterval(() => {
    if (rotating) return;
    void stat(path)
      .then((s) => (s.size > maxBytes ? rotate() : undefined))
      .catch(() => {});
  }, 1000);
  flushTimer.unref();
  sizeTimer.unref();
  return {
    get dropped() {
      return dropped;
    },
    write(line) {
      if (closed) return; // a forwarded query answered while the daemon stops
      pending += `{"level":30,${JSON.stringify(line).slice(1)}\n`;
      if (pending.length >= CHUNK) hand();
    },
    close() {
      closed = true;
      clearInterval(flushTimer);
      clearInterval(sizeTimer);
      hand();
      dest.flushSync();
      dest.end();
    },
  };
}

/** Reads the log files oldest first, newest last. */
export function logFiles(path: string, keep = 2): string[] {
  const out: string[] = [];
  for (let i = keep; i >= 1; i--) if (existsSync(`${path}.${i}`)) out.push(`${path}.${i}`);
  if (existsSync(path)) out.push(path);
  return out;
}
