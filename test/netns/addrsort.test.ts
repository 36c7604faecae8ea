// resolvers/core/addrsort.ts against the real libraries. Each scenario is a network namespace of
// this test (tsnaddr-<pid>-<n>) holding a veth pair whose both ends stay inside it, with the
// scenario's addresses and routes; the names are in a private /etc/hosts bind-mounted in a private
// mount namespace (and a resolv.conf pointing at the namespace's own 127.0.0.1), so a lookup sends
// nothing: the libraries only connect() UDP sockets to learn source addresses. The reference
// programs (test/fidelity/ref/gai.c with glibc and musl-gcc, and a net.LookupIPAddr program built
// with CGO_ENABLED=0) print the order they get; the model must give the same order, and
// routeSource must give the source `ip route get` shows.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostOf, parseGaiConf, routeSource, sortGlibc, sortGo, sortMusl, type LocalAddress, type LocalNet } from '../../resolvers/core/addrsort.js';
import { haveCommand, isRoot } from '../support/lab.js';

const REF = resolve(import.meta.dirname, '../fidelity/ref/gai.c');
const GO_PROGRAM = `package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
)

func main() {
	addrs, err := (&net.Resolver{PreferGo: true}).LookupIPAddr(context.Background(), os.Args[1])
	if err != nil {
		fmt.Println("ERR", err)
		return
	}
	out := []string{}
	for _, a := range addrs {
		out = append(out, a.String())
	}
	fmt.Println(strings.Join(out, " "))
}
`;

interface Scenario {
  what: string;
  addresses: LocalAddress[];
  routes: LocalNet['routes'];
  hosts: string[];
  gaiConf?: string;
}

const lo: LocalAddress[] = [
  { address: '127.0.0.1', prefixLen: 8, dev: 'lo' },
  { address: '::1', prefixLen: 128, dev: 'lo' },
];
const v4: LocalAddress = { address: '10.50.0.2', prefixLen: 24, dev: 'd0' };
const ula: LocalAddress = { address: 'fd00:50::2', prefixLen: 64, dev: 'd0' };
const ll: LocalAddress = { address: 'fe80::2', prefixLen: 64, dev: 'd0' };
const defaultRoute = [{ dst: 'default', dev: 'd0' }];

const SCENARIOS: Scenario[] = [
  { what: 'global IPv4 + ULA, A first', addresses: [...lo, v4, ula, ll], routes: defaultRoute, hosts: ['10.50.0.5', 'fd00:50::5'] },
  { what: 'global IPv4 + ULA, AAAA first', addresses: [...lo, v4, ula, ll], routes: defaultRoute, hosts: ['fd00:50::5', '10.50.0.5'] },
  { what: 'no IPv6 route', addresses: [...lo, v4], routes: defaultRoute, hosts: ['fd00:50::5', '10.50.0.5'] },
  // both unusable (rule 1 ties): what decides is the rest of each library's rules
  { what: 'no route to either family', addresses: [...lo, v4, ula, ll], routes: [], hosts: ['10.99.0.5', 'fd00:99::5'] },
  { what: 'no route to either family, AAAA first', addresses: [...lo, v4, ula, ll], routes: [], hosts: ['fd00:99::5', '10.99.0.5'] },
  { what: 'IPv4 rule 9 with an IPv6 address (prefix lengths known)', addresses: [...lo, v4, ll], routes: defaultRoute, hosts: ['10.9.9.9', '10.50.0.77', '10.50.0.2', 'fd00:50::5'] },
  { what: 'IPv4 rule 9 without IPv6 (prefix length 0)', addresses: [...lo, v4], routes: defaultRoute, hosts: ['10.9.9.9', '10.50.0.77', '10.50.0.2', 'fd00:50::5'] },
  { what: 'loopback and global, both families', addresses: [...lo, v4, ula, ll], routes: defaultRoute, hosts: ['10.50.0.5', 'fd00:50::5', '::1', '127.0.0.1', '2001:db8::1'] },
  {
    what: 'a global IPv6 route on a link-local-only device',
    addresses: [...lo, v4, ll],
    routes: [...defaultRoute, { dst: '2001:db8::/32', dev: 'd0' }],
    hosts: ['10.50.0.5', '2001:db8::1', '127.0.0.1'],
  },
  {
    what: 'a global IPv6 route on a link-local-only device, a ULA on another',
    addresses: [...lo, v4, ll, { address: 'fd00:70::2', prefixLen: 64, dev: 'd1' }],
    routes: [...defaultRoute, { dst: '2001:db8::/32', dev: 'd0' }],
    hosts: ['2001:db8::1', '10.50.0.5'],
  },
  { what: 'glibc rule 3: the only IPv6 source is deprecated', addresses: [...lo, v4, { ...ula, deprecated: true }, ll], routes: defaultRoute, hosts: ['fd00:50::5', '10.50.0.5'] },
  {
    what: 'a deprecated address loses to one on another device',
    addresses: [...lo, v4, { ...ula, deprecated: true }, ll, { address: 'fd00:70::2', prefixLen: 64, dev: 'd1' }],
    routes: defaultRoute,
    hosts: ['fd00:50::5', '10.50.0.5'],
  },
  { what: 'a link-local destination without a zone is unusable', addresses: [...lo, v4, ula, ll], routes: defaultRoute, hosts: ['fe80::9', '10.50.0.5', 'fd00:50::5'] },
  { what: 'gai.conf: precedence ::ffff:0:0/96 100', addresses: [...lo, v4, ula, ll], routes: defaultRoute, hosts: ['fd00:50::5', '10.50.0.5'], gaiConf: '# prefer IPv4\nprecedence ::ffff:0:0/96 100\n' },
  { what: 'gai.conf: a label table of one line', addresses: [...lo, v4, ula, ll], routes: defaultRoute, hosts: ['10.50.0.5', 'fd00:50::5', '::1'], gaiConf: 'label fd00::/8 4\n' },
];

