// Namespace handles: bind mounts of /proc/thread-self/ns/* onto plain files keep a namespace alive
// with no process in it (the `ip netns add` trick). Removing the mount lets the kernel free it.
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import * as native from '../../native/index.js';

function touch(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  closeSync(openSync(path, 'a', 0o444));
}

/** Bind-mounts the calling thread's namespace of `kind` onto `target`. */
export function pinCurrentNamespace(kind: 'net' | 'uts', target: string): void {
  touch(target);
  native.mount(`/proc/thread-self/ns/${kind}`, target, null, native.MS_BIND);
}

/** Bind-mounts an existing handle onto a second path (e.g. /run/netns/tsnet-<name> for `ip netns`). */
export function bindHandle(source: string, target: string): void {
  touch(target);
  native.mount(source, target, null, native.MS_BIND);
}

/** Unmounts (lazily: a process still inside keeps the namespace) and deletes a handle. Idempotent. */
export function releaseHandle(path: string): void {
  try {
    native.umount2(path, native.MNT_DETACH);
  } catch (err) {
    const code = (err as native.SyscallError).code;
    // EINVAL: not a mount point; ENOENT: gone already.
    if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
  }
  rmSync(path, { force: true });
}

