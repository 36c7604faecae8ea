// The RES_NOAAAA rewrite, read back with dns-packet (an independent decoder).
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { encodeQuery, noAaaaQuery, noAaaaReply } from './wire.js';

describe('no-aaaa rewrite (glibc res-noaaaa.c)', () => {
  it('an AAAA query becomes an A query: same id and flags, same name, no EDNS0', () => {
    const out = dnsPacket.decode(noAaaaQuery(encodeQuery(0x1234, 'db.fy.test', 'AAAA', { edns: 1200, ad: true }))!);
    expect(out.id).toBe(0x1234);
    expect(out.flags! & (dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA)).toBe(dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA);
    expect(out.questions).toEqual([{ name: 'db.fy.test', type: 'A', class: 'IN' }]);
    expect(out.additionals).toEqual([]);
  });

  it('leaves anything but an AAAA question alone', () => {
    expect(noAaaaQuery(encodeQuery(1, 'db.fy.test', 'A'))).toBeUndefined();
    expect(noAaaaQuery(Buffer.from([0, 1, 1, 0, 0, 1]))).toBeUndefined();
  });

  it('the A reply comes back as NODATA for AAAA, rcode kept', () => {
    const answer = dnsPacket.encode({
      type: 'response', id: 7, flags: dnsPacket.RECURSION_AVAILABLE, questions: [{ name: 'db.fy.test', type: 'A', class: 'IN' }],
      answers: [{ name: 'db.fy.test', type: 'A', class: 'IN', ttl: 60, data: '10.0.0.1' }],
    });
    const out = dnsPacket.decode(noAaaaReply(answer));
    expect([out.id, out.flags! & 0xf, out.questions, out.answers, out.authorities, out.additionals]).toEqual([7, 0, [{ name: 'db.fy.test', type: 'AAAA', class: 'IN' }], [], [], []]);
    const nx = dnsPacket.encode({ type: 'response', id: 8, flags: 3, questions: [{ name: 'x.fy.test', type: 'A', class: 'IN' }] });
    expect(dnsPacket.decode(noAaaaReply(nx)).flags! & 0xf).toBe(3);
  });
});
