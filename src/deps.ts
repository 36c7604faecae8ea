// Everything a command needs from the outside world, passed in rather than read from globals.
import { pino, type Logger } from 'pino';
import { Paths, DEFAULT_ROOT } from './state/paths.js';

export interface Deps {
  paths: Paths;
  log: Logger;
  /** the host resolv.conf whose nameservers containers inherit when no --dns is given */
  hostResolvConf: string;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export interface DepsOptions {
  root?: string | undefined;
  logLevel?: string | undefined;
  hostResolvConf?: string | undefined;
}

export function makeDeps(opts: DepsOptions = {}): Deps {
  const level = opts.logLevel ?? process.env.TSNET_LOG_LEVEL ?? 'warn';
  return {
    paths: new Paths(opts.root ?? process.env.TSNET_ROOT ?? DEFAULT_ROOT),
    // JSON logs on stderr, written synchronously so nothing is lost when the CLI exits.
    log: pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true })),
    hostResolvConf: opts.hostResolvConf ?? process.env.TSNET_HOST_RESOLV_CONF ?? '/etc/resolv.conf',
  };
}
