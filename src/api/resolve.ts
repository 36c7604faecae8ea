// tsnet resolve: run one resolver-library emulator for a name, on the real network of a
// container (or any netns) or on a simulated one; the traces go back to the command to print.
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { isTsnetError, TargetError, TsnetError } from '../errors.js';
import { emulatorFor, hostOf, MODES, parseScenario, simulateRounds, type Family, type LibraryInput, type Trace } from '../../resolvers/index.js';
import { lookupBurstReal, lookupReal } from '../driver/real-driver.js';
import { kernelSortHost } from '../net/local-net.js';
import { validateLookupName } from '../config/validate.js';
import { enterNetnsForGood } from '../ns/enter.js';
import { checkTarget } from '../engines/target.js';
import { containerTarget } from '../engines/target-view.js';
import { checkEngineOptions } from '../engines/ref.js';
import { requireRoot } from './privileges.js';
import type { Deps } from '../deps.js';

export interface ResolveOptions {
  name: string;
  mode: string;
  in?: string | undefined;
  netns?: string | undefined;
  resolvConf?: string | undefined;
  hosts?: string | undefined;
  nsswitch?: string | undefined;
  env?: string[] | undefined;
  family?: string | undefined;
  canonname?: boolean | undefined;
  simulate?: string | undefined;
  repeat?: string | undefined;
  concurrency?: string | undefined;
  port?: string | undefined;
  gaiConf?: string | undefined;
}

const FAMILIES = ['any', 'inet', 'inet6'];

function readInput(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TsnetError('TSNET_USAGE', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: `pass a readable file with --${what}`,
    });
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new TsnetError('TSNET_USAGE', `invalid --env "${p}": expected KEY=VALUE, like RES_OPTIONS=timeout:1`);
    env[p.slice(0, i)] = p.slice(i + 1);
  }
  return env;
}

export async function runResolve(o: ResolveOptions, deps: Deps): Promise<Trace[]> {
  const emulator = emulatorFor(o.mode);
  if (!emulator) throw new TsnetError('TSNET_USAGE', `unknown --mode "${o.mode}": use one of ${MODES.join(', ')}`);
  validateLookupName(o.name);
  const family = (o.family ?? 'any') as Family;
  if (!FAMILIES.includes(family)) throw new TsnetError('TSNET_USAGE', `unknown --family "${o.family}": use any, inet or inet6`);
  const repeat = Number(o.repeat ?? '1');
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1000) throw new TsnetError('TSNET_USAGE', `invalid --repeat "${o.repeat}": use a whole number from 1 to 1000`);
  const concurrency = Number(o.concurrency ?? '1');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw new TsnetError('TSNET_USAGE', `invalid --concurrency "${o.concurrency}": use a whole number from 1 to 1000`);
  if (repeat * concurrency > 10_000) throw new TsnetError('TSNET_USAGE', `--repeat ${repeat} × --concurrency ${concurrency} is over 10 000 lookups: ask for fewer`);
  const port = Number(o.port ?? '53');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TsnetError('TSNET_USAGE', `invalid --port "${o.port}"`);
  if (o.in !== undefined && o.netns !== undefined) throw new TsnetError('TSNET_USAGE', '--in and --netns both name a network: give one');
  if (o.simulate !== undefined && (o.in !== undefined || o.netns !== undefined)) {
    throw new TsnetError('TSNET_USAGE', '--simulate runs on a simulated network: it takes no --in or --netns');
  }

  if (o.in !== undefined) checkTarget(deps, o.in);
  else checkEngineOptions(undefined, deps.engines);
  // --in runs inside a namespace: root, asked before any engine's CLI is spawned for the target.
  if (o.in !== undefined || o.netns !== undefined) requireRoot('resolve --in/--netns');

  // The emulated process's view: the target's files with --in, else the host's, each overridable.
  const target = o.in !== undefined ? containerTarget(deps, o.in) : undefined;
  const input: LibraryInput = {
    resolvConf: o.resolvConf !== undefined ? readInput(o.resolvConf, 'resolv-conf') : target ? target.resolvConf : readOptional('/etc/resolv.conf') ?? '',
    hosts: o.hosts !== undefined ? readInput(o.hosts, 'hosts') : target ? target.hosts : readOptional('/etc/hosts') ?? '',
    nsswitch: o.nsswitch !== undefined ? readInput(o.nsswitch, 'nsswitch') : target ? target.nsswitch : readOptional('/etc/nsswitch.conf'),
    env: parseEnv(o.env ?? []),
    hostname: target?.hostname ?? osHostname(),
    // the target's gai.conf; on the host, the host's; a simulation has none unless given (its
    // result must not depend on the machine it runs on)
    gaiConf: o.gaiConf !== undefined ? readInput(o.gaiConf, 'gai-conf') : target ? target.gaiConf : o.simulate !== undefined ? undefined : readOptional('/etc/gai.conf'),
  };
  const request = { name: o.name, family, canonname: o.canonname ?? false };
  const rounds = Array.from({ length: repeat }, () => Array.from({ length: concurrency }, () => request));

  if (o.simulate !== undefined) {
    let scenario;
    try {
      // A file, or the JSON itself when it starts with "{".
      const text = o.simulate.trimStart().startsWith('{') ? o.simulate : readInput(o.simulate, 'simulate');
      scenario = parseScenario(JSON.parse(text));
      if (scenario.network) input.host = hostOf(scenario.network);
    } catch (err) {
      if (err instanceof TsnetError) throw err;
      throw new TsnetError('TSNET_USAGE', `scenario ${o.simulate}: ${(err as Error).message}`);
    }
    return simulateRounds(emulator, input, scenario, rounds, Math.random);
  }

  if (target !== undefined) {
    try {
      enterNetnsForGood(target.netns);
    } catch (err) {
      // The target is there but cannot be entered: "target not reachable", as for diagnose.
      if (isTsnetError(err)) throw new TargetError(err.code, `cannot enter ${target.label}: ${err.message}`, err.hint === undefined ? {} : { hint: err.hint });
      throw err;
    }
  } else if (o.netns !== undefined) enterNetnsForGood(o.netns);
  // the libraries sort addresses with the kernel's help (connect + getsockname): this namespace's
  input.host = kernelSortHost();
  const warnings: string[] = [];
  const process = emulator.createProcess({ input, random: Math.random, warn: (m) => warnings.push(m) });
  const traces: Trace[] = [];
  for (const round of rounds) {
    const opts = { mode: emulator.mode, port, warnings: [...warnings] };
    traces.push(...(round.length === 1 ? [await lookupReal(process, round[0]!, opts)] : await lookupBurstReal(process, round, opts)));
  }
  return traces;
}
