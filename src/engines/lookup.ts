// A runtime target's main process, found through its engine's own CLI: `podman container
// inspect`, `ctr task ls`, `docker container inspect`. Everything about the target is checked
// before anything is spawned (ref.ts); what the CLI prints is parsed by pure functions
// (inspect.ts, containerd.ts) and its PID checked against /proc. Every way of not finding the
// container is one TargetError line naming the engine and the container (exit 3).
import { existsSync } from 'node:fs';
import { TargetError, TsnetError } from '../errors.js';
import type { EngineOptions } from '../deps.js';
import { checkEngineOptions, isPathOption, parseRuntimeRef, quote, type EngineName, type RuntimeRef } from './ref.js';
import { findOnPath, firstLine, runCli, type CliOutcome } from './spawn.js';
import { dockerInspectArgs, parseInspect, PID_MAX, podmanInspectArgs, saysDaemonUnreachable, saysNoSuchContainer } from './inspect.js';
import { CONTAINERD_DEFAULT_ADDRESS, ctrTaskListArgs, parseTaskList } from './containerd.js';

export interface RuntimeContainer {
  engine: EngineName;
  /** the name the engine knows it by (containerd: the container id) */
  name: string;
  /** the full id (podman, docker); containerd's id is its name */
  id: string;
  /** containerd's namespace; undefined for podman and docker */
  namespace: string | undefined;
  pid: number;
  /** how reports name it: "podman container web (pid 1234)" */
  label: string;
}

/** The program each engine is reached through. */
const PROGRAM: Record<EngineName, string> = { podman: 'podman', containerd: 'ctr', docker: 'docker' };

const notFound = (message: string, hint: string) => new TargetError('TSNET_NOT_FOUND', message, { hint });
const failed = (message: string, hint?: string) => new TargetError('TSNET_SYSTEM', message, hint === undefined ? {} : { hint });

/** A CLI outcome that is not an answer, as the one-line error it becomes. */
function unanswered(engine: EngineName, outcome: Exclude<CliOutcome, { kind: 'done' }>): TargetError {
  const program = PROGRAM[engine];
  switch (outcome.kind) {
    case 'missing':
      return failed(
        outcome.code === 'ENOENT' ? `${engine} is not installed: no ${program} on PATH` : `${engine}: ${program} cannot be run (${outcome.code})`,
        `install ${engine === 'containerd' ? 'containerd (it brings ctr)' : engine}, or put ${program} on PATH`,
      );
    case 'timeout':
      return failed(`${engine}: ${program} did not answer within ${outcome.ms / 1000} s`, `check that ${engine} is running and reachable`);
    case 'too-much':
      return failed(`${engine}: ${program} printed more than ${outcome.bytes} bytes`);
    case 'killed':
      return failed(`${engine}: ${program} was killed by ${outcome.signal}${outcome.stderr.trim() ? `: ${firstLine(outcome.stderr)}` : ''}`);
    case 'failed':
      return failed(`${engine}: cannot run ${program}: ${firstLine(outcome.message)}`);
  }
}

/** A PID an engine printed: a whole number of a process that exists. */
function checkPid(pid: number, who: string, engine: EngineName): number {
  if (!Number.isInteger(pid) || pid < 1 || pid > PID_MAX) throw failed(`${engine} gave ${who} the process id ${pid}, which is not one`);
  if (!existsSync(`/proc/${pid}`)) throw failed(`${engine} says ${who} runs as process ${pid}, but there is no process ${pid}`, 'it may have just stopped; run tsnet again');
  return pid;
}

function inspectEngine(ref: RuntimeRef, opts: EngineOptions): RuntimeContainer {
  const engine = ref.engine as 'podman' | 'docker';
  const args = engine === 'podman' ? podmanInspectArgs(ref.name, opts) : dockerInspectArgs(ref.name, opts);
  const outcome = runCli(PROGRAM[engine], args);
  if (outcome.kind !== 'done') throw unanswered(engine, outcome);
  const what = `${engine} container ${quote(ref.name)}`;
  if (outcome.status !== 0) {
    if (saysNoSuchContainer(outcome.stderr)) throw notFound(`no ${what}`, `see \`${PROGRAM[engine]} ps -a\` for its containers`);
    const said = firstLine(outcome.stderr) || `${PROGRAM[engine]} exited with ${outcome.status}`;
    if (engine === 'docker' && saysDaemonUnreachable(outcome.stderr)) {
      throw failed(`docker: the Docker daemon is not reachable: ${said}`, 'start it, or say where it is with --docker-host or DOCKER_HOST');
    }
    throw failed(`${engine}: cannot inspect ${what}: ${said}`);
  }
  let c;
  try {
    c = parseInspect(outcome.stdout);
  } catch (err) {
    throw failed(`${engine}: unexpected answer about ${what}: ${(err as Error).message}`);
  }
  if (!c.running || c.pid === 0) throw notFound(`${engine} container ${quote(c.name)} is ${c.status}, not running`, `start it: ${PROGRAM[engine]} start ${c.name}`);
  const pid = checkPid(c.pid, `container ${quote(c.name)}`, engine);
  return { engine, name: c.name, id: c.id, namespace: undefined, pid, label: `${engine} container ${c.name} (pid ${pid})` };
}

