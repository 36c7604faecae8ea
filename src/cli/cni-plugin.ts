// The CNI plugin's entry point: the runtime's request in, exactly one JSON document out on stdout
// (the result, or the spec's error object, which libcni reads from stdout), logs on stderr.
import { CNI_ERR, CniError, errorResult, LIMITS, parseConfig, parseRequest, SUPPORTED_VERSIONS, toCniError, versionResult, type CniRequest } from '../config/cni.js';
import { readSync } from 'node:fs';
import { waitReadable } from '../../native/index.js';
import { jsonText } from './context.js';

/** How long the plugin waits for the runtime to finish writing the configuration. */
const STDIN_DEADLINE_MS = 10_000;

/**
 * stdin, whole, bounded in size and time (a runtime that never closes it must not hang us). Read
 * synchronously with poll(2) for the deadline: process.stdin's stream machinery alone costs a
 * short-lived plugin ~4 ms of start-up (measured), and nothing else runs meanwhile.
 */
export function readStdin(maxBytes: number, deadlineMs: number): string {
  const end = Date.now() + deadlineMs;
  const chunks: Buffer[] = [];
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (let size = 0; ; ) {
    if (!waitReadable(0, end - Date.now())) throw new CniError(CNI_ERR.io, `the configuration on stdin did not end within ${deadlineMs / 1000} s`);
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw new CniError(CNI_ERR.io, `cannot read the configuration on stdin: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (n === 0) return Buffer.concat(chunks).toString('utf8');
    size += n;
    if (size > maxBytes) throw new CniError(CNI_ERR.io, `the configuration on stdin is larger than ${maxBytes} bytes`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
}

/** Runs one CNI command; prints its result or error; returns the exit status. */
export async function runPlugin(print: (text: string) => void): Promise<number> {
  let version: string = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!;
  try {
    const req = parseRequest(process.env);
    const text = readStdin(LIMITS.stdinBytes, STDIN_DEADLINE_MS);
    if (req.command === 'VERSION') {
      // The version in use is the configuration's; VERSION answers even for one tsnet lacks.
      const asked = /"cniVersion"\s*:\s*"([0-9.]{1,16})"/.exec(text)?.[1];
      print(jsonText(versionResult(asked ?? version)));
      return 0;
    }
    const conf = parseConfig(text, req.command);
    version = conf.cniVersion;
    const out = await dispatch(req, conf);
    if (out !== undefined) print(jsonText(out));
    return 0;
  } catch (err) {
    const e = toCniError(err);
    process.stderr.write(`tsnet cni: ${e.message}${e.details ? ` (${e.details})` : ''}\n`);
    print(jsonText(errorResult(version, e)));
    return 1;
  }
}

async function dispatch(req: CniRequest, conf: ReturnType<typeof parseConfig>): Promise<unknown> {
  const { makeDeps } = await import('../deps.js');
  const { DEFAULT_ROOT } = await import('../state/paths.js');
  // The configuration names the state root; the runtime's environment does not.
  const deps = makeDeps({ root: conf.root ?? DEFAULT_ROOT });
  const api = await import('../api/cni.js');
  switch (req.command) {
    case 'ADD':
      return api.cniAdd(req, conf, deps);
    case 'DEL':
      return api.cniDel(req, deps);
    case 'CHECK':
      return api.cniCheck(req, deps);
    case 'GC':
      return api.cniGc(conf, deps).then(() => undefined);
    case 'STATUS':
      return api.cniStatus(conf, deps);
    default:
      return undefined;
  }
}
