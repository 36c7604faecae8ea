// Expected orders come from outside this module: RFC 6724 §10.2's examples (as Go's
// addrselect_test.go re-expresses them, with the source of each destination), Go's own test
// cases, and facts about glibc 2.36 and musl 1.2.3 read in their sources and checked against the
// real libraries in a namespace (test/netns/addrsort.test.ts).
import { describe, expect, it } from 'vitest';
import { eventletOrder, GLIBC_DEFAULT_POLICY, hostOf, parseGaiConf, routeSource, sortGlibc, sortGo, sortMusl, type LocalAddress, type LocalNet, type SortHost } from './addrsort.js';

/** a host whose kernel gives these sources (missing: connect fails) */
const sources = (map: Record<string, string>, addresses?: LocalAddress[]): SortHost => ({
  sourceOf: (d) => map[d] ?? null,
  ...(addresses ? { addresses } : {}),
});

/** each case: input order, the source of each destination, the order RFC 6724 gives */
const RFC_CASES: { what: string; srcs: Record<string, string>; in: string[]; want: string[] }[] = [
  { what: 'prefer matching scope (169.254 source)', srcs: { '2001:db8:1::1': '2001:db8:1::2', '198.51.100.121': '169.254.13.78' }, in: ['2001:db8:1::1', '198.51.100.121'], want: ['2001:db8:1::1', '198.51.100.121'] },
  { what: 'prefer matching scope (fe80 source)', srcs: { '2001:db8:1::1': 'fe80::1', '198.51.100.121': '198.51.100.117' }, in: ['2001:db8:1::1', '198.51.100.121'], want: ['198.51.100.121', '2001:db8:1::1'] },
  { what: 'prefer higher precedence', srcs: { '2001:db8:1::1': '2001:db8:1::2', '10.1.2.3': '10.1.2.4' }, in: ['2001:db8:1::1', '10.1.2.3'], want: ['2001:db8:1::1', '10.1.2.3'] },
  { what: 'prefer smaller scope', srcs: { '2001:db8:1::1': '2001:db8:1::2', 'fe80::1': 'fe80::2' }, in: ['2001:db8:1::1', 'fe80::1'], want: ['fe80::1', '2001:db8:1::1'] },
];

describe('RFC 6724 §10.2 examples (both input orders)', () => {
  const sorters = { glibc: (d: string[], h: SortHost) => sortGlibc(d, h), musl: (d: string[], h: SortHost) => sortMusl(d, 'any', h), go: sortGo };
  for (const c of RFC_CASES)
    for (const [name, sort] of Object.entries(sorters))
      it(`${name}: ${c.what}`, () => {
        expect(sort(c.in, sources(c.srcs))).toEqual(c.want);
        expect(sort([...c.in].reverse(), sources(c.srcs))).toEqual(c.want);
      });
});

describe('Go 1.19 sortByRFC6724 (addrselect_test.go)', () => {
  it('issue 13283: a 10/8 source does not make 23/8 destinations better (no rule 9 for IPv4)', () => {
    const dests = ['54.83.193.112', '184.72.238.214', '23.23.172.185', '75.101.148.21', '23.23.134.56', '23.21.50.150'];
    expect(sortGo(dests, { sourceOf: () => '10.2.3.4' })).toEqual(dests);
  });
  it('rule 9 for IPv6 looks at 64 bits at most', () => {
    const srcs = { '2001:db8::1:0:0:1': '2001:db8::1', '2001:db8::1': '2001:db8::2' };
    // both share the whole /64 with their source: equal, the input order stays
    expect(sortGo(['2001:db8::1:0:0:1', '2001:db8::1'], sources(srcs))).toEqual(['2001:db8::1:0:0:1', '2001:db8::1']);
    // glibc and musl compare all 128 bits
    expect(sortGlibc(['2001:db8::1:0:0:1', '2001:db8::1'], sources(srcs))).toEqual(['2001:db8::1', '2001:db8::1:0:0:1']);
    expect(sortMusl(['2001:db8::1:0:0:1', '2001:db8::1'], 'any', sources(srcs))).toEqual(['2001:db8::1', '2001:db8::1:0:0:1']);
  });
  it('unreachable destinations go last, in their order', () => {
    expect(sortGo(['2001:db8::9', '2001:db8::8', '10.0.0.1'], sources({ '10.0.0.1': '10.0.0.2' }))).toEqual(['10.0.0.1', '2001:db8::9', '2001:db8::8']);
  });
  it('127/8 is link-local scope: loopback before a global address', () => {
    expect(sortGo(['10.0.0.1', '127.0.0.1'], sources({ '10.0.0.1': '10.0.0.2', '127.0.0.1': '127.0.0.1' }))).toEqual(['127.0.0.1', '10.0.0.1']);
  });
  it('sort.Stable beyond one 20-block keeps equal elements in order', () => {
    const v4 = Array.from({ length: 30 }, (_, i) => `10.0.${i}.1`);
    const v6 = Array.from({ length: 25 }, (_, i) => `2001:db8::${i + 1}`);
    const dests = v4.flatMap((a, i) => [a, v6[i]].filter((x): x is string => x !== undefined));
    const host = { sourceOf: (d: string) => (d.includes(':') ? '2001:db8::ffff' : '10.0.0.2') };
    expect(sortGo(dests, host)).toEqual([...v6, ...v4]);
  });
});

