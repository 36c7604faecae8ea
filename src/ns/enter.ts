// Entering namespaces from Node. Namespaces belong to threads, so everything here is a synchronous
// sandwich on the main thread: save the current namespace, switch, do synchronous work, switch back
// in `finally`. No await inside, and no Node sockets (they are created asynchronously).
import { openSync, closeSync } from 'node:fs';
import * as native from '../../native/index.js';
import { TsnetError } from '../errors.js';

const NS_FILES: Array<[number, string]> = [
  [native.CLONE_NEWNET, 'net'],
  [native.CLONE_NEWUTS, 'uts'],
];

/** Opens this thread's current namespaces of the given types so we can return to them. */
function saveCurrent(types: number): Array<[number, number]> {
  return NS_FILES.filter(([t]) => types & t).map(([t, name]) => [t, openSync(`/proc/thread-self/ns/${name}`, 'r')]);
}

function restore(saved: Array<[number, number]>): void {
  for (const [type, fd] of saved) {
    try {
      native.setns(fd, type);
    } catch (err) {
      // A thread we cannot switch back would run later work in the wrong namespace. Go's CNI
      // code throws such a thread away; Node cannot, so the process stops here.
      process.stderr.write(`tsnet: fatal: cannot return to the host namespace: ${(err as Error).message}\n`);
      process.exit(70);
    } finally {
      closeSync(fd);
    }
  }
}

/** Runs fn in fresh network and UTS namespaces (unshare), then returns to the previous ones. */
export function inNewNamespaces<T>(fn: () => T): T {
  const saved = saveCurrent(native.CLONE_NEWNET | native.CLONE_NEWUTS);
  try {
    native.unshare(native.CLONE_NEWNET | native.CLONE_NEWUTS);
    return fn();
  } finally {
    restore(saved);
  }
}

/** Runs fn inside the network namespace held at `path`, then returns to the previous one. */
export function inNetns<T>(path: string, fn: () => T): T {
  const saved = saveCurrent(native.CLONE_NEWNET);
  const fd = openSync(path, 'r');
  try {
    native.setns(fd, native.CLONE_NEWNET, path);
    return fn();
  } finally {
    closeSync(fd);
    restore(saved);
  }
}

const NAMES = { net: 'network namespace', uts: 'UTS namespace' } as const;
const TYPES = { net: native.CLONE_NEWNET, uts: native.CLONE_NEWUTS } as const;
const HINT = 'pass a network namespace file such as /run/netns/NAME or /proc/PID/ns/net';

/**
 * Moves the calling thread into the namespace at `path` for good. For commands that do nothing
 * else afterwards (exec, resolve, diagnose, fake-dns, stub serve): Node creates their sockets on
 * this thread, asynchronously, so a sandwich cannot hold them. The one error mapping for every
 * caller: not root → TSNET_NOT_ROOT, a missing or wrong file → TSNET_USAGE, anything else → TSNET_SYSTEM.
 */
export function enterForGood(path: string, kind: keyof typeof TYPES = 'net'): void {
  const what = NAMES[kind];
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (code === 'EACCES' || code === 'EPERM') throw notRoot(`cannot open ${what} ${path}: ${code}`);
    throw new TsnetError('TSNET_USAGE', `cannot open ${what} ${path}: ${code}`, { hint: HINT });
  }
  try {
    native.setns(fd, TYPES[kind], path);
  } catch (err) {
    const code = (err as native.SyscallError).code;
    if (code === 'EPERM') throw notRoot(`cannot enter ${what} ${path}: ${code}`);
    if (code === 'EINVAL') throw new TsnetError('TSNET_USAGE', `${path} is not a ${what}`, { hint: HINT });
    throw new TsnetError('TSNET_SYSTEM', `cannot enter ${what} ${path}: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** enterForGood for a network namespace: what resolve, diagnose, fake-dns and stub serve need. */
export const enterNetnsForGood = (path: string) => enterForGood(path, 'net');

const notRoot = (message: string) => new TsnetError('TSNET_NOT_ROOT', message, { hint: 'entering a network namespace needs root (CAP_SYS_ADMIN)' });
