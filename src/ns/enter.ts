// Entering namespaces from Node. Namespaces belong to threads, so everything here is a synchronous
// sandwich on the main thread: save the current namespace, switch, do synchronous work, switch back
// in `finally`. No await inside, and no Node sockets (they are created asynchronously).
import { openSync, closeSync } from 'node:fs';
import * as native from '../../native/index.js';

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
