// tsnet resolve: run one resolver-library emulator for a name, on the real network of a
// container (or any netns) or on a simulated one, and print the trace.
import { openSync, closeSync, readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { TsnetError } from '../errors.js';
import * as native from '../../native/index.js';
import { emulatorFor, MODES, parseScenario, seededRandom, simulateLookups, type Family, type LibraryInput, type Trace } from '../../resolvers/index.js';
import { lookupReal } from './real-driver.js';
import { findContainer } from '../api/lookup.js';
import { requireRoot } from '../api/privileges.js';
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
  port?: string | undefined;
}

const FAMILIES = ['any', 'inet', 'inet6'];

export function validateLookupName(name: string): void {
  const bare = name.endsWith('.') && name.length > 1 ? name.slice(0, -1) : name;
  if (bare.length === 0) throw new TsnetError('TSNET_USAGE', 'invalid name "": the name to resolve is empty');
  if (bare.length > 253) throw new TsnetError('TSNET_USAGE', `invalid name "${name.slice(0, 40)}...": longer than 253 characters`);
  const bad = bare.split('.').find((l) => l.length === 0 || l.length > 63);
  if (bad !== undefined) {
    throw new TsnetError('TSNET_USAGE', `invalid name "${name}": ${bad.length === 0 ? 'empty label (two dots in a row)' : 'a label is longer than 63 characters'}`);
  }
}

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

/** Moves this thread into a network namespace for good (the CLI exits afterwards). */
function enterNetns(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new TsnetError('TSNET_USAGE', `cannot open network namespace ${path}: ${(err as NodeJS.ErrnoException).code}`, {
      hint: 'pass a path like /run/netns/NAME or /proc/PID/ns/net',
    });
  }
  try {
    native.setns(fd, native.CLONE_NEWNET, path);
  } catch (err) {
    throw new TsnetError('TSNET_USAGE', `cannot enter network namespace ${path}: ${(err as Error).message}`, {
      hint: 'run as root, and pass a network namespace file',
    });
  } finally {
    closeSync(fd);
  }
}

export async function runResolve(o: ResolveOptions, deps: Deps): Promise<Trace[]> {
  const emulator = emulatorFor(o.mode);
  if (!emulator) throw new TsnetError('TSNET_USAGE', `unknown --mode "${o.mode}": use one of ${MODES.join(', ')}`);
  validateLookupName(o.name);
  const family = (o.family ?? 'any') as Family;
  if (!FAMILIES.includes(family)) throw new TsnetError('TSNET_USAGE', `unknown --family "${o.family}": use any, inet or inet6`);
  const repeat = Number(o.repeat ?? '1');
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1000) throw new TsnetError('TSNET_USAGE', `invalid --repeat "${o.repeat}": use a whole number from 1 to 1000`);
  const port = Number(o.port ?? '53');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TsnetError('TSNET_USAGE', `invalid --port "${o.port}"`);
  if (o.in !== undefined && o.netns !== undefined) throw new TsnetError('TSNET_USAGE', '--in and --netns both name a network: give one');
  if (o.simulate !== undefined && (o.in !== undefined || o.netns !== undefined)) {
    throw new TsnetError('TSNET_USAGE', '--simulate runs on a simulated network: it takes no --in or --netns');
  }

  // The emulated process's view: the container's files with --in, else the host's, each overridable.
  const container = o.in !== undefined ? findContainer(deps, o.in) : undefined;
  const files = container?.files;
  const input: LibraryInput = {
    resolvConf: o.resolvConf !== undefined ? readInput(o.resolvConf, 'resolv-conf') : readOptional(files?.resolvConf ?? '/etc/resolv.conf') ?? '',
    hosts: o.hosts !== undefined ? readInput(o.hosts, 'hosts') : readOptional(files?.hosts ?? '/etc/hosts') ?? '',
    nsswitch: o.nsswitch !== undefined ? readInput(o.nsswitch, 'nsswitch') : readOptional(files?.nsswitch ?? '/etc/nsswitch.conf'),
    env: parseEnv(o.env ?? []),
    hostname: container?.hostname ?? osHostname(),
  };
  const requests = Array.from({ length: repeat }, () => ({ name: o.name, family, canonname: o.canonname ?? false }));

  if (o.simulate !== undefined) {
    let scenario;
    try {
      // A file, or the JSON itself when it starts with "{".
      const text = o.simulate.trimStart().startsWith('{') ? o.simulate : readInput(o.simulate, 'simulate');
      scenario = parseScenario(JSON.parse(text));
    } catch (err) {
      if (err instanceof TsnetError) throw err;
      throw new TsnetError('TSNET_USAGE', `scenario ${o.simulate}: ${(err as Error).message}`);
    }
    return simulateLookups(emulator, input, scenario, requests, Math.random);
  }

  const netns = container?.namespaces.net ?? o.netns;
  if (netns !== undefined) {
    requireRoot('resolve --in/--netns');
    enterNetns(netns);
  }
  const warnings: string[] = [];
  const process = emulator.createProcess({ input, random: Math.random, warn: (m) => warnings.push(m) });
  const traces: Trace[] = [];
  for (const request of requests) traces.push(await lookupReal(process, request, { mode: emulator.mode, port, warnings: [...warnings] }));
  return traces;
}

export function renderTrace(t: Trace): string {
  const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
  const head = t.result.error
    ? `${t.mode}: ${t.name} failed with ${t.result.error} after ${secs(t.elapsed_ms)}`
    : `${t.mode}: ${t.name} → ${t.result.addresses.join(', ') || '(no address)'} in ${secs(t.elapsed_ms)}`;
  const rows = t.queries.map((q) =>
    [q.t_ms.toFixed(1).padStart(9), q.server.padEnd(16), q.transport.padEnd(4), `${q.qtype} ${q.qname}`.padEnd(40), q.outcome.padEnd(17), q.rtt_ms === null ? '-' : q.rtt_ms.toFixed(1)].join('  '),
  );
  const lines = [head];
  if (rows.length > 0) lines.push(`  ${'t (ms)'.padStart(9)}  ${'server'.padEnd(16)}  ${'via'.padEnd(4)}  ${'query'.padEnd(40)}  ${'outcome'.padEnd(17)}  rtt (ms)`, ...rows.map((r) => `  ${r}`));
  else lines.push('  no DNS query was sent');
  for (const w of t.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n') + '\n';
}
