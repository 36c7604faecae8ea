// Real UDP and TCP queries against fake-dns on loopback (127.0.0.x, ::1, kernel-picked ports): no
// privileges needed, and no packet leaves the machine.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addZoneEntry, parseBehaviour, type Zone } from '../../resolvers/core/responder.js';
import { isTsnetError } from '../errors.js';
import { buildZone, parseListen } from '../cli/fake-dns.js';
import { startFakeDns, type FakeDns, type FakeDnsLogLine } from './server.js';

type QType = 'A' | 'AAAA' | 'CNAME' | 'TXT';

function zone(): Zone {
  const z: Zone = new Map();
  for (const e of [
    'db.example=A:10.0.0.5',
    'db.example=A:10.0.0.6',
    'db.example=AAAA:fd00::5',
    'www.example=CNAME:alias.example',
    'alias.example=CNAME:db.example',
    'txt.example=TXT:hello',
    'corp.example=A:10.9.9.9',
    'host.corp.example=A:10.9.9.10',
  ]) addZoneEntry(z, e);
  return z;
}

const query = (name: string, type: QType, id = 4711) =>
  dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });

/** One UDP query from a fresh socket; undefined when nothing comes back within timeoutMs. */
function udp(
  target: { host: string; port: number },
  name: string,
  type: QType,
  timeoutMs = 1000,
): Promise<{ reply: dnsPacket.DecodedPacket | undefined; ms: number; clientPort: number }> {
  const sock = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
  return new Promise((done, fail) => {
    const start = performance.now();
    const finish = (reply: dnsPacket.DecodedPacket | undefined) => {
      const clientPort = sock.address().port;
      clearTimeout(timer);
      sock.close();
      done({ reply, ms: performance.now() - start, clientPort });
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    sock.on('error', fail);
    sock.on('message', (msg) => finish(dnsPacket.decode(msg)));
    sock.send(query(name, type), target.port, target.host);
  });
}

const frame = (bytes: Buffer) => Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);

