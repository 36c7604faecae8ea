// What the stub knows about the world, built from the state root: networks, their containers,
// and per client address the container asking. Plain data; rebuilt on every reload.
import type { ContainerRecord, NetworkRecord } from '../state/records.js';
import { stubUpstreamConf } from '../files/stub-resolv.js';
import { isContainerName } from '../config/validate.js';

export interface StubClient {
  name: string;
  network: string;
  address: string;
  mode: 'glibc' | 'musl';
  /** upstream nameservers and options as resolv.conf text, parsed by the forwarder's library rules */
  upstreamConf: string;
  upstreams: string[];
  addHosts: Array<{ name: string; address: string }>;
  cacheSize: number;
}

export interface StubNetwork {
  name: string;
  gateway: string;
  subnet: string;
  /** container name (lower-case) → address */
  containers: Map<string, string>;
  /** address → container name, for PTR */
  byAddress: Map<string, string>;
}

export interface StubView {
  networks: Map<string, StubNetwork>;
  clients: Map<string, StubClient>;
  /** `stub serve`: the client every address gets (there are no containers to tell apart) */
  fallback?: StubClient;
}

export function buildView(networks: NetworkRecord[], containers: ContainerRecord[]): StubView {
  const view: StubView = { networks: new Map(), clients: new Map() };
  for (const n of networks) {
    view.networks.set(n.name, { name: n.name, gateway: n.gateway, subnet: n.subnet, containers: new Map(), byAddress: new Map() });
  }
  const taken = new Set(containers.map((c) => c.name.toLowerCase()));
  for (const c of containers) {
    const net = view.networks.get(c.network);
    if (!net || !c.address || c.status !== 'running') continue;
    net.containers.set(c.name.toLowerCase(), c.address);
    net.byAddress.set(c.address, c.name);
    // A CNI attachment also answers to its container's name: K8S_POD_NAME (Podman's container
    // name), else the runtime's container id when it is a valid name (ctr's "NAMESPACE-ID"); a
    // tsnet container of that name keeps it.
    const alias = c.cni ? (c.cni.podName ?? (isContainerName(c.cni.containerId) ? c.cni.containerId : undefined)) : undefined;
    if (alias !== undefined && !taken.has(alias.toLowerCase())) {
      net.containers.set(alias.toLowerCase(), c.address);
      net.byAddress.set(c.address, alias);
    }
    if (c.dns.mode !== 'glibc' && c.dns.mode !== 'musl') continue;
    const upstreams = c.dns.nameservers.map((n) => n.address);
    view.clients.set(c.address, {
      name: c.name,
      network: c.network,
      address: c.address,
      mode: c.dns.mode,
      upstreams,
      upstreamConf: stubUpstreamConf(upstreams, c.dns.options),
      addHosts: c.addHosts,
      cacheSize: c.dns.cacheSize ?? 0,
    });
  }
  return view;
}
