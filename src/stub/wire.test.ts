// The stub's hand-built fast path against dns-packet, the independent encoder: for every reply
// shape the stub builds by hand (A, AAAA, PTR answers; NOERROR/NODATA, NXDOMAIN, SERVFAIL,
// REFUSED; AA or not; RD echoed; queries with and without EDNS; any letter case), the bytes must
// be dns-packet's encoding of the same reply, once the answers' compression pointer (0xC00C,
// the question name) is spelled out — dns-packet does not compress.
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { addressText } from '../../resolvers/core/address.js';
import { seededRandom } from '../../resolvers/core/sim.js';
import { headerReply } from './answer.js';
import { fastParse, fastReply, type FastAnswer, type FastQuery } from './wire.js';

const RD = dnsPacket.RECURSION_DESIRED;

function query(name: string, type: string, opts: { id?: number; rd?: boolean; edns?: number } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 0x1234,
    flags: opts.rd === false ? 0 : RD,
    questions: [{ name, type: type as dnsPacket.RecordType, class: 'IN' }],
    additionals: opts.edns !== undefined ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns } as dnsPacket.Answer] : [],
  });
}

/** What dns-packet makes of the same reply (the stub's general path builds it this way too). */
function oracle(q: FastQuery, rcode: number, answers: FastAnswer[], authoritative: boolean): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: (q.flags & RD) | dnsPacket.RECURSION_AVAILABLE | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode,
    questions: [{ name: q.owner, type: q.qtype as dnsPacket.RecordType, class: 'IN' }],
    answers: answers.map((a) => ({ name: q.owner, type: a.type, class: 'IN', ttl: a.ttl, data: a.data }) as dnsPacket.Answer),
  });
}

/** The fast reply with every answer's 0xC00C owner replaced by the question name's bytes. */
function expandPointers(reply: Buffer, q: FastQuery): Buffer {
  const qname = q.question.subarray(0, q.question.length - 4);
  const parts: Buffer[] = [reply.subarray(0, 12 + q.question.length)];
  let off = 12 + q.question.length;
  for (let i = 0; i < reply.readUInt16BE(6); i++) {
    expect(reply.readUInt16BE(off)).toBe(0xc00c);
    const rdlen = reply.readUInt16BE(off + 10);
    parts.push(qname, reply.subarray(off + 2, off + 12 + rdlen));
    off += 12 + rdlen;
  }
  expect(off).toBe(reply.length);
  return Buffer.concat(parts);
}

function check(q: FastQuery, rcode: number, answers: FastAnswer[], authoritative: boolean): void {
  const fast = fastReply(q, rcode, answers, authoritative);
  const want = oracle(q, rcode, answers, authoritative);
  const label = `${q.owner} ${q.qtype} rcode ${rcode} [${answers.map((a) => `${a.type} ${a.data}`).join(', ')}]`;
  expect(fast, label).toBeDefined();
  expect(dnsPacket.decode(fast!), label).toEqual(dnsPacket.decode(want));
  expect(expandPointers(fast!, q).toString('hex'), label).toBe(want.toString('hex'));
}

const parsed = (name: string, type: string, opts?: Parameters<typeof query>[2]) => {
  const q = fastParse(query(name, type, opts));
  if (!q) throw new Error(`the fast path did not take ${name} ${type}`);
  return q;
};

const A = (data: string): FastAnswer => ({ type: 'A', data, ttl: 5 });
const AAAA = (data: string): FastAnswer => ({ type: 'AAAA', data, ttl: 5 });
const PTR = (data: string): FastAnswer => ({ type: 'PTR', data, ttl: 5 });

const V6_SHAPES = [
  '::ffff:10.0.0.1', // IPv4-mapped, as --add-host may give it
  '::ffff:0a00:0001',
  '::', '::1', '1::', 'fd00::5', 'fd00:0:0:0:0:0:0:5', '0fd0:0000:0000:0000:0000:0000:0000:0001', 'FD00::A', 'Fd00:Db8::aB',
  '2001:db8:1:2:3:4:5:6', '2001:db8::1:0:0:1', '::1.2.3.4', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7::',
];

