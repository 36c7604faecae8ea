// The fidelity suite's network: per lane, a server namespace and a client namespace joined by a
// veth pair that is created directly inside them (the host never holds either end, so no packet
// of the suite ever reaches the host's own stack). The server end holds 10.X.Y.1..9/24 — the
// fake nameservers — and the client end 10.X.Y.100/24; and the same in IPv6, in a ULA /64 of the
// lane's own (fdGG:GGGG:GGLL::1..9 and ::100, `nodad` so they are usable at once). The zones'
// answers (10.50.0.0/16, fd00:50::/32) are routed on-link for address sorting; nothing else is
// routed: a query to any other address fails with "network unreachable" inside the client namespace.
//
// Every name carries a random `fy<hex>` prefix. destroy() deletes everything this module made;
// a process 'exit' guard (and SIGINT/SIGTERM/SIGHUP) does the same synchronously if the suite
// dies first, kills any child process registered with trackChild() and runs onExitCleanup()s.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { addressText, ipv6Bytes } from '../../resolvers/core/address.js';

export const SERVER_SLOTS = 9;
/** routed in every client namespace (the scenarios' answers live here) */
export const ZONE_ROUTE_V4 = '10.50.0.0/16';
export const ZONE_ROUTE_V6 = 'fd00:50::/32';
export const CLIENT_HOST = 100;

export interface Lane {
  index: number;
  /** netns names (ip netns) */
  serverNs: string;
  clientNs: string;
  serverNsPath: string;
  clientNsPath: string;
  /** "10.X.Y" */
  base: string;
  client: string;
  /** the lane's IPv6 /64, like "fd12:3456:7800:" + host part (canonical text via server()) */
  base6: string;
  client6: string;
  /**
   * Address of fake nameserver slot i: 1..9 (or "1".."9") is 10.X.Y.i, "1v6".."9v6" the IPv6
   * address of that slot (canonical RFC 5952 text, as resolv.conf parsers and captures print it).
   */
  server(i: number | string): string;
}

