// BatchedUdp on loopback against Node's own dgram clients (the oracle: what each client socket
// received): a burst is answered, each reply to its own sender, synchronous and later replies
// alike; and the listening port cannot be bound a second time.
import * as dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchedUdp } from './udp-batch.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function client(): Promise<{ sock: dgram.Socket; got: string[] }> {
  const sock = dgram.createSocket('udp4');
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((ok) => sock.bind(0, '127.0.0.1', () => ok()));
  cleanup.push(() => sock.close());
  return { sock, got };
}

async function server(handler: Parameters<BatchedUdp["open"]>[2]) {
  const counters = { sendErrors: 0, oversized: 0 };
  const b = new BatchedUdp(counters);
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    try {
      const fd = await b.open('127.0.0.1', port, handler);
      cleanup.push(() => b.close(fd));
      return { port, counters };
    } catch {
      // in use: another port
    }
  }
}

const until = async (f: () => boolean) => {
  for (let i = 0; i < 400 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('BatchedUdp', () => {
  it('answers a burst from many senders, each reply to its sender, now or later', async () => {
    const { port, counters } = await server((msg, address, port) => {
      const text = `${msg.toString()} from ${address}:${port}`;
      return msg.toString().startsWith('late') ? new Promise((ok) => setTimeout(() => ok(Buffer.from(text)), 5)) : Buffer.from(text);
    });
    const clients = await Promise.all(Array.from({ length: 5 }, () => client()));
    for (let round = 0; round < 40; round++) {
      clients.forEach((c, i) => c.sock.send(Buffer.from(`${round % 4 === 0 ? 'late' : 'q'}${round}-${i}`), port, '127.0.0.1'));
    }
    await until(() => clients.every((c) => c.got.length === 40));
    clients.forEach((c, i) => {
      const me = `127.0.0.1:${c.sock.address().port}`;
      expect(c.got.length).toBe(40);
      expect(c.got.every((g) => g.endsWith(` from ${me}`) && g.includes(`-${i} `))).toBe(true);
    });
    expect(counters.sendErrors).toBe(0);
  });

  it('no reply for undefined, a handler that throws is counted, the socket keeps serving', async () => {
    const { port, counters } = await server((msg) => {
      if (msg.toString() === 'boom') throw new Error('boom');
      return msg.toString() === 'quiet' ? undefined : Buffer.from('ok');
    });
    const c = await client();
    for (const m of ['quiet', 'boom', 'hello']) c.sock.send(Buffer.from(m), port, '127.0.0.1');
    await until(() => c.got.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.got).toEqual(['ok']);
    expect(counters.sendErrors).toBe(1);
  });

  it('its port cannot be bound again, even by a socket asking for SO_REUSEADDR', async () => {
    const { port } = await server(() => undefined);
    const other = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const err = await new Promise<NodeJS.ErrnoException | undefined>((ok) => {
      other.once('error', (e) => ok(e));
      other.bind(port, '127.0.0.1', () => ok(undefined));
    });
    other.close();
    expect(err?.code).toBe('EADDRINUSE');
  });
});
