// Go emulator on the simulated network. Expected plans follow Go 1.19's src/net sources (cited per
// case); the real Go is the oracle in the fidelity suite (test/fidelity, libraries go and go-cgo).
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { go, goCgo, goDebugNetdns, isDomainName } from './go.js';
import { parseGoConfig } from './core/config.js';
import { seededRandom, simulateLookup } from './core/sim.js';
import type { Emulator, Trace } from './core/types.js';
import { NS1, NS2, NS3, inputOf, ns, plan, requestOf, scenarioOf, type EmulatorCase } from '../test/support/emulator-case.js';

const ZONE = ['db.example=A:10.1.2.3', 'db.example=AAAA:fd00::3', 'db.svc.example=A:10.1.2.4', 'v4.example=A:10.4.4.4'];

function run(c: EmulatorCase, emulator: Emulator = go): { traces: Trace[]; warnings: string[] } {
  const warnings: string[] = [];
  const proc = emulator.createProcess({ input: inputOf(c), random: seededRandom(7), warn: (m) => warnings.push(m) });
  const traces: Trace[] = [];
  let at = 0;
  for (let i = 0; i < (c.repeat ?? 1); i++) {
    const r = simulateLookup(proc, requestOf(c), scenarioOf(c, ZONE), { mode: emulator.mode, startAt: at });
    traces.push(r.trace);
    at = r.endAt;
  }
  return { traces, warnings };
}
const one = (c: EmulatorCase, e?: Emulator) => run(c, e).traces[0]!;

