// The stub's timing log: one JSON line per client query, written with pino to a file that is
// rotated by size (queries.log → queries.log.1 → ...), so it stays bounded. Writes are buffered
// and flushed every 200 ms (one write(2) per batch, not per query); the size check and the
// rotation run off the query path.
import { createRequire } from 'node:module';
import { chmodSync, existsSync } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import type { QueryLogLine } from './server.js';

export interface QueryLog {
  write(line: QueryLogLine): void;
  close(): void;
}

export function openQueryLog(path: string, maxBytes = 16 * 1024 * 1024, keep = 2): QueryLog {
  const require = createRequire(import.meta.url);
  const { pino } = require('pino') as typeof import('pino');
  // 0600: the log names every container's lookups (and a file an older version made is fixed).
  const dest = pino.destination({ dest: path, sync: false, mkdir: true, minLength: 8192, mode: 0o600 });
  if (existsSync(path)) chmodSync(path, 0o600);
  const logger = pino({ base: null, timestamp: false, level: 'info' }, dest);
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
      dest.flush();
    } catch {
      // not open yet, or a write in flight: the next tick flushes
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
    write(line) {
      logger.info(line);
    },
    close() {
      clearInterval(flushTimer);
      clearInterval(sizeTimer);
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
