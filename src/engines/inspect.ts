// What tsnet asks Podman and Docker, and reads from their answers: `container inspect` prints a
// JSON array with one object per container (both engines share the fields used here: Id, Name,
// State.Pid, State.Status, State.Running). PURE. The output comes from another program and names
// a container someone else chose: every field is checked, nothing is trusted to be one line.
import type { EngineOptions } from '../deps.js';

export interface InspectedContainer {
  id: string;
  /** without Docker's leading "/" */
  name: string;
  /** 0 when the container has no process */
  pid: number;
  /** "running", "exited", "created", "paused", ... */
  status: string;
  running: boolean;
}

/** The argument vector of `podman container inspect` for one name, with the connection options. */
export function podmanInspectArgs(name: string, opts: EngineOptions): string[] {
  return [
    ...(opts.podmanRoot !== undefined ? [`--root=${opts.podmanRoot}`] : []),
    ...(opts.podmanRunroot !== undefined ? [`--runroot=${opts.podmanRunroot}`] : []),
    'container', 'inspect', '--', name,
  ];
}

/** The argument vector of `docker container inspect` for one name, with the connection options. */
export function dockerInspectArgs(name: string, opts: EngineOptions): string[] {
  return [...(opts.dockerHost !== undefined ? [`--host=${opts.dockerHost}`] : []), 'container', 'inspect', '--', name];
}

/** Linux's PID_MAX_LIMIT: no process id is larger. */
export const PID_MAX = 4_194_304;

const ID_RE = /^[0-9a-f]{12,64}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
const STATUS_RE = /^[a-z]{1,32}$/;

/** The one container of an inspect answer; throws an Error saying what is wrong with the output. */
export function parseInspect(stdout: string): InspectedContainer {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new Error('the output is not JSON');
  }
  if (!Array.isArray(value)) throw new Error('the output is not a JSON array');
  if (value.length !== 1) throw new Error(`the output lists ${value.length} containers, not one`);
  const c = value[0] as { Id?: unknown; Name?: unknown; State?: { Pid?: unknown; Status?: unknown; Running?: unknown } } | null;
  if (typeof c !== 'object' || c === null) throw new Error('the container is not a JSON object');
  if (typeof c.Id !== 'string' || !ID_RE.test(c.Id)) throw new Error('Id is not a container id');
  const name = typeof c.Name === 'string' ? c.Name.replace(/^\//, '') : undefined;
  if (name === undefined || !NAME_RE.test(name)) throw new Error('Name is not a container name');
  const s = c.State;
  if (typeof s !== 'object' || s === null) throw new Error('State is missing');
  const pid = s.Pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 0 || pid > PID_MAX) throw new Error('State.Pid is not a process id');
  if (typeof s.Status !== 'string' || !STATUS_RE.test(s.Status)) throw new Error('State.Status is not a status');
  if (typeof s.Running !== 'boolean') throw new Error('State.Running is not true or false');
  return { id: c.Id, name, pid, status: s.Status, running: s.Running };
}

/** Whether an engine's error says the container does not exist (Podman: "no such container", Docker: "No such container: x"). */
export const saysNoSuchContainer = (stderr: string): boolean => /no such (container|object)/i.test(stderr);

/** Whether the docker CLI's error says it could not reach the daemon (the socket missing, refused, unreachable). */
export const saysDaemonUnreachable = (stderr: string): boolean =>
  /cannot connect to the docker daemon|failed to connect to the docker api|error during connect|dial (unix|tcp)|connection refused/i.test(stderr);
