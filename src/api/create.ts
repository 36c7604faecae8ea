// tsnet create: validate → claim the name → reserve an address → namespaces → veth → files → record.
// The record is written before any kernel object exists, so a crash at any later point leaves a
// record that `tsnet prune` can follow to clean up.
import { existsSync, openSync, closeSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TsnetError, wrap } from '../errors.js';
import { validateCreate, type CreateRequest, type CreateSpec } from '../config/validate.js';
import { broadcastOf, parseIPv4 } from '../config/ipv4.js';
import { addressBytes, v4MappedBytes } from '../../resolvers/core/address.js';
import { renderContainerFiles, resolveDnsConfig } from '../config/container-files.js';
import { makeDirs, writeFileAtomic } from '../state/atomic.js';
import { RtnlSocket, withRtnl } from '../net/rtnl.js';
import { inNetns, inNewNamespaces } from '../ns/enter.js';
import { bindHandle, pinCurrentNamespace, prepareHandleDir } from '../ns/handles.js';
import { IP_NETNS_DIR } from '../state/paths.js';
import * as native from '../../native/index.js';
import { withLock } from '../state/lock.js';
import * as store from '../state/store.js';
import { RECORD_VERSION, type ContainerRecord } from '../state/records.js';
import { ensureExternalNetwork, ensureNetwork, type ReadyNetwork } from './network.js';
import { teardownContainer } from './teardown.js';
import { requireRoot } from './privileges.js';
import { crashPoint } from './crash-points.js';
import { ensureStub, notifyStub } from '../stub/control.js';
import type { Deps } from '../deps.js';

/** Random hex for names and ids (display identifiers, not secrets: no need to load node:crypto). */
const randomHex = (chars: number) =>
  Array.from({ length: chars }, () => Math.floor(Math.random() * 16).toString(16)).join('');
const generateName = () => `ctr-${randomHex(6)}`;

function readHostResolvConf(path: string): { path: string; text: string } | undefined {
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch {
    return undefined;
  }
}

function initialRecord(deps: Deps, spec: CreateSpec, runtime: RuntimeNamespace | undefined): ContainerRecord {
  const { paths } = deps;
  const derived = paths.derived(spec.name);
  return {
    version: RECORD_VERSION,
    id: randomHex(12),
    name: spec.name,
    status: 'creating',
    owner: { pid: process.pid, start: store.processStart(process.pid) ?? '' },
    created: new Date().toISOString(),
    network: spec.network,
    subnet: null,
    address: null,
    gateway: null,
    hostname: spec.hostname,
    dns: {
      mode: spec.dnsMode,
      stubActive: spec.dnsMode !== 'direct',
      ...(spec.dnsCache > 0 ? { cacheSize: spec.dnsCache } : {}),
      nameservers: [],
      search: [],
      options: [],
      nsswitch: spec.nsswitch,
    },
    addHosts: spec.addHosts.map((h) => ({ name: h.names[0]!, address: h.address })),
    ...derived,
    // The runtime's namespace: entered by exec and diagnose, never pinned or removed by tsnet.
    ...(runtime ? { namespaces: { net: runtime.netns, uts: '', ipNetns: '' }, cni: runtime.cni } : {}),
  };
}

/**
 * An upstream that is a tsnet gateway would make the stub forward to itself (netavark's
 * check_for_dns_loop has the same rule). Compared by value: an IPv4-mapped IPv6 upstream
 * (::ffff:a.b.c.d, however it is written) reaches the IPv4 gateway's socket.
 */
function checkDnsLoop(deps: Deps, upstreams: string[]): void {
  const value = (address: string) => {
    const bytes = addressBytes(address);
    return bytes && (v4MappedBytes(bytes) ?? bytes).join('.');
  };
  const given = upstreams.map((u) => ({ u, v: value(u) }));
  for (const net of store.listNetworkNames(deps.paths)) {
    const gw = store.readNetwork(deps.paths, net)?.gateway;
    const g = gw === undefined ? undefined : value(gw);
    const loop = g === undefined ? undefined : given.find((x) => x.v === g)?.u;
    if (loop !== undefined) {
      throw new TsnetError('TSNET_USAGE', `--dns ${loop}${loop === gw ? '' : ` (${gw})`} is the gateway of network "${net}", where the tsnet stub resolver listens: it would forward queries to itself`, {
        hint: 'give the real upstream nameservers with --dns, or use --dns-mode direct',
      });
    }
  }
}

