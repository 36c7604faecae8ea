import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { seededRandom } from './sim.js';
import { FrameDecoder, frame, MAX_FRAMED, type Deframed } from './tcp-framing.js';

const msg = (n: number, fill = n & 0xff) => Buffer.alloc(n, fill);
const hex = (ds: Deframed[]) => ds.map((d) => (d.kind === 'message' ? d.bytes.toString('hex') : `${d.reason}:${d.length}`));

describe('frame', () => {
  it('puts a 2-byte big-endian length in front, as dns-packet streamEncode does', () => {
    const q = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'db.example', type: 'A' }] });
    expect(frame(q).toString('hex')).toBe(dnsPacket.streamEncode({ type: 'query', id: 7, questions: [{ name: 'db.example', type: 'A' }] }).toString('hex'));
    expect([...frame(new Uint8Array(0))]).toEqual([0, 0]);
    expect(frame(msg(300)).subarray(0, 2).toString('hex')).toBe('012c');
    expect(frame(msg(MAX_FRAMED)).length).toBe(2 + MAX_FRAMED);
  });

  it('refuses a message that does not fit a 2-byte length', () => {
    expect(() => frame(msg(MAX_FRAMED + 1))).toThrow(RangeError);
  });
});

describe('FrameDecoder', () => {
  const messages = [msg(12), msg(1), msg(300, 0xab), msg(12, 0), msg(513)];
  const stream = Buffer.concat(messages.map(frame));
  const want = messages.map((m) => m.toString('hex'));

  it('gives the same messages however the stream is cut: every split point, and byte by byte', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      expect(hex([...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))]), `cut at ${cut}`).toEqual(want);
      expect(d.pending).toBe(0);
    }
    const d = new FrameDecoder();
    const got: Deframed[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
    expect(hex(got)).toEqual(want);
  });

  it('gives the same messages for random cuts into many chunks (two cut points at every pair of positions too)', () => {
    const rand = seededRandom(31);
    for (let run = 0; run < 300; run++) {
      const d = new FrameDecoder();
      const got: Deframed[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = 1 + Math.floor(rand() * 40);
        got.push(...d.push(stream.subarray(at, at + n)));
        at += n;
      }
      expect(hex(got)).toEqual(want);
    }
    const small = Buffer.concat([msg(3), msg(0), msg(2)].map(frame));
    for (let i = 0; i <= small.length; i++) {
      for (let j = i; j <= small.length; j++) {
        const d = new FrameDecoder();
        const got = [small.subarray(0, i), small.subarray(i, j), small.subarray(j)].flatMap((c) => d.push(c));
        expect(hex(got), `${i}/${j}`).toEqual(['030303', '', '0202']);
      }
    }
  });

  it('returns several messages from one chunk, in order, and holds the incomplete rest', () => {
    const d = new FrameDecoder();
    const partial = frame(msg(10));
    expect(hex(d.push(Buffer.concat([frame(msg(1)), frame(msg(2)), partial.subarray(0, 5)])))).toEqual(['01', '0202']);
    expect(d.pending).toBe(5);
    expect(hex(d.push(partial.subarray(5)))).toEqual([msg(10).toString('hex')]);
    expect(d.pending).toBe(0);
  });

  it('a zero-length frame is an empty message by default (the caller decides), or short with a minimum', () => {
    expect(hex(new FrameDecoder().push(Buffer.from([0, 0, 0, 1, 9])))).toEqual(['', '09']);
    const d = new FrameDecoder({ minLength: 12 });
    expect(hex(d.push(Buffer.concat([frame(msg(12)), Buffer.from([0, 0]), frame(msg(12))])))).toEqual([msg(12).toString('hex'), 'short:0']);
  });

  it('reports a frame outside the limits as soon as its length is read, then holds and returns nothing', () => {
    const d = new FrameDecoder({ minLength: 12, maxLength: 512 });
    expect(hex(d.push(Buffer.from([0x02, 0x01])))).toEqual(['oversize:513']);
    expect(d.pending).toBe(0);
    expect(d.push(frame(msg(20)))).toEqual([]);
    expect(d.pending).toBe(0);
    expect(hex(new FrameDecoder({ minLength: 12 }).push(Buffer.from([0, 11])))).toEqual(['short:11']);
  });

  it('holds at most one incomplete frame: a 65535-byte one arriving in pieces', () => {
    const d = new FrameDecoder();
    const big = frame(msg(MAX_FRAMED, 0x5a));
    for (let at = 0; at < big.length - 1000; at += 1000) {
      expect(d.push(big.subarray(at, at + 1000))).toEqual([]);
      expect(d.pending).toBeLessThanOrEqual(2 + MAX_FRAMED);
    }
    const [m] = d.push(big.subarray(big.length - (big.length % 1000 || 1000)));
    expect(m?.kind === 'message' && m.bytes.length).toBe(MAX_FRAMED);
  });

  it('returns copies: changing the chunk afterwards changes no message', () => {
    const chunk = frame(msg(4, 1));
    const [m] = new FrameDecoder().push(chunk);
    chunk.fill(9);
    expect(m?.kind === 'message' && m.bytes.toString('hex')).toBe('01010101');
  });
});