/** A TCP client that collects length-framed replies and notices when the server closes. */
class TcpClient {
  readonly sock: Socket;
  readonly replies: dnsPacket.DecodedPacket[] = [];
  readonly closed: Promise<void>;
  private buf: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  constructor(target: { host: string; port: number }) {
    this.sock = connect({ host: target.host, port: target.port });
    this.sock.on('error', () => undefined);
    this.closed = new Promise((done) => this.sock.on('close', () => done()));
    this.sock.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        const len = this.buf.readUInt16BE(0);
        this.replies.push(dnsPacket.decode(this.buf.subarray(2, 2 + len)));
        this.buf = this.buf.subarray(2 + len);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  connected(): Promise<void> {
    return new Promise((done) => (this.sock.connecting ? this.sock.once('connect', () => done()) : done()));
  }

  send(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  async waitFor(n: number, timeoutMs = 2000): Promise<dnsPacket.DecodedPacket[]> {
    const until = Date.now() + timeoutMs;
    while (this.replies.length < n && Date.now() < until) {
      await new Promise<void>((done) => {
        this.waiters.push(done);
        setTimeout(done, 20);
      });
    }
    return this.replies;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

async function tcp(target: { host: string; port: number }, name: string, type: QType): Promise<dnsPacket.DecodedPacket | undefined> {
  const c = new TcpClient(target);
  try {
    c.send(frame(query(name, type)));
    return (await c.waitFor(1))[0];
  } finally {
    c.destroy();
  }
}

const rcode = (p: dnsPacket.DecodedPacket | undefined) => (p as { rcode?: string } | undefined)?.rcode;
const data = (p: dnsPacket.DecodedPacket | undefined) =>
  (p?.answers ?? []).map((a) => `${a.type} ${String((a as { data?: unknown }).data)}`);
const truncated = (p: dnsPacket.DecodedPacket | undefined) => ((p?.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0;

/** Starts one server on 127.0.0.1 (kernel-picked port) per behaviour; logs collected. */
class Harness {
  readonly log: FakeDnsLogLine[] = [];
  private servers: FakeDns[] = [];

  async start(behaviour: string, opts: { address?: string; tcpIdleMs?: number } = {}): Promise<{ host: string; port: number }> {
    const host = opts.address ?? '127.0.0.1';
    const server = await startFakeDns({
      listeners: [{ address: host, port: 0, behaviour: parseBehaviour(behaviour) }],
      zone: zone(),
      onLog: (l) => this.log.push(l),
      ...(opts.tcpIdleMs === undefined ? {} : { tcpIdleMs: opts.tcpIdleMs }),
    });
    this.servers.push(server);
    return { host, port: Number(/:(\d+)$/.exec(server.addresses[0]!)![1]) };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
    this.log.length = 0;
  }
}

const h = new Harness();
afterEach(() => h.closeAll());

describe('answer', () => {
  it('answers A and AAAA from the zone over UDP and TCP', async () => {
    const t = await h.start('answer');
    for (const ask of [(n: string, q: QType) => udp(t, n, q).then((r) => r.reply), (n: string, q: QType) => tcp(t, n, q)]) {
      const a = await ask('db.example', 'A');
      expect(rcode(a)).toBe('NOERROR');
      expect(data(a)).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
      expect(a?.id).toBe(4711);
      expect((a?.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER).not.toBe(0);
      expect(data(await ask('db.example', 'AAAA'))).toEqual(['AAAA fd00::5']);
    }
  });

  it('follows CNAME chains inside the zone', async () => {
    const t = await h.start('answer');
    const { reply } = await udp(t, 'www.example', 'A');
    expect(data(reply)).toEqual(['CNAME alias.example', 'CNAME db.example', 'A 10.0.0.5', 'A 10.0.0.6']);
    expect(h.log.at(-1)?.action).toBe('answer');
  });

  it('NXDOMAIN for unknown names, NODATA for a name with only TXT', async () => {
    const t = await h.start('answer');
    const nx = (await udp(t, 'nope.example', 'A')).reply;
    expect(rcode(nx)).toBe('NXDOMAIN');
    const nodata = (await udp(t, 'txt.example', 'A')).reply;
    expect(rcode(nodata)).toBe('NOERROR');
    expect(nodata?.answers).toEqual([]);
    expect(h.log.map((l) => l.action)).toEqual(['nxdomain', 'nodata']);
  });

  it('serves IPv6 listeners too', async (c) => {
    let t;
    try {
      t = await h.start('answer', { address: '::1' });
    } catch {
      c.skip(); // no IPv6 loopback here
      return;
    }
    expect(data((await udp(t, 'db.example', 'A')).reply)).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
    expect(data(await tcp(t, 'db.example', 'AAAA'))).toEqual(['AAAA fd00::5']);
    expect(h.log.map((l) => l.server)).toEqual(['::1', '::1']);
  });
});

describe('fault behaviours', () => {
  it('blackhole: no reply within 300 ms, still logged', async () => {
    const t = await h.start('blackhole');
    const r = await udp(t, 'db.example', 'A', 300);
    expect(r.reply).toBeUndefined();
    expect(h.log.map((l) => l.action)).toEqual(['blackhole']);
  });

  it('servfail and refused', async () => {
    const sf = await h.start('servfail');
    const rf = await h.start('refused');
    expect(rcode((await udp(sf, 'db.example', 'A')).reply)).toBe('SERVFAIL');
    expect(rcode(await tcp(sf, 'db.example', 'A'))).toBe('SERVFAIL');
    const refused = (await udp(rf, 'db.example', 'A')).reply;
    expect(rcode(refused)).toBe('REFUSED');
    expect(refused?.answers).toEqual([]);
    expect(h.log.map((l) => l.action)).toEqual(['servfail', 'servfail', 'refused']);
  });

  it('nxdomain:suffix only for the suffix and names under it', async () => {
    const t = await h.start('nxdomain:corp.example');
    expect(rcode((await udp(t, 'corp.example', 'A')).reply)).toBe('NXDOMAIN');
    expect(rcode((await udp(t, 'host.corp.example', 'A')).reply)).toBe('NXDOMAIN');
    expect(data((await udp(t, 'db.example', 'A')).reply)).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
    expect(h.log.map((l) => l.action)).toEqual(['nxdomain', 'nxdomain', 'answer']);
  });

  it('nodata-aaaa, drop-aaaa, servfail-aaaa leave A alone', async () => {
    const nodata = await h.start('nodata-aaaa');
    const drop = await h.start('drop-aaaa');
    const sf = await h.start('servfail-aaaa');
    const nd = (await udp(nodata, 'db.example', 'AAAA')).reply;
    expect(rcode(nd)).toBe('NOERROR');
    expect(nd?.answers).toEqual([]);
    expect((await udp(drop, 'db.example', 'AAAA', 300)).reply).toBeUndefined();
    expect(rcode((await udp(sf, 'db.example', 'AAAA')).reply)).toBe('SERVFAIL');
    for (const t of [nodata, drop, sf]) expect(data((await udp(t, 'db.example', 'A')).reply)).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
    expect(h.log.map((l) => l.action)).toEqual(['nodata-aaaa', 'drop-aaaa', 'servfail-aaaa', 'answer', 'answer', 'answer']);
  });

  it('truncate: UDP gets TC=1 without answers, TCP the full answer', async () => {
    const t = await h.start('truncate');
    const u = (await udp(t, 'db.example', 'A')).reply;
    expect(truncated(u)).toBe(true);
    expect(u?.answers).toEqual([]);
    const full = await tcp(t, 'db.example', 'A');
    expect(truncated(full)).toBe(false);
    expect(data(full)).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
    expect(h.log.map((l) => `${l.transport} ${l.action}`)).toEqual(['udp truncate', 'tcp answer']);
  });

  it('delay:300 replies no sooner than 300 ms, and logs at receive time', async () => {
    const t = await h.start('delay:300');
    const before = performance.timeOrigin + performance.now();
    const r = await udp(t, 'db.example', 'A');
    expect(data(r.reply)).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
    expect(r.ms).toBeGreaterThanOrEqual(300);
    expect(r.ms).toBeLessThan(900);
    expect(h.log[0]!.ts - before).toBeLessThan(100);
    const start = performance.now();
    expect(rcode(await tcp(t, 'db.example', 'A'))).toBe('NOERROR');
    expect(performance.now() - start).toBeGreaterThanOrEqual(300);
  });

  it('delay combines with an AAAA rule', async () => {
    const t = await h.start('delay:200,drop-aaaa');
    const a = await udp(t, 'db.example', 'A');
    expect(a.ms).toBeGreaterThanOrEqual(200);
    expect((await udp(t, 'db.example', 'AAAA', 400)).reply).toBeUndefined();
  });
});

/** Every datagram a socket gets within `ms`, with its source port; `connect` makes it a connected socket. */
function collect(target: { host: string; port: number }, bytes: Buffer, ms: number, connect = false): Promise<Array<{ port: number; reply: dnsPacket.DecodedPacket }>> {
  const sock = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
  const got: Array<{ port: number; reply: dnsPacket.DecodedPacket }> = [];
  sock.on('message', (msg, rinfo) => got.push({ port: rinfo.port, reply: dnsPacket.decode(msg) }));
  sock.on('error', () => undefined);
  return new Promise((done) => {
    const go = () => {
      if (connect) sock.send(bytes);
      else sock.send(bytes, target.port, target.host);
      setTimeout(() => {
        sock.close();
        done(got);
      }, ms);
    };
    if (connect) sock.connect(target.port, target.host, go);
    else go();
  });
}

const ednsQuery = (name: string, type: QType) =>
  dnsPacket.encode({
    type: 'query', id: 99, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1200, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] } as unknown as dnsPacket.Answer],
  });

describe('wider fidelity behaviours', () => {
  it('wrong-port: the reply leaves from another port of the same address; a connected socket never sees it', async () => {
    const t = await h.start('wrong-port');
    const got = await collect(t, query('db.example', 'A'), 300);
    expect(got).toHaveLength(1);
    expect(got[0]!.port).not.toBe(t.port);
    expect(data(got[0]!.reply)).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
    expect(await collect(t, query('db.example', 'A'), 300, true)).toEqual([]);
    expect(h.log.map((l) => l.action)).toEqual(['answer+wrong-port', 'answer+wrong-port']);
    // TCP is answered as usual
    expect(data(await tcp(t, 'db.example', 'A'))).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
  });

  it('wrong-port-first: from another port, then from the right one; a connected socket sees only the right one', async () => {
    const t = await h.start('wrong-port-first,delay:20');
    const got = await collect(t, query('db.example', 'AAAA'), 300);
    expect(got.map((g) => g.port === t.port)).toEqual([false, true]);
    expect(got.map((g) => data(g.reply))).toEqual([['AAAA fd00::5'], ['AAAA fd00::5']]);
    const connected = await collect(t, query('db.example', 'AAAA'), 300, true);
    expect(connected.map((g) => g.port)).toEqual([t.port]);
  });

  it('formerr-edns: FORMERR to a query with OPT, the answer without', async () => {
    const t = await h.start('formerr-edns');
    const [withOpt] = await collect(t, ednsQuery('db.example', 'A'), 200);
    expect(rcode(withOpt?.reply)).toBe('FORMERR');
    expect(withOpt?.reply.questions?.[0]?.name).toBe('db.example');
    expect(data((await udp(t, 'db.example', 'A')).reply)).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
    const c = new TcpClient(t);
    try {
      c.send(frame(ednsQuery('db.example', 'A')));
      expect(rcode((await c.waitFor(1))[0])).toBe('FORMERR');
    } finally {
      c.destroy();
    }
    expect(h.log.map((l) => l.action)).toEqual(['formerr-edns', 'answer', 'formerr-edns']);
  });

  it('truncate-partial: UDP gets TC=1 with the first half of the answers, TCP all of them', async () => {
    const t = await h.start('truncate-partial');
    const u = (await udp(t, 'www.example', 'A')).reply;
    expect(truncated(u)).toBe(true);
    expect(data(u)).toEqual(['CNAME alias.example', 'CNAME db.example']);
    const full = await tcp(t, 'www.example', 'A');
    expect(truncated(full)).toBe(false);
    expect(data(full)).toEqual(['CNAME alias.example', 'CNAME db.example', 'A 10.0.0.5', 'A 10.0.0.6']);
    expect(h.log.map((l) => `${l.transport} ${l.action}`)).toEqual(['udp truncate-partial', 'tcp answer']);
  });

  it('auth:ZONE ends a chain that leaves the zone at the CNAME', async () => {
    const t = await h.start('auth:example,auth:corp.example');
    expect(data((await udp(t, 'www.example', 'A')).reply)).toEqual(['CNAME alias.example', 'CNAME db.example', 'A 10.0.0.5', 'A 10.0.0.6']);
    const out = await h.start('auth:other.test');
    const r = (await udp(out, 'www.example', 'A')).reply;
    expect(rcode(r)).toBe('NOERROR');
    expect(data(r)).toEqual(['CNAME alias.example']);
  });
});

describe('closed', () => {
  it('binds nothing, so the kernel refuses UDP and TCP at once', async () => {
    // Borrow a port known to be free on 127.0.0.2 by taking it from a listener on 127.0.0.1.
    const open = await h.start('answer');
    const server = await startFakeDns({
      listeners: [{ address: '127.0.0.2', port: open.port, behaviour: parseBehaviour('closed') }],
      zone: zone(),
      onLog: (l) => h.log.push(l),
    });
    expect(server.addresses).toEqual([]);
    await server.close();
    const sock = createSocket('udp4');
    const udpErr = await new Promise<string>((done) => {
      sock.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
      // A connected UDP socket reports the ICMP port unreachable as ECONNREFUSED.
      sock.connect(open.port, '127.0.0.2', () => sock.send(query('db.example', 'A')));
      setTimeout(() => done('timeout'), 1000);
    });
    sock.close();
    expect(udpErr).toBe('ECONNREFUSED');
    const tcpErr = await new Promise<string>((done) => {
      const c = connect({ host: '127.0.0.2', port: open.port });
      c.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
      c.on('connect', () => {
        c.destroy();
        done('connected');
      });
    });
    expect(tcpErr).toBe('ECONNREFUSED');
    expect(h.log).toEqual([]);
  });
});

describe('TCP', () => {
  it('answers several queries on one connection, pipelined and one after another', async () => {
    const t = await h.start('answer');
    const c = new TcpClient(t);
    await c.connected();
    c.send(Buffer.concat([frame(query('db.example', 'A', 1)), frame(query('nope.example', 'A', 2))]));
    await c.waitFor(2);
    // A frame split across writes is reassembled.
    const third = frame(query('db.example', 'AAAA', 3));
    c.send(third.subarray(0, 1));
    await new Promise((r) => setTimeout(r, 50));
    c.send(third.subarray(1));
    const replies = await c.waitFor(3);
    expect(replies.map((r) => [r.id, rcode(r)])).toEqual([[1, 'NOERROR'], [2, 'NXDOMAIN'], [3, 'NOERROR']]);
    expect(new Set(h.log.map((l) => l.client_port))).toEqual(new Set([c.sock.localPort]));
    c.destroy();
  });

  it('answers queries sent before the client shuts its side, then closes', async () => {
    const t = await h.start('delay:100');
    const c = new TcpClient(t);
    await c.connected();
    c.send(frame(query('db.example', 'A', 7)));
    c.sock.end();
    await c.closed;
    expect(c.replies.map((r) => r.id)).toEqual([7]);
  });

  for (const [what, bytes] of [
    ['garbage', frame(Buffer.from('not a dns message'))],
    ['a zero length', Buffer.from([0, 0, 0, 0, 0, 0])],
    ['a response instead of a query', frame(dnsPacket.encode({ type: 'response', id: 9, questions: [{ type: 'A', name: 'x', class: 'IN' }] }))],
  ] as const) {
    it(`a frame with ${what} closes the connection; the server keeps serving`, async () => {
      const t = await h.start('answer');
      const c = new TcpClient(t);
      await c.connected();
      // A valid query after the bad frame must not be answered: the framing is lost.
      c.send(Buffer.concat([bytes, frame(query('db.example', 'A'))]));
      await c.closed;
      expect(c.replies).toEqual([]);
      expect(h.log.map((l) => l.action)).toEqual(['malformed']);
      expect(rcode(await tcp(t, 'db.example', 'A'))).toBe('NOERROR');
    });
  }

  it('closes idle connections', async () => {
    const t = await h.start('answer', { tcpIdleMs: 200 });
    const c = new TcpClient(t);
    const start = performance.now();
    await c.closed;
    expect(performance.now() - start).toBeGreaterThanOrEqual(150);
  });

  it('keeps a connection that waits for a delayed reply longer than the idle time', async () => {
    const t = await h.start('delay:400', { tcpIdleMs: 150 });
    const c = new TcpClient(t);
    c.send(frame(query('db.example', 'A')));
    expect((await c.waitFor(1)).length).toBe(1);
    await c.closed;
  });
});

describe('log', () => {
  it('logs every query with exactly the documented fields', async () => {
    const t = await h.start('answer');
    const before = Date.now();
    const u = await udp(t, 'DB.Example.', 'A');
    await tcp(t, 'txt.example', 'TXT');
    // A UDP datagram that is no DNS message: dropped, but logged.
    const sock = createSocket('udp4');
    await new Promise<void>((done) => sock.send(Buffer.from([0x12, 0x34, 1]), t.port, t.host, () => done()));
    await new Promise((r) => setTimeout(r, 100));
    sock.close();
    expect(h.log).toHaveLength(3);
    for (const l of h.log) {
      expect(Object.keys(l).sort()).toEqual(['action', 'client_port', 'id', 'qname', 'qtype', 'server', 'transport', 'ts']);
      expect(l.ts).toBeGreaterThanOrEqual(before - 1);
      expect(l.ts).toBeLessThanOrEqual(Date.now() + 1);
      expect(l.server).toBe('127.0.0.1');
    }
    expect(h.log[0]).toMatchObject({ transport: 'udp', client_port: u.clientPort, id: 4711, qname: 'db.example', qtype: 'A', action: 'answer' });
    expect(h.log[1]).toMatchObject({ transport: 'tcp', id: 4711, qname: 'txt.example', qtype: 'TXT', action: 'answer' });
    expect(h.log[2]).toMatchObject({ transport: 'udp', id: 0x1234, qname: '', qtype: '', action: 'malformed' });
    expect(Number.isInteger(h.log[0]!.ts)).toBe(false); // sub-ms precision
  });
});

describe('binding', () => {
  it('rejects an address that is not configured, naming it', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never configured here; bind fails before any packet is sent.
    await expect(
      startFakeDns({ listeners: [{ address: '192.0.2.1', port: 0, behaviour: parseBehaviour('answer') }], zone: new Map(), onLog: () => undefined }),
    ).rejects.toThrow(/address 192\.0\.2\.1 is not configured in this network namespace/);
  });

  it('a failed bind lets go of the listeners already bound', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const port = (busy.address() as { port: number }).port;
    // 127.0.0.2 first (free), then 127.0.0.1 on the busy TCP port: must fail and free 127.0.0.2.
    await expect(
      startFakeDns({
        listeners: [
          { address: '127.0.0.2', port, behaviour: parseBehaviour('answer') },
          { address: '127.0.0.1', port, behaviour: parseBehaviour('answer') },
        ],
        zone: new Map(),
        onLog: () => undefined,
      }),
    ).rejects.toThrow(/127\.0\.0\.1:\d+ \(tcp\).*already in use/);
    busy.close();
    const again = await startFakeDns({
      listeners: [{ address: '127.0.0.2', port, behaviour: parseBehaviour('answer') }],
      zone: new Map(),
      onLog: () => undefined,
    });
    await again.close();
  });
});

describe('CLI parsing', () => {
  it('parses --listen forms', () => {
    expect(parseListen('10.0.0.53')).toMatchObject({ address: '10.0.0.53', port: 53, behaviour: { base: 'answer', delayMs: 0 } });
    expect(parseListen('10.0.0.53:5353=delay:200,drop-aaaa')).toMatchObject({ port: 5353, behaviour: { base: 'answer', delayMs: 200, aaaa: 'drop' } });
    expect(parseListen('[fd00::53]:5300=closed')).toMatchObject({ address: 'fd00::53', port: 5300, behaviour: { base: 'closed' } });
    expect(parseListen('[::1]=nxdomain:corp.example')).toMatchObject({ address: '::1', port: 53, behaviour: { base: 'nxdomain', nxdomainSuffix: 'corp.example' } });
    expect(parseListen('::1=blackhole')).toMatchObject({ address: '::1', port: 53 });
  });

  it.each(['10.0.0.256', 'db.example=answer', '10.0.0.1:70000', '10.0.0.1:x', '[10.0.0.1]:53', '10.0.0.1=bogus', '10.0.0.1=delay:soon', ''])(
    'rejects --listen %j as a usage error',
    (spec) => {
      let err: unknown;
      try {
        parseListen(spec);
      } catch (e) {
        err = e;
      }
      expect(isTsnetError(err) && err.code === 'TSNET_USAGE' && err.exitCode === 2).toBe(true);
      expect((err as Error).message).not.toContain('\n');
    },
  );

  it('builds a zone from a file and entries, rejecting bad records', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fakedns-'));
    try {
      const f = join(dir, 'zone');
      writeFileSync(f, '# lab\ndb.example A 10.0.0.5\nwww.example CNAME db.example\n');
      const z = buildZone(['db.example=AAAA:fd00::5'], f);
      expect(z.get('db.example')).toMatchObject({ A: ['10.0.0.5'], AAAA: ['fd00::5'] });
      expect(z.get('www.example')?.CNAME).toBe('db.example');
      for (const bad of [() => buildZone(['db.example=A:not-an-ip'], undefined), () => buildZone(['x=MX:y'], undefined), () => buildZone([], join(dir, 'missing'))]) {
        expect(bad).toThrow(expect.objectContaining({ code: 'TSNET_USAGE' }));
      }
      writeFileSync(f, 'db.example A\n');
      expect(() => buildZone([], f)).toThrow(/zone file .*line 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the built CLI (dist/tsnet.js)', () => {
  const CLI = resolve(import.meta.dirname, '../../dist/tsnet.js');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fakedns-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function runCli(args: string[]) {
    const child = spawn(process.execPath, [CLI, 'fake-dns', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((done) =>
      child.on('close', (code) => done({ code, stdout, stderr })),
    );
    return { child, exited };
  }

  async function waitForFile(path: string, exited: Promise<unknown>): Promise<string> {
    let gone = false;
    void exited.then(() => (gone = true));
    for (let i = 0; i < 200 && !gone; i++) {
      if (existsSync(path)) return readFileSync(path, 'utf8');
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${path} never appeared`);
  }

  it('serves until SIGTERM, logs JSON lines, exits 0 and removes its ready file', async () => {
    const ready = join(dir, 'ready');
    const log = join(dir, 'log.jsonl');
    const { child, exited } = runCli([
      '--listen', '127.0.0.1:0=answer', '--listen', '127.0.0.2:0=servfail', '--listen', '127.0.0.3:0=closed',
      '--zone', 'db.example=A:10.0.0.5', '--ready-file', ready, '--log', log,
    ]);
    try {
      const addresses = (await waitForFile(ready, exited)).trim().split('\n');
      expect(addresses).toHaveLength(2);
      const [a, b] = addresses.map((x) => ({ host: x.split(':')[0]!, port: Number(x.split(':')[1]) }));
      expect(data((await udp(a!, 'db.example', 'A')).reply)).toEqual(['A 10.0.0.5']);
      expect(rcode(await tcp(b!, 'db.example', 'A'))).toBe('SERVFAIL');
    } finally {
      child.kill('SIGTERM');
    }
    const r = await exited;
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: '' });
    expect(existsSync(ready)).toBe(false);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FakeDnsLogLine);
    expect(lines.map((l) => `${l.server} ${l.transport} ${l.action}`)).toEqual(['127.0.0.1 udp answer', '127.0.0.2 tcp servfail']);
  });

  it('logs to stdout by default', async () => {
    const ready = join(dir, 'ready2');
    const { child, exited } = runCli(['--listen', '127.0.0.1:0=nxdomain', '--ready-file', ready]);
    try {
      const [host, port] = (await waitForFile(ready, exited)).trim().split(':');
      expect(rcode((await udp({ host: host!, port: Number(port) }, 'a.example', 'A')).reply)).toBe('NXDOMAIN');
    } finally {
      child.kill('SIGINT');
    }
    const r = await exited;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ qname: 'a.example', action: 'nxdomain' });
  });

  it.each([
    [['--listen', '10.0.0.1=bogus'], /unknown behaviour "bogus"/],
    [['--listen', 'nope'], /not an IPv4 address/],
    [['--listen', '127.0.0.1:0', '--zone', 'x=A:1.2.3'], /not an IPv4 address/],
    [['--listen', '127.0.0.1:0', '--zone-file', '/nonexistent/zone'], /cannot read zone file/],
    [['--listen', '192.0.2.1:0'], /address 192\.0\.2\.1 is not configured in this network namespace/],
    [[], /at least one --listen/],
  ] as Array<[string[], RegExp]>)('bad input %j exits 2 with one line', async (args, pattern) => {
    const r = await runCli(args).exited;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});
