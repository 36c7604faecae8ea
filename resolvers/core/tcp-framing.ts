// DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message behind a 2-byte big-endian
// length. Pure: the sockets stay with the callers (the real driver, the stub, fake-dns), which
// also decide what a bad frame costs the connection.

/** The largest message a 2-byte length can carry. */
export const MAX_FRAMED = 65535;

/** The message behind its length. A message over 65535 bytes cannot be framed: RangeError. */
export function frame(msg: Uint8Array): Buffer {
  if (msg.length > MAX_FRAMED) throw new RangeError(`a DNS message over TCP has at most ${MAX_FRAMED} bytes, this one ${msg.length}`);
  const out = Buffer.allocUnsafe(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  out.set(msg, 2);
  return out;
}

export type Deframed =
  | { kind: 'message'; bytes: Buffer }
  /** a frame whose length is outside the limits, reported as soon as the length is read */
  | { kind: 'bad-frame'; reason: 'short' | 'oversize'; length: number };

export interface FrameLimits {
  /** a shorter frame is bad (the stub: 12, a DNS header); default 0: an empty frame is a message */
  minLength?: number;
  /** a longer frame is bad; default 65535 (none is) */
  maxLength?: number;
}

/**
 * Reassembles messages from the chunks of a stream, whatever their boundaries. It holds at most one
 * incomplete frame (2 + maxLength bytes), and the messages it returns are copies, not views of the
 * chunks. After a bad frame the stream has lost its framing: the decoder drops what it holds and
 * returns nothing more.
 */
export class FrameDecoder {
  private held: Buffer = Buffer.alloc(0);
  private broken = false;
  private readonly min: number;
  private readonly max: number;

  constructor(limits: FrameLimits = {}) {
    this.min = limits.minLength ?? 0;
    this.max = Math.min(limits.maxLength ?? MAX_FRAMED, MAX_FRAMED);
  }

  /** The complete messages this chunk finishes, in order; a bad frame comes last. */
  push(chunk: Uint8Array): Deframed[] {
    if (this.broken) return [];
    const buf = this.held.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.held, chunk]);
    const out: Deframed[] = [];
    let off = 0;
    while (buf.length - off >= 2) {
      const length = buf.readUInt16BE(off);
      if (length < this.min || length > this.max) {
        this.broken = true;
        this.held = Buffer.alloc(0);
        out.push({ kind: 'bad-frame', reason: length < this.min ? 'short' : 'oversize', length });
        return out;
      }
      if (buf.length - off < 2 + length) break;
      out.push({ kind: 'message', bytes: Buffer.from(buf.subarray(off + 2, off + 2 + length)) });
      off += 2 + length;
    }
    this.held = Buffer.from(buf.subarray(off));
    return out;
  }

  /** bytes held for a frame not complete yet */
  get pending(): number {
    return this.held.length;
  }
}