/** the task's two hosts: a global IPv4 address and a ULA, with and without an IPv6 route */
const ULA_NET: LocalNet = {
  addresses: [
    { address: '127.0.0.1', prefixLen: 8, dev: 'lo' },
    { address: '::1', prefixLen: 128, dev: 'lo' },
    { address: '10.50.0.2', prefixLen: 24, dev: 'eth0' },
    { address: 'fd00:50::2', prefixLen: 64, dev: 'eth0' },
    { address: 'fe80::2', prefixLen: 64, dev: 'eth0' },
  ],
  routes: [{ dst: 'default', dev: 'eth0' }],
};
const V4_ONLY: LocalNet = {
  addresses: [
    { address: '127.0.0.1', prefixLen: 8, dev: 'lo' },
    { address: '::1', prefixLen: 128, dev: 'lo' },
    { address: '10.50.0.2', prefixLen: 24, dev: 'eth0' },
  ],
  routes: [{ dst: 'default', dev: 'eth0' }],
};

describe('A 10.50.0.5 + AAAA fd00:50::5', () => {
  const dests = ['10.50.0.5', 'fd00:50::5'];
  it('with a ULA and its route: glibc puts the ULA first (its default precedence has no fc00::/7 row: 40 > 10)', () => {
    expect(sortGlibc(dests, hostOf(ULA_NET))).toEqual(['fd00:50::5', '10.50.0.5']);
    expect(sortGlibc([...dests].reverse(), hostOf(ULA_NET))).toEqual(['fd00:50::5', '10.50.0.5']);
  });
  it('with a ULA and its route: musl and Go put IPv4 first (RFC 6724: ULA precedence 3 < 35)', () => {
    expect(sortMusl([...dests].reverse(), 'any', hostOf(ULA_NET))).toEqual(dests);
    expect(sortGo([...dests].reverse(), hostOf(ULA_NET))).toEqual(dests);
  });
  it('without an IPv6 route everyone puts IPv4 first (rule 1); eventlet never sorts', () => {
    const aaaaFirst = [...dests].reverse();
    expect(sortGlibc(aaaaFirst, hostOf(V4_ONLY))).toEqual(dests);
    expect(sortMusl(aaaaFirst, 'any', hostOf(V4_ONLY))).toEqual(dests);
    expect(sortGo(aaaaFirst, hostOf(V4_ONLY))).toEqual(dests);
    expect(eventletOrder(['fd00:50::5'], ['10.50.0.5'])).toEqual(aaaaFirst);
  });
  it('gai.conf "precedence ::ffff:0:0/96 100" turns glibc around', () => {
    expect(sortGlibc(['fd00:50::5', '10.50.0.5'], hostOf(ULA_NET), parseGaiConf('precedence ::ffff:0:0/96 100\n'))).toEqual(['10.50.0.5', 'fd00:50::5']);
  });
});

