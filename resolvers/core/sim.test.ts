// The simulated network's model of the fault behaviours the fidelity matrix added: what reaches an
// emulator (the same as on the real network through the real driver).
import { describe, expect, it } from 'vitest';
import { glibc } from '../glibc.js';
import { musl } from '../musl.js';
import { eventlet } from '../eventlet.js';
import { parseScenario } from './scenario.js';
import { seededRandom, simulateLookups } from './sim.js';
import type { Emulator } from './types.js';

const NS = '10.0.0.53';
const ZONE = ['db.example=A:10.0.0.5', 'db.example=A:10.0.0.6', 'db.example=A:10.0.0.7', 'db.example=AAAA:fd00::5'];

function runN(emulator: Emulator, behaviour: string, options: string, n: number) {
  const input = { resolvConf: `nameserver ${NS}\noptions ${options}\n`, hosts: '', nsswitch: 'hosts: dns\n', env: {}, hostname: 'lab' };
  const scenario = parseScenario({ servers: { [NS]: behaviour }, zone: ZONE });
  return simulateLookups(emulator, input, scenario, Array.from({ length: n }, () => ({ name: 'db.example.', family: 'any' as const, canonname: false })), seededRandom(1));
}
const run = (emulator: Emulator, behaviour: string, options = 'timeout:1 attempts:1') => runN(emulator, behaviour, options, 1)[0]!;

describe('simulated network: wider behaviours', () => {
  it('wrong-port: a connected socket (glibc) never sees the reply; an unconnected one (musl) sees it and ignores it; wrong-port-first: the right one follows', () => {
    const g = run(glibc, 'wrong-port');
    expect([g.result.error, ...g.queries.map((q) => q.outcome)]).toEqual(['EAI_AGAIN', 'timeout', 'timeout']);
    const m = run(musl, 'wrong-port');
    expect([m.result.error, ...m.queries.map((q) => q.outcome)]).toEqual(['EAI_AGAIN', 'wrong-port', 'wrong-port']);
    for (const emulator of [glibc, musl]) {
      const first = run(emulator, 'wrong-port-first');
      expect(first.result.error).toBeNull();
      expect(first.queries.every((q) => q.outcome === 'answer')).toBe(true);
      expect(first.elapsed_ms).toBeLessThan(10);
    }
  });

  it('wrong-port: eventlet (greendns) ends the try on the first datagram from another port (UnexpectedSource), even when the right one follows', () => {
    for (const behaviour of ['wrong-port', 'wrong-port-first']) {
      const e = run(eventlet, behaviour);
      expect(e.result.error).toBe('EAI_AGAIN');
      expect(e.queries[0]!.outcome).toBe('wrong-port');
      expect(e.queries[0]!.rtt_ms).toBeLessThan(10);
    }
  });

  it('truncate-partial: the UDP reply carries half of the answers (musl keeps them), TCP all (glibc)', () => {
    const m = run(musl, 'truncate-partial');
    expect(m.result.addresses.sort()).toEqual(['10.0.0.5', '10.0.0.6', 'fd00::5']);
    const g = run(glibc, 'truncate-partial');
    expect(g.result.addresses.sort()).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.7', 'fd00::5']);
    expect(g.queries.map((q) => q.transport)).toEqual(['udp', 'udp', 'tcp', 'tcp']);
  });

  it('formerr-edns: FORMERR only to queries with OPT (glibc options edns0)', () => {
    const plain = run(glibc, 'formerr-edns');
    expect(plain.queries.map((q) => q.outcome)).toEqual(['answer', 'answer']);
    const edns = run(glibc, 'formerr-edns', 'timeout:1 attempts:1 edns0');
    expect(edns.queries[0]!.outcome).toBe('formerr');
  });
});

