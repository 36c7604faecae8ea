// Namespace handles: bind mounts of /proc/thread-self/ns/* onto plain files keep a namespace alive
// with no process in it (the `ip netns add` trick). Removing the mount lets the kernel free it.
import { chmodSync, closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import * as native from '../../native/index.js';

function touch(path: string): void {
  const dir = dirname(path);
  if (mkdirSync(dir, { recursive: true, mode: 0o755 }) !== undefined) chmodSync(dir, 0o755);
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

const errCode = (err: unknown) => (err as native.SyscallError).code;

/**
 * Makes `dir` (/run/netns) a shared mount point before a handle goes in, exactly as `ip netns add`
 * does. Without this, a later `ip netns add` finds a plain directory, bind-mounts it over itself and
 * hides every handle already in it: the hidden ones can no longer be unmounted (umount says EINVAL)
 * and their namespaces live until reboot. The upgrade runs under an flock on the directory, so two
 * tsnet processes never stack two mounts; after the first time it is one mount(2) call.
 */
export function prepareHandleDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const makeShared = () => native.mount('none', dir, null, native.MS_SHARED | native.MS_REC);
  try {
    makeShared();
    return;
  } catch (err) {
    if (errCode(err) !== 'EINVAL') throw err; // EINVAL: not a mount point yet
  }
  const fd = openSync(dir, 'r');
  try {
    native.flock(fd, native.LOCK_EX, dir);
    try {
      makeShared(); // someone else upgraded it while we waited
    } catch (err) {
      if (errCode(err) !== 'EINVAL') throw err;
      native.mount(dir, dir, null, native.MS_BIND | native.MS_REC);
      makeShared();
    }
  } finally {
    closeSync(fd);
  }
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

