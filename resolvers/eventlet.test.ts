// eventlet emulators on the simulated network: the plans and timings of resolver-behavior.md §3/§7.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventlet, eventlet024 } from './eventlet.js';
import { seededRandom, simulateLookup, simulateLookups } from './core/sim.js';
import { parseScenario } from './core/scenario.js';
import type { Emulator, Family, LibraryInput, LookupRequest, Trace } from './core/types.js';
import { NS1, NS2, NS3, inputOf, ns, plan, requestOf, requestsOf, scenarioOf, type EmulatorCase } from '../test/support/emulator-case.js';

const glibcExists = existsSync(new URL('./glibc.ts', import.meta.url));

const ZONE = [
  'db.example=A:10.1.2.3', 'db.example=AAAA:fd00::3', 'db.svc.example=A:10.1.2.4', 'svc.example.com=A:10.7.7.7',
  'svc.example.com=AAAA:fd00::7', 'www.example=CNAME:db.example',
];
const BOTH = ['fd00::3', '10.1.2.3']; // AAAA first: greendns asks AAAA, then A

interface Case extends EmulatorCase {
  emulator?: Emulator;
}

function runAll(c: Case): Trace[] {
  return simulateLookups(c.emulator ?? eventlet, inputOf(c), scenarioOf(c, ZONE), requestsOf(c), seededRandom(7));
}
const run = (c: Case) => runAll(c)[0]!;

/** one resolve() against one dead server: tries at +0, +2100, +4300, LifetimeTimeout at +5400 */
const deadResolve = (t0: number, qname: string, qtype: string, server = NS1) =>
  [0, 2100, 4300].map((d) => `${t0 + d} ${server} udp ${qname} ${qtype}`);

