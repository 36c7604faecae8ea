// recvmmsg / sendmmsg over a native ring, against Node's own dgram
// sockets on loopback (the oracle: what the kernel delivered to an independent socket).
import * as dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MSG_TRUNC, MsgRing, recvMany, sendMany, udpBound, udpHasPending } from './mmsg.js';
import { closeFd, sockAddr } from './udp.js';

const LOOP = Uint8Array.from([127, 0, 0, 1]);
const open: Array<() => void> = [];
afterEach(() => {
  for (const f of open.splice(0)) f();
});

async function peer(): Promise<{ sock: dgram.Socket; port: number; got: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  await new Promise<void>((ok) => sock.bind(0, '127.0.0.1', () => ok()));
  open.push(() => sock.close());
  return { sock, port: sock.address().port, got };
}

function bound(): { fd: number; port: number } {
  // a random high port, another on a collision
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    try {
      const fd = udpBound(sockAddr(LOOP, port));
      open.push(() => closeFd(fd));
      return { fd, port };
    } catch {
      // in use: another port
    }
  }
}

const until = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('MsgRing', () => {
  it('recvmmsg takes every waiting datagram with its sender; one longer than a slot is flagged MSG_TRUNC', async () => {
    const { fd, port } = bound();
    const p = await peer();
    const ring = new MsgRing(8, 64);
    for (const text of ['one', 'two', 'x'.repeat(100)]) p.sock.send(Buffer.from(text), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
    expect(recvMany(fd, ring)).toBe(3);
    expect(ring.data(0, ring.length(0)).toString()).toBe('one');
    expect(ring.data(1, ring.length(1)).toString()).toBe('two');
    expect(ring.flags(2) & MSG_TRUNC).toBe(MSG_TRUNC);
    expect(ring.length(2)).toBe(64);
    const from = ring.name(0);
    expect(from.readUInt16LE(0)).toBe(2);
    expect(from.readUInt16BE(2)).toBe(p.port);
    expect([...from.subarray(4, 8)]).toEqual([127, 0, 0, 1]);
    expect(recvMany(fd, ring)).toBe(0); // nothing left: EAGAIN is 0, not an error
  });

  it('sendmmsg sends a run of slots to their own destinations, also from a slot past the first', async () => {
    const { fd } = bound();
    const a = await peer();
    const b = await peer();
    const ring = new MsgRing(4, 64);
    ring.put(0, Buffer.from('zero'), sockAddr(LOOP, a.port));
    ring.put(1, Buffer.from('one'), sockAddr(LOOP, b.port));
    ring.put(2, Buffer.from('two'), sockAddr(LOOP, a.port));
    expect(sendMany(fd, ring, 1, 3)).toBe(2);
    await until(() => a.got.length + b.got.length === 2);
    expect(b.got.map(String)).toEqual(['one']);
    expect(a.got.map(String)).toEqual(['two']);
  });

  it('udpHasPending sees a datagram nobody has read, and nothing once it is read', async () => {
    const { fd, port } = bound();
    const p = await peer();
    expect(udpHasPending(fd)).toBe(false);
    p.sock.send(Buffer.from('late'), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 30));
    expect(udpHasPending(fd)).toBe(true);
    expect(recvMany(fd, new MsgRing(2, 16))).toBe(1);
    expect(udpHasPending(fd)).toBe(false);
  });
});
