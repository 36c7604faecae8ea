// glibc emulator on the simulated network: the plans and timings of resolver-behavior.md §1/§7.
import { describe, expect, it } from 'vitest';
import { glibc } from './glibc.js';
import { seededRandom, simulateLookups } from './core/sim.js';
import type { Family, Trace } from './core/types.js';
import { NS1, NS2, NS3, inputOf, requestsOf, scenarioOf, type EmulatorCase } from '../test/support/emulator-case.js';

const ZONE = ['db.example=A:10.1.2.3', 'db.example=AAAA:fd00::3', 'db.svc.example=A:10.1.2.4', 'app.corp.example=A:10.1.2.5'];

type Case = EmulatorCase;

function run(c: Case): Trace[] {
  return simulateLookups(glibc, inputOf(c), scenarioOf(c, ZONE), requestsOf(c), seededRandom(7));
}

const plan = (t: Trace) => t.queries.map((q) => `${q.t_ms} ${q.server} ${q.transport} ${q.qname} ${q.qtype} ${q.outcome}`);

/** getaddrinfo's RFC 3484 sort on a dual-stack host (the default SortHost): the ULA (precedence 40) before IPv4 (10) */
const SORTED = ['fd00::3', '10.1.2.3'];

describe('glibc emulator (simulated network)', () => {
  it('answers from a healthy server at once, A and AAAA together', () => {
    const [t] = run({ resolv: `nameserver ${NS1}\n`, servers: { [NS1]: 'answer' }, name: 'db.example' });
    expect(t!.result).toEqual({ addresses: SORTED, error: null });
    expect(plan(t!)).toEqual([`0 ${NS1} udp db.example A answer`, `0 ${NS1} udp db.example AAAA answer`]);
    expect(t!.elapsed_ms).toBe(0.2);
  });

  it('waits 5 s on a blackholed first server before asking the second, every lookup', () => {
    const traces = run({ resolv: `nameserver ${NS1}\nnameserver ${NS2}\n`, servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example', repeat: 2 });
    for (const t of traces) {
      expect(t.result.addresses).toEqual(SORTED);
      expect(t.elapsed_ms).toBeCloseTo(5000.2, 3);
      expect(t.queries.map((q) => q.server)).toEqual([NS1, NS1, NS2, NS2]);
    }
  });

  it('a CNAME-only answer (the target outside the server\'s zone) ends the search: EAI_NONAME, no other candidate asked', () => {
    const c: Case = { resolv: `nameserver ${NS1}\nsearch svc.example\n`, servers: { [NS1]: 'auth:example' }, name: 'www.example' };
    const [t] = simulateLookups(glibc, inputOf(c), scenarioOf(c, [...ZONE, 'www.example=CNAME:api.other.test']), requestsOf(c), seededRandom(7));
    expect(t!.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(plan(t!)).toEqual([`0 ${NS1} udp www.example A answer`, `0 ${NS1} udp www.example AAAA answer`]);
  });

  it('options no-aaaa with AF_INET6: an A query (no EDNS0) per candidate, each turned into NODATA; the walk goes on, EAI_NODATA', () => {
    const c: Case = { resolv: `nameserver ${NS1}\nsearch svc.example\noptions no-aaaa edns0\n`, servers: { [NS1]: 'answer' }, name: 'db', family: 'inet6' };
    const [t] = run(c);
    expect(t!.result).toEqual({ addresses: [], error: 'EAI_NODATA' });
    expect(t!.queries.map((q) => `${q.qname} ${q.qtype}`)).toEqual(['db.svc.example A', 'db A']);
  });

  it('moves on at once from an ICMP-closed server', () => {
    const [t] = run({ resolv: `nameserver ${NS1}\nnameserver ${NS2}\n`, servers: { [NS1]: 'closed', [NS2]: 'answer' }, name: 'db.example' });
    expect(t!.result.error).toBeNull();
    expect(t!.elapsed_ms).toBeCloseTo(0.4, 3);
    expect(t!.queries[0]!.outcome).toBe('icmp-unreachable');
  });

  it('uses 5/3/6 s per-server waits with three dead servers: 28 s, then EAI_AGAIN', () => {
    const [t] = run({ resolv: `nameserver ${NS1}\nnameserver ${NS2}\nnameserver ${NS3}\n`, servers: {}, name: 'db.example.com.' });
    expect(t!.result.error).toBe('EAI_AGAIN');
    const starts = [...new Set(t!.queries.map((q) => q.t_ms))];
    expect(starts).toEqual([0, 5000, 8000, 14000, 19000, 22000]);
    expect(t!.elapsed_ms).toBe(28000);
  });

  it('falls back to single-request after a lost AAAA: 15 s first lookup, 5 s later ones, IPv4 only', () => {
    const traces = run({ resolv: `nameserver ${NS1}\n`, servers: { [NS1]: 'drop-aaaa' }, name: 'db.example', repeat: 2 });
    expect(traces[0]!.result).toEqual({ addresses: ['10.1.2.3'], error: null });
    // each retry restarts the full 5 s wait of send_dg: 0 → 5 s (single-request) → 10 s (reopen) → 15 s
    expect(traces[0]!.elapsed_ms).toBe(15000);
    expect(traces[0]!.queries.filter((q) => q.qtype === 'A').map((q) => q.t_ms)).toEqual([0, 5000, 10000]);
    // the fallback is sticky: the next lookup starts in single-request-reopen mode
    expect(traces[1]!.elapsed_ms).toBe(5000);
  });

  it('with single-request set from the start, a lost AAAA costs 10 s', () => {
    const [t] = run({ resolv: `nameserver ${NS1}\noptions single-request\n`, servers: { [NS1]: 'drop-aaaa' }, name: 'db.example' });
    expect(t!.result.addresses).toEqual(['10.1.2.3']);
    expect(t!.elapsed_ms).toBe(10000);
  });

  it('tries the next server at once on SERVFAIL and fails fast when the only server refuses', () => {
    const [a] = run({ resolv: `nameserver ${NS1}\nnameserver ${NS2}\n`, servers: { [NS1]: 'servfail', [NS2]: 'answer' }, name: 'db.example' });
    expect(a!.result.error).toBeNull();
    expect(a!.elapsed_ms).toBeCloseTo(0.4, 3);
    const [b] = run({ resolv: `nameserver ${NS1}\n`, servers: { [NS1]: 'refused' }, name: 'db.example' });
    expect(b!.result.error).toBe('EAI_AGAIN');
    expect(b!.elapsed_ms).toBeLessThan(1);
  });

  it('retries a truncated answer over TCP on the same server', () => {
    const [t] = run({ resolv: `nameserver ${NS1}\n`, servers: { [NS1]: 'truncate' }, name: 'db.example' });
    expect(t!.result.addresses).toEqual(SORTED);
    expect(t!.queries.map((q) => q.transport)).toEqual(['udp', 'udp', 'tcp', 'tcp']);
  });

  it('walks a Kubernetes search list with ndots:5 before the name as is', () => {
    const resolv = `nameserver ${NS1}\nsearch ns.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`;
    const [t] = run({ resolv, servers: { [NS1]: 'answer' }, name: 'db.example' });
    expect(t!.queries.filter((q) => q.qtype === 'A').map((q) => q.qname)).toEqual([
      'db.example.ns.svc.cluster.local', 'db.example.svc.cluster.local', 'db.example.cluster.local', 'db.example',
    ]);
    expect(t!.result.error).toBeNull();
  });

  it('continues the search past NODATA (unlike musl)', () => {
    const zone = [...ZONE, 'db.a.example=TXT:only', 'db.b.example=A:10.9.9.9'];
    const [t] = run({ resolv: `nameserver ${NS1}\nsearch a.example b.example\n`, servers: { [NS1]: 'answer' }, name: 'db', zone });
    expect(t!.result.addresses).toEqual(['10.9.9.9']);
  });

  it('answers from /etc/hosts without DNS, and asks DNS first with "hosts: dns files"', () => {
    const hosts = '10.5.5.5 cache.internal\n';
    const [a] = run({ resolv: `nameserver ${NS1}\n`, servers: {}, name: 'cache.internal', hosts });
    expect(a!.result.addresses).toEqual(['10.5.5.5']);
    expect(a!.queries).toEqual([]);
    const [b] = run({ resolv: `nameserver ${NS1}\noptions timeout:1 attempts:1\n`, servers: {}, name: 'cache.internal', hosts, nsswitch: 'hosts: dns files\n' });
    expect(b!.result.addresses).toEqual(['10.5.5.5']);
    expect(b!.elapsed_ms).toBe(1000);
  });

  it('sends nothing with attempts:0 and fails with EAI_AGAIN', () => {
    const [t] = run({ resolv: `nameserver ${NS1}\noptions attempts:0\n`, servers: { [NS1]: 'answer' }, name: 'db.example' });
    expect(t!.queries).toEqual([]);
    expect(t!.result.error).toBe('EAI_AGAIN');
  });

  it('rotates the first server by one per query', () => {
    const traces = run({ resolv: `nameserver ${NS1}\nnameserver ${NS2}\noptions rotate\n`, servers: { [NS1]: 'answer', [NS2]: 'answer' }, name: 'db.example', repeat: 4 });
    const firsts = traces.map((t) => t.queries[0]!.server);
    expect(new Set(firsts).size).toBe(2);
    for (let i = 1; i < firsts.length; i++) expect(firsts[i]).not.toBe(firsts[i - 1]);
  });

  it('takes RES_OPTIONS and LOCALDOMAIN from the emulated environment', () => {
    const [t] = run({ resolv: `nameserver ${NS1}\nsearch a.example\n`, servers: {}, name: 'db', env: { RES_OPTIONS: 'timeout:1 attempts:1', LOCALDOMAIN: 'svc.example' } });
    // a timeout stops the search walk; the name as is is still tried last
    expect(t!.queries.map((q) => q.qname)).toEqual(['db.svc.example', 'db.svc.example', 'db', 'db']);
    expect(t!.elapsed_ms).toBe(2000);
  });

  it('takes inet_aton shorthand as a literal (__inet_aton_exact): "10.1" is 10.0.0.1, no query', () => {
    const literal = (name: string, family: Family = 'any') => {
      const [t] = run({ resolv: `nameserver ${NS1}\n`, servers: { [NS1]: 'answer' }, name, family });
      return { result: t!.result, queries: t!.queries.length };
    };
    const v4 = (a: string) => ({ result: { addresses: [a], error: null }, queries: 0 });
    expect(literal('10.1')).toEqual(v4('10.0.0.1'));
    expect(literal('0x7f.1')).toEqual(v4('127.0.0.1'));
    expect(literal('010.0.0.1')).toEqual(v4('8.0.0.1'));
    expect(literal('10.1.2', 'inet')).toEqual(v4('10.1.0.2'));
    expect(literal('4294967295')).toEqual(v4('255.255.255.255'));
    expect(literal('10.1', 'inet6')).toEqual({ result: { addresses: [], error: 'EAI_ADDRFAMILY' }, queries: 0 });
    // not literals: trailing garbage (the exact form), too many parts, a byte out of range
    for (const name of ['10.1 ', '1.2.3.4.5', '256.1', '10.0.0.1.']) expect(literal(name).queries, JSON.stringify(name)).toBeGreaterThan(0);
  });

  it('reads IPv6 literals with inet_pton: canonical text, v4-mapped for AF_INET, scope ids', () => {
    const result = (name: string, family: Family = 'any') => run({ resolv: `nameserver ${NS1}\n`, servers: {}, name, family })[0]!.result;
    expect(result('FD00:0:0::1')).toEqual({ addresses: ['fd00::1'], error: null });
    expect(result('::ffff:10.0.0.1', 'inet')).toEqual({ addresses: ['10.0.0.1'], error: null });
    expect(result('fd00::1', 'inet')).toEqual({ addresses: [], error: 'EAI_ADDRFAMILY' });
    expect(result('fe80::1%7')).toEqual({ addresses: ['fe80::1'], error: null });
    expect(result('fe80::1%eth0')).toEqual({ addresses: ['fe80::1'], error: null });
    expect(result('fd00::1%eth0')).toEqual({ addresses: [], error: 'EAI_NONAME' }); // a name only for link-local
    expect(result('fd00::1%')).toEqual({ addresses: [], error: 'EAI_NONAME' });
  });
});

describe('glibc AI_CANONNAME (getaddrinfo.c process_canonname, nss_dns gaih_getanswer_slice)', () => {
  const canon = (c: Partial<Case>) =>
    run({ resolv: `nameserver ${NS1}\nsearch svc.example\n`, servers: { [NS1]: 'answer' }, name: 'db.example', canonname: true, ...c } as Case)[0]!.result;

  it('is absent unless asked', () => {
    expect(canon({ canonname: false }).canonname).toBeUndefined();
  });

  it('DNS: the owner of the first address record (the search name that answered)', () => {
    expect(canon({ name: 'db' }).canonname).toBe('db.svc.example');
  });

  it('DNS: the target of the last CNAME before the first address record', () => {
    const zone = [...ZONE, 'www.example=CNAME:web.example', 'web.example=CNAME:db.example'];
    const c: Case = { resolv: `nameserver ${NS1}\n`, servers: { [NS1]: 'answer' }, name: 'www.example', canonname: true };
    expect(simulateLookups(glibc, inputOf(c), scenarioOf(c, zone), requestsOf(c), seededRandom(7))[0]!.result.canonname).toBe('db.example');
  });

  it('hosts: the first name of the matching line; a literal: the name as given', () => {
    expect(canon({ name: 'db', hosts: '10.9.9.9 db.local db\n' }).canonname).toBe('db.local');
    expect(canon({ name: '10.1' }).canonname).toBe('10.1');
  });
});
