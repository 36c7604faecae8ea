// What a runtime runs for every CNI command (dist/cni-plugin.cjs): a thin client. It reads the
// request, and an ADD or CHECK goes to the state root's stub daemon over its control socket when
// one runs there (cni-service.ts): the daemon has the code loaded and compiled, so the runtime
// waits for Node's start-up and the work itself — the pattern of the reference `dhcp` plugin and
// its daemon. Anything else, or no daemon, runs in this process: the plugin's bundle
// (dist/cni-plugin-body.cjs) compiled with a V8 code cache.
//
// Why a code cache by hand: Node 20 has no compile cache of its own (module.enableCompileCache is
// Node 22), and a short-lived process spends much of its life compiling functions on first call.
// A cache is taken after a run, so it holds the functions that run compiled: one per CNI command.
// Trust: the cache is code, run as root. It lives beside the bundle, is used only when owned like
// the bundle and writable by no one else, and names the bundle's file identity (V8 itself checks
// only the source's length) and the Node that wrote it. A missing, stale or rejected cache only
// costs time: the bundle compiles from source and a new cache is written, atomically, if the
// directory lets us.
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { cniSocketPath, DEFAULT_ROOT, notRootOnly } from '../state/root.js';
import { placementOf } from './cni-placement.js';
import { readStdinText, STDIN_DEADLINE_MS, STDIN_MAX_BYTES } from './cni-stdin.js';
import type { PluginOutput } from './cni-plugin.js';

const BODY = join(__dirname, 'cni-plugin-body.cjs');
const MAGIC = 'tsnet-v8-code-cache 2';
/** The commands that get a cache of their own (the file name comes from this list, never from the environment). */
const COMMANDS = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'] as const;
/** What the stub daemon takes: ADD is the runtime's wait before a container starts; CHECK is read-only. DEL stays here: deleting a veth holds the kernel ~20 ms, which would stall the daemon's DNS. */
const VIA_DAEMON = new Set(['ADD', 'CHECK']);
/** Past the work's own deadlines in the daemon (the state lock's 30 s, the stub's start): a runtime's code 11 after this never races a live ADD. */
const DAEMON_DEADLINE_MS = 120_000;
const REPLY_MAX_BYTES = 4 << 20;

const out: PluginOutput = { print: (t) => process.stdout.write(t), warn: (t) => process.stderr.write(t) };

// ---- the stub daemon's socket

/** The state root the configuration names, if it is one this client may use as it is. */
function rootOf(input: string): string | undefined {
  try {
    const root = (JSON.parse(input) as { root?: unknown }).root;
    if (root === undefined) return DEFAULT_ROOT;
    return typeof root === 'string' && root.startsWith('/') && !root.includes('\0') ? root : undefined;
  } catch {
    return undefined; // the plugin's own parser says what is wrong with it
  }
}

/** Only a socket in a directory chain nobody but root can write to may answer for the plugin. */
function trustedSocket(root: string): string | undefined {
  const path = cniSocketPath(root);
  const rootOnly = (p: string, kind: 'directory' | 'socket') => {
    try {
      return notRootOnly(lstatSync(p), kind) === undefined;
    } catch {
      return false;
    }
  };
  return rootOnly(root, 'directory') && rootOnly(dirname(path), 'directory') && rootOnly(path, 'socket') ? path : undefined;
}

interface Reply {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The daemon's answer; undefined when no daemon takes the request (nothing listens, or it refused
 * before doing anything: another build, other namespaces, busy, stopping): then this process runs
 * it. A daemon that fails after taking the request is an error for the runtime (CNI code 11, try
 * again later), never run a second time here.
 */