describe('go emulator (dnsclient_unix.go)', () => {
  it('A and AAAA at once, each on its own socket; one round trip', () => {
    const t = one({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example' });
    expect(t.result.error).toBeNull();
    expect(new Set(t.result.addresses)).toEqual(new Set(['10.1.2.3', 'fd00::3']));
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example A`, `0 ${NS1} udp db.example AAAA`]);
    expect(t.elapsed_ms).toBe(0.2);
  });

  it('first server blackholed (defaults): each query waits its flat 5 s, then the second server', () => {
    const t = one({ resolv: ns(NS1, NS2), servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example' });
    expect(t.result.error).toBeNull();
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example A`, `0 ${NS1} udp db.example AAAA`, `5000 ${NS2} udp db.example A`, `5000 ${NS2} udp db.example AAAA`]);
    expect(t.elapsed_ms).toBe(5000.2);
  });

  it('all blackholed, timeout:1 attempts:2, 3 servers: 6 exchanges per query, EAI_AGAIN at 6 s', () => {
    const t = one({ resolv: `${ns(NS1, NS2, NS3)}options timeout:1 attempts:2\n`, servers: {}, name: 'db.example.' });
    expect(t.result.error).toBe('EAI_AGAIN');
    const a = plan(t).filter((q) => q.endsWith(' A'));
    expect(a).toEqual([0, 1000, 2000, 3000, 4000, 5000].map((ms, i) => `${ms} ${[NS1, NS2, NS3][i % 3]} udp db.example A`));
    expect(t.elapsed_ms).toBe(6000);
  });

  it('a closed port fails at once (connected socket) and the next server answers', () => {
    const t = one({ resolv: ns(NS1, NS2), servers: { [NS1]: 'closed', [NS2]: 'answer' }, name: 'db.example' });
    expect(t.result.error).toBeNull();
    expect(t.queries.filter((q) => q.server === NS1).map((q) => q.outcome)).toEqual(['icmp-unreachable', 'icmp-unreachable']);
    expect(t.elapsed_ms).toBeCloseTo(0.4, 5);
  });

  it('NXDOMAIN on a search name goes on; SERVFAIL does too (unlike glibc), each to the next server first', () => {
    const t = one({ resolv: `${ns(NS1, NS2)}search svc.example\n`, servers: { [NS1]: 'servfail', [NS2]: 'answer' }, name: 'db' });
    expect(t.result.addresses).toEqual(['10.1.2.4']);
    // db.svc.example: A answered by ns2 after ns1's SERVFAIL; AAAA NODATA from ns2 (not found, stops)
    expect(plan(t)).toEqual([`0 ${NS1} udp db.svc.example A`, `0 ${NS1} udp db.svc.example AAAA`, `0.2 ${NS2} udp db.svc.example A`, `0.2 ${NS2} udp db.svc.example AAAA`]);
  });

  it('every search name fails with SERVFAIL: the as-is name is tried too; its error is returned', () => {
    const t = one({ resolv: `${ns(NS1)}search a.example b.example\noptions attempts:1\n`, servers: { [NS1]: 'servfail' }, name: 'db' });
    expect(t.result.error).toBe('EAI_AGAIN');
    expect([...new Set(t.queries.map((q) => q.qname))]).toEqual(['db.a.example', 'db.b.example', 'db']);
  });

  it('NODATA for AAAA stops that query at the first server; A answers', () => {
    const t = one({ resolv: ns(NS1, NS2), servers: { [NS1]: 'answer', [NS2]: 'answer' }, name: 'v4.example' });
    expect(t.result.addresses).toEqual(['10.4.4.4']);
    expect(t.queries.every((q) => q.server === NS1)).toBe(true);
  });

  it('single-request (and single-request-reopen, the same flag in Go): A, then AAAA', () => {
    for (const opt of ['single-request', 'single-request-reopen']) {
      const t = one({ resolv: `${ns(NS1)}options ${opt}\n`, servers: { [NS1]: 'answer' }, name: 'db.example' });
      expect(plan(t)).toEqual([`0 ${NS1} udp db.example A`, `0.2 ${NS1} udp db.example AAAA`]);
    }
  });

  it('truncated UDP reply: the same question over TCP to the same server', () => {
    const t = one({ resolv: ns(NS1), servers: { [NS1]: 'truncate' }, name: 'db.example', family: 'inet' });
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example A`, `0.2 ${NS1} tcp db.example A`]);
    expect(t.result.addresses).toEqual(['10.1.2.3']);
  });

  it('use-vc: TCP only', () => {
    const t = one({ resolv: `${ns(NS1)}options use-vc\n`, servers: { [NS1]: 'answer' }, name: 'db.example', family: 'inet' });
    expect(plan(t)).toEqual([`0 ${NS1} tcp db.example A`]);
  });

  it('rotate: a process-wide counter advanced by every query', () => {
    const { traces } = run({ resolv: `${ns(NS1, NS2, NS3)}options rotate\n`, servers: { [NS1]: 'answer', [NS2]: 'answer', [NS3]: 'answer' }, name: 'db.example', family: 'inet', repeat: 4 });
    expect(traces.map((t) => t.queries[0]!.server)).toEqual([NS1, NS2, NS3, NS1]);
  });

  it('ndots and search: dots ≥ ndots asks the name first', () => {
    const t = one({ resolv: `${ns(NS1)}search svc.example\noptions ndots:1\n`, servers: { [NS1]: 'answer' }, name: 'db.example', family: 'inet' });
    expect(t.queries.map((q) => q.qname)).toEqual(['db.example']);
  });

  it('hosts before DNS; "hosts: dns files" asks DNS first', () => {
    const hosts = '10.9.9.9 db.example\n';
    expect(one({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example', hosts }).queries).toEqual([]);
    const t = one({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example', hosts, nsswitch: 'hosts: dns files\n' });
    expect(t.queries.length).toBe(2);
    expect(t.result.addresses).not.toContain('10.9.9.9');
  });

  it('IP literals and names that are not domain names send nothing', () => {
    expect(one({ resolv: ns(NS1), servers: {}, name: '10.1.2.3' }).result.addresses).toEqual(['10.1.2.3']);
    const t = one({ resolv: ns(NS1), servers: {}, name: 'bad!name' });
    expect(t.result.error).toBe('EAI_NONAME');
    expect(t.queries).toEqual([]);
  });

  it('every query carries EDNS0 with 1232 bytes (a fresh random id each exchange)', () => {
    const warnings: string[] = [];
    const proc = go.createProcess({ input: inputOf({ resolv: ns(NS1), servers: {}, name: 'x' }), random: seededRandom(1), warn: (m) => warnings.push(m) });
    const actions = proc.lookup(requestOf({ resolv: '', servers: {}, name: 'db.example', family: 'inet' })).start(0);
    const send = actions.find((a) => a.type === 'udp-send');
    const opt = send?.type === 'udp-send' ? (dnsPacket.decode(send.bytes).additionals?.[0] as { udpPayloadSize?: number } | undefined) : undefined;
    expect(opt?.udpPayloadSize).toBe(1232);
  });
});

describe('go-cgo: when Go hands the lookup to the C library (conf.go hostLookupOrder)', () => {
  const blackholed = { resolv: `${ns(NS1, NS2)}options timeout:1 attempts:1 edns0\n`, servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example' };
  it('an option Go 1.19 does not know (edns0): glibc takes the lookup (one 1 s wait, A+AAAA on one socket)', () => {
    const { traces, warnings } = run(blackholed, goCgo);
    expect(warnings.join("\n")).toMatch(/C library.*option edns0/);
    expect(traces[0]!.elapsed_ms).toBeGreaterThanOrEqual(1000);
    expect(traces[0]!.elapsed_ms).toBeLessThan(1100);
  });
  it('the same file without cgo: Go ignores the option and resolves itself', () => {
    const { traces, warnings } = run(blackholed, go);
    expect(warnings.join('\n')).toMatch(/a cgo build of Go would use the C library/);
    expect(plan(traces[0]!)).toContain(`1000 ${NS2} udp db.example AAAA`);
  });
  it.each([
    ['RES_OPTIONS set', { env: { RES_OPTIONS: 'ndots:2' } }, true],
    ['LOCALDOMAIN set, even empty', { env: { LOCALDOMAIN: '' } }, true],
    ['GODEBUG=netdns=go overrides an unknown option', { resolv: `${ns(NS1)}options foo\n`, env: { GODEBUG: 'netdns=go+1' } }, false],
    ['GODEBUG=netdns=cgo', { env: { GODEBUG: 'netdns=cgo' } }, true],
    ['nsswitch with myhostname, name = hostname', { name: 'client', nsswitch: 'hosts: files myhostname dns\n' }, true],
    ['nsswitch with myhostname, another name', { nsswitch: 'hosts: files myhostname dns\n' }, false],
    ['nsswitch with an unknown source', { nsswitch: 'hosts: files resolve dns\n' }, true],
    ['nsswitch [NOTFOUND=return] on dns (last: standard)', { nsswitch: 'hosts: files dns [NOTFOUND=return]\n' }, false],
    // "last" is the source's last criterion: a lone [NOTFOUND=return] is standard (the real Go agrees: test/netns/diagnose-program.test.ts)
    ['nsswitch [NOTFOUND=return] on files', { nsswitch: 'hosts: files [NOTFOUND=return] dns\n' }, false],
    ['nsswitch [NOTFOUND=return UNAVAIL=continue] on files (not standard)', { nsswitch: 'hosts: files [NOTFOUND=return UNAVAIL=continue] dns\n' }, true],
    ['a .local name', { name: 'db.local' }, true],
  ])('%s → libc: %s', (_l, change, libc) => {
    const c = { resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example', ...change } as EmulatorCase;
    // glibc sends A and AAAA from one socket; Go from two
    const t = one(c, goCgo);
    const sockets = new Set(simulateLookup(goCgo.createProcess({ input: inputOf(c), random: seededRandom(7), warn: () => {} }), requestOf(c), scenarioOf(c, ZONE), { mode: 'go-cgo' }).sockets);
    if (t.queries.length > 0) expect(sockets.size === 1).toBe(libc);
    else expect(libc).toBe(true); // glibc answers the hostname itself (myhostname is not emulated: UNAVAIL, no query either)
  });
});

describe('go: what the review found against the Go 1.19 source', () => {
  it('GODEBUG as internal/godebug and goDebugNetDNS read it: the first netdns= at a comma, split at the first "+", the later part wins', () => {
    expect(['netdns=go+cgo', '1+go+2', 'x=1, netdns=go', 'netdns=2', 'http2client=0,netdns=1+cgo', 'netdns=go,netdns=cgo', 'xnetdns=cgo'].map((v) => goDebugNetdns(v.includes('netdns') ? v : `netdns=${v}`))).toEqual([
      'cgo', undefined, undefined, undefined, 'cgo', 'go', undefined,
    ]);
  });

  it('GODEBUG=netdns=cgo without cgo: Go resolves itself, files then DNS, nsswitch.conf not read (forceCgoLookupHost)', () => {
    const t = one({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example', hosts: '10.9.9.9 db.example\n', nsswitch: 'hosts: dns files\n', env: { GODEBUG: 'netdns=cgo' } });
    expect(t.queries).toEqual([]);
    expect(t.result.addresses).toEqual(['10.9.9.9']);
  });

  it('a search name dnsmessage cannot pack (an empty label) fails at once, nothing sent; the walk goes on', () => {
    const t = one({ resolv: `${ns(NS1)}search ..\n`, servers: { [NS1]: 'answer' }, name: 'db', zone: ['db=A:10.3.3.3'] });
    expect(t.queries.map((q) => q.qname)).toEqual(['db', 'db']);
    expect(t.result.addresses).toEqual(['10.3.3.3']);
    expect(t.elapsed_ms).toBeLessThan(1);
  });

  it('an IPv4-mapped AAAA answer is IPv4 to Go: printed dotted, dropped by LookupIP("ip6")\'s filter, kept by an AF_INET one', () => {
    const zone = ['db.example=AAAA:::ffff:10.2.3.4'];
    expect(one({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example', zone }).result.addresses).toEqual(['10.2.3.4']);
    expect(one({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example', family: 'inet6', zone }).result).toEqual({ addresses: [], error: 'EAI_FAIL' });
    expect(one({ resolv: ns(NS1), servers: {}, name: '::ffff:10.2.3.4', family: 'inet' }).result.addresses).toEqual(['10.2.3.4']);
  });

  it('a hostile resolv.conf cannot make tsnet work without end: a lookup stops at 10 000 queries or an hour, said so', () => {
    const many = one({ resolv: `${ns(NS1)}options attempts:${'9'.repeat(30)}\n`, servers: { [NS1]: 'closed' }, name: 'db.example.' });
    expect(many.result.error).toBe('EAI_AGAIN');
    expect(many.queries.length).toBeGreaterThan(10_000);
    expect(many.queries.length).toBeLessThan(10_010);
    expect(many.warnings.join(' ')).toMatch(/tsnet stopped this lookup after 10000 queries/);
    const long = one({ resolv: `${ns(NS1)}options timeout:99999999\n`, servers: {}, name: 'db.example.' });
    expect(long.elapsed_ms).toBe(3600_000);
    expect(long.warnings.join(' ')).toMatch(/after 3600 s/);
  });

  it('resolv.conf numbers saturate at 0xFFFFFF as parse.go dtoi does', () => {
    expect(parseGoConfig(`options timeout:${'9'.repeat(400)} attempts:00000000003 ndots:99\n`, 'h')).toMatchObject({ timeout: 0xffffff, attempts: 3, ndots: 15 });
  });
});

describe('isDomainName (dnsclient.go)', () => {
  it.each([
    ['db.example', true],
    ['_srv.example', true],
    ['123', false],
    ['-a.example', false],
    ['a-.example', false],
    ['a..b', false],
    ['.', true],
    [`${'a'.repeat(64)}.example`, false],
    ['bad name', false],
  ])('%s → %s', (name, ok) => expect(isDomainName(name)).toBe(ok));
});
