// musl emulator on the simulated network: the plans and timings of resolver-behavior.md §2/§7.
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { musl } from './musl.js';
import { seededRandom, simulateLookup } from './core/sim.js';
import type { Family, LookupRequest, MachineAction, Trace } from './core/types.js';
import { NS1, NS2, NS3, inputOf, ns, plan, requestOf, scenarioOf, type EmulatorCase } from '../test/support/emulator-case.js';

const ZONE = ['db.example=A:10.1.2.3', 'db.example=AAAA:fd00::3', 'db.svc.example=A:10.1.2.4', 'svc.example.com=A:10.7.7.7', 'svc.example.com=AAAA:fd00::7'];
const BOTH = ['10.1.2.3', 'fd00::3'];

type Case = EmulatorCase;

function run(c: Case): { trace: Trace; warnings: string[] } {
  const warnings: string[] = [];
  const proc = musl.createProcess({ input: inputOf(c), random: seededRandom(7), warn: (m) => warnings.push(m) });
  return { trace: simulateLookup(proc, requestOf(c), scenarioOf(c, ZONE), { mode: musl.mode }).trace, warnings };
}

/** every query sent to every server at `t`: A to all, then AAAA to all (res_msend.c order) */
const burst = (t: number, qname: string, servers: string[], types = ['A', 'AAAA']) => types.flatMap((ty) => servers.map((s) => `${t} ${s} udp ${qname} ${ty}`));

