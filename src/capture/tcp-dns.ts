// PURE: DNS messages out of captured TCP segments. Each direction of each connection is its own
// byte stream (RFC 7766 framing, read by the shared FrameDecoder); segments are placed by their
// sequence numbers, so retransmissions are ignored and a segment that arrives early waits for the
// gap to fill. Memory is bounded: at most `maxFlows` streams (the least recently active goes) and
// `maxEarly` early segments per stream.
import { FrameDecoder } from '../../resolvers/core/tcp-framing.js';

export interface TcpSegment {
  /** names the stream: source, destination and direction of capture */
  flow: string;
  seq: number;
  syn: boolean;
  fin: boolean;
  rst: boolean;
  payload: Buffer;
}

interface Stream {
  next: number | undefined;
  frames: FrameDecoder;
  early: Map<number, Buffer>;
}

const mod32 = (n: number) => n >>> 0;
/** a − b in sequence space (RFC 1982 style), so wrap-around is handled */
const seqDiff = (a: number, b: number) => (mod32(a - b) | 0);

export class TcpDnsReassembler {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly maxFlows = 4096,
    private readonly maxEarly = 64,
  ) {}

  /** The DNS messages this segment completes, in order. */
  push(seg: TcpSegment): Buffer[] {
    if (seg.rst) {
      this.streams.delete(seg.flow);
      return [];
    }
    let s = this.streams.get(seg.flow);
    if (s) this.streams.delete(seg.flow); // re-inserted last: the map's order is recency
    else s = { next: undefined, frames: new FrameDecoder(), early: new Map() };
    this.streams.set(seg.flow, s);
    if (this.streams.size > this.maxFlows) this.streams.delete(this.streams.keys().next().value!);

    let seq = seg.seq;
    if (seg.syn) seq = mod32(seq + 1); // the SYN takes one sequence number
    s.next ??= seq; // a stream seen from its middle starts where it is first seen
    const out: Buffer[] = [];
    this.place(s, seq, seg.payload, out);
    if (seg.fin && s.early.size === 0) this.streams.delete(seg.flow);
    return out;
  }

  private place(s: Stream, seq: number, payload: Buffer, out: Buffer[]): void {
    if (payload.length === 0) return;
    const d = seqDiff(seq, s.next!);
    if (d > 0) {
      if (s.early.size < this.maxEarly) s.early.set(seq, payload);
      return;
    }
    const fresh = payload.subarray(Math.min(-d, payload.length)); // a retransmission overlaps
    if (fresh.length === 0) return;
    s.next = mod32(s.next! + fresh.length);
    for (const f of s.frames.push(fresh)) if (f.kind === 'message') out.push(f.bytes);
    const waiting = s.early.get(s.next);
    if (waiting) {
      s.early.delete(s.next);
      this.place(s, s.next, waiting, out);
    }
  }
}
