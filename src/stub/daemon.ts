// The stub daemon: one process serving every tsnet network of a state root, listening on each
// network's gateway address (the aardvark-dns model). create/rm signal it (SIGHUP) to re-read the
// state; it exits when no container uses it. An flock on <root>/stub/lock makes it a singleton
// that a crash cannot wedge (the kernel drops the lock with the process).
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import * as native from '../../native/index.js';
import { TsnetError } from '../errors.js';
import { listContainers } from '../state/lookup.js';
import * as store from '../state/store.js';
import { writeJsonAtomic } from '../state/atomic.js';
import { buildView } from './view.js';
import { StubServer } from './server.js';
import { openQueryLog } from './querylog.js';
import type { Deps } from '../deps.js';

export interface ReadyFile {
  pid: number;
  generation: number;
  addresses: string[];
  containers: number;
}

export async function runDaemon(deps: Deps): Promise<void> {
  const { paths, log } = deps;
  mkdirSync(paths.stubDir, { recursive: true });
  const lockFd = openSync(paths.stubLock, 'a+', 0o600);
  if (!native.flock(lockFd, native.LOCK_EX | native.LOCK_NB, paths.stubLock)) {
    closeSync(lockFd);
    throw new TsnetError('TSNET_CONFLICT', `the stub resolver for ${paths.root} is already running`, {
      hint: '`tsnet stub status` shows it',
    });
  }
  const qlog = openQueryLog(paths.stubLog);
  const server = new StubServer((line) => qlog.write(line));
  const started = new Date().toISOString();
  let generation = 0;
  let stopping = false;
  let finish!: () => void;
  const finished = new Promise<void>((ok) => (finish = ok));

  const writeStatus = () => {
    const view = currentView;
    writeJsonAtomic(paths.stubStatus, {
      pid: process.pid,
      started,
      addresses: server.addresses(),
      networks: [...view.networks.values()].filter((n) => [...view.clients.values()].some((c) => c.network === n.name)).map((n) => ({ name: n.name, gateway: n.gateway, subnet: n.subnet })),
      containers: [...view.clients.values()].map((c) => ({ name: c.name, address: c.address, mode: c.mode, upstreams: c.upstreams })),
      stats: server.stats,
      updated: new Date().toISOString(),
    });
  };
  let currentView = buildView([], []);

  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'stub stopping');
    clearInterval(statusTimer);
    await server.close();
    qlog.close();
    for (const f of [paths.stubReady, paths.stubStatus]) rmSync(f, { force: true });
    closeSync(lockFd);
    finish();
  };

  const reload = async () => {
    if (stopping) return;
    const containers = listContainers(paths).flatMap((c) => (c.record ? [c.record] : []));
    const networks = store.listNetworkNames(paths).flatMap((n) => {
      try {
        const r = store.readNetwork(paths, n);
        return r ? [r] : [];
      } catch {
        return [];
      }
    });
    const view = buildView(networks, containers.filter((c) => c.dns.stubActive));
    currentView = view;
    server.setView(view);
    const wanted = new Set([...view.clients.values()].map((c) => view.networks.get(c.network)!.gateway));
    for (const a of server.addresses()) if (!wanted.has(a)) await server.unlisten(a);
    for (const a of wanted) {
      try {
        await server.listen(a);
      } catch (err) {
        log.error({ address: a, err: (err as Error).message }, 'cannot listen on a network gateway');
      }
    }
    generation++;
    const ready: ReadyFile = { pid: process.pid, generation, addresses: server.addresses(), containers: view.clients.size };
    writeJsonAtomic(paths.stubReady, ready);
    writeStatus();
    if (view.clients.size === 0) await stop('no container uses the stub any more');
  };

  // Reloads never overlap: a signal during a reload schedules one more.
  let reloading: Promise<void> | undefined;
  let again = false;
  const scheduleReload = () => {
    if (reloading) {
      again = true;
      return;
    }
    reloading = reload()
      .catch((err) => log.error({ err: (err as Error).message }, 'stub reload failed; keeping the previous state'))
      .finally(() => {
        reloading = undefined;
        if (again) {
          again = false;
          scheduleReload();
        }
      });
  };

  process.on('SIGHUP', scheduleReload);
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const statusTimer = setInterval(writeStatus, 1000);
  statusTimer.unref();
  writeFileSync(paths.stubOutput, `stub ${process.pid} started ${started}\n`, { flag: 'a' });
  scheduleReload();
  await finished;
}
