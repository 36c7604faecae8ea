// The stub's TCP limits, on loopback with small limits: a StubServer in this process whose
// slow-N.example / big-N.example names are answered by a test subclass (late, or with a 60 KB
// reply); everything else is the server's own pipeline (local names). Packets go to 127.0.0.1 only.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { randomInt } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS, StubServer, type Limits } from './server.js';
import * as answer from './answer.js';
import type { StubView } from './view.js';
import { stubUpstreamConf } from '../files/stub-resolv.js';
import { FrameDecoder, frame } from '../../resolvers/core/tcp-framing.js';

const ADDR = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function query(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  return Buffer.concat([h, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

const view = (): StubView => {
  const client = {
    name: 'c', network: 'n', address: ADDR, mode: 'glibc' as const, upstreams: ['127.250.1.1'],
    upstreamConf: 'nameserver 127.250.1.1\n', addHosts: [], cacheSize: 0,
  };
  return {
    networks: new Map([['n', { name: 'n', gateway: ADDR, subnet: '10.0.0.0/24', containers: new Map([['peer', '10.0.0.7']]), byAddress: new Map() }]]),
    clients: new Map([[ADDR, client]]),
  };
};

/** A stub whose slow-MS.example queries are answered MS ms late and big-N.example ones with 60 KB. */
class TestStub extends StubServer {
  concurrent = 0;
  maxConcurrent = 0;
  handled = 0;

  override handle(bytes: Buffer, clientAddr: string, transport: 'udp' | 'tcp') {
    const name = bytes.subarray(13, 13 + bytes[12]!).toString();
    const slow = /^slow-(\d+)$/.exec(name);
    if (slow) {
      this.concurrent++;
      this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
      return sleep(Number(slow[1])).then(() => {
        this.concurrent--;
        return Buffer.from(bytes);
      });
    }
    if (name.startsWith('big-')) {
      this.handled++;
      const out = Buffer.alloc(60_000);
      bytes.copy(out, 0, 0, 2);
      return out;
    }
    return super.handle(bytes, clientAddr, transport);
  }
}

/** The server's TCP counters. */
const tcp = (s: StubServer) => (s.stats as unknown as { tcp: Record<string, number> }).tcp;

const servers: StubServer[] = [];
const clients: net.Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) await s.close();
});

async function start(limits: Partial<Record<string, number>>): Promise<{ stub: TestStub; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + randomInt(40_000);
    const stub = new TestStub(() => {}, { ...DEFAULT_LIMITS, ...limits } as unknown as Limits, port);
    stub.setView(view());
    try {
      await stub.listen(ADDR);
      servers.push(stub);
      return { stub, port };
    } catch (err) {
      if (attempt > 20) throw err;
    }
  }
}

interface Client {
  sock: net.Socket;
  replies: Buffer[];
  closedAt: number | undefined;
  openedAt: number;
}

function connect(port: number): Promise<Client> {
  return new Promise((ok, fail) => {
    const sock = net.connect({ host: ADDR, port });
    clients.push(sock);
    const c: Client = { sock, replies: [], closedAt: undefined, openedAt: performance.now() };
    const frames = new FrameDecoder();
    sock.on('data', (d) => {
      for (const f of frames.push(d)) if (f.kind === 'message') c.replies.push(f.bytes);
    });
    sock.on('error', () => {});
    sock.on('close', () => (c.closedAt = performance.now()));
    sock.once('connect', () => ok(c));
    sock.once('error', fail);
  });
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await sleep(10);
  return cond();
}

