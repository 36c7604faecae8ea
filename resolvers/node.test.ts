// Node's dns.lookup emulator: libuv's pool over the glibc and musl emulators, on the simulated
// network. The real Node 20 is the oracle in the fidelity suite (library node, --concurrency).
import { describe, expect, it } from 'vitest';
import { node, nodeMusl, poolSize } from './node.js';
import { glibc } from './glibc.js';
import { seededRandom, simulateBurst, simulateLookup } from './core/sim.js';
import type { Emulator, LookupRequest } from './core/types.js';
import { NS1, NS2, inputOf, ns, scenarioOf, type EmulatorCase } from '../test/support/emulator-case.js';

const ZONE = ['db.example=A:10.1.2.3', 'db.example=AAAA:fd00::3'];
const DEAD_FIRST: EmulatorCase = { resolv: `${ns(NS1, NS2)}options timeout:1 attempts:1\n`, servers: { [NS1]: 'blackhole', [NS2]: 'answer' }, name: 'db.example' };
const req = (name = 'db.example'): LookupRequest => ({ name, family: 'any', canonname: false });

function burst(c: EmulatorCase, n: number, emulator: Emulator = node) {
  const proc = emulator.createProcess({ input: inputOf(c), random: seededRandom(3), warn: () => {} });
  return simulateBurst(proc, Array.from({ length: n }, () => req(c.name)), scenarioOf(c, ZONE), { mode: emulator.mode }).map((r) => r.trace);
}

describe('node emulator: the pool', () => {
  it('8 lookups behind a dead first nameserver, default pool (4 threads, 2 lookups at once): done in waves of two, 1 s apart', () => {
    const traces = burst(DEAD_FIRST, 8);
    expect(traces.map((t) => Math.round(t.elapsed_ms / 1000))).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    expect(traces.map((t) => Math.round((t.queued_ms ?? 0) / 1000))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    // the waiting is before the first query: a queued lookup's queries start late
    expect(traces[7]!.queries[0]!.t_ms).toBeGreaterThanOrEqual(3000);
  });

  it('UV_THREADPOOL_SIZE=8: four at once', () => {
    const traces = burst({ ...DEAD_FIRST, env: { UV_THREADPOOL_SIZE: '8' } }, 8);
    expect(traces.map((t) => Math.round(t.elapsed_ms / 1000))).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it('node-musl queues the same way (the pool is libuv, not the libc); musl itself asks both servers at once', () => {
    const traces = burst(DEAD_FIRST, 3, nodeMusl);
    expect(traces.map((t) => Math.round(t.elapsed_ms))).toEqual([0, 0, 0]);
    const slow = burst({ ...DEAD_FIRST, servers: {} }, 3, nodeMusl);
    expect(slow.map((t) => Math.round(t.elapsed_ms / 1000))).toEqual([1, 1, 2]);
  });

  it('IP literals never reach the pool; "" resolves to nothing without an error', () => {
    const traces = burst({ ...DEAD_FIRST, servers: {}, name: '10.9.8.7' }, 5);
    expect(traces.every((t) => t.elapsed_ms === 0 && t.queries.length === 0 && t.result.addresses[0] === '10.9.8.7')).toBe(true);
    const proc = node.createProcess({ input: inputOf(DEAD_FIRST), random: seededRandom(3), warn: () => {} });
    expect(simulateLookup(proc, { name: 'fd00::1', family: 'inet', canonname: false }, scenarioOf(DEAD_FIRST, ZONE), { mode: 'node' }).trace.result.addresses).toEqual(['fd00::1']);
  });

  it('UV_THREADPOOL_SIZE as libuv reads it: atoi into an unsigned int, 0 → 1, at most 1024', () => {
    expect([undefined, '0', '1', '7', '2000', 'x', '-3', ' 8', '4294967297', '-4294967295', '9'.repeat(40)].map((v) => poolSize(v))).toEqual([4, 1, 1, 7, 1024, 1, 1024, 8, 1, 1, 1024]);
  });
});

describe("node emulator: each thread its own glibc _res", () => {
  const RACE: EmulatorCase = { resolv: `${ns(NS1)}options timeout:1\n`, servers: { [NS1]: 'race-drop:100' }, name: 'db.example' };
  const sequential = (emulator: Emulator, n: number) => {
    const proc = emulator.createProcess({ input: inputOf(RACE), random: seededRandom(5), warn: () => {} });
    let at = 0;
    return Array.from({ length: n }, () => {
      const r = simulateLookup(proc, req(), scenarioOf(RACE, ZONE), { mode: emulator.mode, startAt: at });
      at = r.endAt + 50;
      return Math.round(r.trace.elapsed_ms / 100) * 100;
    });
  };
  it('behind the conntrack race one glibc process learns single-request-reopen by its third lookup; Node\'s lookups rotate over 4 fresh threads', () => {
    expect(sequential(glibc, 3)).toEqual([1000, 1000, 0]);
    // threads 0,1,2,3 each pay the first lookup's 1 s; thread 0 comes round again with RES_SNGLKUP set
    expect(sequential(node, 6)).toEqual([1000, 1000, 1000, 1000, 1000, 1000]);
    expect(sequential(node, 12).slice(8)).toEqual([0, 0, 0, 0]);
  });
});
