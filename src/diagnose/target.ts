// What diagnose looks at: a tsnet container or any process's network namespace, with the files
// that process sees.
import { readFileSync, existsSync, openSync, closeSync } from 'node:fs';
import { TsnetError } from '../errors.js';
import { readFileInRoot } from './in-root.js';
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
  /** the process whose namespace and files these are; undefined for a tsnet container (no process) */
  pid: number | undefined;
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

/** What a missing file looks like to a lookup (a missing optional file is not an error). */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);
/** The lookup failed because of the process or our rights, not the file. */
const NOT_REACHABLE = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM']);

/**
 * A file of another process as that process sees it: `path` resolved inside its root `root`
 * (/proc/PID/root), its links never followed out to the host's files.
 */
function readInTarget(root: string, path: string, what: string, optional: false): string;
function readInTarget(root: string, path: string, what: string, optional: true): string | undefined;
function readInTarget(root: string, path: string, what: string, optional: boolean): string | undefined {
  try {
    return readFileInRoot(root, path);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    if (optional && code !== undefined && MISSING.has(code)) return undefined;
    throw new TargetError('TSNET_SYSTEM', `cannot read ${what} ${root}${path}: ${code === 'ENOTREG' || code === 'EFBIG' ? message : code ?? message}`, {
      hint: code !== undefined && NOT_REACHABLE.has(code) ? 'run as root, and check that the process is still running' : `the process's ${path} is not a file tsnet can read`,
    });
  }
}

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
    pid: undefined,
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
    hostname = readFileInRoot(root, '/etc/hostname').trim();
  } catch {
    hostname = '';
  }
  return {
    label: `process ${pid} (${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`,
    netns,
    resolvConf: readInTarget(root, '/etc/resolv.conf', 'resolv.conf', false),
    hosts: readInTarget(root, '/etc/hosts', 'hosts file', true) ?? '',
    nsswitch: readInTarget(root, '/etc/nsswitch.conf', 'nsswitch.conf', true),
    hostname,
    record: undefined,
    pid: Number(pid),
  };
}
