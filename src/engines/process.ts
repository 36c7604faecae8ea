// What a running process sees of DNS: its network namespace and its resolv.conf, hosts,
// nsswitch.conf, gai.conf and hostname, read inside its own root (/proc/PID/root, links never followed out
// to the host's files). The one reading behind `diagnose --pid`, runtime targets and
// `resolve --in`.
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { TargetError } from '../errors.js';
import { readFileInRoot } from '../ns/in-root.js';

export interface ProcessView {
  pid: number;
  /** /proc/PID/comm */
  comm: string;
  netns: string;
  resolvConf: string;
  hosts: string;
  nsswitch: string | undefined;
  /** /etc/gai.conf (glibc's address-sorting tables); undefined when the process has none */
  gaiConf: string | undefined;
  hostname: string;
}

/** What a missing file looks like to a lookup (a missing optional file is not an error). */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);
/** The lookup failed because of the process or our rights, not the file. */
const NOT_REACHABLE = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM']);

function readInRoot(root: string, path: string, what: string, optional: false): string;
function readInRoot(root: string, path: string, what: string, optional: true): string | undefined;
function readInRoot(root: string, path: string, what: string, optional: boolean): string | undefined {
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

/** The process `pid` (a whole number already checked) as DNS sees it; TargetError (exit 3) when it is gone or out of reach. */
export function processView(pid: number): ProcessView {
  if (!existsSync(`/proc/${pid}`)) {
    throw new TargetError('TSNET_NOT_FOUND', `no process ${pid}`, { hint: 'give the pid of a running process in the container' });
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
  let comm = '';
  try {
    comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    comm = '';
  }
  return {
    pid,
    comm,
    netns,
    resolvConf: readInRoot(root, '/etc/resolv.conf', 'resolv.conf', false),
    hosts: readInRoot(root, '/etc/hosts', 'hosts file', true) ?? '',
    nsswitch: readInRoot(root, '/etc/nsswitch.conf', 'nsswitch.conf', true),
    gaiConf: readInRoot(root, '/etc/gai.conf', 'gai.conf', true),
    hostname,
  };
}
