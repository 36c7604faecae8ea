// src/net/local-net.ts against the kernel and iproute2. Each case is a pair of network namespaces
// of this test (tsnln-<pid>-<case>-c, the client under test, and -p, its neighbour) joined by veth
// pairs whose both ends stay in them; readLocalNet and kernelSortHost run in the client through
// the project's sandwich (src/ns/enter.ts inNetns) and must agree with `ip -j addr`, `ip -j route`
// and `ip -j route get`; the pure model (resolvers/core/addrsort.ts routeSource) must give the
// kernel's source for the same destinations. Nothing is sent: `ip route get` and a UDP connect()
// are route lookups; the links' own IPv6 chatter (MLD, RS) stays on veths inside the namespaces.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalAddress } from '../../resolvers/core/address.js';
import { routeSource, type LocalAddress, type LocalNet, type LocalRoute } from '../../resolvers/core/addrsort.js';
import { kernelSortHost, readLocalNet } from '../../src/net/local-net.js';
import { inNetns } from '../../src/ns/enter.js';
import { requireRootOrSkip } from '../support/lab.js';

const sh = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });

interface Case {
  what: string;
  /** client-side links: name, up, peer in the neighbour namespace */
  links: Array<{ dev: string; peer: string; up: boolean }>;
  /** a client interface with duplicate address detection on (and slow: 60 probes), after its link-local address exists */
  dadOn?: string;
  /** `ip -batch` lines for the client (after the links exist and are up) */
  client: string[];
  /** `ip -batch` lines for the neighbour */
  neighbour: string[];
  dests: string[];
}

const CASES: Case[] = [
  {
    what: 'IPv4 + ULA on one veth, IPv4 default route via the neighbour, no IPv6 default route',
    links: [{ dev: 'd0', peer: 'p0', up: true }],
    client: ['addr add 10.61.0.2/24 dev d0', 'addr add fd00:61::2/64 dev d0 nodad', 'route add default via 10.61.0.1'],
    neighbour: ['addr add 10.61.0.1/24 dev p0', 'addr add fd00:61::1/64 dev p0 nodad'],
    dests: [
      '10.61.0.1', '10.61.0.77', '10.61.0.2', '198.51.100.7', '127.0.0.1', '127.1.2.3',
      'fd00:61::1', 'fd00:61::2', '2001:db8::1', '::1', 'fe80::1%d0', 'fe80::1', '::ffff:10.61.0.1', '::ffff:198.51.100.7',
    ],
  },
  {
    what: 'a deprecated ULA, a second interface, an IPv6 default route, routes with src, a down interface, a tentative address',
    dadOn: 'd1',
    links: [
      { dev: 'd0', peer: 'p0', up: true },
      { dev: 'd1', peer: 'p1', up: true },
      { dev: 'd2', peer: 'p2', up: false },
    ],
    client: [
      'addr add 10.62.0.2/24 dev d0',
      'addr add fd00:62::2/64 dev d0 nodad preferred_lft 0',
      'addr add 10.62.1.2/24 dev d1',
      'addr add fd00:62:1::2/64 dev d1 nodad',
      'addr add fd00:62:7::2/64 dev d1',
      'addr add 10.62.3.2/24 dev d2',
      'addr add fd00:62:3::2/64 dev d2 nodad',
      'route add default via 10.62.0.1',
      'route add ::/0 via fd00:62::1 dev d0',
      'route add 192.0.2.0/24 via 10.62.0.1 src 10.62.1.2',
      'route add 2001:db8:5::/48 via fd00:62::1 dev d0 src fd00:62:1::2',
    ],
    neighbour: ['addr add 10.62.0.1/24 dev p0', 'addr add fd00:62::1/64 dev p0 nodad', 'addr add 10.62.1.1/24 dev p1', 'addr add fd00:62:1::1/64 dev p1 nodad'],
    dests: [
      '10.62.0.1', '10.62.1.1', '10.62.1.2', '198.51.100.7', '192.0.2.9', '127.0.0.1',
      'fd00:62::1', 'fd00:62::2', 'fd00:62:1::1', '2001:db8::1', '2001:db8:5::1', '::1', 'fe80::1%d1', 'fe80::9%d0',
      '10.62.3.5', 'fd00:62:3::5', '10.62.3.2', 'fd00:62:3::2', 'fd00:62:7::2', 'fd00:62:7::9',
    ],
  },
];

