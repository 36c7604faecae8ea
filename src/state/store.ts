// Disk store for containers, networks and address reservations under the state root.
// One file per reserved address, claimed with O_EXCL (CNI host-local's disk backend): an existing
// file means "taken". Callers hold the root lock (lock.ts) around reservation changes.
import { chmodSync, mkdirSync, opendirSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { TsnetError } from '../errors.js';
import { checkRoot } from './root.js';
import { isContainerName, isNetworkName } from '../config/validate.js';
import { isRuntimeNetnsPath } from '../config/cni.js';
import { formatIPv4, parseIPv4, contains, formatSubnet, type Subnet } from '../config/ipv4.js';
import { candidates, isAssignable } from './ipam.js';
import { makeDirs, readJson, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { isCniRecord, isContainerRecord, isNetworkRecord, type ContainerRecord, type NetworkRecord } from './records.js';
import type { Paths } from './paths.js';

export function ensureRoot(paths: Paths): void {
  makeDirs(paths.root, 0o755);
  checkRoot(paths.root); // again: it may have been planted since the command started
  makeDirs(paths.containersDir, 0o755);
  makeDirs(paths.networksDir, 0o755);
}

/** Claims a container name by creating its directory; a second claim fails. */
export function claimContainer(paths: Paths, name: string): void {
  try {
    mkdirSync(paths.containerDir(name), { mode: 0o755 });
    chmodSync(paths.containerDir(name), 0o755);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new TsnetError('TSNET_CONFLICT', `container "${name}" already exists`, {
        hint: `choose another name, or remove it first with \`tsnet rm ${name}\``,
      });
    }
    throw err;
  }
}

export function writeContainer(paths: Paths, rec: ContainerRecord): void {
  writeJsonAtomic(paths.record(rec.name), rec);
}

/**
 * A container's record. Its kernel names and paths are derived from the name, never taken from the
 * file: an edited record cannot steer rm or exec at another link, mount or file.
 */
export function readContainer(paths: Paths, name: string): ContainerRecord | undefined {
  const rec = readJson(paths.record(name), isContainerRecord);
  if (rec === undefined) return undefined;
  if (rec.name !== name) {
    throw new TsnetError('TSNET_STATE', `the record of container "${name}" names another container (${JSON.stringify(rec.name)})`, {
      hint: `it was edited by hand; \`tsnet rm ${name}\` removes what belongs to "${name}"`,
    });
  }
  const derived = paths.derived(name);
  // A CNI attachment lives in its runtime's namespace: the one path a record keeps (entered by
  // exec, inspect and diagnose; never pinned, unmounted or removed by tsnet).
  const net = rec.namespaces.net;
  if (isCniRecord(rec) && typeof net === 'string' && isRuntimeNetnsPath(net)) {
    derived.namespaces = { net, uts: '', ipNetns: '' };
  }
  return { ...rec, ...derived };
}

export function listContainerNames(paths: Paths): string[] {
  try {
    // Entries tsnet cannot have made (not a container name) are not containers: never touched.
    return readdirSync(paths.containersDir).filter(isContainerName).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export function readNetwork(paths: Paths, net: string): NetworkRecord | undefined {
  return readJson(paths.networkRecord(net), isNetworkRecord);
}

export function writeNetwork(paths: Paths, rec: NetworkRecord): void {
  makeDirs(paths.ipsDir(rec.name), 0o755);
  writeJsonAtomic(paths.networkRecord(rec.name), rec);
}

export function listNetworkNames(paths: Paths): string[] {
  try {
    return readdirSync(paths.networksDir).filter(isNetworkName).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export interface Reservation {
  ip: string;
  owner: string;
}

export function listReservations(paths: Paths, net: string): Reservation[] {
  let files: string[];
  try {
    files = readdirSync(paths.ipsDir(net));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return files.map((ip) => ({ ip, owner: readFileSync(paths.ipFile(net, ip), 'utf8').trim() }));
}

/** Whether any address is reserved in the network, without listing them all. */
export function hasReservations(paths: Paths, net: string): boolean {
  let dir;
  try {
    dir = opendirSync(paths.ipsDir(net));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    return dir.readSync() !== null;
  } finally {
    dir.closeSync();
  }
}

function tryClaim(path: string, owner: string): boolean {
  try {
    writeFileSync(path, `${owner}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Reserves `requested` or the next free address of the network for `owner`. Caller holds the lock. */
export function reserveAddress(
  paths: Paths,
  net: NetworkRecord,
  subnet: Subnet,
  owner: string,
  requested: number | undefined,
): string {
  if (requested !== undefined) {
    const ip = formatIPv4(requested);
    if (!contains(subnet, requested) || !isAssignable(subnet, requested)) {
      throw new TsnetError('TSNET_USAGE', `--ip ${ip} is not a free host address of network "${net.name}" (${formatSubnet(subnet)}, gateway ${net.gateway})`, {
        hint: `pick an address inside ${formatSubnet(subnet)} other than its network, gateway and broadcast addresses`,
      });
    }
    if (!tryClaim(paths.ipFile(net.name, ip), owner)) {
      const holder = readFileSync(paths.ipFile(net.name, ip), 'utf8').trim();
      throw new TsnetError('TSNET_CONFLICT', `--ip ${ip} is already taken by container "${holder}"`, {
        hint: 'omit --ip to get a free address',
      });
    }
    return ip;
  }
  let last: number | undefined;
  try {
    last = parseIPv4(readFileSync(paths.lastReserved(net.name), 'utf8').trim());
  } catch {
    last = undefined;
  }
  for (const addr of candidates(subnet, last)) {
    const ip = formatIPv4(addr);
    if (tryClaim(paths.ipFile(net.name, ip), owner)) {
      writeFileAtomic(paths.lastReserved(net.name), `${ip}\n`);
      return ip;
    }
  }
  throw new TsnetError('TSNET_CONFLICT', `network "${net.name}" (${net.subnet}) has no free address left`, {
    hint: 'remove unused containers, or use another --network with a larger --subnet',
  });
}

/** Releases an address if `owner` holds it. Caller holds the lock. */
export function releaseAddress(paths: Paths, net: string, ip: string, owner: string): void {
  const path = paths.ipFile(net, ip);
  let holder: string;
  try {
    holder = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (holder === owner) rmSync(path, { force: true });
}

export function removeNetworkDir(paths: Paths, net: string): void {
  rmSync(paths.networkDir(net), { recursive: true, force: true });
}

/** Start time of a process (field 22 of /proc/PID/stat), to tell a live pid from a reused one. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function isOwnerAlive(owner: { pid: number; start: string } | null): boolean {
  return owner !== null && processStart(owner.pid) === owner.start;
}