describe('glibc 2.36 rfc3484_sort', () => {
  it('sorts IPv4-only results too; rule 9 uses the source interface prefix, known only when the host has an IPv6 address', () => {
    const dests = ['10.9.9.9', '10.50.0.77'];
    // IPv6 seen (a link-local counts): 10.50.0.77 shares 10.50.0.2/24 → first
    expect(sortGlibc(dests, hostOf(ULA_NET))).toEqual(['10.50.0.77', '10.9.9.9']);
    // no IPv6: prefix length 0, mask 0xffffffff << 32 = all ones on x86-64 → nobody matches
    expect(sortGlibc(dests, hostOf(V4_ONLY))).toEqual(dests);
    // ... except a destination that is the source itself
    expect(sortGlibc(['10.9.9.9', '10.50.0.2'], hostOf(V4_ONLY))).toEqual(['10.50.0.2', '10.9.9.9']);
  });
  it('rule 2 for IPv4 uses the scopev4 table (169.254/16 and 127/8 are link-local)', () => {
    const host = sources({ '192.0.2.1': '169.254.1.1', '192.0.2.2': '192.0.2.9' });
    expect(sortGlibc(['192.0.2.1', '192.0.2.2'], host)).toEqual(['192.0.2.2', '192.0.2.1']);
    expect(sortGlibc(['192.0.2.1', '192.0.2.2'], host, parseGaiConf('scopev4 ::ffff:169.254.0.0/112 14'))).toEqual(['192.0.2.1', '192.0.2.2']);
  });
  it('rule 3: a deprecated source goes last (only with interface information)', () => {
    const addresses: LocalAddress[] = [
      { address: '2001:db8:1::2', prefixLen: 64, dev: 'eth0', deprecated: true },
      { address: '2001:db8:2::2', prefixLen: 64, dev: 'eth0' },
    ];
    const srcs = { '2001:db8:1::1': '2001:db8:1::2', '2001:db8:2::1': '2001:db8:2::2' };
    expect(sortGlibc(['2001:db8:1::1', '2001:db8:2::1'], sources(srcs, addresses))).toEqual(['2001:db8:2::1', '2001:db8:1::1']);
    // Go and musl skip rule 3
    expect(sortGo(['2001:db8:1::1', '2001:db8:2::1'], sources(srcs, addresses))).toEqual(['2001:db8:1::1', '2001:db8:2::1']);
  });
  it('rule 7: a tunnel interface is not native', () => {
    const addresses: LocalAddress[] = [
      { address: '2001:db8:1::2', prefixLen: 64, dev: 'sit1', tunnel: true },
      { address: '2001:db8:2::2', prefixLen: 64, dev: 'eth0' },
    ];
    const srcs = { '2001:db8:1::1': '2001:db8:1::2', '2001:db8:2::1': '2001:db8:2::2' };
    expect(sortGlibc(['2001:db8:1::1', '2001:db8:2::1'], sources(srcs, addresses))).toEqual(['2001:db8:2::1', '2001:db8:1::1']);
  });
  it('rule 5 with the default labels: 6to4 destination with a native source loses', () => {
    const srcs = { '2002:c000:201::1': '2001:db8::2', '2001:db8::1': '2001:db8::2' };
    expect(sortGlibc(['2002:c000:201::1', '2001:db8::1'], sources(srcs))).toEqual(['2001:db8::1', '2002:c000:201::1']);
  });
});

describe('glibc gai.conf (gaiconf_init)', () => {
  it("Debian 12's shipped file (all comments) gives the built-in tables", () => {
    const debian = '# Configuration for getaddrinfo(3).\n#\n#label ::1/128       0\n#precedence  ::ffff:0:0/96  100\n#scopev4 ::ffff:169.254.0.0/112  2\n';
    expect(parseGaiConf(debian)).toEqual(GLIBC_DEFAULT_POLICY);
    expect(parseGaiConf('')).toEqual(GLIBC_DEFAULT_POLICY);
  });
  it('a precedence line replaces the whole default table, with an implicit ::/0 → 40', () => {
    const p = parseGaiConf('reload yes\nprecedence ::ffff:0:0/96 100 # IPv4 first\n');
    expect(p.precedence.map((e) => [e.bits, e.value])).toEqual([[96, 100], [0, 40]]);
    expect(p.labels).toBe(GLIBC_DEFAULT_POLICY.labels);
    // ::1 lost its 50: with ::1 and 2001:db8::1 both 40 now, the input order decides
    const srcs = { '2001:db8::1': '2001:db8::2', '::1': '::1' };
    expect(sortGlibc(['2001:db8::1', '::1'], sources(srcs), p)).toEqual(['::1', '2001:db8::1']); // rule 8: ::1 scope 2
  });
  it('entries longest first, file order among equals; a /0 entry replaces the implicit one', () => {
    const p = parseGaiConf('label ::/0 9\nlabel 2001:db8::/32 7\nlabel 2001:db8::/32 8\nlabel ::1/128 3\n');
    expect(p.labels.map((e) => [e.bits, e.value])).toEqual([[128, 3], [32, 7], [32, 8], [0, 9]]);
  });
  it('scopev4 in both spellings; an implicit 0.0.0.0/0 → 14', () => {
    const p = parseGaiConf('scopev4 ::ffff:10.0.0.0/104 5\nscopev4 192.168.0.0/16 8\n');
    expect(p.scopes.map((e) => [Array.from(e.prefix).join('.'), e.bits, e.scope])).toEqual([
      ['192.168.0.0', 16, 8],
      ['10.0.0.0', 8, 5],
      ['0.0.0.0', 0, 14],
    ]);
  });
  it('skips invalid lines (reported through warn); a missing value is strtoul("") = 0', () => {
    const warnings: string[] = [];
    const p = parseGaiConf('label zzz/8 1\nlabel ::/129 1\nprecedence ::/0 -5\nscopev4 2001::/96 3\nscopev4 10.0.0.0/33 3\nlabel fc00::/7\n', (m) => warnings.push(m));
    expect(warnings).toHaveLength(5);
    expect(p.labels.map((e) => [e.bits, e.value])).toEqual([[7, 0], [0, 1]]);
    expect(p.precedence).toBe(GLIBC_DEFAULT_POLICY.precedence);
  });
});

