// The state root is trusted only when nobody but root could have put anything in it: a directory,
// not a symlink, owned by root, not writable by group or others. Test roots under /tmp have
// guessable names, so anyone could plant one there first.
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { TsnetError } from '../errors.js';

export const DEFAULT_ROOT = '/run/tsnet';

/**
 * The stub daemon's directory in a root and the socket where it takes CNI requests (ADD, CHECK):
 * here, not in Paths, because the CNI plugin's thin client (src/cli/cni-loader.ts) loads nothing
 * else of src/state. Paths derives its stub paths from these.
 */
export const stubDirOf = (root: string): string => join(root, 'stub');
export const cniSocketPath = (root: string): string => join(stubDirOf(root), 'cni.sock');

/**
 * Why a file tsnet is about to trust could have been made or changed by someone other than root,
 * if it could: not the kind expected (a symlink never is), not root's, or writable by group or others.
 */
export function notRootOnly(st: Stats, kind: 'directory' | 'socket'): string | undefined {
  return st.isSymbolicLink() ? 'is a symlink'
    : !(kind === 'directory' ? st.isDirectory() : st.isSocket()) ? `is not a ${kind}`
    : st.uid !== 0 ? `is owned by uid ${st.uid}, not root`
    : (st.mode & 0o022) !== 0 ? `is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`
    : undefined;
}

/** Throws when an existing root could have been made or changed by someone else; a missing one is fine. */
export function checkRoot(root: string): void {
  let st;
  try {
    st = lstatSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const problem = notRootOnly(st, 'directory');
  if (problem) {
    throw new TsnetError('TSNET_USAGE', `state root ${root} ${problem}: refused`, {
      hint: 'a state root must be a directory owned by root and writable only by it; use another --root or fix it',
    });
  }
}
