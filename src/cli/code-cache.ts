// Runs a CommonJS bundle compiled with a V8 code cache: what the CLI's and the CNI plugin's loaders
// share (cli-loader.ts, cni-loader.ts).
//
// Why a code cache by hand: Node 20 has no compile cache of its own (module.enableCompileCache is
// Node 22), and a short-lived process spends much of its life compiling functions on first call.
// A cache is taken at exit, so it holds the functions the run compiled: one cache per command.
// Trust: the cache is code, run as root. It lives beside the bundle, is used only when owned like
// the bundle and writable by no one else, and names the bundle's file identity (V8 itself checks
// only the source's length) and the Node that wrote it. A missing, stale or rejected cache only
// costs time: the bundle compiles from source and a new cache is written, atomically, if the
// directory lets us.
import { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, type BigIntStats } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

const MAGIC = 'tsnet-v8-code-cache 2';

const header = (identity: string): string => `${MAGIC} ${identity} ${process.version}\n`;

/** The cache at `path` for this bundle and this Node, if only the bundle's owner can have written it. */
function readCache(path: string, identity: string, bodyOwner: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO planted there must not block us
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== bodyOwner || (st.mode & 0o022) !== 0) return undefined;
    const bytes = readFileSync(fd);
    const eol = bytes.indexOf(10);
    return eol > 0 && bytes.subarray(0, eol + 1).toString('latin1') === header(identity) ? bytes.subarray(eol + 1) : undefined;
  } finally {
    closeSync(fd);
  }
}

function writeCache(path: string, data: Buffer, identity: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    // 'wx': a file (or symlink) someone left at that name is not written through
    writeFileSync(tmp, Buffer.concat([Buffer.from(header(identity), 'latin1'), data]), { mode: 0o644, flag: 'wx' });
    renameSync(tmp, path);
  } catch {
    try {
      rmSync(tmp, { force: true }); // a read-only or foreign directory: run without a cache
    } catch {
      // nothing was written, or nothing can be removed there: either way no cache
    }
  }
}

/**
 * Runs the CommonJS bundle `body` and returns its exports; with the cache `${body}.${cacheName}.v8cache`
 * when `cacheName` is given (callers pass a name from a fixed list, never from input). A cache is
 * written after a run that exited 0 (a failed or help-only run compiles only a corner of the code,
 * and an accepted cache is never rewritten).
 */
export function runCachedBundle(body: string, cacheName: string | undefined): unknown {
  // one descriptor for the source and its identity: a rebuild swapping dist/ between a read and a
  // stat would label the old source's cache with the new file
  const fd = openSync(body, constants.O_RDONLY);
  let source: string;
  let st: BigIntStats;
  try {
    st = fstatSync(fd, { bigint: true });
    source = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  // the bundle's file: bundle.mjs swaps dist/ whole, an edit in place moves the mtime
  const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  const path = cacheName && `${body}.${cacheName}.v8cache`;
  const cachedData = path ? readCache(path, identity, Number(st.uid)) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: body, cachedData });
  // only the bundle's owner writes its caches (another's would never be used)
  if (path && st.uid === BigInt(process.getuid?.() ?? -1) && (cachedData === undefined || script.cachedDataRejected === true)) {
    // at exit: the functions this run compiled are in the cache too
    process.once('exit', (code) => {
      if (code === 0) writeCache(path, script.createCachedData(), identity);
    });
  }
  const run = script.runInThisContext() as (e: object, r: NodeRequire, m: object, f: string, d: string) => void;
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(body), module, body, dirname(body));
  return module.exports;
}
