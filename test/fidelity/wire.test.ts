import { describe, expect, it } from 'vitest';
import type { WireRecord } from '../../src/capture/capture.js';
import { wireQueries } from './run.js';

const rec = (over: Partial<WireRecord> & { qr?: boolean }): WireRecord => {
  const { qr = false, ...rest } = over;
  return {
    ts: 1000,
    outgoing: true,
    ifIndex: 2,
    transport: 'udp',
    src: '10.9.0.100',
    sport: 40000,
    dst: '10.9.0.1',
    dport: 53,
    dns: { id: 1, qr, opcode: 0, rcode: 0, tc: false, qname: 'db.fy.test', qtype: 'A', answers: 0, edns: false },
    ...rest,
  };
};

/** A record with no DNS payload (non-DNS or undecodable). */
const withoutDns = (r: WireRecord): WireRecord => {
  const { dns: _dns, ...rest } = r;
  return rest;
};

describe('wireQueries: what the oracle counts as a query to a server', () => {
  const servers = new Map([['10.9.0.1', 'ns1'], ['10.9.0.2', 'ns2']]);

  it('keeps queries leaving the client namespace for a lane server (closed ones too: it is the address that counts), in time order', () => {
    const out = wireQueries([rec({ ts: 5, dst: '10.9.0.2', transport: 'tcp' }), rec({ ts: 3 })], servers);
    expect(out.map((l) => `${l.ts} ${l.server} ${l.transport} ${l.qname} ${l.qtype}`)).toEqual(['3 ns1 udp db.fy.test A', '5 ns2 tcp db.fy.test A']);
  });

  it('drops replies, packets arriving in the namespace, other ports, other addresses, non-DNS and ICMP', () => {
    const dropped: WireRecord[] = [
      rec({ qr: true }),
      rec({ outgoing: false }),
      rec({ dport: 5353 }),
      rec({ dst: '10.9.0.3' }),
      withoutDns(rec({})),
      { ...withoutDns(rec({})), transport: 'icmp', icmp: { code: 3, dst: '10.9.0.1', dport: 53, src: '10.9.0.100', sport: 40000 } },
    ];
    expect(wireQueries(dropped, servers)).toEqual([]);
  });
});
