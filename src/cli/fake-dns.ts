// `tsnet fake-dns`: parse the options, optionally move into a network namespace for good, serve
// until SIGINT/SIGTERM. All input is checked before anything is opened or bound.
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { isIPv4, isIPv6 } from '../../resolvers/core/address.js';
import { addZoneEntry, parseBehaviour, parseZoneFile, type Zone } from '../../resolvers/core/responder.js';
import { TsnetError, usageError } from '../errors.js';
import type { CliContext } from './context.js';
import { enterNetnsForGood } from '../ns/enter.js';
import { BindError, formatAddress, startFakeDns, type FakeDnsListener, type FakeDnsLogLine } from '../fakedns/server.js';

export interface FakeDnsCliOptions {
  listen?: string[] | undefined;
  zone?: string[] | undefined;
  zoneFile?: string | undefined;
  log?: string | undefined;
  netns?: string | undefined;
  readyFile?: string | undefined;
}

const LISTEN_HINT = 'use --listen ADDR[:PORT]=BEHAVIOURS, like 10.0.0.53=answer or [fd00::53]:5353=delay:200,drop-aaaa';
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function parsePort(text: string | undefined, spec: string): number {
  if (text === undefined) return 53;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw usageError(`invalid --listen "${spec}": bad port "${text}"`, LISTEN_HINT);
  return port;
}

/** "ADDR[:PORT][=BEHAVIOURS]" with ADDR an IPv4 address, [IPv6] or a bare IPv6 address (port 53). */
export function parseListen(spec: string): FakeDnsListener {
  const eq = spec.indexOf('=');
  const where = eq < 0 ? spec : spec.slice(0, eq);
  let behaviour;
  try {
    behaviour = parseBehaviour(eq < 0 ? 'answer' : spec.slice(eq + 1));
  } catch (err) {
    throw usageError(`invalid --listen "${spec}": ${message(err)}`);
  }
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(where);
  if (bracketed) {
    if (!isIPv6(bracketed[1]!)) throw usageError(`invalid --listen "${spec}": "${bracketed[1]}" is not an IPv6 address`, LISTEN_HINT);
    return { address: bracketed[1]!, port: parsePort(bracketed[2], spec), behaviour };
  }
  if (isIPv6(where)) return { address: where, port: 53, behaviour };
  const [address, port] = where.split(/:(.*)/s) as [string, string | undefined];
  if (!isIPv4(address)) {
    throw usageError(`invalid --listen "${spec}": "${address}" is not an IPv4 address (write IPv6 as [ADDR]:PORT)`, LISTEN_HINT);
  }
  return { address, port: parsePort(port, spec), behaviour };
}

/** The zone file (if any) first, then the --zone entries on top. */
export function buildZone(entries: string[], zoneFile: string | undefined): Zone {
  let zone: Zone = new Map();
  if (zoneFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(zoneFile, 'utf8');
    } catch (err) {
      throw usageError(`cannot read zone file ${zoneFile}: ${message(err)}`);
    }
    try {
      zone = parseZoneFile(text);
    } catch (err) {
      throw usageError(`zone file ${zoneFile}: ${message(err)}`, 'one "NAME TYPE VALUE" per line, TYPE one of A, AAAA, CNAME, TXT; # starts a comment');
    }
  }
  for (const entry of entries) {
    try {
      addZoneEntry(zone, entry);
    } catch (err) {
      throw usageError(message(err), 'use --zone NAME=TYPE:VALUE, like db.example=A:10.0.0.5');
    }
  }
  return zone;
}

/** Resolves on the first SIGINT or SIGTERM (installed before binding, so none is missed), or on stop(). */
function stopper(): { stopped: Promise<Error | undefined>; stop(err?: Error): void; dispose(): void } {
  let stop!: (err?: Error) => void;
  const stopped = new Promise<Error | undefined>((done) => (stop = done));
  const onSignal = () => stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopped,
    stop,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Where log lines go: stdout (through the CLI's printer) or a file written synchronously, so a
 * line is on disk when the query is answered and nothing is lost at SIGTERM. A log that can no
 * longer be written stops the server: a reproduction without its log is worthless.
 */
function openLog(target: string | undefined, ctx: Pick<CliContext, 'print'>, stop: (err?: Error) => void) {
  if (target === undefined || target === '-') {
    // The reader went away (`| head`): stop quietly, as a SIGPIPE would have.
    const onError = () => stop();
    process.stdout.on('error', onError);
    return {
      write: (line: FakeDnsLogLine) => ctx.print(JSON.stringify(line) + '\n'),
      close: () => process.stdout.off('error', onError),
    };
  }
  let fd: number;
  try {
    fd = openSync(target, 'w');
  } catch (err) {
    throw usageError(`cannot open log file ${target}: ${message(err)}`);
  }
  let failed = false;
  return {
    write: (line: FakeDnsLogLine) => {
      if (failed) return;
      try {
        writeSync(fd, JSON.stringify(line) + '\n');
      } catch (err) {
        failed = true;
        stop(new TsnetError('TSNET_SYSTEM', `cannot write the query log ${target}: ${message(err)}`));
      }
    },
    close: () => closeSync(fd),
  };
}

function writeReadyFile(path: string, addresses: string[]): void {
  // Write then rename: whoever polls for the file never reads it half-written.
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, addresses.map((a) => `${a}\n`).join(''));
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw usageError(`cannot write ready file ${path}: ${message(err)}`);
  }
}

/** Runs the server until SIGINT/SIGTERM. Throws TsnetError (with nothing left running) on bad input. */
export async function runFakeDns(opts: FakeDnsCliOptions, ctx: Pick<CliContext, 'print'>): Promise<void> {
  const specs = opts.listen ?? [];
  if (specs.length === 0) throw usageError('fake-dns needs at least one --listen', LISTEN_HINT);
  const listeners = specs.map(parseListen);
  const seen = new Set<string>();
  for (const l of listeners) {
    const key = formatAddress(l.address, l.port);
    if (seen.has(key) && l.port !== 0) throw usageError(`--listen ${key} is given twice`);
    seen.add(key);
  }
  const zone = buildZone(opts.zone ?? [], opts.zoneFile);

  // A ready file from an earlier run must not announce this one before it is listening.
  if (opts.readyFile !== undefined) {
    try {
      rmSync(opts.readyFile, { force: true });
    } catch (err) {
      throw usageError(`cannot replace ready file ${opts.readyFile}: ${message(err)}`);
    }
  }
  if (opts.netns !== undefined) enterNetnsForGood(opts.netns);
  const stop = stopper();
  let log;
  try {
    log = openLog(opts.log, ctx, stop.stop);
  } catch (err) {
    stop.dispose();
    throw err;
  }
  try {
    let server;
    try {
      server = await startFakeDns({ listeners, zone, onLog: (line) => log.write(line) });
    } catch (err) {
      if (err instanceof BindError) {
        const hint = err.code === 'EADDRNOTAVAIL'
          ? `add the address first (ip addr add ADDR/32 dev lo${opts.netns === undefined ? '' : ' inside that namespace'}), or pick one that exists`
          : undefined;
        throw usageError(err.message, hint);
      }
      throw err;
    }
    let failure: Error | undefined;
    try {
      if (opts.readyFile !== undefined) writeReadyFile(opts.readyFile, server.addresses);
      failure = await stop.stopped;
    } finally {
      await server.close();
      if (opts.readyFile !== undefined) rmSync(opts.readyFile, { force: true });
    }
    if (failure) throw failure;
  } finally {
    stop.dispose();
    log.close();
  }
}
