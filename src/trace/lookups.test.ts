// Exchanges and lookups from hand-written packets: what each rule of the grouping does with the
// patterns the libraries produce (resolver-behavior.md), stated by hand, not by the code.
import { describe, expect, it } from 'vitest';
import type { WireRecord } from '../capture/capture.js';
import { toExchanges, type Exchange } from './exchanges.js';
import { groupLookups } from './lookups.js';

const C = '10.0.0.5';
const S1 = '10.0.0.53';
const S2 = '10.0.0.54';

/** A query leaving at `ts` (ms) and, when `rtt` is given, its reply. */
function q(ts: number, qname: string, qtype: string, o: { port?: number; server?: string; id?: number; rtt?: number; rcode?: number; answers?: number; transport?: 'udp' | 'tcp' } = {}): WireRecord[] {
  const port = o.port ?? 40000;
  const server = o.server ?? S1;
  const id = o.id ?? 1;
  const transport = o.transport ?? 'udp';
  const dns = (qr: boolean) => ({ id, qr, opcode: 0, rcode: qr ? (o.rcode ?? 0) : 0, tc: false, qname, qtype, answers: qr ? (o.answers ?? (o.rcode ? 0 : 1)) : 0, edns: false });
  const out: WireRecord[] = [{ ts, outgoing: true, ifIndex: 2, transport, src: C, sport: port, dst: server, dport: 53, dns: dns(false) }];
  if (o.rtt !== undefined) out.push({ ts: ts + o.rtt, outgoing: false, ifIndex: 2, transport, src: server, sport: 53, dst: C, dport: port, dns: dns(true) });
  return out;
}

const lookups = (records: WireRecord[], search: string[] = []) => groupLookups(toExchanges(records, [53]), search);
const shape = (ex: Exchange[]) => ex.map((e) => `${e.qtype} ${e.qname} ${e.outcome}`);

describe('toExchanges', () => {
  it('pairs a reply with its query; a lost query stays a timeout', () => {
    const ex = toExchanges([...q(0, 'db', 'A', { rtt: 0.4 }), ...q(0.1, 'db', 'AAAA', { id: 2 })], [53]);
    expect(ex.map((e) => [e.qtype, e.outcome, e.rtt])).toEqual([['A', 'answer', 0.4], ['AAAA', 'timeout', null]]);
  });

  it('a resend repeats the id: the reply goes to the latest send, the first stays lost', () => {
    const ex = toExchanges([...q(0, 'db', 'AAAA', { id: 7 }), ...q(500, 'db', 'AAAA', { id: 7, rtt: 1 })], [53]);
    expect(ex.map((e) => [e.t, e.outcome])).toEqual([[0, 'timeout'], [500, 'answer']]);
  });

  it('a reply without a question (FORMERR may carry none) goes to the latest unanswered send of its id on that socket', () => {
    const formerr: WireRecord = { ts: 0.5, outgoing: false, ifIndex: 2, transport: 'udp', src: S1, sport: 53, dst: C, dport: 40000, dns: { id: 9, qr: true, opcode: 0, rcode: 1, tc: false, qname: '', qtype: '', answers: 0, edns: false } };
    const ex = toExchanges([...q(0, 'db', 'A', { id: 9 }), formerr, ...q(1, 'db', 'A', { id: 9, rtt: 0.3 })], [53]);
    expect(ex.map((e) => e.outcome)).toEqual(['formerr', 'answer']);
  });

  it('counts only queries leaving and replies arriving: a DNS server in the namespace is not a client; loopback copies count once', () => {
    const served: WireRecord[] = q(0, 'x', 'A', { rtt: 1 }).map((r) => ({ ...r, outgoing: !r.outgoing }));
    const loop = q(10, 'lo', 'A', { rtt: 1 }).flatMap((r) => [r, { ...r, outgoing: !r.outgoing }]);
    expect(shape(toExchanges([...served, ...loop], [53]))).toEqual(['A lo answer']);
  });

  it('ICMP port unreachable ends the queries of that socket', () => {
    const icmp: WireRecord = { ts: 0.2, outgoing: false, ifIndex: 2, transport: 'icmp', src: S1, sport: 0, dst: C, dport: 0, icmp: { code: 3, dst: S1, dport: 53, src: C, sport: 40000 } };
    expect(shape(toExchanges([...q(0, 'db', 'A'), ...q(0, 'db', 'AAAA', { id: 2 }), icmp], [53]))).toEqual(['A db icmp-unreachable', 'AAAA db icmp-unreachable']);
  });
});

