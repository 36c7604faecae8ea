// The JSON records tsnet keeps on disk, and their shape checks. See docs/state-format.md.
import type { DnsMode } from '../config/validate.js';
import type { Nameserver } from '../files/resolvconf.js';

export const RECORD_VERSION = 1;

export interface NetworkRecord {
  version: number;
  name: string;
  subnet: string;
  gateway: string;
  bridge: string;
  created: string;
  /**
   * A network another CNI plugin made, tsnet chained after it for DNS only: recorded so the stub
   * listens on its gateway; tsnet never makes or deletes its bridge (`bridge` names it, for reading).
   */
  external?: boolean;
}

export type ContainerStatus = 'creating' | 'running' | 'removing';

export interface ContainerRecord {
  version: number;
  id: string;
  name: string;
  status: ContainerStatus;
  /** the process creating or removing it, to tell a live operation from a crashed one */
  owner: { pid: number; start: string } | null;
  created: string;
  network: string;
  subnet: string | null;
  address: string | null;
  gateway: string | null;
  hostname: string;
  hostVeth: string;
  namespaces: { net: string; uts: string; ipNetns: string };
  dns: {
    mode: string;
    /** true when resolv.conf points at the tsnet stub resolver (dns-mode glibc or musl) */
    stubActive: boolean;
    /** stub answer cache entries (0 = off, the default: cached answers would hide the emulated timing) */
    cacheSize?: number;
    nameservers: Nameserver[];
    search: string[];
    options: string[];
    nsswitch: string;
  };
  addHosts: Array<{ name: string; address: string }>;
  files: { resolvConf: string; hosts: string; nsswitch: string; hostname: string };
  /**
   * Set for an attachment a container runtime made through tsnet's CNI plugin: the runtime owns
   * the namespace (`namespaces.net` is its CNI_NETNS); the record's name is derived from
   * (containerId, ifname).
   */
  cni?: { containerId: string; ifname: string; podName: string | null; podNamespace: string | null; chained?: boolean };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function isNetworkRecord(v: unknown): v is NetworkRecord {
  return isObj(v) && v.version === RECORD_VERSION && typeof v.name === 'string' && typeof v.subnet === 'string'
    && typeof v.bridge === 'string' && typeof v.gateway === 'string';
}

export function isContainerRecord(v: unknown): v is ContainerRecord {
  return isObj(v) && v.version === RECORD_VERSION && typeof v.name === 'string' && typeof v.id === 'string'
    && typeof v.status === 'string' && typeof v.network === 'string' && typeof v.hostVeth === 'string'
    && isObj(v.namespaces) && isObj(v.dns) && isObj(v.files);
}

/** An attachment made by the CNI plugin (its `cni` block well formed). */
export function isCniRecord(v: ContainerRecord): boolean {
  const c = v.cni as unknown;
  return isObj(c) && typeof c.containerId === 'string' && typeof c.ifname === 'string';
}

export type { DnsMode };
