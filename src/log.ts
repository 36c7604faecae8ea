// Logging through pino, loaded only when a line is actually written: most CLI runs log nothing
// at the default level, and loading pino costs ~4-10 ms of start-up. JSON lines on stderr.
import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const rank: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

type LogFn = (obj: object, msg: string) => void;
export interface Log {
  readonly level: LogLevel;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  isEnabled(level: LogLevel): boolean;
  child(bindings: object): Log;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function makeLog(level: LogLevel, bindings: object = {}, root?: () => PinoLogger): Log {
  let pino: PinoLogger | undefined;
  const get =
    root ??
    (() => {
      if (!pino) {
        const require = createRequire(import.meta.url);
        const { pino: make } = require('pino') as typeof import('pino');
        pino = make({ level, base: { pid: process.pid } }, make.destination({ dest: 2, sync: true }));
      }
      return pino;
    });
  const at = (l: Exclude<LogLevel, 'silent'>): LogFn => (obj, msg) => {
    if (rank[l] >= rank[level]) get()[l]({ ...bindings, ...obj }, msg);
  };
  return {
    level,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    isEnabled: (l) => rank[l] >= rank[level],
    child: (more) => makeLog(level, { ...bindings, ...more }, get),
  };
}
