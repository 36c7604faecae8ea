// The upstream socket pool on loopback: a socket is reused only after a clean exchange, never
// after a failure, a stray datagram or its last use, and idle ones are closed. The oracle is the
// kernel: the source port an independent dgram server sees, and getsockname through it.
import * as dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamSockets } from './upstream-sockets.js';
import { sockAddr, udpSend } from '../../native/index.js';

const LOOP = Uint8Array.from([127, 0, 0, 1]);
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** An upstream on loopback that echoes every datagram; the source ports it saw. */
async function echo(): Promise<{ port: number; ports: number[]; server: dgram.Socket }> {
  const server = dgram.createSocket('udp4');
  const ports: number[] = [];
  server.on('message', (m, r) => {
    ports.push(r.port);
    server.send(m, r.port, r.address);
  });
  await new Promise<void>((ok) => server.bind(0, '127.0.0.1', () => ok()));
  cleanup.push(() => server.close());
  return { port: server.address().port, ports, server };
}

function pool(limits = { maxUses: 3, idleMs: 200 }): UpstreamSockets {
  const p = new UpstreamSockets(undefined, limits);
  cleanup.push(() => p.close());
  return p;
}

/** One exchange on a lent socket: send, wait for the echo, give it back as `clean`. */
async function exchange(pl: UpstreamSockets, port: number, clean = true): Promise<number> {
  const s = pl.take({ connect: sockAddr(LOOP, port), family: 'udp4', dualStack: false })!;
  const got = new Promise<void>((ok) => s.attach(() => ok(), () => ok()));
  expect(udpSend(s.fd, Buffer.from('q'))).toBe(0); // on the descriptor, as the real driver sends
  await got;
  s.giveBack(clean);
  return s.fd;
}

describe('UpstreamSockets', () => {
  it('reuses a socket after clean exchanges, up to maxUses, then a new one (a new port)', async () => {
    const up = await echo();
    const pl = pool();
    for (let i = 0; i < 4; i++) await exchange(pl, up.port);
    expect(pl.counts).toEqual({ made: 2, reused: 2 });
    expect(new Set(up.ports.slice(0, 3)).size).toBe(1);
    expect(up.ports[3]).not.toBe(up.ports[0]);
  });

  it('never reuses a socket after an exchange that was not clean', async () => {
    const up = await echo();
    const pl = pool();
    await exchange(pl, up.port, false);
    await exchange(pl, up.port);
    expect(pl.counts).toEqual({ made: 2, reused: 0 });
    expect(up.ports[0]).not.toBe(up.ports[1]);
  });

  it('closes a socket that hears anything while idle (a late reply)', async () => {
    const up = await echo();
    const pl = pool();
    await exchange(pl, up.port);
    // a second copy of the last reply, arriving after the exchange ended
    up.server.send(Buffer.from('late'), up.ports[0]!, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 50));
    await exchange(pl, up.port);
    expect(pl.counts).toEqual({ made: 2, reused: 0 });
  });

  it('closes idle sockets after idleMs', async () => {
    const up = await echo();
    const pl = pool({ maxUses: 32, idleMs: 100 });
    await exchange(pl, up.port);
    await new Promise((r) => setTimeout(r, 250));
    await exchange(pl, up.port);
    expect(pl.counts).toEqual({ made: 2, reused: 0 });
  });

  it('lends no unconnected socket (musl\'s kind hears anyone: made per lookup, not pooled)', () => {
    const pl = pool();
    expect(pl.take({ connect: undefined, family: 'udp6', dualStack: true })).toBeUndefined();
  });

  it('keeps sockets apart by destination', async () => {
    const a = await echo();
    const b = await echo();
    const pl = pool();
    await exchange(pl, a.port);
    await exchange(pl, b.port);
    await exchange(pl, a.port);
    expect(pl.counts).toEqual({ made: 2, reused: 1 });
    expect(a.ports[0]).toBe(a.ports[1]);
  });
});