describe('eventlet 0.33.1: §7 scenarios', () => {
  it('row 1: 1st of 2 servers blackholed: 2 s per family, ≈4 s', () => {
    const t = run({ resolv: ns(NS1, NS2), servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example' });
    expect(t.result).toEqual({ addresses: BOTH, error: null });
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example AAAA`, `2000 ${NS2} udp db.example AAAA`, `2000.2 ${NS1} udp db.example A`, `4000.2 ${NS2} udp db.example A`]);
    expect(t.elapsed_ms).toBe(4000.4);
  });

  it('row 1b: options timeout:5: the 1st try eats the lifetime, ns2 is never asked, EAI_AGAIN at 10 s', () => {
    const t = run({ resolv: `${ns(NS1, NS2)}options timeout:5\n`, servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example' });
    expect(t.result).toEqual({ addresses: [], error: 'EAI_AGAIN' });
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example AAAA`, `5000 ${NS1} udp db.example A`]);
    expect(t.elapsed_ms).toBe(10000);
  });

  it('row 2: ICMP port-unreachable is invisible: same 4 s as a blackhole', () => {
    const t = run({ resolv: ns(NS1, NS2), servers: { [NS1]: 'closed', [NS2]: 'answer' }, name: 'db.example' });
    expect(t.result.addresses).toEqual(BOTH);
    expect(t.queries.map((q) => q.outcome)).toEqual(['timeout', 'answer', 'timeout', 'answer']);
    expect(t.elapsed_ms).toBe(4000.4);
  });

  it('row 3: AAAA dropped: the AAAA resolve() runs out (5.4 s with the backoff), IPv4 returned', () => {
    const t = run({ resolv: ns(NS1), servers: { [NS1]: 'drop-aaaa' }, name: 'db.example' });
    expect(t.result).toEqual({ addresses: ['10.1.2.3'], error: null });
    expect(plan(t)).toEqual([...deadResolve(0, 'db.example', 'AAAA'), `5400 ${NS1} udp db.example A`]);
    expect(t.elapsed_ms).toBe(5400.2);
  });

  it('row 4: dotted name, 1 search domain, DNS unreachable: 2 × 5.4 s, the search domain never reached', () => {
    const t = run({ resolv: `${ns(NS1)}search svc.example\n`, servers: {}, name: 'db.example.com' });
    expect(t.result.error).toBe('EAI_AGAIN');
    expect(plan(t)).toEqual([...deadResolve(0, 'db.example.com', 'AAAA'), ...deadResolve(5400, 'db.example.com', 'A')]);
    expect(t.elapsed_ms).toBe(10800);
  });

  it('row 5: single label, 1 search domain, DNS unreachable: 2 families × (search + extra `db.`)', () => {
    const t = run({ resolv: `${ns(NS1)}search svc.example\n`, servers: {}, name: 'db' });
    expect(t.result.error).toBe('EAI_AGAIN');
    expect(plan(t)).toEqual([
      ...deadResolve(0, 'db.svc.example', 'AAAA'), ...deadResolve(5400, 'db', 'AAAA'),
      ...deadResolve(10800, 'db.svc.example', 'A'), ...deadResolve(16200, 'db', 'A'),
    ]);
    expect(t.elapsed_ms).toBe(21600);
  });

  it('row 6: 3 servers blackholed: 2+2+1 s, backoff, lifetime → 10.2 s', () => {
    const t = run({ resolv: ns(NS1, NS2, NS3), servers: {}, name: 'db.example' });
    expect(t.result.error).toBe('EAI_AGAIN');
    expect(plan(t)).toEqual([
      `0 ${NS1} udp db.example AAAA`, `2000 ${NS2} udp db.example AAAA`, `4000 ${NS3} udp db.example AAAA`,
      `5100 ${NS1} udp db.example A`, `7100 ${NS2} udp db.example A`, `9100 ${NS3} udp db.example A`,
    ]);
    expect(t.elapsed_ms).toBe(10200);
  });

  it('row 7: /etc/hosts name, DNS unreachable: no packet', () => {
    const t = run({ resolv: ns(NS1), servers: {}, name: 'app.internal', hosts: '10.9.9.9 app.internal\n' });
    expect(t.result).toEqual({ addresses: ['10.9.9.9'], error: null });
    expect(t.queries).toEqual([]);
  });

  it('row 7b: /etc/hosts name + AI_CANONNAME, DNS unreachable: CNAME lookups (+ `db.`) time out → EAI_AGAIN', () => {
    const t = run({ resolv: `${ns(NS1)}search svc.example\n`, servers: {}, name: 'db', hosts: '10.9.9.9 db\n', canonname: true });
    expect(t.result).toEqual({ addresses: [], error: 'EAI_AGAIN' });
    expect(plan(t)).toEqual([...deadResolve(0, 'db.svc.example', 'CNAME'), ...deadResolve(5400, 'db', 'CNAME')]);
    expect(t.elapsed_ms).toBe(10800);
  });

  it('row 8: ndots:5 + 3 search domains: 4 AAAA, then 1 A (the NXDOMAINs are cached)', () => {
    const resolv = `${ns(NS1)}search ns1.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`;
    const t = run({ resolv, servers: { [NS1]: 'nxdomain:cluster.local' }, name: 'svc.example.com' });
    expect(t.result).toEqual({ addresses: ['fd00::7', '10.7.7.7'], error: null });
    expect(plan(t)).toEqual([
      `0 ${NS1} udp svc.example.com.ns1.svc.cluster.local AAAA`, `0.2 ${NS1} udp svc.example.com.svc.cluster.local AAAA`,
      `0.4 ${NS1} udp svc.example.com.cluster.local AAAA`, `0.6 ${NS1} udp svc.example.com AAAA`, `0.8 ${NS1} udp svc.example.com A`,
    ]);
    expect(t.elapsed_ms).toBe(1);
  });

  it.each(['refused', 'servfail'])('rows 9/10: the only server answers %s: dropped at once, NoNameservers → EAI_NONAME', (b) => {
    const t = run({ resolv: ns(NS1), servers: { [NS1]: b }, name: 'db.example' });
    expect(t.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example AAAA`, `0.2 ${NS1} udp db.example A`]);
    expect(t.elapsed_ms).toBe(0.4);
  });

  it('row 11: AAAA SERVFAIL, A fine: IPv4 at once', () => {
    const t = run({ resolv: ns(NS1), servers: { [NS1]: 'servfail-aaaa' }, name: 'db.example' });
    expect(t.result).toEqual({ addresses: ['10.1.2.3'], error: null });
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example AAAA`, `0.2 ${NS1} udp db.example A`]);
  });

  it('row 12: TC=1: the same server again over TCP (a new connection per query)', () => {
    const t = run({ resolv: ns(NS1), servers: { [NS1]: 'truncate' }, name: 'db.example' });
    expect(t.result).toEqual({ addresses: BOTH, error: null });
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example AAAA`, `0.2 ${NS1} tcp db.example AAAA`, `0.6 ${NS1} udp db.example A`, `0.8 ${NS1} tcp db.example A`]);
    expect(t.elapsed_ms).toBe(1.2);
  });

  it('row 13: NODATA in the first search domain ends the search: EAI_NONAME (the extra `db.` NXDOMAIN is cached)', () => {
    const zone = ['db.a.example=TXT:x', 'db.b.example=A:10.9.9.9'];
    const t = run({ resolv: `${ns(NS1)}search a.example b.example\n`, servers: { [NS1]: 'answer' }, name: 'db', zone });
    expect(t.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(plan(t)).toEqual([`0 ${NS1} udp db.a.example AAAA`, `0.2 ${NS1} udp db AAAA`, `0.4 ${NS1} udp db.a.example A`]);
  });

  it('row 14: a fast NXDOMAIN from the 1st server is final, and cached for the A lookup too', () => {
    const t = run({ resolv: ns(NS1, NS2), servers: { [NS1]: 'nxdomain', [NS2]: 'answer' }, name: 'db.example' });
    expect(t.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example AAAA`]);
  });

  it('row 15: attempts:0 is ignored', () => {
    const t = run({ resolv: `${ns(NS1)}options attempts:0\n`, servers: { [NS1]: 'answer' }, name: 'db.example' });
    expect(t.result).toEqual({ addresses: BOTH, error: null });
  });
});

