// tsnet as a CNI plugin: ADD, DEL, CHECK, GC and STATUS on top of the steps `tsnet create` and
// `tsnet rm` use, with the runtime owning the network namespace. An attachment is a container
// record named from a hash of (CNI_CONTAINERID, CNI_IFNAME): kernel names and paths never come
// from what the runtime sends, only from that hash (the hardening rule).
import { existsSync } from 'node:fs';
import { validateCreate } from '../config/validate.js';
import { addResult, ALREADY_ATTACHED, chainedResult, CHECK_FAILED, CNI_ERR, CniError, PLUGIN_FAILED, toCniError, podNameOf, podNamespaceOf, previousAttachment, type CniDns, type CniRequest, type PluginConfig } from '../config/cni.js';
import { shortHash } from '../state/paths.js';
import * as store from '../state/store.js';
import type { ContainerRecord } from '../state/records.js';
import { RtnlSocket, withRtnl } from '../net/rtnl.js';
import { inNetns } from '../ns/enter.js';
import { formatIPv4, parseIPv4 } from '../config/ipv4.js';
import { stubClientOptions } from '../files/stub-resolv.js';
import { buildContainer } from './create.js';
import { teardownContainer } from './teardown.js';
import { requireRoot } from './privileges.js';
import { notifyStub, stubRunning } from '../stub/control.js';
import type { Deps } from '../deps.js';

/** The record name of an attachment: "cni-" and 16 hex of a hash of (container id, ifname). */
export const attachmentName = (containerId: string, ifname: string): string => `cni-${shortHash(`${containerId}\0${ifname}`, 16)}`;

/** The upstreams for this container: runtimeConfig.dns field by field over the configuration's dns. */
function upstreamsOf(conf: PluginConfig): CniDns {
  const base = conf.dns ?? { nameservers: [], search: [], options: [] };
  const rt = conf.runtimeDns;
  return {
    nameservers: rt?.nameservers?.length ? rt.nameservers : base.nameservers,
    search: rt?.search?.length ? rt.search : base.search,
    options: rt?.options?.length ? rt.options : base.options,
  };
}

export async function cniAdd(req: CniRequest, conf: PluginConfig, deps: Deps): Promise<Record<string, unknown>> {
  requireRoot('cni ADD');
  const name = attachmentName(req.containerId, req.ifname);
  if (existsSync(deps.paths.containerDir(name))) {
    throw new CniError(ALREADY_ATTACHED, `container ${req.containerId} is already attached as ${req.ifname} (tsnet record ${name})`, 'DEL it first: a runtime must not ADD one (container, ifname) twice');
  }
  const up = upstreamsOf(conf);
  const podName = podNameOf(req.args);
  // A prevResult on ADD: tsnet is chained after the plugin that made the interface (DNS only).
  const prev = conf.prevResult === undefined ? undefined : previousAttachment(conf.prevResult, req.ifname);
  if (prev && conf.dnsMode === 'direct') throw new CniError(CNI_ERR.invalidConfig, 'chained after another plugin, tsnet serves DNS through its stub: "dnsMode" must be glibc or musl');
  if (!prev && conf.subnet === undefined) throw new CniError(CNI_ERR.invalidConfig, 'the configuration has no "subnet"', 'like "subnet": "10.89.0.0/24"');
  const subnet = prev ? networkOf(prev.address, prev.prefix) : conf.subnet!;
  if (prev && conf.subnet !== undefined && conf.subnet !== subnet) {
    throw new CniError(CNI_ERR.invalidConfig, `"subnet" ${conf.subnet} is not the previous plugin's ${subnet}`);
  }
  let record: ContainerRecord;
  try {
    const spec = validateCreate(
      {
        name,
        network: conf.name,
        subnet,
        ip: prev?.address,
        // the files tsnet keeps for the attachment name the pod's name where it is a hostname
        hostname: podName !== undefined && /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(podName) ? podName : undefined,
        dns: up.nameservers,
        dnsSearch: up.search,
        dnsOptions: up.options,
        dnsMode: conf.dnsMode,
        dnsCache: conf.dnsCache,
      },
      () => name,
    );
    record = await buildContainer(spec, deps, {
      netns: req.netns!,
      ifname: req.ifname,
      cni: { containerId: req.containerId, ifname: req.ifname, podName: podName ?? null, podNamespace: podNamespaceOf(req.args) ?? null, ...(prev ? { chained: true } : {}) },
      ...(prev ? { chained: { gateway: prev.gateway } } : {}),
    });
  } catch (err) {
    throw toCniError(err, `ADD ${req.containerId}/${req.ifname}`);
  }
  const gateway = record.gateway!;
  const stub = record.dns.stubActive;
  const upstreams = record.dns.nameservers.map((n) => n.address);
  const dns = {
    nameservers: stub ? [gateway] : upstreams,
    search: record.dns.search,
    // the same options `create` writes into a stub-mode resolv.conf: the client waits out the stub
    options: stub ? stubClientOptions(record.dns.mode as 'glibc' | 'musl', upstreams, record.dns.options).options : record.dns.options,
  };
  if (prev) return chainedResult(conf.cniVersion, conf.prevResult as Record<string, unknown>, dns);
  const links = linksOf(record, req.ifname);
  return addResult(conf.cniVersion, {
    hostVeth: record.hostVeth,
    hostMac: links.host,
    ifname: req.ifname,
    mac: links.inner,
    netns: req.netns!,
    address: record.address!,
    prefix: Number(record.subnet!.split('/')[1]),
    gateway,
    dns,
  });
}

/** "a.b.c.d/n" of the network an address is in. */
function networkOf(address: string, prefix: number): string {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return `${formatIPv4((parseIPv4(address) & mask) >>> 0)}/${prefix}`;
}