describe('musl emulator: §7 scenarios', () => {
  it.each([['defaults', ns(NS1, NS2)], ['options timeout:5 (row 1b)', `${ns(NS1, NS2)}options timeout:5\n`]])(
    'row 1: 1st of 2 servers blackholed (%s): both asked at once, answered in one RTT',
    (_label, resolv) => {
      const { trace } = run({ resolv, servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example' });
      expect(trace.result).toEqual({ addresses: BOTH, error: null, canonname: 'db.example' });
      expect(plan(trace)).toEqual(burst(0, 'db.example', [NS1, NS2]));
      expect(trace.elapsed_ms).toBe(0.2);
    },
  );

  it('row 2: ICMP port-unreachable on the 1st server is invisible (unconnected socket)', () => {
    const { trace } = run({ resolv: ns(NS1, NS2), servers: { [NS1]: 'closed', [NS2]: 'answer' }, name: 'db.example' });
    expect(trace.result).toEqual({ addresses: BOTH, error: null, canonname: 'db.example' });
    expect(plan(trace)).toEqual(burst(0, 'db.example', [NS1, NS2]));
    expect(trace.queries.map((q) => q.outcome)).not.toContain('icmp-unreachable');
    expect(trace.elapsed_ms).toBe(0.2);
  });

  it('all servers blackholed: sends at 0 and 2502.5 ms, EAI_AGAIN at 5005 ms (each poll sleeps 0.1 % past its timeout: the real musl 2502.7 and 5005.3)', () => {
    const { trace } = run({ resolv: ns(NS1, NS2), servers: {}, name: 'db.example' });
    expect(trace.result).toEqual({ addresses: [], error: 'EAI_AGAIN' });
    expect(plan(trace)).toEqual([...burst(0, 'db.example', [NS1, NS2]), ...burst(2502.5, 'db.example', [NS1, NS2])]);
    expect(trace.elapsed_ms).toBeCloseTo(5005, 0);
  });

  it('row 3: AAAA dropped: only AAAA is resent, EAI_AGAIN at 5 s although A answered', () => {
    const { trace } = run({ resolv: ns(NS1), servers: { [NS1]: 'drop-aaaa' }, name: 'db.example' });
    expect(trace.result).toEqual({ addresses: [], error: 'EAI_AGAIN' });
    expect(plan(trace)).toEqual([...burst(0, 'db.example', [NS1]), `2502.7 ${NS1} udp db.example AAAA`]);
    expect(trace.elapsed_ms).toBeCloseTo(5005, 0);
  });

  it('row 4: dotted name, 1 search domain, DNS unreachable: as-is only, 5 s', () => {
    const { trace } = run({ resolv: `${ns(NS1)}search svc.example\n`, servers: {}, name: 'db.example.com' });
    expect(trace.result.error).toBe('EAI_AGAIN');
    expect(plan(trace)).toEqual([...burst(0, 'db.example.com', [NS1]), ...burst(2502.5, 'db.example.com', [NS1])]);
    expect(trace.elapsed_ms).toBeCloseTo(5005, 0);
  });

  it('row 5: single label, 1 search domain, DNS unreachable: the timeout stops the search', () => {
    const { trace } = run({ resolv: `${ns(NS1)}search svc.example\n`, servers: {}, name: 'db' });
    expect(trace.result.error).toBe('EAI_AGAIN');
    expect(plan(trace)).toEqual([...burst(0, 'db.svc.example', [NS1]), ...burst(2502.5, 'db.svc.example', [NS1])]);
    expect(trace.elapsed_ms).toBeCloseTo(5005, 0);
  });

  it('row 6: 3 servers blackholed: 5 s, not 28', () => {
    const { trace } = run({ resolv: ns(NS1, NS2, NS3), servers: {}, name: 'db.example' });
    expect(trace.result.error).toBe('EAI_AGAIN');
    expect(plan(trace)).toEqual([...burst(0, 'db.example', [NS1, NS2, NS3]), ...burst(2502.5, 'db.example', [NS1, NS2, NS3])]);
    expect(trace.elapsed_ms).toBeCloseTo(5005, 0);
  });

  it.each([false, true])('rows 7/7b: /etc/hosts name with DNS unreachable: no packet (canonname %s)', (canonname) => {
    const { trace } = run({ resolv: ns(NS1), servers: {}, name: 'db', hosts: '10.9.9.9 db.local db\n', canonname });
    expect(trace.result).toEqual({ addresses: ['10.9.9.9'], error: null, canonname: 'db.local' });
    expect(trace.queries).toEqual([]);
    expect(trace.elapsed_ms).toBe(0);
  });

  it('row 8: ndots:5 + 3 search domains: 4 sequential rounds of A+AAAA (8 packets)', () => {
    const resolv = `${ns(NS1)}search ns1.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`;
    const { trace } = run({ resolv, servers: { [NS1]: 'nxdomain:cluster.local' }, name: 'svc.example.com' });
    expect(trace.result).toEqual({ addresses: ['10.7.7.7', 'fd00::7'], error: null, canonname: 'svc.example.com' });
    expect(plan(trace)).toEqual([
      ...burst(0, 'svc.example.com.ns1.svc.cluster.local', [NS1]),
      ...burst(0.2, 'svc.example.com.svc.cluster.local', [NS1]),
      ...burst(0.4, 'svc.example.com.cluster.local', [NS1]),
      ...burst(0.6, 'svc.example.com', [NS1]),
    ]);
    expect(trace.elapsed_ms).toBe(0.8);
  });

  it('row 9: REFUSED is ignored: waits the full 5 s, EAI_AGAIN', () => {
    const { trace } = run({ resolv: ns(NS1), servers: { [NS1]: 'refused' }, name: 'db.example' });
    expect(trace.result.error).toBe('EAI_AGAIN');
    // the REFUSED replies at 0.2 ms wake poll(), which sleeps again 2500 ms (whole ms) plus its slack
    expect(plan(trace)).toEqual([...burst(0, 'db.example', [NS1]), ...burst(2502.7, 'db.example', [NS1])]);
    expect(trace.elapsed_ms).toBeCloseTo(5005, 0);
  });

  it('row 10: SERVFAIL: immediate resends (4 per interval, shared), 12 packets, EAI_AGAIN at 5 s', () => {
    const { trace } = run({ resolv: ns(NS1), servers: { [NS1]: 'servfail' }, name: 'db.example' });
    expect(trace.result.error).toBe('EAI_AGAIN');
    const round = (times: number[]) => times.flatMap((t) => burst(t, 'db.example', [NS1]));
    expect(plan(trace)).toEqual([...round([0, 0.2, 0.4]), ...round([2502.099, 2502.299, 2502.499])]);
    expect(trace.elapsed_ms).toBeCloseTo(5004.2, 1);
  });

  it('row 11: AAAA SERVFAIL, A fine: the whole lookup fails with EAI_AGAIN at 5 s', () => {
    const { trace } = run({ resolv: ns(NS1), servers: { [NS1]: 'servfail-aaaa' }, name: 'db.example' });
    expect(trace.result).toEqual({ addresses: [], error: 'EAI_AGAIN' });
    const aaaa = (times: number[]) => times.map((t) => `${t} ${NS1} udp db.example AAAA`);
    // the last SERVFAIL at 1 ms: poll(2499) from there, + 2.499 ms of slack
    expect(plan(trace)).toEqual([`0 ${NS1} udp db.example A`, ...aaaa([0, 0.2, 0.4, 0.6, 0.8]), ...aaaa([2502.499, 2502.699, 2502.899, 2503.099, 2503.299])]);
    expect(trace.elapsed_ms).toBeCloseTo(5005, 0);
  });

  it('row 12: TC=1 is not checked: the empty truncated reply reads as NODATA → EAI_NONAME, no TCP', () => {
    const { trace } = run({ resolv: ns(NS1), servers: { [NS1]: 'truncate' }, name: 'db.example' });
    expect(trace.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(plan(trace)).toEqual(burst(0, 'db.example', [NS1]));
    expect(trace.elapsed_ms).toBe(0.2);
  });

  it('row 13: NODATA in the first search domain stops the search: EAI_NONAME', () => {
    const zone = ['db.a.example=TXT:x', 'db.b.example=A:10.9.9.9'];
    const { trace } = run({ resolv: `${ns(NS1)}search a.example b.example\n`, servers: { [NS1]: 'answer' }, name: 'db', zone });
    expect(trace.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(plan(trace)).toEqual(burst(0, 'db.a.example', [NS1]));
  });

  it('row 14: a fast NXDOMAIN from the 1st server beats the slower answer of the 2nd', () => {
    const { trace } = run({ resolv: ns(NS1, NS2), servers: { [NS1]: 'nxdomain', [NS2]: 'delay:50' }, name: 'db.example' });
    expect(trace.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(plan(trace)).toEqual(burst(0, 'db.example', [NS1, NS2]));
    expect(trace.elapsed_ms).toBe(0.2);
  });

  it('row 15: attempts:0 kills the process (SIGFPE) before any packet', () => {
    const { trace, warnings } = run({ resolv: `${ns(NS1)}options attempts:0\n`, servers: { [NS1]: 'answer' }, name: 'db.example' });
    expect(trace.result).toEqual({ addresses: [], error: 'SIGFPE' });
    expect(trace.queries).toEqual([]);
    expect(trace.elapsed_ms).toBe(0);
    expect(warnings.join('\n')).toMatch(/SIGFPE/);
  });
});

describe('musl emulator: other rules', () => {
  it('timeout:0: the send loop never runs, immediate EAI_AGAIN', () => {
    const { trace } = run({ resolv: `${ns(NS1)}options timeout:0\n`, servers: { [NS1]: 'answer' }, name: 'db.example' });
    expect(trace.result.error).toBe('EAI_AGAIN');
    expect(trace.queries).toEqual([]);
    expect(trace.elapsed_ms).toBe(0);
  });

  it('attempts:3 resends every 1666 ms; three polls 1.67 ms late each eat the 2 ms of margin: no fourth send, EAI_AGAIN at 5003 ms', () => {
    const { trace } = run({ resolv: `${ns(NS1)}options attempts:3\n`, servers: {}, name: 'db.example' });
    expect(plan(trace)).toEqual([0, 1667.666, 3335.332].flatMap((t) => burst(t, 'db.example', [NS1])));
    expect(trace.elapsed_ms).toBeCloseTo(5002.998, 2);
  });

  it('timeout:1 attempts:7: 6 ms of margin, the eighth send fits (the real musl, idle: 996 ms, gives up at 1138)', () => {
    const { trace } = run({ resolv: `${ns(NS1)}options timeout:1 attempts:7\n`, servers: { [NS1]: 'drop-aaaa' }, name: 'db.example' });
    expect(trace.queries.filter((q) => q.qtype === 'AAAA')).toHaveLength(8);
    expect(trace.queries.at(-1)!.t_ms).toBeCloseTo(995, 0);
    expect(trace.elapsed_ms).toBeCloseTo(1137, 0);
  });

  it('NXDOMAIN moves to the next search domain, then stops at the answer', () => {
    const { trace } = run({ resolv: `${ns(NS1)}search a.example svc.example\n`, servers: { [NS1]: 'nxdomain:a.example' }, name: 'db' });
    expect(trace.result).toEqual({ addresses: ['10.1.2.4'], error: null, canonname: 'db.svc.example' });
    expect(plan(trace)).toEqual([...burst(0, 'db.a.example', [NS1]), ...burst(0.2, 'db.svc.example', [NS1])]);
  });

  it('family inet sends only A; a trailing dot means no search', () => {
    const { trace } = run({ resolv: `${ns(NS1)}search svc.example\n`, servers: { [NS1]: 'answer' }, name: 'db.example.', family: 'inet' });
    expect(trace.result).toEqual({ addresses: ['10.1.2.3'], error: null, canonname: 'db.example' });
    expect(plan(trace)).toEqual([`0 ${NS1} udp db.example A`]);
  });

  it('literals: inet_aton shorthand, wrong family, two trailing dots', () => {
    expect(run({ resolv: ns(NS1), servers: {}, name: '10.1' }).trace.result).toEqual({ addresses: ['10.0.0.1'], error: null, canonname: '10.1' });
    expect(run({ resolv: ns(NS1), servers: {}, name: '0x7f.1' }).trace.result).toEqual({ addresses: ['127.0.0.1'], error: null, canonname: '0x7f.1' });
    expect(run({ resolv: ns(NS1), servers: {}, name: 'fd00::1', family: 'inet' }).trace.result.error).toBe('EAI_NONAME');
    expect(run({ resolv: ns(NS1), servers: {}, name: '010.0.0.1' }).trace.result).toEqual({ addresses: ['8.0.0.1'], error: null, canonname: '010.0.0.1' });
    expect(run({ resolv: ns(NS1), servers: {}, name: 'FE80:0::1%eth0' }).trace.result).toEqual({ addresses: ['fe80::1'], error: null, canonname: 'FE80:0::1%eth0' });
    // an interface name only for link-local (fe8::1 is 0fe8::1, not fe80::/10); numbers up to UINT_MAX
    expect(run({ resolv: ns(NS1), servers: {}, name: 'fe8::1%eth0' }).trace.result.error).toBe('EAI_NONAME');
    expect(run({ resolv: ns(NS1), servers: {}, name: 'fd00::1%4294967295' }).trace.result.error).toBeNull();
    expect(run({ resolv: ns(NS1), servers: {}, name: 'fd00::1%4294967296' }).trace.result.error).toBe('EAI_NONAME');
    const dots = run({ resolv: ns(NS1), servers: {}, name: 'db..' }).trace;
    expect(dots.result.error).toBe('EAI_NONAME');
    expect(dots.queries).toEqual([]);
  });

  it('/etc/hosts: case-sensitive; a line of the other family stops the lookup with EAI_NONAME', () => {
    const hosts = '10.9.9.9 Db\nfd00::9 v6only\n';
    const upper = run({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'db.example', hosts: `${hosts}10.8.8.8 DB.EXAMPLE\n` }).trace;
    expect(upper.result.addresses).toEqual(BOTH); // not in hosts as written: DNS
    const v6 = run({ resolv: ns(NS1), servers: { [NS1]: 'answer' }, name: 'v6only', family: 'inet', hosts }).trace;
    expect(v6.result).toEqual({ addresses: [], error: 'EAI_NONAME' });
    expect(v6.queries).toEqual([]);
  });

  it('`domain a b` is a search line too (resolvconf.c copies the rest of the line)', () => {
    const { trace } = run({ resolv: `${ns(NS1)}domain a.example svc.example\n`, servers: { [NS1]: 'nxdomain:a.example' }, name: 'db' });
    expect(trace.result.addresses).toEqual(['10.1.2.4']);
    expect(trace.queries.map((q) => q.qname)).toEqual(['db.a.example', 'db.a.example', 'db.svc.example', 'db.svc.example']);
  });
});

describe('musl emulator: reply acceptance (driven by hand)', () => {
  const input = { resolvConf: ns(NS1), hosts: '', nsswitch: undefined, env: {}, hostname: 'client' };
  const reply = (id: number, qtype: 'A' | 'AAAA', rcode: number, data?: string, name = 'db.example') =>
    dnsPacket.encode({
      type: 'response',
      id,
      flags: rcode | dnsPacket.RECURSION_AVAILABLE,
      questions: [{ type: qtype, name, class: 'IN' }],
      answers: data ? [{ type: qtype, name, ttl: 60, data } as dnsPacket.Answer] : [],
    });

  it('ignores other senders and REFUSED, matches by id only, first NOERROR wins, closes before done', () => {
    // an ignored reply sends nothing (poll() is re-armed: a new timer, no packet)
    const sendsOf = (actions: MachineAction[]) => actions.filter((a) => a.type === 'udp-send');
    const m = musl.createProcess({ input, random: seededRandom(1), warn: () => {} }).lookup({ name: 'db.example', family: 'any', canonname: false });
    const out: MachineAction[] = m.start(0);
    const sends = out.filter((a) => a.type === 'udp-send');
    const [a, aaaa] = sends.map((s) => (s.type === 'udp-send' ? s : undefined)!);
    const sock = a!.socket;
    // from an address musl never sent to: dropped
    expect(sendsOf(m.handle(1, { type: 'udp', socket: sock, from: '10.9.9.9', bytes: reply(a!.query.id, 'A', 0, '1.1.1.1') }))).toEqual([]);
    // REFUSED: ignored, nothing stored
    expect(sendsOf(m.handle(2, { type: 'udp', socket: sock, from: NS1, bytes: reply(a!.query.id, 'A', 5) }))).toEqual([]);
    // the A query's id with another question name: still taken as the A reply (id only)
    expect(sendsOf(m.handle(3, { type: 'udp', socket: sock, from: NS1, bytes: reply(a!.query.id, 'A', 0, '10.1.1.1', 'other.example') }))).toEqual([]);
    expect(sendsOf(m.handle(4, { type: 'udp', socket: sock, from: NS1, bytes: reply(a!.query.id, 'A', 0, '10.2.2.2') }))).toEqual([]);
    const end = m.handle(5, { type: 'udp', socket: sock, from: NS1, bytes: reply(aaaa!.query.id, 'AAAA', 0, 'fd00::1') });
    expect(end.map((x) => x.type)).toEqual(['udp-close', 'cancel', 'done']);
    expect(end.at(-1)).toEqual({ type: 'done', result: { addresses: ['10.1.1.1', 'fd00::1'], error: null, canonname: 'db.example' } });
  });
});
