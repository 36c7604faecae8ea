// The current network namespace as the address sorters of resolvers/core/addrsort.ts see it: its
// addresses and main-table routes read over rtnetlink (`readLocalNet`, a LocalNet for the pure
// model `routeSource` / `hostOf`), and the kernel itself asked for source addresses the way glibc,
// musl and Go ask it (`kernelSortHost`: UDP connect() + getsockname(); no packet is sent).
//
// Everything here is synchronous and acts in the calling THREAD's network namespace (an rtnetlink
// socket and UDP sockets opened now): to read another namespace, call it inside a sandwich of
// src/ns/enter.ts (`inNetns(path, () => readLocalNet())`).
//
// Which addresses a LocalNet lists — the ones the kernel itself treats as ours (measured on Linux
// 6.x in test/netns/local-net.test.ts):
// - every address of every interface, up or down. An interface being down does not take its
//   addresses out of source selection: a connect() TO one of them gets it as its source (the local
//   table keeps it), and a non-tentative IPv6 address on a down interface (added with nodad, or
//   with DAD off) competes in ipv6_dev_get_saddr for every destination like any other.
// - except tentative IPv6 addresses (IFA_F_TENTATIVE without IFA_F_OPTIMISTIC; an address whose DAD
//   failed keeps TENTATIVE too): until DAD completes the kernel neither picks one as a source nor
//   routes to it locally. (On a down interface with DAD on, an address stays tentative.)
// (glibc's own __check_pf reads whatever the dump returns; a tentative address would only matter
// to it as a source, which the kernel never makes it.)
//
// Per address: the interface's name (from the link dump, not the IPv4 label), the prefix length,
// deprecated = IFA_F_DEPRECATED or IFA_F_OPTIMISTIC (glibc's in6ai_deprecated), home =
// IFA_F_HOMEADDRESS — from the 32-bit IFA_FLAGS attribute when the kernel sends it, else the 8-bit
// ifa_flags — and tunnel = the interface's ifi_type is ARPHRD_TUNNEL (ipip), ARPHRD_TUNNEL6
// (ip6tnl) or ARPHRD_SIT (sit): exactly glibc's check_native.c test (a GRE device, ARPHRD_IPGRE,
// is native to glibc, so it is not marked).
//
// Routes: the main table (254), unicast, not cached exceptions (RTM_F_CLONED) and not dead
// (RTNH_F_DEAD); dst 'default' for IPv4's 0.0.0.0/0, '::/0' for IPv6's, else 'address/len'; dev
// from RTA_OIF (a multipath route: its first next hop); src from RTA_PREFSRC. Kernel order is kept
// for both lists (the model takes the first among equals, as the kernel's own walks do).
import * as native from '../../native/index.js';
import { addressBytes, addressText, splitZone } from '../../resolvers/core/address.js';
import type { LocalAddress, LocalNet, LocalRoute, SortHost } from '../../resolvers/core/addrsort.js';
import * as nl from './netlink.js';
import { withRtnl } from './rtnl.js';

/** the kernel never uses a route whose only next hop is dead (linux/rtnetlink.h RTNH_F_DEAD) */
const RTNH_F_DEAD = 0x1;
const TUNNEL_TYPES = new Set([nl.ARPHRD_TUNNEL, nl.ARPHRD_TUNNEL6, nl.ARPHRD_SIT]);

/** Whether the kernel treats this address as ours (see above): not tentative, unless optimistic. */
function usable(a: nl.AddrEntry, link: nl.LinkEntry | undefined): link is nl.LinkEntry {
  return link !== undefined && (!(a.flags & nl.IFA_F_TENTATIVE) || !!(a.flags & nl.IFA_F_OPTIMISTIC));
}

/** PURE: a LocalNet from decoded link, address and route dumps (readLocalNet's rules, above). */
export function localNetFrom(links: readonly nl.LinkEntry[], addrs: readonly nl.AddrEntry[], routes: readonly nl.RouteEntry[]): LocalNet {
  const byIndex = new Map(links.map((l) => [l.index, l]));
  const addresses: LocalAddress[] = [];
  for (const a of addrs) {
    const link = byIndex.get(a.index);
    if (!usable(a, link)) continue;
    const entry: LocalAddress = { address: addressText(a.address), prefixLen: a.prefixLen, dev: link.name };
    if (a.flags & (nl.IFA_F_DEPRECATED | nl.IFA_F_OPTIMISTIC)) entry.deprecated = true;
    if (a.flags & nl.IFA_F_HOMEADDRESS) entry.home = true;
    if (TUNNEL_TYPES.has(link.type)) entry.tunnel = true;
    addresses.push(entry);
  }
  const out: LocalRoute[] = [];
  for (const r of routes) {
    if (r.table !== nl.RT_TABLE_MAIN || r.type !== nl.RTN_UNICAST || r.flags & (nl.RTM_F_CLONED | RTNH_F_DEAD)) continue;
    const dev = r.oif === undefined ? undefined : byIndex.get(r.oif)?.name;
    if (dev === undefined) continue;
    const dst = r.dstLen === 0 ? (r.family === nl.AF_INET ? 'default' : '::/0') : `${addressText(r.dst)}/${r.dstLen}`;
    out.push(r.prefsrc ? { dst, dev, src: addressText(r.prefsrc) } : { dst, dev });
  }
  return { addresses, routes: out };
}

/** The current network namespace's addresses (both families) and main-table unicast routes. */
export function readLocalNet(): LocalNet {
  return withRtnl((sock) => localNetFrom(sock.dumpLinks(), sock.dumpAddresses(), sock.dumpRoutes()));
}

/**
 * The source address the kernel gives a UDP socket connected to `dest` (port 9; no packet is
 * sent), in addressText's form (dotted quad; RFC 5952, ::ffff:a.b.c.d for a mapped source), or
 * null when the libraries would find none: connect() failed (ENETUNREACH, EHOSTUNREACH, EACCES,
 * EPERM, EADDRNOTAVAIL, EINVAL for a link-local address without a zone — glibc, musl and Go treat
 * every connect failure alike), the family is not supported (socket: EAFNOSUPPORT), or `dest` is
 * not an address (a strict dotted quad or IPv6 text; a %zone only on IPv6). A zone is an interface
 * name or a number (the scope id); an unknown name is scope id 0. Other failures (no descriptors
 * left) throw.
 */
export function kernelSource(dest: string): string | null {
  const bytes = addressBytes(dest);
  if (!bytes) return null;
  const { zone } = splitZone(dest);
  try {
    return addressText(native.udpSourceFor(native.sockAddr(bytes, 9, native.scopeIdOf(zone))).bytes);
  } catch (err) {
    if (err instanceof native.SyscallError && (err.syscall === 'connect' || (err.syscall === 'socket' && err.code === 'EAFNOSUPPORT'))) return null;
    throw err;
  }
}

/**
 * The SortHost the libraries see in the current network namespace: sourceOf asks the kernel at
 * each call (kernelSource); addresses are readLocalNet().addresses, read once, at first use. Use
 * it in the namespace it describes (inside one sandwich when that is not the thread's own).
 */
export function kernelSortHost(): SortHost {
  let addresses: LocalAddress[] | undefined;
  return {
    sourceOf: kernelSource,
    get addresses() {
      return (addresses ??= readLocalNet().addresses);
    },
  };
}