export async function createContainer(req: CreateRequest, deps: Deps): Promise<ContainerRecord> {
  return buildContainer(validateCreate(req, generateName), deps);
}

/**
 * A network namespace some runtime owns (CNI): tsnet puts its interface there and never makes,
 * pins or removes the namespace itself.
 */
export interface RuntimeNamespace {
  /** the runtime's path to the namespace (CNI_NETNS) */
  netns: string;
  /** the interface to make inside it (CNI_IFNAME) */
  ifname: string;
  /** what the record says about where the attachment came from */
  cni: NonNullable<ContainerRecord['cni']>;
  /**
   * Chained after another plugin (DNS only): the interface and address exist already (the
   * previous result's); tsnet records the address on an external network and makes no link.
   */
  chained?: { gateway: string };
}

/**
 * validate → claim the name → record → address → files → namespaces (tsnet's own, or the
 * runtime's) → veth → running, and the stub told. Every failure rolls back what was made.
 */
export async function buildContainer(spec: CreateSpec, deps: Deps, runtime?: RuntimeNamespace): Promise<ContainerRecord> {
  requireRoot('create');
  const { paths, log } = deps;
  const started = process.hrtime.bigint();
  const hostResolv = spec.dns === undefined ? readHostResolvConf(deps.hostResolvConf) : undefined;
  if (!existsSync(paths.containerDir(spec.name)) && existsSync(paths.ipNetnsHandle(spec.name))) {
    throw new TsnetError('TSNET_CONFLICT', `name "${spec.name}" is taken: ${paths.ipNetnsHandle(spec.name)} exists`, {
      hint: 'choose another name (another tsnet root or `ip netns add` uses this one)',
    });
  }

  store.ensureRoot(paths);
  store.claimContainer(paths, spec.name);
  crashPoint(deps, 'create:claimed');
  const record = initialRecord(deps, spec, runtime);
  try {
    store.writeContainer(paths, record);
    crashPoint(deps, 'create:recorded');
    withRtnl((host) => {
      const net = reserveAddress(deps, host, spec, record, runtime?.chained);
      crashPoint(deps, 'create:reserved');
      writeFiles(deps, spec, record, hostResolv);
      crashPoint(deps, 'create:files');
      if (runtime?.chained) return;
      if (runtime) {
        const inner = openRuntimeNamespace(runtime);
        try {
          wireVeth(deps, host, inner, net, record, runtime.ifname);
        } finally {
          inner.close();
        }
        return;
      }
      const inner = makeNamespaces(spec, record);
      crashPoint(deps, 'create:namespaces');
      try {
        prepareHandleDir(IP_NETNS_DIR);
        bindHandle(record.namespaces.net, paths.ipNetnsHandle(spec.name));
        crashPoint(deps, 'create:ipnetns');
        inner.setUp(1, 'lo');
        wireVeth(deps, host, inner, net, record, 'eth0');
      } finally {
        inner.close();
      }
    });
    crashPoint(deps, 'create:configured');
    record.status = 'running';
    record.owner = null;
    store.writeContainer(paths, record);
    // The stub reads running records: start it (or make it re-read) before the container is used.
    if (record.dns.stubActive) await ensureStub(deps);
  } catch (err) {
    try {
      teardownContainer(deps, { name: spec.name, record });
    } catch (cleanupErr) {
      log.error({ err: cleanupErr, container: spec.name }, 'rollback after a failed create was incomplete; run `tsnet prune`');
    }
    if (record.dns.stubActive) await notifyStub(deps).catch(() => {});
    throw wrap(`create container "${spec.name}"`, err);
  }
  log.info({ container: spec.name, address: record.address, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'container created');
  return record;
}

/** Under the root lock: the network (made on first use) and an address on it, both into the record. */
function reserveAddress(deps: Deps, host: RtnlSocket, spec: CreateSpec, record: ContainerRecord, chained: RuntimeNamespace['chained']): ReadyNetwork {
  const net = withLock(deps.paths.lockFile, () => {
    const ready = chained ? ensureExternalNetwork(deps, host, spec.network, spec.subnet!, chained.gateway) : ensureNetwork(deps, host, spec.network, spec.subnet);
    record.address = store.reserveAddress(deps.paths, ready.record, ready.subnet, spec.name, spec.ip);
    return ready;
  });
  record.subnet = net.record.subnet;
  record.gateway = net.record.gateway;
  return net;
}

/** The DNS configuration into the record, then the container's four files into its etc/. */
function writeFiles(deps: Deps, spec: CreateSpec, record: ContainerRecord, hostResolv: { path: string; text: string } | undefined): void {
  const { paths, log } = deps;
  const dns = resolveDnsConfig(spec, hostResolv);
  record.dns.nameservers = dns.nameservers;
  record.dns.search = dns.search.values;
  record.dns.options = dns.options.values;
  store.writeContainer(paths, record);
  if (dns.nameservers.length === 0) {
    log.warn({ container: spec.name }, 'no usable nameserver on the host; the container has none (pass --dns IP)');
  }
  if (record.dns.stubActive) checkDnsLoop(deps, dns.nameservers.map((n) => n.address));
  const files = renderContainerFiles(spec, dns, record.address!, record.dns.stubActive ? record.gateway! : undefined);
  makeDirs(paths.etcDir(spec.name), 0o755);
  for (const [file, text] of Object.entries(files)) writeFileAtomic(join(paths.etcDir(spec.name), file), text);
}

/**
 * Fresh namespaces on this thread: set the hostname, open a netlink socket that stays in the new
 * network namespace, and pin both namespaces with bind mounts before switching back.
 */
function makeNamespaces(spec: CreateSpec, record: ContainerRecord): RtnlSocket {
  return inNewNamespaces(() => {
    native.sethostname(spec.hostname);
    pinCurrentNamespace('net', record.namespaces.net);
    pinCurrentNamespace('uts', record.namespaces.uts);
    return new RtnlSocket();
  });
}

/**
 * A netlink socket inside the runtime's namespace. The path is input (CNI_NETNS): it must be a
 * file that setns takes as a network namespace — never a FIFO or device that open() would block
 * on or act upon — and the interface must not exist there yet (SPEC.md: ADD must fail then).
 */
function openRuntimeNamespace(runtime: RuntimeNamespace): RtnlSocket {
  let st;
  try {
    st = statSync(runtime.netns);
  } catch (err) {
    throw new TsnetError('TSNET_NOT_FOUND', `network namespace ${runtime.netns}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!st.isFile()) throw new TsnetError('TSNET_USAGE', `${runtime.netns} is not a network namespace (not a namespace file)`);
  const inner = inNetns(runtime.netns, () => new RtnlSocket());
  if (inner.getLink(runtime.ifname)) {
    inner.close();
    throw new TsnetError('TSNET_CONFLICT', `interface ${runtime.ifname} already exists in ${runtime.netns}`);
  }
  return inner;
}

/** The veth pair (peer made directly inside the container as `ifname`), both ends up, address, route. */
function wireVeth(deps: Deps, host: RtnlSocket, inner: RtnlSocket, net: ReadyNetwork, record: ContainerRecord, ifname: string): void {
  const nsFd = openSync(record.namespaces.net, 'r');
  try {
    host.createVeth(record.hostVeth, net.bridgeIndex, ifname, nsFd);
  } finally {
    closeSync(nsFd);
  }
  crashPoint(deps, 'create:veth');
  const hostEnd = host.getLink(record.hostVeth);
  const peer = inner.getLink(ifname);
  if (!hostEnd || !peer) throw new TsnetError('TSNET_SYSTEM', `veth ${record.hostVeth} / ${ifname} did not appear after creation`);
  host.setUp(hostEnd.index, record.hostVeth);
  inner.addAddress(peer.index, parseIPv4(record.address!), net.subnet.prefix, broadcastOf(net.subnet), ifname);
  inner.setUp(peer.index, ifname);
  inner.addDefaultRoute(parseIPv4(net.record.gateway), peer.index);
}
