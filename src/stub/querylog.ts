// The stub's timing log: one JSON line per client query, written with pino to a file that is
// rotated by size (queries.log → queries.log.1 → ...), so it stays bounded.
import { createRequire } from 'node:module';
import { existsSync, renameSync, statSync } from 'node:fs';
import type { QueryLogLine } from './server.js';

export interface QueryLog {
  write(line: QueryLogLine): void;
  close(): void;
}

export function openQueryLog(path: string, maxBytes = 16 * 1024 * 1024, keep = 2): QueryLog {
  const require = createRequire(import.meta.url);
  const { pino } = require('pino') as typeof import('pino');
  // async writes, no batching: `stub logs --follow` sees each query as it is answered
  const dest = pino.destination({ dest: path, sync: false, mkdir: true });
  const logger = pino({ base: null, timestamp: false, level: 'info' }, dest);
  let written = existsSync(path) ? statSync(path).size : 0;
  const rotate = () => {
    dest.flushSync();
    for (let i = keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    renameSync(path, `${path}.1`);
    dest.reopen();
    written = 0;
  };
  return {
    write(line) {
      logger.info(line);
      written += 300; // a typical line; exact accounting would cost a JSON.stringify per query
      if (written > maxBytes) {
        written = statSync(path).size;
        if (written > maxBytes) rotate();
      }
    },
    close() {
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