describe('groupLookups', () => {
  it('glibc, first server dead: A+AAAA to it, then to the next one, is one lookup; the next call is another', () => {
    const ls = lookups([
      ...q(0, 'db.example', 'A'), ...q(0, 'db.example', 'AAAA', { id: 2 }),
      ...q(1000, 'db.example', 'A', { server: S2, port: 40001, rtt: 0.3 }), ...q(1000, 'db.example', 'AAAA', { server: S2, port: 40001, id: 2, rtt: 0.3 }),
      ...q(1300, 'db.example', 'A', { port: 40002, id: 3 }),
    ]);
    expect(ls.map((l) => l.exchanges.length)).toEqual([4, 1]);
    expect(ls[0]!.end).toBeCloseTo(1000.3);
  });

  it("glibc's single-request retry resends the answered A while AAAA is still missing: the same lookup", () => {
    const ls = lookups([...q(0, 'db', 'A', { rtt: 0.2 }), ...q(0, 'db', 'AAAA', { id: 2 }), ...q(1000, 'db', 'A', { rtt: 0.2 }), ...q(1000.3, 'db', 'AAAA', { id: 2, rtt: 0.2 })]);
    expect(ls).toHaveLength(1);
  });

  it('a search walk (NXDOMAIN, then the next candidate right away) is one lookup; an unrelated name is another', () => {
    const ls = lookups([
      ...q(0, 'api.ns.svc.cluster.local', 'A', { rtt: 0.5, rcode: 3 }), ...q(0, 'api.ns.svc.cluster.local', 'AAAA', { id: 2, rtt: 0.5, rcode: 3 }),
      ...q(0.6, 'api.svc.cluster.local', 'A', { id: 3, rtt: 0.5, rcode: 3 }), ...q(0.6, 'api.svc.cluster.local', 'AAAA', { id: 4, rtt: 0.5, rcode: 3 }),
      ...q(1.2, 'api', 'A', { id: 5, rtt: 0.5 }), ...q(1.2, 'api', 'AAAA', { id: 6, rtt: 0.5 }),
      ...q(1.3, 'web', 'A', { id: 7, port: 40009, rtt: 0.5 }),
    ], ['ns.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    expect(ls.map((l) => l.names)).toEqual([['api.ns.svc.cluster.local', 'api.svc.cluster.local', 'api'], ['web']]);
  });

  it('the next search name long after the walk ended is a new lookup (more than the search gap)', () => {
    const ls = lookups([...q(0, 'api.a.example', 'A', { rtt: 0.5, rcode: 3 }), ...q(400, 'api.b.example', 'A', { id: 2, rtt: 0.5 })], ['a.example', 'b.example']);
    expect(ls).toHaveLength(2);
  });

  it('not a walk: another name with the same first label, or any name after an answer, is another lookup', () => {
    const apart = lookups([...q(0, 'www.a.com', 'A', { rtt: 0.5, rcode: 3 }), ...q(0.6, 'www.b.com', 'A', { id: 2, rtt: 0.5 })], ['example']);
    expect(apart).toHaveLength(2);
    const answered = lookups([...q(0, 'api.a.example', 'A', { rtt: 0.5 }), ...q(0.6, 'api.b.example', 'A', { id: 2, rtt: 0.5 })], ['a.example', 'b.example']);
    expect(answered).toHaveLength(2);
  });

  it('nothing joins a lookup idle for more than 30 s: a resend that late is another call', () => {
    expect(lookups([...q(0, 'db', 'A'), ...q(30_001, 'db', 'A', { port: 40001 })])).toHaveLength(2);
    expect(lookups([...q(0, 'db', 'A'), ...q(29_999, 'db', 'A', { port: 40001 })])).toHaveLength(1);
  });

  it('a flood of one unanswered question is cut into bounded lookups', () => {
    const flood = Array.from({ length: 2000 }, (_, i) => q(i * 0.01, 'x', 'A', { id: i, port: 1024 + i })).flat();
    const ls = lookups(flood);
    expect(Math.max(...ls.map((l) => l.exchanges.length))).toBeLessThanOrEqual(512);
    expect(ls.reduce((n, l) => n + l.exchanges.length, 0)).toBe(2000);
  });
});
