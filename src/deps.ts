// Everything a command needs from the outside world, passed in rather than read from globals.
import { TsnetError } from './errors.js';
import { isLogLevel, makeLog, type Log } from './log.js';
import { Paths, DEFAULT_ROOT } from './state/paths.js';
import { checkRoot } from './state/root.js';

/** The subnet of a network made without --subnet. */
export const DEFAULT_SUBNET = '10.89.0.0/16';

/**
 * How to reach the container engines that runtime targets (`podman:NAME`, `containerd:NS/ID`,
 * `docker:NAME`) are looked up in; unset means the engine's own default. The engines' environment
 * variables (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERD_ADDRESS, CONTAINERD_NAMESPACE,
 * DOCKER_HOST, DOCKER_CONTEXT) reach their CLIs unchanged as well.
 */
export interface EngineOptions {
  /** podman --root: the storage root */
  podmanRoot?: string | undefined;
  /** podman --runroot: the state directory */
  podmanRunroot?: string | undefined;
  /** ctr --address: containerd's gRPC socket */
  containerdAddress?: string | undefined;
  /** docker --host: the daemon socket (unix://, tcp://, ssh://) */
  dockerHost?: string | undefined;
}

export interface Deps {
  paths: Paths;
  log: Log;
  /** the host resolv.conf whose nameservers containers inherit when no --dns is given */
  hostResolvConf: string;
  /** subnet of a network made without --subnet */
  defaultSubnet: string;
  /** the crash point at which the crash-safety tests kill tsnet (env TSNET_CRASH_AT), if any */
  crashAt: string | undefined;
  /** where a race test holds this command still, and for how long (env TSNET_STALL_AT=<point>:<ms>) */
  stallAt: { point: string; ms: number } | undefined;
  /** connection options for the container engines of runtime targets (the CLI's --podman-root, ...) */
  engines: EngineOptions;
}

export interface DepsOptions {
  root?: string | undefined;
  logLevel?: string | undefined;
  hostResolvConf?: string | undefined;
  defaultSubnet?: string | undefined;
  engines?: EngineOptions | undefined;
  /** false: no crash or stall points from the environment (a long-lived daemon running requests) */
  testHooks?: boolean | undefined;
}

export function makeDeps(opts: DepsOptions = {}): Deps {
  const level = opts.logLevel ?? process.env.TSNET_LOG_LEVEL ?? 'warn';
  if (!isLogLevel(level)) {
    throw new TsnetError('TSNET_USAGE', `unknown log level "${level}"`, { hint: 'use trace, debug, info, warn, error, fatal or silent' });
  }
  const paths = new Paths(opts.root ?? process.env.TSNET_ROOT ?? DEFAULT_ROOT);
  checkRoot(paths.root);
  return {
    paths,
    log: makeLog(level),
    hostResolvConf: opts.hostResolvConf ?? process.env.TSNET_HOST_RESOLV_CONF ?? '/etc/resolv.conf',
    defaultSubnet: opts.defaultSubnet ?? process.env.TSNET_DEFAULT_SUBNET ?? DEFAULT_SUBNET,
    crashAt: opts.testHooks === false ? undefined : process.env.TSNET_CRASH_AT,
    stallAt: opts.testHooks === false ? undefined : parseStall(process.env.TSNET_STALL_AT),
    engines: opts.engines ?? {},
  };
}

function parseStall(v: string | undefined): Deps['stallAt'] {
  const m = v === undefined ? null : /^(.+):(\d+)$/.exec(v);
  return m ? { point: m[1]!, ms: Number(m[2]) } : undefined;
}
