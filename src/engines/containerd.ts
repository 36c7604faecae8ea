// What tsnet asks containerd (through its CLI, ctr) and reads from the answer. PURE.
// `ctr task ls` prints a table (Go's tabwriter, columns padded with spaces):
//   TASK    PID     STATUS
//   web     1234    RUNNING
// A task is a container's running process; its id is the container's.
import { PID_MAX } from './inspect.js';

/** containerd's own default socket. */
export const CONTAINERD_DEFAULT_ADDRESS = '/run/containerd/containerd.sock';
/** ctr gives up connecting after this (its own default is 10 s, as long as tsnet's deadline). */
const CONNECT_TIMEOUT = '5s';

export interface ContainerdTask {
  id: string;
  pid: number;
  /** RUNNING, STOPPED, CREATED, PAUSED, PAUSING, UNKNOWN */
  status: string;
}

/** The argument vector of `ctr task ls` in one namespace of the containerd at `address`. */
export function ctrTaskListArgs(address: string, namespace: string): string[] {
  return [`--address=${address}`, `--namespace=${namespace}`, `--connect-timeout=${CONNECT_TIMEOUT}`, 'task', 'ls'];
}

const STATUS_RE = /^[A-Z]{1,16}$/;

/** Every task of a `ctr task ls` answer; throws an Error saying what is wrong with the output. */
export function parseTaskList(stdout: string): ContainerdTask[] {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift()?.trim().split(/\s+/);
  if (header === undefined || header.join(' ') !== 'TASK PID STATUS') throw new Error('the output does not start with the header TASK PID STATUS');
  return lines.map((line, i) => {
    const fields = line.trim().split(/\s+/);
    const [id, pid, status] = fields;
    if (fields.length !== 3 || id === undefined || pid === undefined || status === undefined) throw new Error(`line ${i + 2} is not TASK PID STATUS`);
    if (!/^\d{1,7}$/.test(pid) || Number(pid) > PID_MAX) throw new Error(`line ${i + 2}: the PID is not a process id`);
    if (!STATUS_RE.test(status)) throw new Error(`line ${i + 2}: the STATUS is not a task status`);
    return { id, pid: Number(pid), status };
  });
}
