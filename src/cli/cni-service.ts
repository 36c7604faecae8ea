// The stub daemon's CNI control socket (<root>/stub/cni.sock): the plugin's thin client
// (cni-loader.ts) hands it an ADD or CHECK, the daemon runs it with its code already compiled and
// answers with what the plugin would have printed. Root's alone: the socket is 0600 in the stub's
// 0700 directory, and the client connects only through a root-owned chain. A request is bounded
// in size and time; one that fails to parse is answered with nothing and closed.
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { Deps } from '../deps.js';
import type { DaemonService } from '../stub/daemon.js';
import { runPluginRequest } from './cni-plugin.js';
import { STDIN_MAX_BYTES } from './cni-stdin.js';

const REQUEST_MAX_BYTES = STDIN_MAX_BYTES + 64 * 1024;
const REQUEST_DEADLINE_MS = 10_000;
const COMMANDS = new Set(['ADD', 'CHECK']);
/** More at once is a runtime gone wrong (or someone else): refused, the client runs them itself. */
const MAX_CONNECTIONS = 64;


interface Request {
  env: Record<string, string>;
  input: string;
}

function parseRequest(text: string): Request | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { env, input } = v as { env?: unknown; input?: unknown };
  if (typeof input !== 'string' || typeof env !== 'object' || env === null) return undefined;
  // only the CNI_* variables, as strings: nothing else of the client's environment reaches the daemon
  const cni = Object.entries(env).filter((e): e is [string, string] => /^CNI_[A-Z_]{1,32}$/.test(e[0]) && typeof e[1] === 'string');
  const req = { env: Object.fromEntries(cni), input };
  return COMMANDS.has(req.env.CNI_COMMAND ?? '') ? req : undefined;
}

/** The socket, served until close(): stops taking requests and waits for the ones under way. */
export function startCniService(deps: Deps): DaemonService {
  const path = deps.paths.cniSocket;
  const running = new Set<Promise<void>>();
  let served = 0;
  /** how long the last requests took in here, ms (status.json: what a runtime waits for past the client) */
  const took: number[] = [];
  const serve = (conn: Socket) => {
    let text = '';
    const timer = setTimeout(() => conn.destroy(), REQUEST_DEADLINE_MS);
    conn.on('error', () => conn.destroy());
    conn.on('close', () => clearTimeout(timer));
    conn.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      if (text.length > REQUEST_MAX_BYTES) conn.destroy();
    });
    conn.on('end', () => {
      clearTimeout(timer);
      const req = parseRequest(text);
      if (!req) return void conn.destroy();
      const output = { stdout: '', stderr: '' };
      const started = performance.now();
      const job = runPluginRequest(req.env, req.input, { print: (t) => (output.stdout += t), warn: (t) => (output.stderr += t) })
        .catch((err: Error) => {
          deps.log.error({ err: err.message }, 'CNI request failed in the stub daemon');
          return 1;
        })
        .then((code) => {
          served++;
          took.push(performance.now() - started);
          if (took.length > 256) took.shift();
          if (!conn.destroyed) conn.end(`${JSON.stringify({ code, ...output })}\n`);
        })
        .finally(() => running.delete(job));
      running.add(job);
    });
  };
  // we hold the stub's singleton lock: a socket file left here is a dead daemon's
  rmSync(path, { force: true });
  // half-open: the client ends its side once the request is written, and waits for the answer
  const server = createServer({ allowHalfOpen: true }, serve);
  server.maxConnections = MAX_CONNECTIONS;
  server.on('error', (err) => deps.log.error({ err: err.message, path }, 'the CNI control socket failed; the plugin runs requests itself'));
  server.listen(path, () => chmodSync(path, 0o600));
  return {
    name: 'cni',
    stats: () => {
      const sorted = [...took].sort((a, b) => a - b);
      const at = (q: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10 : null);
      return { socket: path, served, ms: { p50: at(0.5), p90: at(0.9), of: sorted.length } };
    },
    async close() {
      await new Promise<void>((done) => server.close(() => done()));
      await Promise.allSettled([...running]);
      rmSync(path, { force: true });
    },
  };
}
