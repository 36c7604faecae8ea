// Networks: a bridge with the gateway address, made on the first container and removed with the last.
// Every function here runs with the root lock held.
import { TsnetError } from '../errors.js';
import { formatIPv4, formatSubnet, gatewayOf, overlaps, parseIPv4, parseSubnet, broadcastOf, type Subnet } from '../config/ipv4.js';
import type { RtnlSocket } from '../net/rtnl.js';
import { RECORD_VERSION, type NetworkRecord } from '../state/records.js';
import * as store from '../state/store.js';
import type { Deps } from '../deps.js';

export interface ReadyNetwork {
  record: NetworkRecord;
  subnet: Subnet;
  bridgeIndex: number;
  /** true when this call made the network (so a failed create should take it away again) */
  created: boolean;
}

/** Refuses a subnet that overlaps an address or route the host already has. */
function checkSubnetFree(rtnl: RtnlSocket, subnet: Subnet, name: string): void {
  const links = new Map(rtnl.listLinks().map((l) => [l.index, l.name]));
  const clash =
    rtnl.listAddresses().find((a) => overlaps(subnet, { network: a.address, prefix: a.prefix }))
      ?.index ??
    rtnl.listRoutes().find((r) => r.dstLen > 0 && r.table === 254 && overlaps(subnet, { network: r.dst, prefix: r.dstLen }))
      ?.oif;
  if (clash !== undefined) {
    throw new TsnetError(
      'TSNET_CONFLICT',
      `subnet ${formatSubnet(subnet)} for network "${name}" overlaps a network the host already uses (on ${links.get(clash) ?? `ifindex ${clash}`})`,
      { hint: 'choose another range with --subnet, e.g. --subnet 10.90.0.0/16' },
    );
  }
}

export function ensureNetwork(deps: Deps, rtnl: RtnlSocket, name: string, requested: Subnet | undefined): ReadyNetwork {
  const { paths, log } = deps;
  const existing = store.readNetwork(paths, name);
  if (existing?.external) {
    throw new TsnetError('TSNET_CONFLICT', `network "${name}" is another CNI plugin's (tsnet is chained after it for DNS only)`, {
      hint: 'give this tsnet network another name',
    });
  }
  if (existing) {
    const subnet = parseSubnet(existing.subnet);
    if (requested && formatSubnet(requested) !== existing.subnet) {
      throw new TsnetError('TSNET_USAGE', `network "${name}" already exists with subnet ${existing.subnet}, not ${formatSubnet(requested)}`, {
        hint: '--subnet only applies when a network is first made: drop it, or use another --network',
      });
    }
    let link = rtnl.getLink(existing.bridge);
    if (!link) {
      // The record survived but the bridge did not (deleted by hand): make it again.
      log.warn({ bridge: existing.bridge, network: name }, 'bridge missing; recreating it');
      link = makeBridge(rtnl, existing.bridge, subnet);
    }
    return { record: existing, subnet, bridgeIndex: link.index, created: false };
  }
  const subnet = requested ?? parseSubnet(deps.defaultSubnet);
  checkSubnetFree(rtnl, subnet, name);
  const record: NetworkRecord = {
    version: RECORD_VERSION,
    name,
    subnet: formatSubnet(subnet),
    gateway: formatIPv4(gatewayOf(subnet)),
    bridge: paths.bridge(name),
    created: new Date().toISOString(),
  };
  // Record first, then the bridge: a crash in between leaves a record that prune can follow.
  store.writeNetwork(paths, record);
  const link = makeBridge(rtnl, record.bridge, subnet);
  log.debug({ network: name, bridge: record.bridge, subnet: record.subnet }, 'network created');
  return { record, subnet, bridgeIndex: link.index, created: true };
}

/**
 * The network of a plugin tsnet is chained after (CNI, DNS only): its subnet and gateway from the
 * previous result. The gateway must be on a host interface (the bridge plugin's `isGateway`), or
 * the stub would have nowhere to listen.
 */
export function ensureExternalNetwork(deps: Deps, rtnl: RtnlSocket, name: string, subnet: Subnet, gateway: string): ReadyNetwork {
  const { paths } = deps;
  const existing = store.readNetwork(paths, name);
  if (existing && !existing.external) {
    throw new TsnetError('TSNET_CONFLICT', `network "${name}" is a tsnet network: a chained tsnet cannot take its name`, { hint: 'name the chained configuration list differently' });
  }
  if (existing) {
    if (existing.subnet !== formatSubnet(subnet) || existing.gateway !== gateway) {
      throw new TsnetError('TSNET_USAGE', `network "${name}" was ${existing.subnet} via ${existing.gateway}, the previous plugin now says ${formatSubnet(subnet)} via ${gateway}`);
    }
    return { record: existing, subnet, bridgeIndex: -1, created: false };
  }
  const gw = parseIPv4(gateway, 'gateway');
  const on = rtnl.listAddresses().find((a) => a.address === gw);
  if (!on) {
    throw new TsnetError('TSNET_USAGE', `gateway ${gateway} of network "${name}" is on no host interface: the stub has nowhere to listen`, {
      hint: 'chain tsnet after a plugin that puts the gateway on the host (bridge with "isGateway": true)',
    });
  }
  const record: NetworkRecord = {
    version: RECORD_VERSION,
    name,
    subnet: formatSubnet(subnet),
    gateway,
    bridge: rtnl.listLinks().find((l) => l.index === on.index)?.name ?? '',
    created: new Date().toISOString(),
    external: true,
  };
  store.writeNetwork(paths, record);
  return { record, subnet, bridgeIndex: on.index, created: true };
}

function makeBridge(rtnl: RtnlSocket, bridge: string, subnet: Subnet) {
  if (!rtnl.getLink(bridge)) rtnl.createBridge(bridge);
  const link = rtnl.getLink(bridge);
  if (!link) throw new TsnetError('TSNET_SYSTEM', `bridge ${bridge} vanished right after it was created`);
  const gw = gatewayOf(subnet);
  if (!rtnl.listAddresses().some((a) => a.index === link.index && a.address === gw)) {
    rtnl.addAddress(link.index, gw, subnet.prefix, broadcastOf(subnet), `bridge ${bridge}`);
  }
  return link;
}

/** Removes the network (bridge and record) when no address is reserved in it any more. */
export function dropNetworkIfUnused(deps: Deps, rtnl: RtnlSocket, name: string): boolean {
  const { paths, log } = deps;
  if (store.hasReservations(paths, name)) return false;
  const record = store.readNetwork(paths, name);
  if (!record?.external) rtnl.deleteLink(record?.bridge ?? paths.bridge(name));
  store.removeNetworkDir(paths, name);
  log.debug({ network: name }, 'network removed with its last container');
  return true;
}
