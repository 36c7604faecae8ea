// The stub daemon: one process serving every tsnet network of a state root, listening on each
// network's gateway address (the aardvark-dns model). create/rm signal it (SIGHUP) to re-read the
// state; it exits when no container uses it. An flock on <root>/stub/lock makes it a singleton
// that a crash cannot wedge (the kernel drops the lock with the process).
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import * as native from '../../native/index.js';
import { TsnetError } from '../errors.js';
import { ContainerRecordCache } from '../state/lookup.js';
import * as store from '../state/store.js';
import { writeJsonAtomic } from '../state/atomic.js';
import { buildView, type StubView } from './view.js';
import { StubServer } from './server.js';
import { openQueryLog } from './querylog.js';
import { makeStubDir, openPrivate, sharedClockMs, type ReadyFile } from './control.js';
import { recordRestart, type Restart } from './supervisor.js';
import type { Deps } from '../deps.js';
import type { Paths } from '../state/paths.js';


/**
 * A service the daemon runs beside the resolver for as long as it runs (the CLI attaches the CNI
 * plugin's control socket): started once the daemon is the root's only one, closed before it exits.
 */
export interface DaemonService {
  /** its key in status.json */
  readonly name: string;
  stats(): unknown;
  close(): Promise<void>;
}

/** Runs the daemon; `restartedAfter` is the exit status of the one before it, when the supervisor restarted it. */
export async function runDaemon(deps: Deps, restartedAfter?: number, services: (deps: Deps, changed: () => void) => DaemonService[] = () => []): Promise<void> {
  // A restart never makes a state root again: gone (the lab or the user removed it) means done.
  if (restartedAfter !== undefined && !existsSync(deps.paths.stubDir)) return;
  const lockFd = takeSingletonLock(deps.paths);
  // A fresh start (by create) begins a new history; a restart adds to it.
  const restarts = restartedAfter === undefined ? [] : recordRestart(readRestarts(deps.paths), new Date().toISOString(), restartedAfter);
  if (restartedAfter === undefined) rmSync(deps.paths.stubRestarts, { force: true });
  else writeJsonAtomic(deps.paths.stubRestarts, restarts, 0o600);
  const daemon = new Daemon(deps, lockFd, restarts, (d) => services(deps, () => d.statusChanged()));
  process.on('SIGHUP', () => daemon.scheduleReload());
  process.on('SIGTERM', () => void daemon.stop('SIGTERM'));
  process.on('SIGINT', () => void daemon.stop('SIGINT'));
  const out = openPrivate(deps.paths.stubOutput);
  writeSync(out, `stub ${process.pid} started ${daemon.started}\n`);
  closeSync(out);
  daemon.scheduleReload();
  await daemon.finished;
}

/** The restarts so far (an unreadable file counts as none: it is only history). */
function readRestarts(paths: Paths): Restart[] {
  try {
    const v: unknown = JSON.parse(readFileSync(paths.stubRestarts, 'utf8'));
    return Array.isArray(v) ? v.filter((r): r is Restart => typeof r?.at === 'string' && typeof r?.why === 'string').slice(-20) : [];
  } catch {
    return [];
  }
}

/** The flock that makes the daemon a singleton per root; the kernel drops it with the process. */
function takeSingletonLock(paths: Paths): number {
  makeStubDir(paths);
  const lockFd = openSync(paths.stubLock, 'a+', 0o600);
  if (!native.flock(lockFd, native.LOCK_EX | native.LOCK_NB, paths.stubLock)) {
    closeSync(lockFd);
    throw new TsnetError('TSNET_CONFLICT', `the stub resolver for ${paths.root} is already running`, {
      hint: '`tsnet stub status` shows it',
    });
  }
  // Whatever a previous daemon left (it was killed) is not ours: nobody may take it for our ready file.
  for (const f of [paths.stubReady, paths.stubStatus]) rmSync(f, { force: true });
  return lockFd;
}

/** The state root's networks and running stub-mode containers, as the stub sees them. */
function readState(paths: Paths, records: ContainerRecordCache): StubView {
  const containers = records.list(paths).flatMap((c) => (c.record?.dns.stubActive ? [c.record] : []));
  const networks = store.listNetworkNames(paths).flatMap((n) => {
    try {
      const r = store.readNetwork(paths, n);
      return r ? [r] : [];
    } catch {
      return []; // a torn network record: its containers get no listener until it is readable
    }
  });
  return buildView(networks, containers);
}