/** Hardware addresses of both ends, for the result (Podman parses the container end's). */
function linksOf(record: ContainerRecord, ifname: string): { host: string | undefined; inner: string | undefined } {
  const host = withRtnl((rtnl) => rtnl.getLink(record.hostVeth)?.mac);
  let inner: string | undefined;
  try {
    inner = inNetns(record.namespaces.net, () => {
      const rtnl = new RtnlSocket();
      try {
        return rtnl.getLink(ifname)?.mac;
      } finally {
        rtnl.close();
      }
    });
  } catch {
    inner = undefined;
  }
  return { host, inner };
}

/** The attachment's record, if it is one this plugin made for (container id, ifname). */
function attachment(deps: Deps, req: CniRequest): ContainerRecord | undefined {
  const name = attachmentName(req.containerId, req.ifname);
  let record: ContainerRecord | undefined;
  try {
    record = store.readContainer(deps.paths, name);
  } catch {
    record = undefined; // unreadable: removed by name below
  }
  return record && record.cni?.containerId === req.containerId && record.cni.ifname === req.ifname ? record : undefined;
}

/**
 * DEL: idempotent and best effort (SPEC.md): whatever of the attachment is left goes — the host
 * end of the veth (its peer goes with it, also when the namespace is already gone), the address,
 * the record, the network with its last attachment — and a DEL of nothing succeeds.
 */
export async function cniDel(req: CniRequest, deps: Deps): Promise<void> {
  requireRoot('cni DEL');
  const name = attachmentName(req.containerId, req.ifname);
  if (!existsSync(deps.paths.containerDir(name))) return;
  const record = attachment(deps, req);
  try {
    teardownContainer(deps, { name, record });
  } catch (err) {
    throw toCniError(err, `DEL ${req.containerId}/${req.ifname}`);
  }
  if (record?.dns.stubActive !== false) await notifyStub(deps).catch(() => {});
}

/**
 * CHECK: the record is there and running, the host end is on the network's bridge, the
 * interface inside has its address, and the stub that answers it is running.
 */
export async function cniCheck(req: CniRequest, deps: Deps): Promise<void> {
  requireRoot('cni CHECK');
  const record = attachment(deps, req);
  const fail = (why: string) => new CniError(CHECK_FAILED, `CHECK ${req.containerId}/${req.ifname}: ${why}`);
  if (!record) throw fail('tsnet has no such attachment');
  if (record.status !== 'running') throw fail(`the attachment is ${record.status}`);
  if (record.namespaces.net !== req.netns) throw fail(`it was added in ${record.namespaces.net}, not ${req.netns}`);
  const network = store.readNetwork(deps.paths, record.network);
  if (!record.cni?.chained) withRtnl((rtnl) => {
    const bridge = network && rtnl.getLink(network.bridge);
    const host = rtnl.getLink(record.hostVeth);
    if (!bridge) throw fail(`the bridge of network ${record.network} is missing`);
    if (!host || host.master !== bridge.index) throw fail(`host interface ${record.hostVeth} is missing or not on the bridge`);
  });
  const inner = inNetns(req.netns!, () => {
    const rtnl = new RtnlSocket();
    try {
      const link = rtnl.getLink(req.ifname);
      return { link, has: link ? rtnl.listAddresses().some((a) => a.index === link.index && formatIPv4(a.address) === record.address) : false };
    } finally {
      rtnl.close();
    }
  });
  if (!inner.link) throw fail(`interface ${req.ifname} is missing in ${req.netns}`);
  if (!inner.has) throw fail(`interface ${req.ifname} lacks its address ${record.address}`);
  if (record.dns.stubActive && !stubRunning(deps)) throw fail('the tsnet stub resolver is not running (the next ADD starts it)');
}

/**
 * GC: removes this network's attachments that the runtime no longer lists. Attachments of other
 * networks, and containers made by `tsnet create`, are never touched. Errors are collected and
 * reported after everything possible is removed.
 */
export async function cniGc(conf: PluginConfig, deps: Deps): Promise<string[]> {
  requireRoot('cni GC');
  const valid = new Set((conf.validAttachments ?? []).map((a) => attachmentName(a.containerId, a.ifname)));
  const removed: string[] = [];
  const errors: string[] = [];
  for (const name of store.listContainerNames(deps.paths)) {
    if (!name.startsWith('cni-') || valid.has(name)) continue;
    let record: ContainerRecord | undefined;
    try {
      record = store.readContainer(deps.paths, name);
    } catch {
      continue; // unreadable: not provably this network's; prune handles it
    }
    if (!record?.cni || record.network !== conf.name) continue;
    if (record.status === 'creating' && store.isOwnerAlive(record.owner)) continue;
    try {
      teardownContainer(deps, { name, record });
      removed.push(name);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (removed.length > 0) await notifyStub(deps).catch(() => {});
  if (errors.length > 0) throw new CniError(PLUGIN_FAILED, `GC of network ${conf.name}: ${errors.length} attachment(s) could not be removed`, errors.join('; '));
  return removed;
}

/**
 * STATUS: ready for ADD unless the network exists and has no free address left (SPEC.md code 50).
 * The stub resolver is started by ADD itself, so it not running yet is no reason to refuse.
 */
export function cniStatus(conf: PluginConfig, deps: Deps): void {
  const network = existsSync(deps.paths.root) ? store.readNetwork(deps.paths, conf.name) : undefined;
  if (!network) return;
  const [base, prefix] = network.subnet.split('/');
  const usable = 2 ** (32 - Number(prefix)) - 3; // network, gateway, broadcast
  const taken = store.listReservations(deps.paths, conf.name).length;
  if (taken >= usable) throw new CniError(CNI_ERR.notAvailable, `network ${conf.name} (${base}/${prefix}) has no free address: ${taken} in use`);
}