function containerdTask(ref: RuntimeRef, opts: EngineOptions): RuntimeContainer {
  // ctr's own order: --address, else CONTAINERD_ADDRESS, else the default socket; always passed explicitly
  const fromEnv = opts.containerdAddress === undefined ? process.env.CONTAINERD_ADDRESS : undefined;
  if (fromEnv !== undefined && fromEnv !== '' && !isPathOption(fromEnv)) {
    throw new TsnetError('TSNET_USAGE', `invalid CONTAINERD_ADDRESS ${quote(fromEnv)}: expected an absolute path`);
  }
  const address = opts.containerdAddress ?? (fromEnv || CONTAINERD_DEFAULT_ADDRESS);
  const namespace = ref.namespace!;
  const what = `containerd container ${quote(`${namespace}/${ref.name}`)}`;
  // Not installed first, then a missing socket, the usual "not running": said at once rather than after ctr's retries.
  if (findOnPath(PROGRAM.containerd) === undefined) throw unanswered('containerd', { kind: 'missing', code: 'ENOENT' });
  if (!existsSync(address)) {
    throw failed(`containerd is not running at ${quote(address)}: no such socket`, 'start containerd, or give its socket with --containerd-address');
  }
  const outcome = runCli(PROGRAM.containerd, ctrTaskListArgs(address, namespace));
  if (outcome.kind !== 'done') throw unanswered('containerd', outcome);
  if (outcome.status !== 0) throw failed(`containerd: cannot list the tasks of namespace ${quote(namespace)}: ${firstLine(outcome.stderr) || `ctr exited with ${outcome.status}`}`);
  let tasks;
  try {
    tasks = parseTaskList(outcome.stdout);
  } catch (err) {
    throw failed(`containerd: unexpected answer from ctr task ls: ${(err as Error).message}`);
  }
  const task = tasks.find((t) => t.id === ref.name);
  const listing = `ctr${address === CONTAINERD_DEFAULT_ADDRESS ? '' : ` --address ${address}`} -n ${namespace} task ls`;
  if (task === undefined) {
    throw notFound(`no running ${what}: containerd has no task ${quote(ref.name)} in namespace ${quote(namespace)}`, `see \`${listing}\`; Kubernetes pods' containers are containerd:k8s.io/ID`);
  }
  if (task.status !== 'RUNNING') throw notFound(`${what} is ${task.status.toLowerCase()}, not running`, `see \`${listing}\``);
  const pid = checkPid(task.pid, what, 'containerd');
  return { engine: 'containerd', name: ref.name, id: ref.name, namespace, pid, label: `containerd container ${namespace}/${ref.name} (pid ${pid})` };
}

/**
 * The runtime target `target` names (undefined: none, a tsnet container), checked with the
 * connection options for its engine; containerd's namespace defaults to CONTAINERD_NAMESPACE, as in
 * ctr, else "default". Throws TSNET_USAGE; spawns nothing.
 */
export function runtimeRef(target: string, opts: EngineOptions): RuntimeRef | undefined {
  const envNamespace = process.env.CONTAINERD_NAMESPACE;
  const ref = parseRuntimeRef(target, envNamespace !== undefined && envNamespace !== '' ? envNamespace : 'default');
  checkEngineOptions(ref?.engine, opts);
  return ref;
}

/**
 * The runtime container `target` names and its main process, or undefined when `target` names no
 * engine (a tsnet container). Throws TSNET_USAGE (exit 2) for a malformed target or option,
 * TargetError (exit 3) for a container that cannot be found through its engine.
 */
export function findRuntimeContainer(target: string, opts: EngineOptions): RuntimeContainer | undefined {
  const ref = runtimeRef(target, opts);
  if (ref === undefined) return undefined;
  return ref.engine === 'containerd' ? containerdTask(ref, opts) : inspectEngine(ref, opts);
}
