// Reading a file of another process's filesystem the way that process sees it. The kernel follows
// /proc/PID/root into the process's root, but a symlink found below it is resolved against the
// READER's root: an absolute link (/etc/resolv.conf → /run/systemd/resolve/stub-resolv.conf) or
// enough `..` would read the host's file. So every component is walked here with lstat/readlink,
// absolute link targets and `..` taken relative to the given root and never above it — what
// openat2(2) RESOLVE_IN_ROOT does, which Node cannot call. Links followed are bounded like the
// kernel's (MAXSYMLINKS), and only a regular file is opened: a FIFO or a device would block or
// never end.
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';

/** Linux's MAXSYMLINKS: links followed in one lookup before it fails with ELOOP. */
export const MAX_SYMLINKS = 40;
/** resolv.conf, hosts, nsswitch.conf and hostname are small; more is not one of them. */
export const MAX_FILE_BYTES = 1 << 20;

const fail = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

const hostPath = (root: string, parts: readonly string[]) => (parts.length === 0 ? root : `${root}/${parts.join('/')}`);

/**
 * Resolves `path` (absolute or not, both from `root`) inside `root`: returns the host path of the
 * file with no symlink left in it below `root`, and its lstat. Throws an error with the kernel's
 * code: ENOENT, ENOTDIR, ELOOP, EACCES, ...
 */
export function resolveInRoot(root: string, path: string): { path: string; stat: Stats } {
  const pending = path.split('/');
  let done: string[] = [];
  let links = 0;
  // the root itself is followed (/proc/PID/root is a link to the process's root); below it, nothing is
  const statOf = (parts: readonly string[]) => (parts.length === 0 ? statSync(root) : lstatSync(hostPath(root, parts)));
  let stat = statOf(done);
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      done.pop(); // at the root, `..` is the root
      stat = statOf(done);
      continue;
    }
    if (!stat.isDirectory()) throw fail('ENOTDIR', `${hostPath(root, done)} is not a directory`);
    const here = hostPath(root, [...done, c]);
    stat = lstatSync(here);
    if (stat.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw fail('ELOOP', `more than ${MAX_SYMLINKS} symbolic links`);
      const to = readlinkSync(here);
      if (to.startsWith('/')) done = [];
      pending.unshift(...to.split('/'));
      stat = statOf(done);
      continue;
    }
    done.push(c);
  }
  // "file/" and "file/." name a directory (ENOTDIR otherwise, as in the kernel)
  if (path.endsWith('/') || path.endsWith('/.')) {
    if (!stat.isDirectory()) throw fail('ENOTDIR', `${hostPath(root, done)} is not a directory`);
  }
  return { path: hostPath(root, done), stat };
}

/**
 * The text of the regular file `path` inside `root` (see resolveInRoot). Throws ENOENT and the
 * other lookup errors, and an error with code ENOTREG for a FIFO, device, socket or directory,
 * EFBIG above MAX_FILE_BYTES.
 */
export function readFileInRoot(root: string, path: string): string {
  const { path: at, stat } = resolveInRoot(root, path);
  if (!stat.isFile()) throw fail('ENOTREG', 'not a regular file');
  // O_NOFOLLOW and O_NONBLOCK: if the file was swapped for a link or a FIFO since the walk, the
  // open fails or returns at once; the inode check below catches a swapped directory on the way.
  const fd = openSync(at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile()) throw fail('ENOTREG', 'not a regular file');
    if (opened.dev !== stat.dev || opened.ino !== stat.ino) throw fail('ESTALE', 'the file changed while it was being opened');
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_FILE_BYTES) throw fail('EFBIG', `larger than ${MAX_FILE_BYTES} bytes`);
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