function viaDaemon(socket: string, env: NodeJS.ProcessEnv, input: string): Promise<Reply | Error | undefined> {
  return new Promise((resolve) => {
    const cni = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('CNI_')));
    const placement = placementOf(__dirname);
    const conn = connect(socket);
    let sent = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => finish(new Error(`the stub daemon did not answer within ${DAEMON_DEADLINE_MS / 1000} s`)), DAEMON_DEADLINE_MS);
    const finish = (r: Reply | Error | undefined) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(r);
    };
    conn.on('connect', () => {
      sent = true;
      conn.end(`${JSON.stringify({ env: cni, input, placement })}\n`);
    });
    conn.on('data', (d: Buffer) => {
      size += d.length;
      if (size > REPLY_MAX_BYTES) return finish(new Error('the stub daemon\'s answer is too large'));
      chunks.push(d);
    });
    conn.on('error', (e) => finish(sent ? new Error(`the stub daemon failed: ${e.message}`) : undefined));
    conn.on('end', () => {
      try {
        const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<Reply> & { refused?: unknown };
        if (typeof r.refused === 'string') return finish(undefined);
        if (typeof r.code !== 'number' || typeof r.stdout !== 'string' || typeof r.stderr !== 'string') throw new Error('not a reply');
        finish(r as Reply);
      } catch {
        finish(new Error('the stub daemon closed the connection without an answer'));
      }
    });
  });
}

/** The spec's error document, for a daemon that failed mid-request (the body is not loaded for it). */
function tryAgainLater(input: string, why: string): string {
  let version = '1.1.0';
  try {
    const v = (JSON.parse(input) as { cniVersion?: unknown }).cniVersion;
    if (typeof v === 'string' && /^[0-9.]{1,16}$/.test(v)) version = v;
  } catch {
    // keep the newest
  }
  return `${JSON.stringify({ cniVersion: version, code: 11, msg: why }, null, 2)}\n`;
}

// ---- the body, in this process, with a code cache

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
    rmSync(tmp, { force: true }); // a read-only or foreign directory: run without a cache
  }
}

type Body = { runPluginRequest(env: NodeJS.ProcessEnv, input: string | Error, out: PluginOutput): Promise<number> };

function loadBody(command: string | undefined): Body {
  const source = readFileSync(BODY, 'utf8');
  const st = statSync(BODY, { bigint: true });
  // the bundle's file: bundle.mjs swaps dist/ whole, an edit in place moves the mtime
  const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  const known = COMMANDS.find((c) => c === command);
  const path = known && `${BODY}.${known}.v8cache`;
  const cachedData = path ? readCache(path, identity, Number(st.uid)) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BODY, cachedData });
  // only the bundle's owner writes its caches (another's would never be used)
  if (path && st.uid === BigInt(process.getuid?.() ?? -1) && (cachedData === undefined || script.cachedDataRejected === true)) {
    // at exit: the functions this run compiled are in the cache too
    process.once('exit', () => writeCache(path, script.createCachedData(), identity));
  }
  const run = script.runInThisContext() as (e: object, r: NodeRequire, m: object, f: string, d: string) => void;
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(BODY), module, BODY, dirname(BODY));
  return module.exports as Body;
}

async function main(): Promise<number> {
  const input = await readStdinText(STDIN_MAX_BYTES, STDIN_DEADLINE_MS).catch((err: Error) => err);
  const command = process.env.CNI_COMMAND;
  const root = typeof input === 'string' && command !== undefined && VIA_DAEMON.has(command) ? rootOf(input) : undefined;
  const socket = root === undefined ? undefined : trustedSocket(root);
  if (socket !== undefined) {
    const reply = await viaDaemon(socket, process.env, input as string);
    if (reply instanceof Error) {
      out.warn(`tsnet cni: ${reply.message}\n`);
      out.print(tryAgainLater(input as string, reply.message));
      return 1;
    }
    if (reply) {
      if (reply.stderr) out.warn(reply.stderr);
      out.print(reply.stdout);
      return reply.code;
    }
  }
  return loadBody(command).runPluginRequest(process.env, input, out);
}

void main().then((code) => {
  process.exitCode = code;
});
