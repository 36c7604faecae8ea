// What a runtime runs for every CNI ADD and DEL (dist/cni-plugin.cjs): loads the plugin's bundle
// (dist/cni-plugin-body.cjs) with a V8 code cache. Node 20 has no compile cache of its own
// (module.enableCompileCache is Node 22), and a plugin process is short-lived: most of its time past
// Node's start-up went into compiling functions on first call — measured 15-20 ms of a ~50 ms ADD.
// A cache is taken after a run, so it holds the functions that run compiled: one per CNI command
// (an ADD's cache has little of what DEL runs).
//
// Trust: the cache is code, run as root. It lives beside the bundle, is used only when owned like
// the bundle and writable by no one else, and names the bundle's hash (V8 itself checks only the
// source's length) and the Node that wrote it. A missing, stale or rejected cache only costs time:
// the bundle compiles from source and a new cache is written, atomically, if the directory lets us.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

const BODY = join(__dirname, 'cni-plugin-body.cjs');
const MAGIC = 'tsnet-v8-code-cache 1';
/** The commands that get a cache of their own (the file name comes from this list, never from the environment). */
const COMMANDS = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'] as const;

const header = (bodyHash: string): string => `${MAGIC} ${bodyHash} ${process.version}\n`;

/** The cache at `path` for this bundle and this Node, if only the bundle's owner can have written it. */
function readCache(path: string, bodyHash: string, bodyOwner: number): Buffer | undefined {
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
    return eol > 0 && bytes.subarray(0, eol + 1).toString('latin1') === header(bodyHash) ? bytes.subarray(eol + 1) : undefined;
  } finally {
    closeSync(fd);
  }
}

function writeCache(path: string, data: Buffer, bodyHash: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(header(bodyHash), 'latin1'), data]), { mode: 0o644 });
    renameSync(tmp, path);
  } catch {
    rmSync(tmp, { force: true }); // a read-only or foreign directory: run without a cache
  }
}

function main(): void {
  const source = readFileSync(BODY, 'utf8');
  const bodyHash = createHash('sha256').update(source).digest('hex');
  const command = COMMANDS.find((c) => c === process.env.CNI_COMMAND);
  const path = command && `${BODY}.${command}.v8cache`;
  const cachedData = path ? readCache(path, bodyHash, statSync(BODY).uid) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BODY, cachedData });
  if (path && (cachedData === undefined || script.cachedDataRejected === true)) {
    // at exit: the functions this run compiled are in the cache too
    process.once('exit', () => writeCache(path, script.createCachedData(), bodyHash));
  }
  const run = script.runInThisContext() as (e: object, r: NodeRequire, m: object, f: string, d: string) => void;
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(BODY), module, BODY, dirname(BODY));
}

main();
