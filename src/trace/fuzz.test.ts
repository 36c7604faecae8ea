// The trace pipeline on hostile traffic: mutated DNS packets (bit flips, truncation, random
// bytes) from the decoder through exchanges, lookups, the fingerprint's replay and the report —
// nothing may throw, whatever names, ids, ports and counts come off the wire. Seeded: a failure
// reproduces.
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import type { WireRecord } from '../capture/capture.js';
import { decodePacket } from '../capture/packet.js';
import { seededRandom } from '../../resolvers/core/sim.js';
import { toExchanges } from './exchanges.js';
import { groupLookups } from './lookups.js';
import { buildReport } from './report.js';
import { udp4 } from '../../test/support/packets.js';

const C = '10.0.0.5';
const S = '10.0.0.53';
const msg = (type: 'query' | 'response', name: string, qtype: 'A' | 'AAAA', id: number) =>
  dnsPacket.encode({ type, id, flags: type === 'response' ? 0x8180 : 0x100, questions: [{ type: qtype, name }], answers: type === 'response' ? [{ type: 'A', name, data: '192.0.2.1' } as dnsPacket.Answer] : [] });

describe('trace pipeline on mutated traffic', () => {
  it('never throws from the decoder to the report', () => {
    const random = seededRandom(20261203);
    const pick = (n: number) => Math.floor(random() * n);
    const icmp = (() => {
      const inner = udp4(C, S, 40000, 53, msg('query', 'db.example', 'A', 1)).subarray(0, 28);
      const body = Buffer.concat([Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]), inner]);
      const ip = Buffer.from(udp4(S, C, 0, 0, Buffer.alloc(0)).subarray(0, 20));
      ip[9] = 1;
      ip.writeUInt16BE(20 + body.length, 2);
      return Buffer.concat([ip, body]);
    })();
    const seeds = [
      icmp,
      udp4(C, S, 40000, 53, msg('query', 'db.example', 'A', 1)),
      udp4(S, C, 53, 40000, msg('response', 'db.example', 'A', 1)),
      udp4(C, S, 40000, 53, msg('query', 'db.svc.cluster.local', 'AAAA', 2)),
      udp4(S, C, 53, 40000, msg('response', 'db.svc.cluster.local', 'AAAA', 2)),
    ];
    for (let round = 0; round < 200; round++) {
      const records: WireRecord[] = [];
      for (let i = 0; i < 100; i++) {
        const b = Buffer.from(seeds[pick(seeds.length)]!);
        for (let f = pick(4); f > 0; f--) { const at = pick(b.length); b[at] = b[at]! ^ (1 << pick(8)); }
        const cut = random() < 0.2 ? b.subarray(0, pick(b.length + 1)) : b;
        const d = decodePacket(cut);
        if (!d) continue;
        records.push({ ts: round * 1000 + i * (random() < 0.5 ? 0.01 : 300), outgoing: d.src === C, ifIndex: 2, transport: d.transport, src: d.src, sport: d.sport, dst: d.dst, dport: d.dport, ...(d.dns ? { dns: d.dns } : {}), ...(d.icmp ? { icmp: d.icmp } : {}) });
      }
      const lookups = groupLookups(toExchanges(records, [53]));
      const report = buildReport({
        target: 'fuzz', startedAt: 0, endedAt: 1, ports: [53],
        capture: { packets: records.length, records: records.length, overflow: 0, undecoded: 0, kernelDrops: 0, kept: records.length },
        lookups,
        input: { resolvConf: `nameserver ${S}\nsearch svc.cluster.local\noptions timeout:1\n`, hosts: '', nsswitch: undefined, env: {}, hostname: 'f' },
      });
      expect(report.lookups.reduce((n, l) => n + l.attempts.length, 0)).toBeLessThanOrEqual(records.length);
      expect(() => JSON.stringify(report)).not.toThrow();
    }
  }, 60_000);
});