describe('eventlet 0.33.1: process state and other rules', () => {
  it('the dnspython cache lives in the process: a 2nd lookup sends nothing, after the 60 s TTL it asks again', () => {
    const c: Case = { resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example' };
    const proc = eventlet.createProcess({ input: inputOf(c), random: seededRandom(3), warn: () => {} });
    const first = simulateLookup(proc, requestOf(c), scenarioOf(c, ZONE), { mode: 'eventlet' });
    expect(plan(first.trace)).toEqual([`0 ${NS1} udp db.example AAAA`, `0.2 ${NS1} udp db.example A`]);
    const second = simulateLookup(proc, requestOf(c), scenarioOf(c, ZONE), { mode: 'eventlet', startAt: first.endAt + 1000 });
    expect(second.trace.result).toEqual({ addresses: BOTH, error: null });
    expect(second.trace.queries).toEqual([]);
    expect(second.trace.elapsed_ms).toBe(0);
    const later = simulateLookup(proc, requestOf(c), scenarioOf(c, ZONE), { mode: 'eventlet', startAt: 60_000.4 });
    expect(plan(later.trace)).toEqual([`0 ${NS1} udp db.example AAAA`, `0.2 ${NS1} udp db.example A`]);
  });

  it('failures are not cached: a 2nd lookup waits again', () => {
    const [a, b] = runAll({ resolv: ns(NS1), servers: {}, name: 'db.example', repeat: 2 });
    expect(a!.elapsed_ms).toBe(10800);
    expect(b!.elapsed_ms).toBe(10800);
  });

  it('a single label merges the search answer and the extra `db.` answer', () => {
    const zone = ['db.svc.example=A:10.1.2.4', 'db=A:10.5.5.5'];
    const t = run({ resolv: `${ns(NS1)}search svc.example\n`, servers: { [NS1]: 'answer' }, name: 'db', zone });
    expect(t.result).toEqual({ addresses: ['10.1.2.4', '10.5.5.5'], error: null });
    expect(t.queries.map((q) => `${q.qname} ${q.qtype} ${q.outcome}`)).toEqual(['db.svc.example AAAA nodata', 'db AAAA nodata', 'db.svc.example A answer', 'db A answer']);
  });

  it('search list from the hostname when resolv.conf has none', () => {
    const c: Case = { resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db', family: 'inet' };
    const proc = eventlet.createProcess({ input: { ...inputOf(c), hostname: 'client.svc.example' }, random: seededRandom(1), warn: () => {} });
    const t = simulateLookup(proc, requestOf(c), scenarioOf(c, ZONE), { mode: 'eventlet' }).trace;
    expect(t.result.addresses).toEqual(['10.1.2.4']);
    expect(plan(t)).toEqual([`0 ${NS1} udp db.svc.example A`, `0.2 ${NS1} udp db A`]);
  });

  it('AI_CANONNAME: a CNAME answer succeeds; a name without CNAME fails with EAI_NONAME (issue #764)', () => {
    const www = run({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'www.example', canonname: true });
    expect(www.result).toEqual({ addresses: BOTH, error: null, canonname: 'db.example.' });
    expect(plan(www)).toEqual([`0 ${NS1} udp www.example AAAA`, `0.2 ${NS1} udp www.example A`, `0.4 ${NS1} udp www.example CNAME`]);
    const db = run({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example', canonname: true });
    expect(db.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(db.queries.at(-1)).toMatchObject({ qname: 'db.example', qtype: 'CNAME', outcome: 'nodata' });
  });

  it('family inet asks A only; literals skip DNS; a literal of the other family is EAI_ADDRFAMILY', () => {
    expect(plan(run({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example', family: 'inet' }))).toEqual([`0 ${NS1} udp db.example A`]);
    const lit = run({ resolv: ns(NS1), servers: {}, name: '10.1.2.3' });
    expect(lit.result).toEqual({ addresses: ['10.1.2.3'], error: null });
    expect(lit.queries).toEqual([]);
    expect(run({ resolv: ns(NS1), servers: {}, name: 'fd00::1', family: 'inet' }).result.error).toBe('EAI_ADDRFAMILY');
  });

  it('options timeout:0: every try fails at once (non-blocking recvfrom), NoNameservers → EAI_NONAME', () => {
    const t = run({ resolv: `${ns(NS1, NS2)}options timeout:0\n`, servers: { [NS1]: 'answer', [NS2]: 'answer' }, name: 'db.example' });
    expect(t.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(plan(t)).toEqual([`0 ${NS1} udp db.example AAAA`, `0 ${NS2} udp db.example AAAA`, `0 ${NS1} udp db.example A`, `0 ${NS2} udp db.example A`]);
  });

  it('no nameserver: hosts still work, DNS names fail with EAI_NONAME (NoResolverConfiguration), no packet', () => {
    const warnings: string[] = [];
    const input = { ...inputOf({ resolv: 'search svc.example\n', servers: {}, name: '' }), hosts: '10.9.9.9 app\n' };
    const proc = eventlet.createProcess({ input, random: seededRandom(1), warn: (m) => warnings.push(m) });
    const scenario = parseScenario({ servers: {} });
    const app = simulateLookup(proc, { name: 'app', family: 'any', canonname: false }, scenario, { mode: 'eventlet' }).trace;
    expect(app.result).toEqual({ addresses: ['10.9.9.9'], error: null });
    const db = simulateLookup(proc, { name: 'db.example', family: 'any', canonname: false }, scenario, { mode: 'eventlet' }).trace;
    expect(db.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(db.queries).toEqual([]);
    expect(warnings.join('\n')).toMatch(/NoResolverConfiguration/);
  });

  it('rotate: random.shuffle of the servers per query (deterministic with the seeded random)', () => {
    const t = run({ resolv: `${ns(NS1, NS2, NS3)}options rotate\n`, servers: {}, name: 'db.example' });
    expect(plan(t)).toEqual([
      `0 ${NS3} udp db.example AAAA`, `2000 ${NS2} udp db.example AAAA`, `4000 ${NS1} udp db.example AAAA`,
      `5100 ${NS3} udp db.example A`, `7100 ${NS1} udp db.example A`, `9100 ${NS2} udp db.example A`,
    ]);
  });
});

describe('eventlet ≤ 0.24.0', () => {
  it('issue #511: a v4-only /etc/hosts name still waits for the AAAA DNS lookup, then returns the hosts IPv4', () => {
    const t = run({ emulator: eventlet024, resolv: ns(NS1), servers: {}, name: 'app.internal', hosts: '10.9.9.9 app.internal\n' });
    expect(t.result).toEqual({ addresses: ['10.9.9.9'], error: null });
    expect(plan(t)).toEqual(deadResolve(0, 'app.internal', 'AAAA'));
    expect(t.elapsed_ms).toBe(5400);
  });

  it('a name with both families in /etc/hosts sends nothing', () => {
    const t = run({ emulator: eventlet024, resolv: ns(NS1), servers: {}, name: 'app', hosts: '10.9.9.9 app\nfd00::9 app\n' });
    expect(t.result).toEqual({ addresses: ['fd00::9', '10.9.9.9'], error: null });
    expect(t.queries).toEqual([]);
  });

  it('DNS names behave as in 0.33.1', () => {
    const t = run({ emulator: eventlet024, resolv: ns(NS1, NS2), servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example' });
    expect(t.result.addresses).toEqual(BOTH);
    expect(t.elapsed_ms).toBe(4000.4);
  });

  it('no nameserver: the resolver is built at import, so every lookup fails (EAI_FAIL)', () => {
    const t = run({ emulator: eventlet024, resolv: '', servers: {}, name: 'app', hosts: '10.9.9.9 app\n' });
    expect(t.result).toEqual({ addresses: [], error: 'EAI_FAIL' });
  });
});

describe('EVENTLET_NO_GREENDNS', () => {
  it.skipIf(!glibcExists)('"yes" (any case) hands the lookup to the C library: the glibc plan', async () => {
    const { glibc } = await import('./glibc.js');
    const base: Case = { resolv: ns(NS1, NS2), servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example' };
    const expected = run({ ...base, emulator: glibc });
    for (const value of ['yes', 'YES']) {
      const t = run({ ...base, env: { EVENTLET_NO_GREENDNS: value } });
      expect(t.result).toEqual(expected.result);
      expect(plan(t)).toEqual(plan(expected));
      expect(t.elapsed_ms).toBe(expected.elapsed_ms);
    }
  });

  it('"1" or "true" do not switch greendns off', () => {
    for (const value of ['1', 'true']) {
      const t = run({ resolv: ns(NS1, NS2), servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example', env: { EVENTLET_NO_GREENDNS: value } });
      expect(t.elapsed_ms).toBe(4000.4);
    }
  });
});
