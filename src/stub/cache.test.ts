// The answer cache's TTL bounds: an upstream's TTL is believed only up to a cap (a day for answers,
// an hour for negative answers: unbound's cache-max-ttl and cache-max-negative-ttl defaults).
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { AnswerCache, cacheTtl } from './cache.js';

const DAY = 86_400;
const HOUR = 3_600;

const answer = (ttl: number) =>
  dnsPacket.encode({
    type: 'response', id: 1, flags: dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'A', name: 'db.example', class: 'IN' }],
    answers: [
      { type: 'A', name: 'db.example', ttl, data: '192.0.2.1' },
      { type: 'A', name: 'db.example', ttl: ttl + 10, data: '192.0.2.2' },
    ],
  });

const nxdomain = (soaTtl: number, minimum: number) =>
  dnsPacket.encode({
    type: 'response', id: 1, flags: dnsPacket.RECURSION_AVAILABLE | 3,
    questions: [{ type: 'A', name: 'nope.example', class: 'IN' }],
    authorities: [{
      type: 'SOA', name: 'example', ttl: soaTtl,
      data: { mname: 'ns.example', rname: 'host.example', serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
    }],
  });

const ttls = (bytes: Buffer) => {
  const p = dnsPacket.decode(bytes);
  return [...(p.answers ?? []), ...(p.authorities ?? [])].map((a) => (a as { ttl: number }).ttl);
};

describe('the answer cache never keeps an answer longer than its cap', () => {
  it('cacheTtl: a week-long TTL counts as a day; a negative answer as at most an hour', () => {
    expect(cacheTtl(answer(300))).toBe(300);
    expect(cacheTtl(answer(7 * DAY))).toBe(DAY);
    expect(cacheTtl(answer(2 ** 31 - 1))).toBe(DAY);
    expect(cacheTtl(nxdomain(600, 300))).toBe(300);
    expect(cacheTtl(nxdomain(2 * DAY, 2 * DAY))).toBe(HOUR);
  });

  it('a positive answer with a TTL of a week is gone after a day, and is served with TTLs counted down from the cap', () => {
    const cache = new AnswerCache(10);
    const t0 = 1_000_000;
    cache.put('db.example/A', answer(7 * DAY), t0);
    const young = cache.get('db.example/A', t0 + 10_000);
    expect(young).toBeDefined();
    expect(ttls(young!)).toEqual([DAY - 10, DAY - 10]); // never more than the cache will keep it
    expect(cache.get('db.example/A', t0 + (DAY - 1) * 1000)).toBeDefined();
    expect(cache.get('db.example/A', t0 + DAY * 1000 + 1)).toBeUndefined();
  });

  it('a negative answer with a huge SOA minimum is gone after an hour', () => {
    const cache = new AnswerCache(10);
    const t0 = 5_000;
    cache.put('nope.example/A', nxdomain(2 * DAY, 2 * DAY), t0);
    expect(cache.get('nope.example/A', t0 + (HOUR - 1) * 1000)).toBeDefined();
    expect(cache.get('nope.example/A', t0 + HOUR * 1000 + 1)).toBeUndefined();
  });

  it('short TTLs are kept as they are', () => {
    const cache = new AnswerCache(10);
    cache.put('db.example/A', answer(60), 0);
    expect(ttls(cache.get('db.example/A', 0)!)).toEqual([60, 70]);
    expect(ttls(cache.get('db.example/A', 30_000)!)).toEqual([30, 40]);
    expect(cache.get('db.example/A', 60_001)).toBeUndefined();
  });
});

describe('aging a cached reply in place (ttlOffsets), dns-packet as the oracle', () => {
  it('counts down every record of every section, leaves OPT alone, follows compression pointers', () => {
    const withOpt = dnsPacket.encode({
      type: 'response', id: 1, flags: dnsPacket.RECURSION_AVAILABLE,
      questions: [{ type: 'A', name: 'db.example', class: 'IN' }],
      answers: [{ type: 'CNAME', name: 'db.example', ttl: 300, data: 'real.example' }, { type: 'A', name: 'real.example', ttl: 200, data: '192.0.2.9' }],
      authorities: [{ type: 'NS', name: 'example', ttl: 900, data: 'ns.example' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, options: [] } as unknown as dnsPacket.Answer],
    });
    const cache = new AnswerCache(10);
    cache.put('k', withOpt, 0);
    const out = dnsPacket.decode(cache.get('k', 25_500)!);
    expect([...(out.answers ?? []), ...(out.authorities ?? [])].map((a) => (a as { ttl: number }).ttl)).toEqual([275, 175, 875]);
    expect((out.additionals?.[0] as { flags?: number }).flags).toBe(dnsPacket.DNSSEC_OK);
    // a compressed answer (owner = pointer to the question), as real servers send
    const q = dnsPacket.encode({ type: 'response', id: 2, flags: 0, questions: [{ type: 'A', name: 'c.example', class: 'IN' }] });
    const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    const compressed = Buffer.concat([q, rr]);
    compressed.writeUInt16BE(1, 6);
    cache.put('c', compressed, 0);
    expect(dnsPacket.decode(cache.get('c', 10_000)!).answers?.map((a) => (a as { ttl: number }).ttl)).toEqual([50]);
  });

  it('a reply whose records run past its end is not cached', () => {
    const broken = answer(60).subarray(0, answer(60).length - 3);
    const cache = new AnswerCache(10);
    cache.put('x', Buffer.from(broken), 0);
    expect(cache.get('x', 0)).toBeUndefined();
  });
});