describe('the stub over TCP: every connection ends, and none can hold more than its share', () => {
  it('the idle timer keeps working after it fired while a query was pending', async () => {
    const { port } = await start({ tcpIdleMs: 300 });
    const c = await connect(port);
    c.sock.write(frame(query(1, 'slow-800.example')));
    expect(await until(() => c.replies.length === 1, 5000)).toBe(true);
    const answered = performance.now();
    // Silent from now on: closed about 300 ms after the reply.
    expect(await until(() => c.closedAt !== undefined, 3000), 'an idle connection after a late reply stays open').toBe(true);
    expect(c.closedAt! - answered).toBeGreaterThanOrEqual(250);
  });

  it('a client dripping one byte at a time is closed after the idle timeout: bytes that make no query are not activity', async () => {
    const { stub, port } = await start({ tcpIdleMs: 400 });
    const c = await connect(port);
    const drip = setInterval(() => !c.sock.destroyed && c.sock.write(Buffer.from([0])), 100);
    try {
      c.sock.write(Buffer.from([1])); // a frame of 256+ bytes begins, one byte every 100 ms
      expect(await until(() => c.closedAt !== undefined, 3000), 'the dripping client is never closed').toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(c.closedAt! - c.openedAt).toBeGreaterThanOrEqual(350);
    expect(tcp(stub).closedIdle).toBe(1);
  });

  it('a busy connection ends at its absolute lifetime', async () => {
    const { stub, port } = await start({ tcpIdleMs: 1000, tcpLifetimeMs: 1500 });
    const c = await connect(port);
    let id = 0;
    const busy = setInterval(() => !c.sock.destroyed && c.sock.write(frame(query(++id, 'peer'))), 150);
    try {
      expect(await until(() => c.closedAt !== undefined, 5000), 'a busy connection lives for ever').toBe(true);
    } finally {
      clearInterval(busy);
    }
    expect(c.closedAt! - c.openedAt).toBeGreaterThanOrEqual(1400);
    expect(c.replies.length).toBeGreaterThan(3); // it was answered all along
    expect(tcp(stub).closedLifetime).toBe(1);
  });

  it('pipelining is bounded: at most tcpPipeline queries of a connection are answered at once, the rest wait (all are answered)', async () => {
    const { stub, port } = await start({ tcpPipeline: 4 });
    const c = await connect(port);
    c.sock.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => frame(query(100 + i, 'slow-200.example')))));
    expect(await until(() => c.replies.length === 20, 10_000)).toBe(true);
    expect(c.replies.map((r) => r.readUInt16BE(0)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(stub.maxConcurrent).toBe(4);
  });

  it('a client that never reads: the stub stops reading its queries once replies back up, and closes it', async () => {
    const { stub, port } = await start({ tcpIdleMs: 500, tcpOutputBytes: 256 * 1024 });
    const c = await connect(port);
    c.sock.pause(); // never reads: 1000 replies of 60 KB would be 60 MB
    c.sock.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(query(i, `big-${i}.example`)))));
    // (A paused client sees the close only once it reads what came before it: ask the server.)
    expect(await until(() => tcp(stub)?.closedOutput === 1, 8000), 'a client that never reads is never closed').toBe(true);
    // What the kernel's socket buffers took, and no more: not the 1000 replies.
    expect(stub.handled).toBeLessThan(500);
    c.sock.resume();
    expect(await until(() => c.closedAt !== undefined, 5000)).toBe(true);
  });

  it('a connection answers at most tcpMaxQueries queries, then ends after its replies (a client with more opens another)', async () => {
    const { port } = await start({ tcpMaxQueries: 300 });
    const c = await connect(port);
    c.sock.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(query(i, 'peer')))));
    expect(await until(() => c.closedAt !== undefined, 5000), 'the connection answers for ever').toBe(true);
    expect(c.replies.length).toBe(300);
    expect(c.replies.map((r) => r.readUInt16BE(0))).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('a client that never reads makes the stub answer (and log) at most tcpMaxQueries queries per connection', async () => {
    let logged = 0;
    const port = 20_000 + randomInt(40_000);
    const stub = new StubServer(() => logged++, { ...DEFAULT_LIMITS, tcpMaxQueries: 300 } as unknown as Limits, port);
    stub.setView(view());
    await stub.listen(ADDR);
    servers.push(stub);
    const c = await connect(port);
    c.sock.pause();
    const chunk = Buffer.concat(Array.from({ length: 4096 }, (_, i) => frame(query(i, 'peer'))));
    let written = 0;
    const pump = () => {
      while (!c.sock.destroyed && written < 200 && c.sock.write(chunk)) written++;
      if (!c.sock.destroyed && written < 200) c.sock.once('drain', pump);
      else written++;
    };
    pump();
    await sleep(1500);
    // 200 x 4096 queries offered; the kernel's buffers alone would take tens of thousands of replies.
    expect(logged).toBe(300);
    expect(stub.stats.queries).toBe(300);
  });

  it('a global connection cap: a new client takes the slot of the connection idle longest; with every slot busy it is refused', async () => {
    const { stub, port } = await start({ tcpTotal: 4, tcpPerClient: 8 });
    const stalled: Client[] = [];
    for (let i = 0; i < 4; i++) {
      stalled.push(await connect(port));
      await sleep(20);
    }
    const fresh = await connect(port);
    fresh.sock.write(frame(query(7, 'peer')));
    expect(await until(() => fresh.replies.length === 1, 3000)).toBe(true);
    expect(await until(() => stalled[0]!.closedAt !== undefined, 3000), 'the oldest idle connection is not evicted').toBe(true);
    expect(stalled.slice(1).every((s) => s.closedAt === undefined)).toBe(true);
    expect(tcp(stub).evicted).toBe(1);
    expect(tcp(stub).peak).toBe(4);

    // Every slot waiting on an answer: nothing to evict, the newcomer is closed at once.
    for (const [i, s] of [...stalled.slice(1), fresh].entries()) s.sock.write(frame(query(200 + i, 'slow-1500.example')));
    await until(() => stub.concurrent === 4, 2000);
    const refused = await connect(port);
    expect(await until(() => refused.closedAt !== undefined, 3000)).toBe(true);
    expect(refused.replies).toEqual([]);
    expect(tcp(stub).refused).toBeGreaterThanOrEqual(1);
    expect(tcp(stub).peak).toBe(4);
  });

  it('a client whose own idle connection is evicted for its new one keeps its count right (no creeping lock-out)', async () => {
    const { stub, port } = await start({ tcpTotal: 2, tcpPerClient: 8 });
    const open: Client[] = [await connect(port), await connect(port)];
    // Every new connection evicts the client's own oldest; 20 rounds would pass the per-client cap
    // of 8 many times over if an eviction were not taken off the count.
    for (let i = 0; i < 20; i++) {
      await sleep(5);
      open.push(await connect(port));
      expect(await until(() => open.filter((c) => c.closedAt === undefined).length === 2, 3000), `round ${i}`).toBe(true);
    }
    const last = open.at(-1)!;
    last.sock.write(frame(query(21, 'peer')));
    expect(await until(() => last.replies.length === 1, 3000)).toBe(true);
    expect(tcp(stub).evicted).toBe(20);
    expect(tcp(stub).refusedPerClient).toBe(0);
  });

  it('unlisten (a reload dropping a network) closes the listener\'s client connections instead of waiting for them', async () => {
    const { stub, port } = await start({ tcpIdleMs: 60_000 });
    const c = await connect(port);
    const d = await connect(port);
    d.sock.write(frame(query(9, 'slow-3000.example')));
    await sleep(100);
    const t0 = performance.now();
    const done = await Promise.race([stub.unlisten(ADDR).then(() => true), sleep(3000).then(() => false)]);
    expect(done, 'unlisten waits for lingering clients').toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await until(() => c.closedAt !== undefined && d.closedAt !== undefined, 1000)).toBe(true);
    expect(stub.addresses()).toEqual([]);
  });
});