/**
 * Where the pure model is known to differ from the kernel, with the reason; checked both ways (the
 * kernel's answer is asserted, and the model's, so a change on either side shows).
 */
const MODEL_DIFFERS: Record<string, { kernel: string | null; model: string | null; why: string }> = {
  '1 fe80::1%d1': {
    kernel: 'fd00:62:1::2',
    model: null,
    why: "d1's only link-local address is tentative; for a link-local destination the kernel picks among the zone interface's addresses only (use_oif_addr) and, finding no usable link-local one, takes its global address (RFC 6724 rule 2 prefers a larger scope to none). The model answers a link-local destination with a link-local address of the zone's interface or null. An interface without a link-local address at all (addr_gen_mode none) does the same.",
  },
  '1 10.62.3.5': {
    kernel: '10.62.0.2',
    model: '10.62.3.2',
    why: 'd2 is down: the kernel has no connected route for its 10.62.3.0/24 (the dump has none either) and sends 10.62.3.5 via the default route; the model adds a connected route for every listed address, up or down.',
  },
};

interface IpAddr {
  ifname: string;
  flags: string[];
  addr_info: Array<{ family: string; local: string; prefixlen: number; deprecated?: boolean; optimistic?: boolean; tentative?: boolean; home?: boolean }>;
}
interface IpRoute {
  dst: string;
  dev?: string;
  type?: string;
  prefsrc?: string;
  flags?: string[];
}

const byText = (a: { dev: string; address: string }, b: { dev: string; address: string }) => `${a.dev} ${a.address}`.localeCompare(`${b.dev} ${b.address}`);

/** what `ip -j addr show` says, with readLocalNet's rule: no tentative address unless optimistic */
function ipAddresses(ns: string): { usable: LocalAddress[]; all: LocalAddress[] } {
  const links = JSON.parse(sh('ip', ['-n', ns, '-j', 'addr', 'show'])) as IpAddr[];
  const usable: LocalAddress[] = [];
  const all: LocalAddress[] = [];
  for (const l of links) {
    for (const a of l.addr_info) {
      const entry: LocalAddress = { address: canonicalAddress(a.local)!, prefixLen: a.prefixlen, dev: l.ifname };
      if (a.deprecated || a.optimistic) entry.deprecated = true;
      if (a.home) entry.home = true;
      all.push(entry);
      if (!a.tentative || a.optimistic) usable.push(entry);
    }
  }
  return { usable: usable.sort(byText), all: all.sort(byText) };
}

/** what `ip -j route show table main` says (IPv4, then IPv6), unicast, not dead, in readLocalNet's spelling */
function ipRoutes(ns: string): LocalRoute[] {
  const out: LocalRoute[] = [];
  for (const family of ['-4', '-6'] as const) {
    for (const r of JSON.parse(sh('ip', ['-n', ns, '-j', family, 'route', 'show', 'table', 'main'])) as IpRoute[]) {
      if (r.type !== undefined || r.flags?.includes('dead') || !r.dev) continue;
      const [net = '', len] = r.dst.split('/');
      const dst = r.dst === 'default' ? (family === '-4' ? 'default' : '::/0') : `${canonicalAddress(net)}/${len ?? (family === '-4' ? 32 : 128)}`;
      out.push(r.prefsrc ? { dst, dev: r.dev, src: canonicalAddress(r.prefsrc)! } : { dst, dev: r.dev });
    }
  }
  return out;
}

/**
 * `ip -j route get`'s prefsrc: the kernel's answer to the same question as connect(). A %zone is
 * `oif`; a mapped address is asked as IPv4 (an AF_INET6 socket routes it so) and mapped back. A
 * zone-less link-local destination is left out: `ip route get` finds fe80::/64 on some interface,
 * while connect() refuses it (EINVAL) — the kernel's own answer is asserted instead.
 */