describe('fastReply against dns-packet', () => {
  it('A answers (one, several, edge values)', () => {
    const q = parsed('web.net1.tsnet', 'A');
    check(q, 0, [A('10.0.0.1')], true);
    check(q, 0, [A('10.89.0.2'), A('10.89.0.3'), A('192.168.1.1')], true);
    check(q, 0, [A('0.0.0.0'), A('255.255.255.255')], false);
  });

  it('AAAA answers in every spelling: embedded IPv4, ::, ::1, compressed, full, upper case', () => {
    for (const v6 of V6_SHAPES) check(parsed('db.example', 'AAAA'), 0, [AAAA(v6)], true);
    check(parsed('db.example', 'AAAA'), 0, V6_SHAPES.map(AAAA), true);
  });

  it('AAAA answers for random addresses, compressed and full', () => {
    const rand = seededRandom(21);
    const q = parsed('db.example', 'AAAA');
    for (let i = 0; i < 500; i++) {
      const bytes = Uint8Array.from({ length: 16 }, () => (rand() < 0.5 ? 0 : Math.floor(rand() * 256)));
      if (rand() < 0.2) bytes.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
      const full = Array.from({ length: 8 }, (_, k) => ((bytes[2 * k]! << 8) | bytes[2 * k + 1]!).toString(16).padStart(4, '0')).join(':');
      check(q, 0, [AAAA(addressText(bytes)), AAAA(full)], true);
    }
  });

  it('PTR answers (reverse zone)', () => {
    check(parsed('5.0.89.10.in-addr.arpa', 'PTR'), 0, [PTR('web.net1.tsnet')], true);
    check(parsed('5.0.89.10.IN-ADDR.ARPA', 'PTR'), 0, [PTR('Web.Net1.tsnet.')], true);
  });

  it('header-only replies: NODATA, NXDOMAIN, SERVFAIL, REFUSED, for any qtype', () => {
    for (const type of ['A', 'AAAA', 'PTR', 'MX', 'TXT', 'SRV', 'NS', 'SOA', 'CNAME', 'ANY']) {
      const q = parsed('db.example', type);
      for (const [rcode, aa] of [[0, true], [3, true], [2, false], [5, false]] as const) check(q, rcode, [], aa);
    }
  });

  it('echoes the question as written (upper and mixed case) and the id; RD copied, RA set', () => {
    for (const name of ['DB.EXAMPLE', 'MiXeD.CaSe.TeSt', 'web', 'a-b_c.x1', `${'a'.repeat(63)}.${'B'.repeat(63)}.${'c'.repeat(63)}.${'D'.repeat(61)}`]) {
      for (const rd of [true, false]) {
        const q = parsed(name, 'A', { id: 0xbeef, rd });
        expect(q.owner).toBe(name);
        expect(q.qname).toBe(name.toLowerCase());
        check(q, 0, [A('10.0.0.7')], true);
        check(q, 3, [], true);
      }
    }
  });

  it('queries with EDNS get the same reply (no OPT back, as on the general path); the size is read', () => {
    for (const edns of [512, 1232, 4096, 65535, 100]) {
      const q = parsed('db.example', 'AAAA', { edns });
      expect(q.udpSize).toBe(Math.max(512, Math.min(edns, 4096)));
      check(q, 0, [AAAA('::ffff:10.0.0.1'), AAAA('fd00::1')], true);
      check(q, 2, [], false);
    }
  });

  it('drops a %zone from an AAAA (it has no meaning on the wire)', () => {
    const reply = fastReply(parsed('ll.example', 'AAAA'), 0, [AAAA('fe80::1%eth0')], true)!;
    expect(dnsPacket.decode(reply).answers).toMatchObject([{ type: 'AAAA', data: 'fe80::1' }]);
  });

  it('gives up (undefined: the caller encodes with dns-packet) on data that is not an address', () => {
    expect(fastReply(parsed('x.example', 'A'), 0, [A('10.1')], true)).toBeUndefined();
    expect(fastReply(parsed('x.example', 'AAAA'), 0, [AAAA('fd00::g')], true)).toBeUndefined();
  });
});

describe('fastParse against dns-packet', () => {
  it('reads what dns-packet wrote', () => {
    const bytes = query('Db.Example', 'AAAA', { id: 4242, edns: 1232 });
    const q = fastParse(bytes)!;
    const p = dnsPacket.decode(bytes);
    expect({ id: q.id, flags: q.flags, owner: q.owner, qtype: q.qtype }).toEqual({ id: p.id, flags: p.flags, owner: p.questions![0]!.name, qtype: p.questions![0]!.type });
  });

  it('leaves other shapes to the general parser', () => {
    const two = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a', type: 'A' }, { name: 'b', type: 'A' }] });
    const chaos = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a', type: 'TXT', class: 'CH' }] });
    const dotted = Buffer.from(query('a.b', 'A'));
    dotted[13] = '.'.charCodeAt(0); // a label that holds a dot
    for (const b of [two, chaos, dotted, query('db.example', 'A').subarray(0, 20)]) expect(fastParse(b)).toBeUndefined();
  });
});

describe('headerReply (FORMERR, NOTIMP) against dns-packet', () => {
  it('is a bare header with QR, RD copied, RA and the rcode', () => {
    for (const [flags, rcode] of [[RD, 1], [0, 4], [RD | 0x0010, 1]] as const) {
      const want = dnsPacket.encode({ type: 'response', id: 77, flags: (flags & RD) | dnsPacket.RECURSION_AVAILABLE | rcode, questions: [] });
      expect(headerReply(77, flags, rcode).toString('hex')).toBe(want.toString('hex'));
    }
  });
});