// The conntrack race (kubernetes/kubernetes#56903) as resolver-behavior.md §7 #3 tells it: the
// second of two packets sent together from one socket is lost; what each library then does is its own.
describe('simulated network: race-drop', () => {
  const plan = (t: { queries: Array<{ qtype: string; outcome: string; t_ms: number }> }) => t.queries.map((q) => `${q.qtype}:${q.outcome}@${Math.round(q.t_ms)}`);

  it('glibc: AAAA lost behind A, the timeout, then the single-request retry; next lookup single-request loses it again, then reopen; the third pays nothing', () => {
    const [first, second, third] = runN(glibc, 'race-drop', 'timeout:1 attempts:2', 3);
    expect(plan(first!)).toEqual(['A:answer@0', 'AAAA:timeout@0', 'A:answer@1000', 'AAAA:answer@1000']);
    expect([...first!.result.addresses].sort()).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.7', 'fd00::5']);
    // RES_SNGLKUP is sticky, but A then AAAA on one new socket, 0.2 ms apart, still collide
    expect(plan(second!)).toEqual(['A:answer@0', 'AAAA:timeout@0', 'A:answer@1000', 'AAAA:answer@1000']);
    expect(third!.elapsed_ms).toBeLessThan(5);
    expect(plan(third!)).toEqual(['A:answer@0', 'AAAA:answer@0']);
    expect(third!.result).toEqual(first!.result);
  });

  it('glibc single-request-reopen and use-vc do not lose a packet', () => {
    for (const options of ['timeout:1 single-request-reopen', 'timeout:1 use-vc']) {
      const t = run(glibc, 'race-drop', options);
      expect(t.elapsed_ms, options).toBeLessThan(5);
      expect(t.result.error, options).toBeNull();
      expect(t.result.addresses, options).toHaveLength(4);
      expect(t.queries.map((q) => `${q.qtype}:${q.outcome}:${q.transport}`), options).toEqual(
        options.includes('use-vc') ? ['A:answer:tcp', 'AAAA:answer:tcp'] : ['A:answer:udp', 'AAAA:answer:udp'],
      );
    }
  });

  it('musl: the AAAA resent at the next retry interval gets through', () => {
    const t = run(musl, 'race-drop', 'timeout:1 attempts:2');
    expect(t.result.error).toBeNull();
    expect(t.elapsed_ms).toBeGreaterThanOrEqual(500);
    expect(t.elapsed_ms).toBeLessThan(505);
  });

  it('eventlet (one socket per query, AAAA then A) never races', () => {
    const t = run(eventlet, 'race-drop', 'timeout:1 attempts:2');
    expect(t.elapsed_ms).toBeLessThan(5);
    expect(t.result.addresses).toHaveLength(4);
    expect(plan(t)).toEqual(['AAAA:answer@0', 'A:answer@0']);
  });
});

describe('a scenario\'s "network" (hostile JSON: one clear error, never a hang)', () => {
  const net = (routes: unknown[], addresses: unknown[] = [{ address: '10.0.0.2', prefixLen: 24, dev: 'eth0' }]) => () => parseScenario({ servers: {}, network: { addresses, routes } });
  it.each([
    [[{ dst: '10.1.1.0/Infinity', dev: 'eth0' }], /dst/],
    [[{ dst: '10.1.1.0/1e999', dev: 'eth0' }], /dst/],
    [[{ dst: '10.1.1.0/x', dev: 'eth0' }], /dst/],
    [[{ dst: '10.1.1.0/33', dev: 'eth0' }], /dst/],
    [[{ dst: 'fd00::/129', dev: 'eth0' }], /dst/],
    [[{ dst: 'default', dev: 'eth0', src: 'nope' }], /src/],
    [[{ dst: 'default', dev: 'eth0', src: 5 }], /src/],
    [[{ dst: '::/0', dev: 'eth0', src: '10.0.0.2' }], /src/],
    [[{ dst: 'default' }], /dev/],
  ])('%j is refused', (routes, message) => expect(net(routes)).toThrow(message));
  it('bad addresses are refused; a good network is kept', () => {
    expect(net([], [{ address: '10.0.0.2', prefixLen: 40, dev: 'eth0' }])).toThrow(/prefixLen/);
    expect(net([], [{ address: 'x', prefixLen: 8, dev: 'eth0' }])).toThrow(/not an IP address/);
    expect(net([{ dst: 'default', dev: 'eth0', src: '10.0.0.2' }, { dst: 'fd00::/64', dev: 'eth0' }])().network?.routes).toHaveLength(2);
  });
});
