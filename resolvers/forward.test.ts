// The stub's forwarding strategies on the simulated network: the same waits as the emulators.
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { createForwarder, type ForwardMode } from './forward.js';
import { parseScenario } from './core/scenario.js';
import { seededRandom, simulateLookup } from './core/sim.js';
import { encodeQuery } from './core/wire.js';

const ZONE = ['db.example=A:10.1.2.3'];

function forward(mode: ForwardMode, resolv: string, servers: Record<string, string>, qtype = 'A') {
  const fwd = createForwarder(mode, { input: { resolvConf: resolv, hosts: '', nsswitch: undefined, env: {}, hostname: 'stub' }, random: seededRandom(3), warn: () => {} });
  const query = { qname: 'db.example', qtype, id: 4242, bytes: encodeQuery(4242, 'db.example', qtype) };
  const run = simulateLookup({ lookup: () => fwd.forward(query) }, { name: 'db.example', family: 'any', canonname: false }, parseScenario({ servers, zone: ZONE }), { mode });
  const reply = run.trace.result.reply ? (dnsPacket.decode(run.trace.result.reply) as dnsPacket.DecodedPacket & { rcode?: string }) : undefined;
  return { trace: run.trace, reply };
}

const TWO = 'nameserver 10.0.0.1\nnameserver 10.0.0.2\n';

describe('stub forwarding strategies', () => {
  it('glibc waits out a blackholed first server, musl races past it', () => {
    const g = forward('glibc', TWO, { '10.0.0.1': 'blackhole', '10.0.0.2': 'answer' });
    expect(g.trace.elapsed_ms).toBeCloseTo(5000.2, 3);
    expect(g.reply?.answers?.[0]).toMatchObject({ type: 'A', data: '10.1.2.3' });
    const m = forward('musl', TWO, { '10.0.0.1': 'blackhole', '10.0.0.2': 'answer' });
    expect(m.trace.elapsed_ms).toBeCloseTo(0.2, 3);
    expect(m.reply?.answers?.[0]).toMatchObject({ type: 'A', data: '10.1.2.3' });
  });

  it('the reply keeps the id of the query that was sent', () => {
    expect(forward('glibc', TWO, { '10.0.0.1': 'answer' }).reply?.id).toBe(4242);
  });

  it('glibc moves on from SERVFAIL at once; a fast NXDOMAIN wins the musl race', () => {
    const g = forward('glibc', TWO, { '10.0.0.1': 'servfail', '10.0.0.2': 'answer' });
    expect(g.trace.elapsed_ms).toBeCloseTo(0.4, 3);
    expect(g.reply?.rcode).toBe('NOERROR');
    const m = forward('musl', TWO, { '10.0.0.1': 'nxdomain', '10.0.0.2': 'delay:50' });
    expect(m.reply?.rcode).toBe('NXDOMAIN');
  });

  it('glibc retries a truncated reply over TCP; musl passes it back as it is', () => {
    const g = forward('glibc', 'nameserver 10.0.0.1\n', { '10.0.0.1': 'truncate' });
    expect(g.trace.queries.map((q) => q.transport)).toEqual(['udp', 'tcp']);
    expect(g.reply?.answers).toHaveLength(1);
    const m = forward('musl', 'nameserver 10.0.0.1\n', { '10.0.0.1': 'truncate' });
    expect(m.reply?.flag_tc).toBe(true);
    expect(m.trace.queries.map((q) => q.transport)).toEqual(['udp']);
  });

  it('fails (the stub answers SERVFAIL) when no server answers in time', () => {
    const g = forward('glibc', `${TWO}options timeout:1 attempts:1\n`, {});
    expect(g.trace.result).toMatchObject({ error: 'EAI_AGAIN' });
    expect(g.trace.elapsed_ms).toBe(1000 + 1000);
    const m = forward('musl', `${TWO}options timeout:1\n`, {});
    expect(m.trace.result).toMatchObject({ error: 'EAI_AGAIN' });
    expect(m.trace.elapsed_ms).toBe(1001); // two polls of 500 ms, each 0.5 ms late (the kernel's slack)
  });

  it('forwards any record type, not only addresses', () => {
    const g = forward('glibc', 'nameserver 10.0.0.1\n', { '10.0.0.1': 'answer' }, 'MX');
    expect(g.trace.queries[0]!.qtype).toBe('MX');
    expect(g.reply?.rcode).toBe('NOERROR');
  });
});
