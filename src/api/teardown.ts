// Removing a container's kernel objects and state. Idempotent (what is gone counts as done) and
// thorough (every step runs even when an earlier one failed), so rm, prune and a failed create's
// rollback all use it.
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { TsnetError, runAll } from '../errors.js';
import { releaseHandle } from '../ns/handles.js';
import { withRtnl } from '../net/rtnl.js';
import { withLock } from '../state/lock.js';
import * as store from '../state/store.js';
import type { ContainerRecord } from '../state/records.js';
import { dropNetworkIfUnused } from './network.js';
import { crashPoint } from './crash-points.js';
import type { Deps } from '../deps.js';

const sameFile = (a: string, b: string) => {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
};

/** /run/netns/tsnet-<name> is ours when it holds the same namespace as our handle, or is an unmounted leftover. */
function ownsIpNetns(ipNetns: string, handle: string): boolean {
  try {
    if (statSync(ipNetns).dev === statSync(dirname(ipNetns)).dev) return true; // plain file, not a mount
  } catch {
    return false;
  }
  return sameFile(ipNetns, handle);
}

export interface TeardownTarget {
  name: string;
  record: ContainerRecord | undefined;
}

/** Removes everything that belongs to a container. Throws one error listing every step that failed. */
export function teardownContainer(deps: Deps, { name, record }: TeardownTarget): void {
  const { paths } = deps;
  // Kernel names and paths come from the validated name, never from the record (see readContainer).
  const netHandle = paths.netnsHandle(name);
  const ipNetns = paths.ipNetnsHandle(name);
  withRtnl((rtnl) => {
    const failures = runAll([
      ['delete veth', () => { rtnl.deleteLink(paths.hostVeth(name)); crashPoint(deps, 'rm:veth'); }],
      ['release ip netns handle', () => { if (ownsIpNetns(ipNetns, netHandle)) releaseHandle(ipNetns); }],
      ['release net namespace', () => releaseHandle(netHandle)],
      ['release uts namespace', () => releaseHandle(paths.utsnsHandle(name))],
    ]);
    // Shared state last, in one locked step: the address, the network if this was its last
    // container, the record (only when everything else is gone) and, for an idle root, the lock.
    failures.push(...runAll([['release address and record', () =>
      withLock(paths.lockFile, (lock) => {
        const network = record?.network;
        const nets = network !== undefined ? [network] : store.listNetworkNames(paths);
        for (const net of nets) {
          if (record?.address) store.releaseAddress(paths, net, record.address, name);
          // Without a known address (a create that crashed early), look for what it reserved.
          else for (const r of store.listReservations(paths, net)) {
            if (r.owner === name) store.releaseAddress(paths, net, r.ip, name);
          }
          if (store.readNetwork(paths, net) || network !== undefined) dropNetworkIfUnused(deps, rtnl, net);
        }
        if (failures.length === 0) {
          rmSync(paths.containerDir(name), { recursive: true, force: true });
          if (isIdle(deps)) lock.remove();
        }
      })]]));
    if (failures.length > 0) {
      throw new TsnetError('TSNET_SYSTEM', `remove container "${name}": ${failures.join('; ')}`, {
        hint: 'fix the cause and run `tsnet rm` again; its state is kept until removal succeeds',
      });
    }
  });
}

const isIdle = ({ paths }: Deps) => store.listContainerNames(paths).length === 0 && store.listNetworkNames(paths).length === 0;

/** With no container and no network left, the lock file goes too: an idle root holds nothing. */
export function tidyRoot(deps: Deps): void {
  if (!existsSync(deps.paths.root)) return;
  withLock(deps.paths.lockFile, (lock) => {
    if (isIdle(deps)) lock.remove();
  });
}
