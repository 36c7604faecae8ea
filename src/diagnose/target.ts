// What diagnose looks at: a tsnet container or any process's network namespace, with the files
// that process sees.
import { readFileSync, existsSync, openSync, closeSync } from 'node:fs';
import { TsnetError } from '../errors.js';
import { findContainer } from '../state/lookup.js';
import type { ContainerRecord } from '../state/records.js';
import type { Deps } from '../deps.js';

export interface Target {
  /** how the report names it */
  label: string;
  netns: string;
  resolvConf: string;
  hosts: string;
  nsswitch: string | undefined;
  hostname: string;
  record: ContainerRecord | undefined;
}

/** The target could not be entered or read: diagnose exits with 3. */
export class TargetError extends TsnetError {
  override get exitCode(): number {
    return 3;
  }
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

const readOptional = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

export function containerTarget(deps: Deps, ref: string): Target {
  const record = findContainer(deps.paths, ref);
  if (record.status !== 'running') throw new TsnetError('TSNET_USAGE', `container "${record.name}" is ${record.status}, not running`);
  return {
    label: `container ${record.name} (${record.address}, dns-mode ${record.dns.mode})`,
    netns: record.namespaces.net,
    resolvConf: read(record.files.resolvConf, 'resolv.conf'),
    hosts: read(record.files.hosts, 'hosts file'),
    nsswitch: readOptional(record.files.nsswitch),
    hostname: record.hostname,
    record,
  };
}

export function pidTarget(pid: string): Target {
  if (!/^\d+$/.test(pid)) throw new TsnetError('TSNET_USAGE', `invalid --pid "${pid}": expected a process id`);
  if (!existsSync(`/proc/${pid}`)) {
    throw new TargetError('TSNET_SYSTEM', `no process ${pid}`, { hint: 'give the pid of a running process in the container' });
  }
  const root = `/proc/${pid}/root`;
  const netns = `/proc/${pid}/ns/net`;
  try {
    closeSync(openSync(netns, 'r'));
  } catch (err) {
    throw new TargetError('TSNET_SYSTEM', `cannot open ${netns}: ${(err as NodeJS.ErrnoException).code}`, { hint: 'run as root' });
  }
  let hostname = '';
  try {
    hostname = readFileSync(`/proc/${pid}/root/etc/hostname`, 'utf8').trim();
  } catch {
    hostname = '';
  }
  return {
    label: `process ${pid} (${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`,
    netns,
    resolvConf: read(`${root}/etc/resolv.conf`, 'resolv.conf'),
    hosts: readOptional(`${root}/etc/hosts`) ?? '',
    nsswitch: readOptional(`${root}/etc/nsswitch.conf`),
    hostname,
    record: undefined,
  };
}