const sh = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });
const have = haveCommand;

describe.skipIf(!isRoot || !have('gcc'))('address order of the real libraries in a namespace (resolvers/core/addrsort.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnaddr-'));
  const made: string[] = [];
  const bins: Record<'glibc' | 'musl' | 'go', string | undefined> = { glibc: undefined, musl: undefined, go: undefined };

  beforeAll(() => {
    bins.glibc = join(dir, 'gai-glibc');
    sh('gcc', ['-O2', '-o', bins.glibc, REF]);
    if (have('musl-gcc')) sh('musl-gcc', ['-static', '-O2', '-o', (bins.musl = join(dir, 'gai-musl')), REF]);
    if (have('go')) {
      writeFileSync(join(dir, 'lookup.go'), GO_PROGRAM);
      execFileSync('go', ['build', '-o', (bins.go = join(dir, 'golookup')), join(dir, 'lookup.go')], {
        env: { ...process.env, CGO_ENABLED: '0', GO111MODULE: 'off', GOCACHE: join(dir, 'gocache'), GOFLAGS: '' },
        stdio: 'pipe',
      });
    }
  }, 120_000);

  afterAll(() => {
    for (const ns of made) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  /** the namespace of a scenario: lo up, d0/d1 a veth pair, no automatic link-local, no DAD */
  function build(s: Scenario, n: number): string {
    const ns = `tsnaddr-${process.pid}-${n}`;
    sh('ip', ['netns', 'add', ns]);
    made.push(ns);
    const inNs = (args: string[]) => sh('ip', ['netns', 'exec', ns, ...args]);
    inNs(['sysctl', '-qw', 'net.ipv6.conf.default.addr_gen_mode=1', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
    const batch = ['link set lo up', 'link add d0 type veth peer name d1', 'link set d0 up', 'link set d1 up'];
    for (const a of s.addresses) if (a.dev !== 'lo') batch.push(`addr add ${a.address}/${a.prefixLen} dev ${a.dev}${a.address.includes(':') ? ' nodad' : ''}${a.deprecated ? ' preferred_lft 0' : ''}`);
    for (const r of s.routes) batch.push(`route add ${r.dst} dev ${r.dev}${r.src ? ` src ${r.src}` : ''}`);
    sh('ip', ['-n', ns, '-batch', '-'], batch.join('\n') + '\n');
    return ns;
  }

  /** each library's order for `name` (hosts file only), in a private mount namespace */
  function lookup(ns: string, s: Scenario, n: number): Record<string, string[]> {
    const hosts = join(dir, `hosts-${n}`);
    const resolv = join(dir, `resolv-${n}`);
    const gai = join(dir, `gai-${n}`);
    writeFileSync(hosts, s.hosts.map((a) => `${a} probe.test\n`).join(''));
    writeFileSync(resolv, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    writeFileSync(gai, s.gaiConf ?? '');
    const out: Record<string, string[]> = {};
    for (const [lib, bin] of Object.entries(bins)) {
      if (!bin) continue;
      const script = `mount --bind ${hosts} /etc/hosts && mount --bind ${resolv} /etc/resolv.conf && mount --bind ${gai} /etc/gai.conf && exec "$0" "$@"`;
      const args = lib === 'go' ? [bin, 'probe.test'] : [bin, 'probe.test', 'any'];
      const text = sh('ip', ['netns', 'exec', ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, ...args]).trim();
      out[lib] = lib === 'go' ? text.split(' ') : (JSON.parse(text) as { addresses: string[] }).addresses;
    }
    return out;
  }

  SCENARIOS.forEach((s, n) =>
    it(s.what, () => {
      const ns = build(s, n);
      const net: LocalNet = { addresses: s.addresses, routes: s.routes };
      for (const dest of s.hosts) {
        // `ip route get` finds a route for a zone-less link-local address; connect() fails (EINVAL)
        if (/^fe[89ab]/i.test(dest) && !dest.includes('%')) continue;
        let got = 'unreachable';
        try {
          got = sh('ip', ['-n', ns, 'route', 'get', dest]);
        } catch {} // "Network is unreachable": connect() fails too
        expect(routeSource(net, dest), `source for ${dest}: ${got}`).toBe(/ src (\S+)/.exec(got)?.[1] ?? null);
      }
      const real = lookup(ns, s, n);
      const model = {
        glibc: sortGlibc(s.hosts, hostOf(net), s.gaiConf === undefined ? undefined : parseGaiConf(s.gaiConf)),
        musl: sortMusl(s.hosts, 'any', hostOf(net)),
        go: sortGo(s.hosts, hostOf(net)),
      };
      for (const lib of Object.keys(real)) expect({ lib, order: model[lib as keyof typeof model] }).toEqual({ lib, order: real[lib] });
    }),
  );
});
