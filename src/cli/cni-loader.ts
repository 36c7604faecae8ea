// What a runtime runs for every CNI command (dist/cni-plugin.cjs): a thin client. It reads the
// request, and an ADD or CHECK goes to the state root's stub daemon over its control socket when
// one runs there (cni-service.ts): the daemon has the code loaded and compiled, so the runtime
// waits for Node's start-up and the work itself — the pattern of the reference `dhcp` plugin and
// its daemon. Anything else, or no daemon, runs in this process: the plugin's bundle
// (dist/cni-plugin-body.cjs) compiled with a V8 code cache (code-cache.ts).
import { lstatSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { cniSocketPath, DEFAULT_ROOT, notRootOnly } from '../state/root.js';
import { placementOf } from './cni-placement.js';
import { readStdinText, STDIN_DEADLINE_MS, STDIN_MAX_BYTES } from './cni-stdin.js';
import type { PluginOutput } from './cni-plugin.js';
import { runCachedBundle } from './code-cache.js';

const BODY = join(__dirname, 'cni-plugin-body.cjs');
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

type Body = { runPluginRequest(env: NodeJS.ProcessEnv, input: string | Error, out: PluginOutput): Promise<number> };

const loadBody = (command: string | undefined): Body => runCachedBundle(BODY, COMMANDS.find((c) => c === command)) as Body;

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
