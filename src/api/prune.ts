// tsnet prune: removes what a crash (or a hand edit of the state) left behind, and says what it did.
// Everything tsnet creates is named by a record written first, so most leftovers are records of
// operations whose process died; the rest are found by the root's tag in kernel object names.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requireRoot } from './privileges.js';
import { stallPoint } from './crash-points.js';
import { listContainers } from '../state/lookup.js';
import { teardownContainer, tidyRoot } from './teardown.js';
import { dropNetworkIfUnused } from './network.js';
import { RtnlSocket, withRtnl } from '../net/rtnl.js';
import { inNetns } from '../ns/enter.js';
import { releaseHandle } from '../ns/handles.js';
import { withLock } from '../state/lock.js';
import { IP_NETNS_DIR } from '../state/paths.js';
import * as store from '../state/store.js';
import type { Deps } from '../deps.js';
import { notifyStub, stubRunning } from '../stub/control.js';

export interface PruneReport {
  removed: string[];
  /** things that look like leftovers but may not be ours, or are busy */
  skipped: string[];
  errors: string[];
}

/** An empty container directory younger than this may be a create in progress. */
const CLAIM_GRACE_MS = 30_000;

const isMounted = (path: string) => {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
};

export async function prune(deps: Deps): Promise<PruneReport> {
  requireRoot('prune');
  const { paths } = deps;
  const report: PruneReport = { removed: [], skipped: [], errors: [] };
  if (!existsSync(paths.root)) return report;
  const tear = (name: string, why: string, record?: Parameters<typeof teardownContainer>[1]['record']) => {
    try {
      teardownContainer(deps, { name, record });
      report.removed.push(`container ${name} (${why})`);
    } catch (err) {
      report.errors.push((err as Error).message);
    }
  };

  for (const c of listContainers(deps.paths)) {
    const r = c.record;
    if (!r) {
      // The record is written right after the claim, so only an empty, young directory can be a
      // create still in progress; anything more in it means the record existed and was lost.
      const dir = paths.containerDir(c.name);
      const young = Date.now() - statSync(dir).mtimeMs < CLAIM_GRACE_MS;
      if (c.problem === 'no record' && young && readdirSync(dir).length === 0) {
        report.skipped.push(`container ${c.name} (no record yet: a create may be in progress)`);
      } else tear(c.name, c.problem ?? 'no record');
    } else if (r.status !== 'running') {
      if (store.isOwnerAlive(r.owner)) {
        report.skipped.push(`container ${c.name} (${r.status} by live process ${r.owner!.pid})`);
      } else tear(c.name, `${r.status} when process ${r.owner?.pid} died`, r);
    } else if (!isMounted(r.namespaces.net)) {
      tear(c.name, 'record without a namespace', r);
    }
  }
  stallPoint(deps, 'prune:listed');

  // The sweeps below list their objects first and the containers second, never from the set made
  // above: a create that started since claimed its name before making its veth or reserving its
  // address, so whatever they list has its container directory by the time it is checked.
  withRtnl((host) => {
    const links = host.listLinks();
    const liveVeths = new Set(store.listContainerNames(paths).map((n) => paths.hostVeth(n)));
    for (const l of links) {
      if (paths.isOurVeth(l.name) && !liveVeths.has(l.name)) {
        host.deleteLink(l.name);
        report.removed.push(`veth ${l.name} (no container record)`);
      }
    }
    withLock(paths.lockFile, () => {
      for (const net of store.listNetworkNames(paths)) {
        const reservations = store.listReservations(paths, net);
        const owners = new Set(store.listContainerNames(paths));
        for (const r of reservations) {
          if (!owners.has(r.owner)) {
            store.releaseAddress(paths, net, r.ip, r.owner);
            report.removed.push(`address ${r.ip} on network ${net} (owner ${r.owner} is gone)`);
          }
        }
        try {
          if (dropNetworkIfUnused(deps, host, net)) report.removed.push(`network ${net} (no containers)`);
        } catch (err) {
          report.errors.push(`network ${net}: ${(err as Error).message}`);
        }
      }
      const bridges = new Set(store.listNetworkNames(paths).map((n) => store.readNetwork(paths, n)?.bridge));
      for (const l of host.listLinks()) {
        if (paths.isOurBridge(l.name) && !bridges.has(l.name)) {
          host.deleteLink(l.name);
          report.removed.push(`bridge ${l.name} (no network record)`);
        }
      }
    });
    pruneIpNetns(deps, host, report);
  });
  removeStaleTempFiles(paths.containersDir, report);
  await notifyStub(deps);
  if (!stubRunning(deps)) {
    for (const f of [paths.stubReady, paths.stubStatus]) {
      if (existsSync(f)) {
        rmSync(f, { force: true });
        report.removed.push(`stub file ${f} (the stub is not running)`);
      }
    }
  }
  tidyRoot(deps);
  return report;
}

/** /run/netns/tsnet-* without a container here: ours only if its eth0's peer is one of our veths. */
function pruneIpNetns(deps: Deps, host: RtnlSocket, report: PruneReport): void {
  let entries: string[];
  try {
    entries = readdirSync(IP_NETNS_DIR).filter((e) => e.startsWith('tsnet-'));
  } catch {
    return;
  }
  for (const entry of entries) {
    const name = entry.slice('tsnet-'.length);
    if (store.listContainerNames(deps.paths).includes(name)) continue;
    const path = join(IP_NETNS_DIR, entry);
    let peerIndex: number | undefined;
    try {
      peerIndex = inNetns(path, () => {
        const sock = new RtnlSocket();
        try {
          return sock.getLink('eth0')?.link;
        } finally {
          sock.close();
        }
      });
    } catch {
      peerIndex = undefined;
    }
    const peer = peerIndex === undefined ? undefined : host.listLinks().find((l) => l.index === peerIndex);
    if (peer && deps.paths.isOurVeth(peer.name)) {
      releaseHandle(path);
      report.removed.push(`ip netns ${entry} (no container record)`);
    } else {
      report.skipped.push(`ip netns ${entry} (no record in this root; not provably ours)`);
    }
  }
}

/** Temp files of atomic writes whose writer died mid-write. */
function removeStaleTempFiles(dir: string, report: PruneReport): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: false }) as string[]) {
    const m = /\.tmp-(\d+)$/.exec(entry);
    if (m && store.processStart(Number(m[1])) === undefined) {
      rmSync(join(dir, entry), { force: true });
      report.removed.push(`temp file ${entry}`);
    }
  }
}
