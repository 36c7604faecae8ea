// Where everything lives under the state root. See docs/state-format.md.
import { join, resolve } from 'node:path';
import { validateName, validateNetworkName } from '../config/validate.js';
import { isIPv4 } from '../../resolvers/core/address.js';
import { usageError } from '../errors.js';
import { cniSocketPath, DEFAULT_ROOT, stubDirOf } from './root.js';

export { DEFAULT_ROOT };
export const IP_NETNS_DIR = '/run/netns';

/**
 * n hex chars (n ≤ 16) of a 64-bit FNV-1a hash. Names kernel objects after state names; not for
 * security. (node:crypto would cost ~3.5 ms of CLI start-up to load.)
 */
export function shortHash(s: string, n: number): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(s)) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0').slice(0, n);
}

export class Paths {
  readonly root: string;
  /** 4 hex chars naming this root in kernel object names, so two roots never collide */
  readonly tag: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.tag = shortHash(this.root, 4);
  }

  get lockFile() { return join(this.root, 'lock'); }
  get containersDir() { return join(this.root, 'containers'); }
  get networksDir() { return join(this.root, 'networks'); }

  get stubDir() { return stubDirOf(this.root); }
  get stubLock() { return join(this.stubDir, 'lock'); }
  get stubReady() { return join(this.stubDir, 'ready.json'); }
  get stubStatus() { return join(this.stubDir, 'status.json'); }
  get stubLog() { return join(this.stubDir, 'queries.log'); }
  get stubOutput() { return join(this.stubDir, 'daemon.log'); }
  get stubRestarts() { return join(this.stubDir, 'restarts.json'); }
  get cniSocket() { return cniSocketPath(this.root); }

  // Every path and kernel name below comes from a validated name: no name can be a path (`..`,
  // `x/y`), so nothing derived from one can point outside its own directory.
  containerDir(name: string) { return join(this.containersDir, validateName(name)); }
  record(name: string) { return join(this.containerDir(name), 'container.json'); }
  etcDir(name: string) { return join(this.containerDir(name), 'etc'); }
  netnsHandle(name: string) { return join(this.containerDir(name), 'ns', 'net'); }
  utsnsHandle(name: string) { return join(this.containerDir(name), 'ns', 'uts'); }
  ipNetnsName(name: string) { return `tsnet-${validateName(name)}`; }
  ipNetnsHandle(name: string) { return join(IP_NETNS_DIR, this.ipNetnsName(name)); }

  /** What a container's record says about its kernel objects and files: all from its name. */
  derived(name: string) {
    const etc = this.etcDir(name);
    return {
      hostVeth: this.hostVeth(name),
      namespaces: { net: this.netnsHandle(name), uts: this.utsnsHandle(name), ipNetns: this.ipNetnsName(name) },
      files: { resolvConf: join(etc, 'resolv.conf'), hosts: join(etc, 'hosts'), nsswitch: join(etc, 'nsswitch.conf'), hostname: join(etc, 'hostname') },
    };
  }

  networkDir(net: string) { return join(this.networksDir, validateNetworkName(net)); }
  networkRecord(net: string) { return join(this.networkDir(net), 'network.json'); }
  ipsDir(net: string) { return join(this.networkDir(net), 'ips'); }
  ipFile(net: string, ip: string) {
    if (!isIPv4(ip)) throw usageError(`invalid reserved address ${JSON.stringify(ip)}: not an IPv4 address`);
    return join(this.ipsDir(net), ip);
  }
  lastReserved(net: string) { return join(this.networkDir(net), 'last_reserved'); }

  /** Host-side veth: "tsv" + root tag + hash of the name = 15 chars (IFNAMSIZ - 1). */
  hostVeth(name: string) { return `tsv${this.tag}${shortHash(validateName(name), 8)}`; }
  /** Bridge of a network: "tsb" + root tag + hash of the network name. */
  bridge(net: string) { return `tsb${this.tag}${shortHash(validateNetworkName(net), 8)}`; }
  isOurVeth(ifname: string) { return ifname.length === 15 && ifname.startsWith(`tsv${this.tag}`); }
  isOurBridge(ifname: string) { return ifname.length === 15 && ifname.startsWith(`tsb${this.tag}`); }
}
