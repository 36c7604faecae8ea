// A synchronous rtnetlink socket. The socket belongs to the network namespace of the thread that
// opened it, so one opened inside a container's namespace keeps configuring that namespace after
// the thread has switched back to the host's.
import * as native from '../../native/index.js';
import * as nl from './netlink.js';

export class RtnlSocket {
  private readonly fd: number;
  private seq = 0;
  private readonly rx = Buffer.alloc(64 * 1024);

  constructor() {
    this.fd = native.socket(native.AF_NETLINK, native.SOCK_RAW | native.SOCK_CLOEXEC, native.NETLINK_ROUTE);
  }

  close(): void {
    native.close(this.fd);
  }

  /** Sends one request with NLM_F_ACK and waits for its ack; a kernel error becomes a SyscallError naming `what`. */
  private request(type: number, flags: number, body: Buffer[], what: string): void {
    const seq = ++this.seq;
    native.send(this.fd, nl.message(type, flags | nl.NLM_F_REQUEST | nl.NLM_F_ACK, seq, body));
    for (;;) {
      const n = native.recv(this.fd, this.rx);
      for (const msg of nl.splitMessages(this.rx.subarray(0, n))) {
        if (msg.seq !== seq || msg.type !== nl.NLMSG_ERROR) continue;
        const err = msg.data.readInt32LE(0);
        if (err === 0) return;
        throw new native.SyscallError(what, -err);
      }
    }
  }

  /** Sends a request and collects the payloads of the replies of the given type (dump or single get). */
  private query(type: number, flags: number, body: Buffer[], replyType: number, what: string): Buffer[] {
    const seq = ++this.seq;
    native.send(this.fd, nl.message(type, flags | nl.NLM_F_REQUEST, seq, body));
    const out: Buffer[] = [];
    for (;;) {
      const n = native.recv(this.fd, this.rx);
      let more = false;
      for (const msg of nl.splitMessages(this.rx.subarray(0, n))) {
        if (msg.seq !== seq) continue;
        if (msg.type === nl.NLMSG_DONE) return out;
        if (msg.type === nl.NLMSG_ERROR) {
          const err = msg.data.readInt32LE(0);
          if (err === 0) return out;
          throw new native.SyscallError(what, -err);
        }
        if (msg.type === replyType) out.push(Buffer.from(msg.data));
        if (msg.flags & nl.NLM_F_MULTI) more = true;
      }
      if (!more) return out;
    }
  }

  getLink(name: string): nl.LinkInfo | undefined {
    try {
      const [data] = this.query(
        nl.RTM_GETLINK, 0, [nl.ifinfomsg(0), nl.attrString(nl.IFLA_IFNAME, name)], nl.RTM_NEWLINK, `get link ${name}`,
      );
      return data ? nl.decodeLink(data) : undefined;
    } catch (err) {
      if ((err as native.SyscallError).code === 'ENODEV') return undefined;
      throw err;
    }
  }

  listLinks(): nl.LinkInfo[] {
    return this.query(nl.RTM_GETLINK, nl.NLM_F_DUMP, [nl.ifinfomsg(0)], nl.RTM_NEWLINK, 'list links').map(nl.decodeLink);
  }

  listAddresses(): nl.AddrInfo[] {
    return this.query(nl.RTM_GETADDR, nl.NLM_F_DUMP, [nl.ifaddrmsg(0, 0)], nl.RTM_NEWADDR, 'list addresses')
      .map(nl.decodeAddr)
      .filter((a): a is nl.AddrInfo => a !== undefined);
  }

  listRoutes(): nl.RouteInfo[] {
    return this.query(nl.RTM_GETROUTE, nl.NLM_F_DUMP, [nl.rtmsg(0)], nl.RTM_NEWROUTE, 'list routes')
      .map(nl.decodeRoute)
      .filter((r): r is nl.RouteInfo => r !== undefined);
  }

  /** Every link with its ifi_type (readLocalNet's interface names and tunnel test). */
  dumpLinks(): nl.LinkEntry[] {
    return this.query(nl.RTM_GETLINK, nl.NLM_F_DUMP, [nl.ifinfomsg(0)], nl.RTM_NEWLINK, 'list links').map(nl.decodeLinkEntry);
  }

  /** Every address of `family` (AF_UNSPEC: IPv4 and IPv6), in the kernel's order. listAddresses stays IPv4-only. */
  dumpAddresses(family = nl.AF_UNSPEC): nl.AddrEntry[] {
    return this.query(nl.RTM_GETADDR, nl.NLM_F_DUMP, [nl.ifaddrmsgDump(family)], nl.RTM_NEWADDR, 'list addresses')
      .map(nl.decodeAddrEntry)
      .filter((a): a is nl.AddrEntry => a !== undefined);
  }