function ipRouteGet(ns: string, dest: string): string | null | 'skip' {
  const [addr = '', zone] = dest.split('%');
  if (/^fe[89ab]/i.test(addr) && zone === undefined) return 'skip';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr)?.[1];
  try {
    const [r] = JSON.parse(sh('ip', ['-n', ns, '-j', 'route', 'get', mapped ?? addr, ...(zone ? ['oif', zone] : [])])) as IpRoute[];
    const src = r?.prefsrc === undefined ? null : canonicalAddress(r.prefsrc)!;
    return src !== null && mapped ? `::ffff:${src}` : src;
  } catch {
    return null; // RTNETLINK answers: Network is unreachable
  }
}

describe.skipIf(!requireRootOrSkip())('readLocalNet and kernelSortHost in real namespaces (src/net/local-net.ts)', () => {
  const made: string[] = [];
  const nsName = (n: number, side: 'c' | 'p') => `tsnln-${process.pid}-${n}-${side}`;

  function build(c: Case, n: number): string {
    const [client, peer] = [nsName(n, 'c'), nsName(n, 'p')];
    for (const ns of [client, peer]) {
      made.push(ns);
      sh('ip', ['netns', 'add', ns]);
      // no duplicate address detection: every address usable at once, link-local ones included
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    }
    const batch = ['link set lo up'];
    for (const l of c.links) batch.push(`link add ${l.dev} type veth peer name ${l.peer} netns ${peer}`);
    for (const l of c.links) if (l.up) batch.push(`link set ${l.dev} up`);
    sh('ip', ['-n', client, '-batch', '-'], batch.join('\n') + '\n');
    if (c.dadOn) sh('ip', ['netns', 'exec', client, 'sysctl', '-qw', `net.ipv6.conf.${c.dadOn}.accept_dad=1`, `net.ipv6.conf.${c.dadOn}.dad_transmits=60`]);
    sh('ip', ['-n', client, '-batch', '-'], c.client.join('\n') + '\n');
    const peerBatch = ['link set lo up', ...c.links.map((l) => `link set ${l.peer} up`), ...c.neighbour];
    sh('ip', ['-n', peer, '-batch', '-'], peerBatch.join('\n') + '\n');
    return client;
  }

  afterAll(() => {
    const failed: string[] = [];
    for (const ns of made) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch (err) {
        if (existsSync(`/run/netns/${ns}`)) failed.push(`${ns}: ${(err as Error).message}`);
      }
    }
    expect(failed).toEqual([]);
    expect(made.filter((ns) => existsSync(`/run/netns/${ns}`))).toEqual([]);
  });

  const built: string[] = [];
  beforeAll(() => {
    CASES.forEach((c, n) => built.push(build(c, n)));
  });

  CASES.forEach((c, n) =>
    describe(c.what, () => {
      let net: LocalNet;
      let kernel: Array<string | null>;
      let hostAddresses: readonly LocalAddress[] | undefined;
      beforeAll(() => {
        inNetns(`/run/netns/${built[n]}`, () => {
          net = readLocalNet();
          const host = kernelSortHost();
          kernel = c.dests.map((d) => host.sourceOf(d));
          hostAddresses = host.addresses;
        });
      });

      it('readLocalNet: the addresses `ip -j addr show` lists but tentative ones (prefix length, device, deprecated)', () => {
        const ip = ipAddresses(built[n]!);
        expect([...net.addresses].sort(byText)).toEqual(ip.usable);
        expect(hostAddresses).toEqual(net.addresses);
        // what the test set up is there: lo, link-local addresses, the deprecated ULA
        const has = (dev: string, re: RegExp) => net.addresses.some((a) => a.dev === dev && re.test(a.address));
        expect(has('lo', /^127\.0\.0\.1$/) && has('lo', /^::1$/) && has('d0', /^fe80:/)).toBe(true);
        if (n === 1) {
          expect(net.addresses.find((a) => a.address === 'fd00:62::2')).toEqual({ address: 'fd00:62::2', prefixLen: 64, dev: 'd0', deprecated: true });
          // a down interface's addresses count (the kernel uses them); a tentative one does not
          expect(net.addresses.filter((a) => a.dev === 'd2').map((a) => a.address).sort()).toEqual(['10.62.3.2', 'fd00:62:3::2']);
          expect(ip.all.some((a) => a.address === 'fd00:62:7::2')).toBe(true);
          expect(net.addresses.some((a) => a.address === 'fd00:62:7::2')).toBe(false);
          // d1 came up (its peer did) after DAD was turned on: its link-local address is tentative too
          expect(ip.all.some((a) => a.dev === 'd1' && a.address.startsWith('fe80:'))).toBe(true);
          expect(net.addresses.some((a) => a.dev === 'd1' && a.address.startsWith('fe80:'))).toBe(false);
        }
      });

      it('readLocalNet: the routes of `ip -j route show table main`, both families, in the kernel\'s order', () => {
        expect(net.routes).toEqual(ipRoutes(built[n]!));
        expect(net.routes.some((r) => r.dst === 'default')).toBe(true);
        expect(net.routes.some((r) => r.dst === '::/0')).toBe(n === 1);
        if (n === 1) {
          expect(net.routes).toContainEqual({ dst: '192.0.2.0/24', dev: 'd0', src: '10.62.1.2' });
          expect(net.routes).toContainEqual({ dst: '2001:db8:5::/48', dev: 'd0', src: 'fd00:62:1::2' });
        }
      });

      it('kernelSortHost().sourceOf: the prefsrc of `ip -j route get` for every destination', () => {
        const rows = c.dests.map((d, i) => ({ dest: d, kernel: kernel[i], ip: ipRouteGet(built[n]!, d) }));
        for (const r of rows) if (r.ip !== 'skip') expect({ dest: r.dest, source: r.kernel }).toEqual({ dest: r.dest, source: r.ip });
        const at = (d: string) => kernel[c.dests.indexOf(d)];
        // the cases the destinations were chosen for
        expect([at('127.0.0.1'), at('::1')]).toEqual(['127.0.0.1', '::1']);
        if (n === 0) {
          expect(at('2001:db8::1')).toBeNull(); // no IPv6 default route: ENETUNREACH
          expect(at('fe80::1')).toBeNull(); // link-local without a zone: EINVAL
          expect(at('fe80::1%d0')).toMatch(/^fe80::/);
          expect(at('::ffff:198.51.100.7')).toBe('::ffff:10.61.0.2');
          expect(at('127.1.2.3')).toBe('127.0.0.1');
        } else {
          expect(at('fd00:62::1')).toBe('fd00:62:1::2'); // the on-link source is deprecated: the other interface's wins
          expect(at('192.0.2.9')).toBe('10.62.1.2');
          expect(at('10.62.3.5')).toBe('10.62.0.2'); // the down interface's subnet has no route: via default
          expect(at('10.62.3.2')).toBe('10.62.3.2'); // its address is still local
          expect(at('fd00:62:3::5')).toBe('fd00:62:3::2'); // a down interface's IPv6 address competes (longest matching prefix)
          expect(at('fd00:62:7::2')).not.toBe('fd00:62:7::2'); // a tentative address is not local
          expect(at('fe80::1%d1')).toBe('fd00:62:1::2'); // no usable link-local address on d1: its global one
        }
      });

      it('the pure model agrees: routeSource(readLocalNet(), d) === the kernel\'s source', () => {
        const disagree = c.dests.flatMap((d, i) => {
          const model = routeSource(net, d);
          return model === kernel[i] ? [] : [{ dest: d, kernel: kernel[i], model }];
        });
        const known = disagree.filter((x) => MODEL_DIFFERS[`${n} ${x.dest}`]);
        for (const x of known) expect({ kernel: x.kernel, model: x.model }).toEqual({ kernel: MODEL_DIFFERS[`${n} ${x.dest}`]!.kernel, model: MODEL_DIFFERS[`${n} ${x.dest}`]!.model });
        expect(disagree.filter((x) => !MODEL_DIFFERS[`${n} ${x.dest}`])).toEqual([]);
      });
    }),
  );
});
