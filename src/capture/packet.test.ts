import { randomBytes } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { decodePacket } from './packet.js';
import { udp4 } from '../../test/support/packets.js';

const query = dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'AAAA', name: 'Db.Example.' }] });

describe('decodePacket', () => {
  it('reads a UDP DNS query (name lower-cased, no trailing dot)', () => {
    const d = decodePacket(udp4('10.1.2.3', '10.1.2.53', 40000, 53, query));
    expect(d).toMatchObject({ version: 4, transport: 'udp', src: '10.1.2.3', dst: '10.1.2.53', sport: 40000, dport: 53, dns: { id: 4242, qr: false, qname: 'db.example', qtype: 'AAAA', edns: false } });
  });

  it('reads the datagram an ICMP port unreachable reports', () => {
    const inner = udp4('10.1.2.3', '10.1.2.9', 40000, 53, query).subarray(0, 28);
    const icmp = Buffer.concat([Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]), inner]);
    const ip = udp4('10.1.2.9', '10.1.2.3', 0, 0, Buffer.alloc(0)).subarray(0, 20);
    ip[9] = 1;
    ip.writeUInt16BE(20 + icmp.length, 2);
    expect(decodePacket(Buffer.concat([ip, icmp]))).toMatchObject({ transport: 'icmp', icmp: { code: 3, dst: '10.1.2.9', dport: 53, sport: 40000 } });
  });

  it('never throws on truncated or random bytes', () => {
    const whole = udp4('10.1.2.3', '10.1.2.53', 40000, 53, query);
    for (let n = 0; n <= whole.length; n++) expect(() => decodePacket(whole.subarray(0, n))).not.toThrow();
    for (let i = 0; i < 5000; i++) {
      const b = randomBytes(1 + (i % 90));
      b[0] = (i % 2 ? 0x45 : 0x60) | (b[0]! & 0x0f);
      expect(() => decodePacket(b)).not.toThrow();
    }
  });
});