class Daemon {
  readonly started = new Date().toISOString();
  readonly finished: Promise<void>;
  private finish!: () => void;
  private readonly qlog: ReturnType<typeof openQueryLog>;
  private readonly server: StubServer;
  private readonly statusTimer: NodeJS.Timeout;
  private view: StubView = buildView([], []);
  private generation = 0;
  private stopping = false;
  private reloading: Promise<void> | undefined;
  private again = false;
  private readonly records = new ContainerRecordCache();

  private readonly services: DaemonService[];

  constructor(private readonly deps: Deps, private readonly lockFd: number, private readonly restarts: Restart[], services: (daemon: Daemon) => DaemonService[]) {
    this.finished = new Promise<void>((ok) => (this.finish = ok));
    this.qlog = openQueryLog(deps.paths.stubLog);
    this.server = new StubServer((line) => this.qlog.write(line));
    this.statusTimer = setInterval(() => this.writeStatus(), 1000);
    this.statusTimer.unref();
    this.services = services(this);
  }

  /** A service's counters moved: status.json now, not at the next tick. */
  statusChanged(): void {
    if (!this.stopping) this.writeStatus();
  }

  /** Reloads never overlap: a signal during a reload schedules one more. */
  scheduleReload(): void {
    if (this.reloading) {
      this.again = true;
      return;
    }
    this.reloading = this.reload()
      .catch((err) => this.deps.log.error({ err: (err as Error).message }, 'stub reload failed; keeping the previous state'))
      .finally(() => {
        this.reloading = undefined;
        if (this.again) {
          this.again = false;
          this.scheduleReload();
        }
      });
  }

  async stop(why: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { paths, log } = this.deps;
    log.info({ why }, 'stub stopping');
    clearInterval(this.statusTimer);
    // no new requests from here; ones under way finish after the lock goes (one that needs a stub
    // then starts the next daemon instead of waiting on this one)
    const draining = Promise.allSettled(this.services.map((svc) => svc.close()));
    await this.server.close();
    this.qlog.close();
    for (const f of [paths.stubReady, paths.stubStatus]) rmSync(f, { force: true });
    closeSync(this.lockFd);
    await draining;
    this.finish();
  }

  private async reload(): Promise<void> {
    if (this.stopping) return;
    const stateReadAt = sharedClockMs();
    const view = readState(this.deps.paths, this.records);
    this.view = view;
    this.server.setView(view);
    await this.listenOn(new Set([...view.clients.values()].map((c) => view.networks.get(c.network)!.gateway)));
    this.generation++;
    const ready: ReadyFile = { pid: process.pid, generation: this.generation, stateReadAt, clock: 'monotonic', addresses: this.server.addresses(), containers: view.clients.size };
    writeJsonAtomic(this.deps.paths.stubReady, ready);
    this.writeStatus();
    if (view.clients.size === 0) await this.stop('no container uses the stub any more');
  }

  /** Listeners on exactly these gateways: new ones opened, departed ones closed. */
  private async listenOn(wanted: Set<string>): Promise<void> {
    for (const a of this.server.addresses()) if (!wanted.has(a)) await this.server.unlisten(a);
    for (const a of wanted) {
      try {
        await this.server.listen(a);
      } catch (err) {
        this.deps.log.error({ address: a, err: (err as Error).message }, 'cannot listen on a network gateway');
      }
    }
  }

  private writeStatus(): void {
    const view = this.view;
    const clients = [...view.clients.values()];
    writeJsonAtomic(this.deps.paths.stubStatus, {
      pid: process.pid,
      started: this.started,
      addresses: this.server.addresses(),
      networks: [...view.networks.values()].filter((n) => clients.some((c) => c.network === n.name)).map((n) => ({ name: n.name, gateway: n.gateway, subnet: n.subnet })),
      containers: clients.map((c) => ({ name: c.name, address: c.address, mode: c.mode, upstreams: c.upstreams })),
      stats: this.server.stats,
      queryLog: { droppedChars: this.qlog.dropped },
      restarts: this.restarts,
      ...Object.fromEntries(this.services.map((svc) => [svc.name, svc.stats()])),
      updated: new Date().toISOString(),
    });
  }
}
