// What diagnose and trace look at: a tsnet container, a Podman, containerd or Docker container
// (its main process found through the engine's CLI), or any process, with the files that process sees.
//
// "Target not found" is one rule for every kind of target (src/engines/target.ts): well formed
// but not there or not reachable is a TargetError, exit 3 (a process: no such pid, or one that
// cannot be entered); malformed is bad input, exit 2.
import { readFileSync } from 'node:fs';
import { TargetError, TsnetError } from '../errors.js';
import { findTarget } from './target.js';
import type { RuntimeContainer } from './lookup.js';
import { processView } from './process.js';
import type { ContainerRecord } from '../state/records.js';
import type { Deps } from '../deps.js';

export { TargetError };

export interface Target {
  /** how the report names it */
  label: string;
  netns: string;
  resolvConf: string;
  hosts: string;
  nsswitch: string | undefined;
  /** /etc/gai.conf as the target's processes read it; undefined: none (glibc's built-in tables) */
  gaiConf: string | undefined;
  hostname: string;
  record: ContainerRecord | undefined;
  /** the process whose namespace and files these are; undefined for a tsnet container (no process) */
  pid: number | undefined;
  /** the Podman, containerd or Docker container the process is the main process of */
  runtime: RuntimeContainer | undefined;
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TargetError('TSNET_SYSTEM', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'run as root, and check that the process is still running',
    });
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The target diagnose and trace name by their first argument: `podman:NAME`, `containerd:[NS/]ID`,
 * `docker:NAME` (reached with `deps.engines`), else a tsnet container by name or id prefix.
 */
export function containerTarget(deps: Deps, ref: string): Target {
  const found = findTarget(deps, ref);
  if (found.kind === 'runtime') return processTarget(found.container.pid, found.container.label, found.container);
  const { record } = found;
  return {
    label: `container ${record.name} (${record.address}, dns-mode ${record.dns.mode})`,
    netns: record.namespaces.net,
    resolvConf: read(record.files.resolvConf, 'resolv.conf'),
    hosts: read(record.files.hosts, 'hosts file'),
    nsswitch: readOptional(record.files.nsswitch),
    // a tsnet container has no root of its own: its processes read the host's
    gaiConf: readOptional('/etc/gai.conf'),
    hostname: record.hostname,
    record,
    pid: undefined,
    runtime: undefined,
  };
}

function processTarget(pid: number, label: string | undefined, runtime: RuntimeContainer | undefined): Target {
  const view = processView(pid);
  return {
    label: label ?? `process ${pid} (${view.comm})`,
    netns: view.netns,
    resolvConf: view.resolvConf,
    hosts: view.hosts,
    nsswitch: view.nsswitch,
    gaiConf: view.gaiConf,
    hostname: view.hostname,
    record: undefined,
    pid,
    runtime,
  };
}

/** Any process by its id (`diagnose --pid`, `trace --pid`). */
export function pidTarget(pid: string): Target {
  if (!/^[1-9]\d{0,9}$/.test(pid)) throw new TsnetError('TSNET_USAGE', `invalid --pid "${pid}": expected a process id`);
  return processTarget(Number(pid), undefined, undefined);
}