describe('musl 1.2.3 __lookup_name sort key', () => {
  it('does not sort for AF_INET or when every result is IPv4', () => {
    const host = sources({ '10.9.9.9': '10.50.0.2', '10.50.0.77': '10.50.0.2' });
    expect(sortMusl(['10.9.9.9', '10.50.0.77'], 'any', host)).toEqual(['10.9.9.9', '10.50.0.77']);
    expect(sortMusl(['10.9.9.9', '10.50.0.77', 'fd00::1'], 'inet', host)).toEqual(['10.9.9.9', '10.50.0.77', 'fd00::1']);
  });
  it('with one IPv6 result the IPv4 ones get sorted too: longest common prefix (IPv4 as ::ffff:)', () => {
    const host = sources({ '10.9.9.9': '10.50.0.2', '10.50.0.77': '10.50.0.2' });
    expect(sortMusl(['fd00::1', '10.9.9.9', '10.50.0.77'], 'any', host)).toEqual(['10.50.0.77', '10.9.9.9', 'fd00::1']);
  });
  it('169.254/16 is not link-local scope for musl (scopeof sees ::ffff:169.254.x.x)', () => {
    const host = sources({ '192.0.2.1': '169.254.1.1', '192.0.2.2': '192.0.2.9' });
    // both match scope 14; rule 9: 192.0.2.2 shares 28 bits with its source
    expect(sortMusl(['192.0.2.1', '192.0.2.2', '2001:db8::1'], 'any', host)).toEqual(['192.0.2.2', '192.0.2.1', '2001:db8::1']);
    expect(sortGlibc(['192.0.2.1', '192.0.2.2'], host)).toEqual(['192.0.2.2', '192.0.2.1']); // glibc: by scope
  });
});

describe('routeSource (a small model of the kernel)', () => {
  const net: LocalNet = {
    addresses: [
      ...ULA_NET.addresses,
      { address: '192.168.7.2', prefixLen: 24, dev: 'eth1' },
      { address: 'fe80::7', prefixLen: 64, dev: 'eth1' },
    ],
    routes: [
      { dst: 'default', dev: 'eth0' },
      { dst: '172.16.0.0/12', dev: 'eth1', src: '192.168.7.2' },
      { dst: '2001:db8::/32', dev: 'eth1' },
    ],
  };
  const cases: [string, string | null][] = [
    ['10.50.0.5', '10.50.0.2'], // connected
    ['8.8.8.8', '10.50.0.2'], // default
    ['172.20.0.1', '192.168.7.2'], // route src
    ['192.168.7.9', '192.168.7.2'],
    ['127.0.0.53', '127.0.0.1'], // lo's 127/8
    ['10.50.0.2', '10.50.0.2'], // our own address
    ['::1', '::1'],
    ['fd00:50::5', 'fd00:50::2'],
    ['fd00:60::5', null], // no IPv6 default route
    ['2001:db8::1', 'fd00:50::2'], // eth1 has only a link-local: a global-scope address elsewhere wins
    ['fe80::9', null], // link-local without a zone: EINVAL
    ['fe80::9%eth1', 'fe80::7'],
    ['::ffff:8.8.8.8', '::ffff:10.50.0.2'],
  ];
  for (const [dest, want] of cases) it(`${dest} → ${want}`, () => expect(routeSource(net, dest)).toBe(want));
  it('a link-local source when nothing wider exists; a deprecated one only as a last resort', () => {
    const only: LocalNet = { addresses: [{ address: 'fe80::7', prefixLen: 64, dev: 'eth1' }], routes: [{ dst: '2001:db8::/32', dev: 'eth1' }] };
    expect(routeSource(only, '2001:db8::1')).toBe('fe80::7');
    const dep: LocalNet = {
      addresses: [
        { address: 'fd00:60::2', prefixLen: 64, dev: 'eth0', deprecated: true },
        { address: 'fd00:50::2', prefixLen: 64, dev: 'eth1' },
      ],
      routes: [],
    };
    expect(routeSource(dep, 'fd00:60::5')).toBe('fd00:50::2');
    expect(routeSource({ ...dep, addresses: dep.addresses.slice(0, 1) }, 'fd00:60::5')).toBe('fd00:60::2');
  });
});
