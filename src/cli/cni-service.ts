// The stub daemon's CNI control socket (<root>/stub/cni.sock): the plugin's thin client
// (cni-loader.ts) hands it an ADD or CHECK, the daemon runs it with its code already compiled and
// answers with what the plugin would have printed. Root's alone: the socket is 0600 in the stub's
// 0700 directory, and the client connects only through a root-owned chain.
//
// The daemon runs a request only where the plugin would have: in the client's network and mount
// namespaces (the bridge, the host ends, CNI_NETNS as a path) and from the client's build of tsnet.
// Otherwise — and when too many are under way, or the daemon is stopping — it answers "refused"
// before doing anything, and the client runs the request itself. Receiving a request is bounded in
// size and time; one that fails to parse is answered with nothing and closed.
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { builtEntry } from '../built.js';
import { CNI_ERR, CniError, errorResult } from '../config/cni.js';
import type { Deps } from '../deps.js';
import type { DaemonService } from '../stub/daemon.js';
import { quantiles } from '../quantile.js';
import { jsonText } from './context.js';
import { runPluginRequest } from './cni-plugin.js';
import { STDIN_MAX_BYTES } from './cni-stdin.js';
import { misplaced, placementOf, type Placement } from './cni-placement.js';

const REQUEST_MAX_BYTES = STDIN_MAX_BYTES + 64 * 1024;
/** for the client to send its request; the work has its own deadlines (the state lock, the stub) */
const REQUEST_DEADLINE_MS = 10_000;
const COMMANDS = new Set(['ADD', 'CHECK']);
/** More at once is a runtime gone wrong (or someone else): refused, the client runs them itself. */
const MAX_IN_FLIGHT = 64;

interface Request {
  env: Record<string, string>;
  input: string;
  placement: Placement;
}

function parseRequest(bytes: Buffer): Request | undefined {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { env, input, placement } = v as { env?: unknown; input?: unknown; placement?: Partial<Placement> };
  if (typeof input !== 'string' || typeof env !== 'object' || env === null || typeof placement !== 'object' || placement === null) return undefined;
  const { net, mnt, build } = placement;
  if (typeof net !== 'string' || typeof mnt !== 'string' || typeof build !== 'string') return undefined;
  // only the CNI_* variables, as strings: nothing else of the client's environment reaches the daemon
  const cni = Object.entries(env).filter((e): e is [string, string] => /^CNI_[A-Z_]{1,32}$/.test(e[0]) && typeof e[1] === 'string');
  const req = { env: Object.fromEntries(cni), input, placement: { net, mnt, build } };
  return COMMANDS.has(req.env.CNI_COMMAND ?? '') ? req : undefined;
}

/**
 * The socket, served until close(): it stops taking requests (refusing any that arrive meanwhile)
 * and waits for the ones under way. `changed` rewrites the daemon's status (the counters), before
 * the answer goes out.
 */
export function startCniService(deps: Deps, changed: () => void): DaemonService {
  const path = deps.paths.cniSocket;
  const ours = placementOf(dirname(builtEntry('tsnet.js')));
  const running = new Set<Promise<void>>();
  let served = 0;
  let closing = false;
  /** how long the last requests took in here, ms (status.json: what a runtime waits for past the client) */
  const took: number[] = [];

  const answer = (conn: Socket, value: object) => {
    if (!conn.destroyed) conn.end(`${JSON.stringify(value)}\n`);
  };
  const run = (conn: Socket, req: Request) => {
    const output = { stdout: '', stderr: '' };
    const started = performance.now();
    const job = runPluginRequest(req.env, req.input, { print: (t) => (output.stdout += t), warn: (t) => (output.stderr += t) }, 'daemon')
      .catch((err: Error) => {
        // runPluginRequest answers every failure itself; this is a bug's last line of defence
        deps.log.error({ err: err.message }, 'CNI request failed in the stub daemon');
        output.stdout = jsonText(errorResult('1.1.0', new CniError(CNI_ERR.tryAgain, `the stub daemon failed: ${err.message}`)));
        return 1;
      })
      .then((code) => {
        served++;
        took.push(performance.now() - started);
        if (took.length > 256) took.shift();
        changed();
        answer(conn, { code, ...output });
      })
      .finally(() => running.delete(job));
    running.add(job);
  };
  const serve = (conn: Socket) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => conn.destroy(), REQUEST_DEADLINE_MS);
    conn.on('error', () => conn.destroy());
    conn.on('close', () => clearTimeout(timer));
    conn.on('data', (d: Buffer) => {
      size += d.length;
      if (size > REQUEST_MAX_BYTES) return void conn.destroy();
      chunks.push(d);
    });
    conn.on('end', () => {
      clearTimeout(timer);
      const req = parseRequest(Buffer.concat(chunks));
      if (!req) return void conn.destroy();
      const refused = closing ? 'the daemon is stopping'
        : running.size >= MAX_IN_FLIGHT ? `${MAX_IN_FLIGHT} requests are under way`
        : misplaced(ours, req.placement);
      if (refused !== undefined) return answer(conn, { refused });
      run(conn, req);
    });
  };

  // we hold the stub's singleton lock: a socket file left here is a dead daemon's
  rmSync(path, { force: true });
  // half-open: the client ends its side once the request is written, and waits for the answer
  const server = createServer({ allowHalfOpen: true }, serve);
  server.on('error', (err) => deps.log.error({ err: err.message, path }, 'the CNI control socket failed; the plugin runs requests itself'));
  server.listen(path, () => chmodSync(path, 0o600));
  return {
    name: 'cni',
    stats: () => {
      const [p50, p90] = quantiles(took, [0.5, 0.9]).map((v) => (v === null ? null : Math.round(v * 10) / 10));
      return { socket: path, served, ms: { p50: p50!, p90: p90!, of: took.length } };
    },
    async close() {
      closing = true;
      // libuv unlinks the socket's path here, while this daemon still holds the stub's lock: never
      // the socket of the daemon after it
      const closed = new Promise<void>((done) => server.close(() => done()));
      await Promise.allSettled([...running]);
      await closed;
    },
  };
}