  /** Every route of `family` (AF_UNSPEC: both) in every table, in the kernel's order. listRoutes stays IPv4-only. */
  dumpRoutes(family = nl.AF_UNSPEC): nl.RouteEntry[] {
    return this.query(nl.RTM_GETROUTE, nl.NLM_F_DUMP, [nl.rtmsgDump(family)], nl.RTM_NEWROUTE, 'list routes')
      .map(nl.decodeRouteEntry)
      .filter((r): r is nl.RouteEntry => r !== undefined);
  }

  /**
   * A bridge with a fixed, random, locally administered MAC: without one Linux gives the bridge
   * the lowest MAC of its ports, so it changes when that container leaves and the others keep
   * sending to the old one (Docker and netavark set it too).
   */
  createBridge(name: string): void {
    const mac = Buffer.from(Array.from({ length: 6 }, () => Math.floor(Math.random() * 256)));
    mac[0] = (mac[0]! & 0xfe) | 0x02;
    this.request(
      nl.RTM_NEWLINK,
      nl.NLM_F_CREATE | nl.NLM_F_EXCL,
      [
        nl.ifinfomsg(0, nl.IFF_UP, nl.IFF_UP),
        nl.attrString(nl.IFLA_IFNAME, name),
        nl.attr(nl.IFLA_ADDRESS, mac),
        nl.attrNested(nl.IFLA_LINKINFO, [nl.attrString(nl.IFLA_INFO_KIND, 'bridge')]),
      ],
      `create bridge ${name}`,
    );
  }

  /**
   * A veth pair (both ends down): `hostName` attached to `master`, `peerName` moved into the
   * namespace `peerNetnsFd`. Asking for IFF_UP here fails with ENOTCONN: the kernel opens each end
   * before the pair is linked, so callers bring the ends up afterwards.
   */
  createVeth(hostName: string, master: number, peerName: string, peerNetnsFd: number): void {
    const peer = Buffer.concat([
      nl.ifinfomsg(0),
      nl.attrString(nl.IFLA_IFNAME, peerName),
      nl.attrU32(nl.IFLA_NET_NS_FD, peerNetnsFd),
    ]);
    this.request(
      nl.RTM_NEWLINK,
      nl.NLM_F_CREATE | nl.NLM_F_EXCL,
      [
        nl.ifinfomsg(0),
        nl.attrString(nl.IFLA_IFNAME, hostName),
        nl.attrU32(nl.IFLA_MASTER, master),
        nl.attrNested(nl.IFLA_LINKINFO, [
          nl.attrString(nl.IFLA_INFO_KIND, 'veth'),
          nl.attrNested(nl.IFLA_INFO_DATA, [nl.attr(nl.VETH_INFO_PEER, peer)]),
        ]),
      ],
      `create veth ${hostName}`,
    );
  }

  setUp(index: number, what: string): void {
    this.request(nl.RTM_NEWLINK, 0, [nl.ifinfomsg(index, nl.IFF_UP, nl.IFF_UP)], `set ${what} up`);
  }

  addAddress(index: number, address: number, prefix: number, broadcast: number, what: string): void {
    this.request(
      nl.RTM_NEWADDR,
      nl.NLM_F_CREATE | nl.NLM_F_EXCL,
      [
        nl.ifaddrmsg(prefix, index),
        nl.attrIPv4(nl.IFA_LOCAL, address),
        nl.attrIPv4(nl.IFA_ADDRESS, address),
        nl.attrIPv4(nl.IFA_BROADCAST, broadcast),
      ],
      `add address to ${what}`,
    );
  }

  addDefaultRoute(gateway: number, oif: number): void {
    this.request(
      nl.RTM_NEWROUTE,
      nl.NLM_F_CREATE | nl.NLM_F_EXCL,
      [nl.rtmsg(0), nl.attrIPv4(nl.RTA_GATEWAY, gateway), nl.attrU32(nl.RTA_OIF, oif)],
      'add default route',
    );
  }

  /** Deletes a link by name; false when it did not exist (delete is idempotent). */
  deleteLink(name: string): boolean {
    try {
      this.request(nl.RTM_DELLINK, 0, [nl.ifinfomsg(0), nl.attrString(nl.IFLA_IFNAME, name)], `delete link ${name}`);
      return true;
    } catch (err) {
      if ((err as native.SyscallError).code === 'ENODEV') return false;
      throw err;
    }
  }
}

/** Runs fn with a host-namespace rtnl socket, closing it afterwards. */
export function withRtnl<T>(fn: (sock: RtnlSocket) => T): T {
  const sock = new RtnlSocket();
  try {
    return fn(sock);
  } finally {
    sock.close();
  }
}
