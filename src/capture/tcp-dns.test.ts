import { describe, expect, it } from 'vitest';
import { frame } from '../../resolvers/core/tcp-framing.js';
import { TcpDnsReassembler } from './tcp-dns.js';

const seg = (seq: number, payload: Buffer, extra: Partial<{ syn: boolean; fin: boolean; rst: boolean; flow: string }> = {}) => ({ flow: 'f', seq, syn: false, fin: false, rst: false, payload, ...extra });
const msg = (n: number) => Buffer.alloc(12, n);

describe('TcpDnsReassembler', () => {
  it('splits framed messages across and within segments', () => {
    const r = new TcpDnsReassembler();
    const bytes = Buffer.concat([frame(msg(1)), frame(msg(2))]);
    expect(r.push(seg(100, Buffer.alloc(0), { syn: true }))).toEqual([]);
    expect(r.push(seg(101, bytes.subarray(0, 5)))).toEqual([]);
    expect(r.push(seg(106, bytes.subarray(5)))).toEqual([msg(1), msg(2)]);
  });

  it('ignores retransmissions and waits for a gap to fill', () => {
    const r = new TcpDnsReassembler();
    const bytes = frame(msg(3));
    r.push(seg(0, bytes.subarray(0, 4)));
    expect(r.push(seg(0, bytes.subarray(0, 4)))).toEqual([]); // retransmitted
    expect(r.push(seg(8, bytes.subarray(8)))).toEqual([]); // early
    expect(r.push(seg(2, bytes.subarray(2, 8)))).toEqual([msg(3)]); // overlaps, fills the gap
  });

  it('handles sequence wrap-around', () => {
    const r = new TcpDnsReassembler();
    const bytes = frame(msg(4));
    r.push(seg(0xfffffffa, bytes.subarray(0, 6)));
    expect(r.push(seg(0, bytes.subarray(6)))).toEqual([msg(4)]);
  });

  it('keeps at most maxFlows streams and maxEarly early segments', () => {
    const r = new TcpDnsReassembler(2, 1);
    r.push(seg(0, Buffer.from([0]), { flow: 'a' }));
    r.push(seg(0, Buffer.from([0]), { flow: 'b' }));
    r.push(seg(0, Buffer.from([0]), { flow: 'c' })); // 'a' goes
    expect(r.push(seg(1, Buffer.from([12, ...msg(5)]), { flow: 'a' }))).toEqual([]); // a new stream mid-frame: no message
    r.push(seg(10, Buffer.from([1]), { flow: 'b' }));
    r.push(seg(20, Buffer.from([1]), { flow: 'b' })); // over maxEarly: dropped, not held
    expect((r as unknown as { streams: Map<string, { early: Map<number, Buffer> }> }).streams.get('b')!.early.size).toBe(1);
  });
});