describe('upstream queries', () => {
  it('take their ids (and the forwarder its rotate start) from a cryptographic source, not Math.random', async () => {
    // Two loopback addresses nothing listens on: the kernel refuses at once (ICMP), SERVFAIL.
    const base = `127.250.${randomInt(256)}`;
    const upstreams = [`${base}.1`, `${base}.2`];
    const stub = new StubServer(() => {});
    const v = view();
    v.clients.set(ADDR, { ...v.clients.get(ADDR)!, upstreams, upstreamConf: stubUpstreamConf(upstreams, ['rotate', 'timeout:1', 'attempts:1']) });
    stub.setView(v);
    const spy = vi.spyOn(Math, 'random');
    try {
      const out = await stub.handle(query(77, 'db.example'), ADDR, 'udp');
      expect(out!.readUInt16BE(0)).toBe(77);
      expect(out![3]! & 0xf).toBe(2); // SERVFAIL
      expect(stub.stats.forwarded).toBe(1);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('an allow list (tsnet stub serve)', () => {
  /** One UDP query from `from`; the reply's id, or undefined after 500 ms. */
  const udpQuery = (port: number, from: string, id: number) =>
    new Promise<number | undefined>((done) => {
      const sock = dgram.createSocket('udp4');
      const timer = setTimeout(() => {
        sock.close();
        done(undefined);
      }, 500);
      sock.on('message', (m) => {
        clearTimeout(timer);
        sock.close();
        done(m.readUInt16BE(0));
      });
      sock.bind(0, from, () => sock.send(query(id, 'peer'), port, ADDR));
    });

  it('clients outside it get no answer (UDP dropped, TCP closed); clients inside are served', async () => {
    const { stub, port } = await start({});
    const { allowList } = answer as unknown as { allowList: (c: string[]) => (a: string) => boolean };
    (stub as unknown as { setAllow(f: (a: string) => boolean): void }).setAllow(allowList(['127.0.0.1/32']));
    expect(await udpQuery(port, '127.0.0.1', 11)).toBe(11);
    expect(await udpQuery(port, '127.0.0.2', 12)).toBe(undefined);
    const outside = await new Promise<Client>((ok) => {
      const sock = net.connect({ host: ADDR, port, localAddress: '127.0.0.2' });
      clients.push(sock);
      const c: Client = { sock, replies: [], closedAt: undefined, openedAt: performance.now() };
      sock.on('error', () => {});
      sock.on('data', (d) => c.replies.push(d));
      sock.on('close', () => (c.closedAt = performance.now()));
      sock.once('connect', () => {
        sock.write(frame(query(13, 'peer')));
        ok(c);
      });
    });
    expect(await until(() => outside.closedAt !== undefined, 3000)).toBe(true);
    expect(outside.replies).toEqual([]);
    const inside = await connect(port);
    inside.sock.write(frame(query(14, 'peer')));
    expect(await until(() => inside.replies.length === 1, 3000)).toBe(true);
    expect((stub.stats as unknown as { denied: number }).denied).toBe(2);
  });
});