/** "1".."9" → [1, false], "1v6".."9v6" → [1, true]; anything else throws. */
export function parseSlot(slot: number | string): [number, boolean] {
  const m = /^([1-9])(v6)?$/.exec(String(slot));
  if (!m) throw new Error(`server slot ${slot} is not in 1..${SERVER_SLOTS} (IPv6: 1v6..${SERVER_SLOTS}v6)`);
  return [Number(m[1]), m[2] !== undefined];
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function ipNetns(ns: string, args: string[]): string {
  return ip(['netns', 'exec', ns, ...args]);
}

/** Live topologies and child processes, for the exit guard. */
const live = new Set<Topology>();
const children = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
let guardInstalled = false;

function installGuard(): void {
  if (guardInstalled) return;
  guardInstalled = true;
  const cleanup = () => {
    for (const child of children) {
      try {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    children.clear();
    for (const t of [...live]) t.destroy();
    for (const fn of cleanups) {
      try {
        fn();
      } catch {
        // best effort at exit
      }
    }
    cleanups.clear();
  };
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Something else the exit guard should do (synchronously), e.g. remove a work directory. Returns an unregister function. */
export function onExitCleanup(fn: () => void): () => void {
  installGuard();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Registers a child so the exit guard can kill it; forgotten again when it exits. */
export function trackChild(child: ChildProcess): ChildProcess {
  installGuard();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export class Topology {
  readonly prefix: string;
  readonly lanes: Lane[] = [];
  private destroyed = false;

  private constructor(prefix: string) {
    this.prefix = prefix;
  }

  /**
   * Builds `laneCount` lanes with distinct /24s in 10.230.0.0/15 + a random offset. Throws (after
   * cleaning up whatever it made) if any step fails.
   */
  static create(laneCount: number): Topology {
    installGuard();
    const t = new Topology(`fy${randomBytes(3).toString('hex')}`);
    live.add(t);
    try {
      const second = 230 + randomInt(10);
      const third0 = randomInt(256 - laneCount);
      // RFC 4193: fd + a random 40-bit global id; the subnet id is the lane.
      const g = randomBytes(5).toString('hex');
      const global = `fd${g.slice(0, 2)}:${g.slice(2, 6)}:${g.slice(6, 10)}`;
      for (let i = 0; i < laneCount; i++) t.addLane(i, `10.${second}.${third0 + i}`, `${global}:${i.toString(16)}:`);
    } catch (err) {
      const leftovers = t.destroy();
      throw new Error(`fidelity topology: ${(err as Error).message}${leftovers.length ? ` (and cleanup failed: ${leftovers.join('; ')})` : ''}`);
    }
    return t;
  }

  private addLane(index: number, base: string, base6: string): void {
    const serverNs = `${this.prefix}-s${index}`;
    const clientNs = `${this.prefix}-c${index}`;
    const v6 = (host: number) => addressText(ipv6Bytes(`${base6}:${host.toString(16)}`)!);
    const lane: Lane = {
      index,
      serverNs,
      clientNs,
      serverNsPath: `/run/netns/${serverNs}`,
      clientNsPath: `/run/netns/${clientNs}`,
      base,
      client: `${base}.${CLIENT_HOST}`,
      base6,
      client6: v6(CLIENT_HOST),
      server: (slot: number | string) => {
        const [i, six] = parseSlot(slot);
        return six ? v6(i) : `${base}.${i}`;
      },
    };
    // Named before they exist: destroy() deletes whatever of these is there.
    this.lanes.push(lane);
    ip(['netns', 'add', serverNs]);
    ip(['netns', 'add', clientNs]);
    const sv = `${this.prefix}s${index}`;
    const cv = `${this.prefix}c${index}`;
    // Both ends are born inside their namespaces (IFLA_NET_NS_FD), never in the host's.
    ip(['link', 'add', sv, 'netns', serverNs, 'type', 'veth', 'peer', 'name', cv, 'netns', clientNs]);
    for (const [ns, dev] of [[serverNs, sv], [clientNs, cv]] as const) {
      ipNetns(ns, ['ip', 'link', 'set', 'lo', 'up']);
      ipNetns(ns, ['ip', 'link', 'set', dev, 'up']);
    }
    for (let i = 1; i <= SERVER_SLOTS; i++) ipNetns(serverNs, ['ip', 'addr', 'add', `${base}.${i}/24`, 'dev', sv]);
    ipNetns(clientNs, ['ip', 'addr', 'add', `${lane.client}/24`, 'dev', cv]);
    // IPv6: no duplicate address detection (a tentative address cannot be bound or sent from).
    for (let i = 1; i <= SERVER_SLOTS; i++) ipNetns(serverNs, ['ip', '-6', 'addr', 'add', `${lane.server(`${i}v6`)}/64`, 'dev', sv, 'nodad']);
    ipNetns(clientNs, ['ip', '-6', 'addr', 'add', `${lane.client6}/64`, 'dev', cv, 'nodad']);
    // The zones' application addresses are routed on-link (nothing ever connects to them): the
    // client is a dual-stack host, so getaddrinfo's sorting (RFC 3484/6724) decides the order by
    // its tables, as on a real one, instead of a tie between two unreachable addresses (where Go's
    // order is whichever of its A and AAAA goroutines finished first). UNROUTED_* stay unreachable.
    ipNetns(clientNs, ['ip', 'route', 'add', ZONE_ROUTE_V4, 'dev', cv]);
    ipNetns(clientNs, ['ip', '-6', 'route', 'add', ZONE_ROUTE_V6, 'dev', cv]);
    // "closed" servers answer with ICMP port unreachable: no rate limit inside this namespace, so
    // a busy scenario never sees a reply silently suppressed (per-netns sysctls).
    for (const key of ['net.ipv4.icmp_ratelimit=0', 'net.ipv4.icmp_msgs_per_sec=100000', 'net.ipv6.icmp.ratelimit=0']) {
      try {
        ipNetns(serverNs, ['sysctl', '-q', '-w', key]);
      } catch {
        // older kernels: the defaults (1/s per peer with a burst) are enough for a few ICMPs
      }
    }
  }

  /** Deletes both namespaces of every lane (the veth pair goes with them). Returns what failed. */
  destroy(): string[] {
    const failures: string[] = [];
    if (this.destroyed) return failures;
    for (const lane of this.lanes) {
      for (const ns of [lane.serverNs, lane.clientNs]) {
        if (!existsSync(`/run/netns/${ns}`)) continue;
        try {
          ip(['netns', 'del', ns]);
        } catch (err) {
          failures.push(`ip netns del ${ns}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
        }
      }
    }
    this.destroyed = failures.length === 0;
    if (this.destroyed) live.delete(this);
    return failures;
  }

  /** Anything with this topology's prefix still on the machine: namespaces and host links. */
  leftovers(): string[] {
    const out: string[] = [];
    if (existsSync('/run/netns')) out.push(...readdirSync('/run/netns').filter((n) => n.startsWith(this.prefix)).map((n) => `netns ${n}`));
    const links = ip(['-o', 'link', 'show']);
    for (const m of links.matchAll(/^\d+: ([^:@]+)/gm)) if (m[1]!.startsWith(this.prefix)) out.push(`link ${m[1]}`);
    return out;
  }
}
