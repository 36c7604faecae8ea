// The CNI plugin's entry point: the runtime's request in, exactly one JSON document out on stdout
// (the result, or the spec's error object, which libcni reads from stdout), logs on stderr. The
// same function serves a plugin process (in-process) and the stub daemon answering the plugin's
// thin client (cni-service.ts).
import { CNI_ERR, CniError, errorResult, parseConfig, parseRequest, SUPPORTED_VERSIONS, toCniError, versionResult, type CniRequest } from '../config/cni.js';
import { jsonText } from './context.js';
import { readStdinText, STDIN_DEADLINE_MS, STDIN_MAX_BYTES } from './cni-stdin.js';

/** Where a request's output goes: the result document, and one-line diagnostics. */
export interface PluginOutput {
  print(text: string): void;
  warn(text: string): void;
}

const toProcess: PluginOutput = { print: (t) => process.stdout.write(t), warn: (t) => process.stderr.write(t) };

/** `tsnet cni plugin`: this process's CNI_* variables and stdin. */
export async function runPlugin(out: PluginOutput = toProcess): Promise<number> {
  const input = await readStdinText(STDIN_MAX_BYTES, STDIN_DEADLINE_MS).catch((err: Error) => err);
  return runPluginRequest(process.env, input, out);
}

/**
 * Runs one CNI command — `env` holds its CNI_* variables, `input` the configuration (or why it
 * could not be read) — prints its result or error; returns the exit status.
 */
export async function runPluginRequest(env: NodeJS.ProcessEnv, input: string | Error, out: PluginOutput, where: 'process' | 'daemon' = 'process'): Promise<number> {
  let version: string = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!;
  try {
    const req = parseRequest(env);
    if (input instanceof Error) throw new CniError(CNI_ERR.io, input.message);
    if (req.command === 'VERSION') {
      // The version in use is the configuration's; VERSION answers even for one tsnet lacks.
      const asked = /"cniVersion"\s*:\s*"([0-9.]{1,16})"/.exec(input)?.[1];
      out.print(jsonText(versionResult(asked ?? version)));
      return 0;
    }
    const conf = parseConfig(input, req.command);
    version = conf.cniVersion;
    const result = await dispatch(req, conf, where);
    if (result !== undefined) out.print(jsonText(result));
    return 0;
  } catch (err) {
    const e = toCniError(err);
    out.warn(`tsnet cni: ${e.message}${e.details ? ` (${e.details})` : ''}\n`);
    out.print(jsonText(errorResult(version, e)));
    return 1;
  }
}

async function dispatch(req: CniRequest, conf: ReturnType<typeof parseConfig>, where: 'process' | 'daemon'): Promise<unknown> {
  const { makeDeps } = await import('../deps.js');
  const { DEFAULT_ROOT } = await import('../state/paths.js');
  // The configuration names the state root; the runtime's environment does not. In the daemon, the
  // crash and stall points of its environment are not this request's (they would stop its DNS).
  const deps = makeDeps({ root: conf.root ?? DEFAULT_ROOT, testHooks: where === 'process' });
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
