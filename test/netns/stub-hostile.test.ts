// The stub resolver and fake-dns against hostile peers, on real namespaces: datagrams no socket
// API can send (UDP source port 0, built by hand on a raw socket), queries from reflection ports,
// responses sent as queries. Every packet stays inside the lab's bridge and namespaces: the
// senders run inside lab containers and aim at the lab's gateway or its upstream container.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';
import {
  dig, lastLogLine, rssKb, sleep, spawnCli, startUpstream, stopSpawned, stubDaemonPids, destroyStubLab, stubLogs, stubStatus, stubStatusSettled, waitFor,
  type Spawned, type Upstream,
} from '../support/upstream.js';
import { DEFAULT_LIMITS } from '../../src/stub/server.js';

/**
 * Hostile datagrams (python3, run inside a container; argv[1] is its JSON config):
 * queries from UDP source port 0 (a raw IPPROTO_UDP socket with a hand-built UDP header: no
 * socket API sends from port 0), a query from port 7 (echo) and a response (QR=1) from an
 * ordinary port, each listening 1.5 s for what comes back; then one ordinary query as a control.
 */
const DATAGRAMS = String.raw`
import json, socket, struct, sys, time
cfg = json.loads(sys.argv[1])
target, name = cfg['target'], cfg['name']

def query(qid, flags=0x0100):
    q = b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\0' + struct.pack('!HH', 1, 1)
    return struct.pack('!HHHHHH', qid, flags, 1, 0, 0, 0) + q

def replies(sock, secs):
    sock.settimeout(0.1)
    got, end = [], time.time() + secs
    while time.time() < end:
        try:
            data, src = sock.recvfrom(65535)
            got.append({'from': src[0] + ':' + str(src[1]), 'id': struct.unpack('!H', data[:2])[0] if len(data) >= 2 else None})
        except socket.timeout:
            pass
    return got

out = {}
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
for i in range(cfg['count0']):
    p = query(0x1000 + i)
    # source port 0, destination 53, length, checksum 0 (none: allowed for UDP over IPv4)
    raw.sendto(struct.pack('!HHHH', 0, 53, 8 + len(p), 0) + p, (target, 0))
raw.close()
out['sent0'] = cfg['count0']

echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
echo.bind(('0.0.0.0', 7))
echo.sendto(query(0x2007), (target, 53))
out['replies7'] = replies(echo, 1.5)
echo.close()

ordinary = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ordinary.bind(('0.0.0.0', 0))
ordinary.sendto(query(0x3001, 0x8180), (target, 53))
out['repliesQr'] = replies(ordinary, 1.5)
ordinary.sendto(query(0x3002), (target, 53))
out['control'] = replies(ordinary, 1.5)
print(json.dumps(out))
`;

/**
 * An upstream that truncates every UDP answer and, over TCP, accepts and never answers nor closes
 * (python3, run inside the upstream container; argv[1] is its address). One JSON line per event.
 */
const SILENT_TCP = String.raw`
import json, socket, struct, sys, threading
addr = sys.argv[1]
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((addr, 53))
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind((addr, 53))
tcp.listen(64)
held = []
lock = threading.Lock()
def emit(line):
    # One write per line under a lock: print() from two threads can interleave a line with the other's newline.
    with lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()
def accept():
    while True:
        conn, src = tcp.accept()
        held.append(conn)
        emit(json.dumps({'event': 'tcp-accepted', 'from': src[0]}))
threading.Thread(target=accept, daemon=True).start()
emit('ready')
while True:
    q, src = udp.recvfrom(65535)
    if len(q) < 12 or q[2] & 0x80:
        continue
    off = 12
    while off < len(q) and q[off] != 0:
        off += 1 + q[off]
    flags = 0x8000 | 0x0200 | (struct.unpack('!H', q[2:4])[0] & 0x0100) | 0x0080  # QR TC RD RA
    udp.sendto(q[:2] + struct.pack('!HHHHH', flags, 1, 0, 0, 0) + q[12:off + 5], src)
    emit(json.dumps({'event': 'udp-truncated', 'from': src[0]}))
`;

/**
 * Hostile TCP clients (CommonJS, run with node inside a container; argv[2] is its JSON config),
 * each role reconnecting 250 ms after the stub closes it, until SIGTERM, then a summary on stdout:
 * never-reading (pipelined queries written as fast as the stub reads them, replies never read),
 * stalled (connect, then silence), dripping (one byte of a query every 2 s), and many stalled
 * connections from extra addresses (more than the stub's global cap).
 */
const ATTACK = String.raw`'use strict';
const net = require('node:net');
const cfg = JSON.parse(process.argv[2]);
const qname = Buffer.concat([...cfg.name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
const query = (id) => { const h = Buffer.alloc(12); h.writeUInt16BE(id & 0xffff, 0); h.writeUInt16BE(0x0100, 2); h.writeUInt16BE(1, 4); return Buffer.concat([h, qname, Buffer.from([0, 1, 0, 1])]); };
const frame = (b) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
const chunk = Buffer.concat(Array.from({ length: 8192 }, (_, i) => frame(query(i))));
const stats = {};
const live = new Set();
let stopping = false;
function role(label, host, localAddress, n, behave) {
  const st = (stats[label] ??= { connects: 0, failed: 0, closedByStub: 0, ages: [] });
  const one = () => {
    if (stopping) return;
    const c = net.connect({ host, port: 53, localAddress });
    live.add(c);
    let opened = 0;
    let timer;
    c.setTimeout(1000, () => { if (!opened) c.destroy(); });
    c.on('connect', () => { opened = Date.now(); c.setTimeout(0); st.connects++; timer = behave(c); });
    c.on('error', () => {});
    c.on('close', () => {
      live.delete(c);
      clearInterval(timer);
      if (stopping) return;
      if (opened) { st.closedByStub++; if (st.ages.length < 20000) st.ages.push(Date.now() - opened); } else st.failed++;
      setTimeout(one, 250);
    });
  };
  for (let i = 0; i < n; i++) one();
}
const neverRead = (c) => { c.pause(); const pump = () => { while (!c.destroyed && c.write(chunk)); if (!c.destroyed) c.once('drain', pump); }; pump(); };
const stalled = () => undefined;
const dripping = (c) => { const f = frame(query(1)); let i = 0; return setInterval(() => { if (!c.destroyed) c.write(f.subarray(i % f.length, i % f.length + 1)); i++; }, 2000); };
role('neverReadA', cfg.gwA, cfg.main, 4, neverRead);
role('neverReadB', cfg.gwB, cfg.main, 2, neverRead);
role('stalledB', cfg.gwB, cfg.extra[0], 4, stalled);
role('drippingB', cfg.gwB, cfg.extra[0], 4, dripping);
role('drippingA', cfg.gwA, cfg.main, 2, dripping);
for (const a of cfg.extra.slice(1)) role('many', cfg.gwA, a, 8, stalled);
process.stdout.write('started\n');
process.on('SIGTERM', () => {
  stopping = true;
  for (const c of live) c.destroy();
  const summary = {};
  for (const [k, st] of Object.entries(stats)) {
    const ages = st.ages.sort((a, b) => a - b);
    summary[k] = { connects: st.connects, failed: st.failed, closedByStub: st.closedByStub, medianAgeMs: ages[ages.length >> 1] ?? null, maxAgeMs: ages[ages.length - 1] ?? null };
  }
  process.stdout.write(JSON.stringify(summary) + '\n');
  process.exit(0);
});
`;

describe.skipIf(!isRoot)('the stub resolver and fake-dns against hostile peers', () => {
  const lab = new Lab();
  const gw = lab.ip(1);
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-stub-hostile-'));
  const datagrams = join(dir, 'datagrams.py');
  const attackScript = join(dir, 'attack.cjs');
  const silentScript = join(dir, 'silent-tcp.py');
  const UP = { answer: lab.ip(200), silentTcp: lab.ip(210) };
  const ZONE = ['db.example=A:10.0.0.5'];
  const upName = lab.name('up');
  const [att, vic] = [lab.name('att'), lab.name('vic')];
  let up: Upstream;
  let attack: Spawned | undefined;
  let silent: Spawned | undefined;
  let vicIp = '';
  let attIp = '';

  beforeAll(async () => {
    writeFileSync(datagrams, DATAGRAMS);
    writeFileSync(attackScript, ATTACK);
    writeFileSync(silentScript, SILENT_TCP);
    up = await startUpstream(lab, upName, [{ address: UP.answer, behaviour: 'answer' }], ZONE);
    for (const name of [att, vic]) {
      const r = await lab.create(name, ['--dns-mode', 'glibc', '--dns', UP.answer]);
      expect(r.code, r.stderr).toBe(0);
      if (name === vic) vicIp = r.stdout.split(' ')[1]!;
      else attIp = r.stdout.split(' ')[1]!;
    }
  });

  afterAll(async () => {
    if (attack) await stopSpawned(attack, 10_000);
    if (silent) await stopSpawned(silent);
    await up?.stop();
    const { leftovers, daemons } = await destroyStubLab(lab);
    rmSync(dir, { recursive: true, force: true });
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  /** The stub answers a container name and a forwarded name from `from`, over UDP and TCP. */
  const expectServing = async (from: string) => {
    for (const transport of ['+notcp', '+tcp']) {
      const local = await dig(lab, from, ['+short', transport, `@${gw}`, vic]);
      expect(local.stdout, `${from} ${transport} ${vic}: ${local.stderr}`).toBe(`${vicIp}\n`);
      const fwd = await dig(lab, from, ['+short', transport, `@${gw}`, 'db.example']);
      if (fwd.stdout !== '10.0.0.5\n') {
        const line = (await stubLogs(lab, from)).filter((l) => l.qname === 'db.example').at(-1);
        expect.fail(`${from} ${transport} db.example: ${JSON.stringify(fwd)}; stub log: ${JSON.stringify(line)}; upstream log: ${JSON.stringify(up.log().slice(-3))}`);
      }
    }
  };

  interface DatagramResult {
    sent0: number;
    replies7: Array<{ from: string; id: number }>;
    repliesQr: Array<{ from: string; id: number }>;
    control: Array<{ from: string; id: number }>;
  }
  const sendDatagrams = async (target: string, name: string): Promise<DatagramResult> => {
    const r = await lab.cli(['exec', att, '--', 'python3', datagrams, JSON.stringify({ target, name, count0: 5 })]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as DatagramResult;
  };

  it('one datagram cannot stop the stub: queries from source port 0 and 7 and responses get no reply; same daemon, still serving', async () => {
    await expectServing(att);
    const s0 = await stubStatusSettled(lab);
    const pid = s0.pid!;
    const r = await sendDatagrams(gw, vic);
    await sleep(500);
    // The daemon that got them is still the one running, and it still answers everyone.
    expect(await stubDaemonPids(lab), JSON.stringify(r)).toEqual([pid]);
    expect(r.replies7).toEqual([]); // no reply to the echo port: no echo loop, no reflection
    expect(r.repliesQr).toEqual([]); // a response is never answered
    expect(r.control).toEqual([{ from: `${gw}:53`, id: 0x3002 }]);
    await expectServing(att);
    await expectServing(vic);
    const s1 = await stubStatusSettled(lab);
    expect(s1.pid).toBe(pid);
    // port 0 (5) and port 7 (1) were dropped before any answer was made; the response is malformed.
    expect((s1.stats as unknown as { dropped: number }).dropped - ((s0.stats as unknown as { dropped?: number }).dropped ?? 0)).toBe(6);
  });

  it('one datagram cannot stop fake-dns: a query from source port 0 and a response get no reply; the same server keeps answering', async () => {
    const r = await sendDatagrams(UP.answer, 'db.example');
    await sleep(500);
    expect(up.server.child.exitCode, up.server.stderr()).toBe(null);
    expect(up.server.child.signalCode).toBe(null);
    expect(r.repliesQr).toEqual([]);
    expect(r.control).toEqual([{ from: `${UP.answer}:53`, id: 0x3002 }]);
    const again = await dig(lab, att, ['+short', '+notcp', `@${UP.answer}`, 'db.example']);
    expect(again.stdout).toBe('10.0.0.5\n');
    // fake-dns logs what it received: the port-0 queries as dropped, never given to the responder.
    const log = up.log();
    expect(log.filter((l) => l.id >= 0x1000 && l.id < 0x1005).map((l) => `${l.client_port} ${l.action}`)).toEqual(Array(5).fill('0 source-port-0'));
    expect(log.filter((l) => l.id === 0x3001).map((l) => l.action)).toEqual(['malformed']);
  });
  it('every upstream exchange has a deadline: an upstream that accepts TCP and never answers (glibc TC -> TCP, and TCP clients) gets SERVFAIL within the stub\'s worst case', async () => {
    const added = await lab.cli(['exec', upName, '--', 'ip', 'addr', 'add', `${UP.silentTcp}/24`, 'dev', 'eth0']);
    expect(added.code, added.stderr).toBe(0);
    const server = (silent = spawnCli(lab, ['exec', upName, '--', 'python3', silentScript, UP.silentTcp]));
    await waitFor('the silent TCP upstream', () => {
      if (server.child.exitCode !== null) throw new Error(`silent upstream exited: ${server.stderr()}`);
      return server.stdout().startsWith('ready\n');
    });
    const c = lab.name('tc');
    // timeout:1 attempts:1, one server: the stub gives up after 1 s (the client's resolv.conf says 2 s).
    const r = await lab.create(c, ['--dns-mode', 'glibc', '--dns', UP.silentTcp, '--dns-option', 'timeout:1', '--dns-option', 'attempts:1']);
    expect(r.code, r.stderr).toBe(0);
    const events = () => server.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { event: string }).event);
    for (const [transport, qname, shape] of [
      ['+notcp', 'tc-then-silent.example', ['udp truncated', 'tcp timeout']],
      ['+tcp', 'silent.example', ['tcp timeout']],
    ] as const) {
      const before = events().filter((e) => e === 'tcp-accepted').length;
      const answer = await dig(lab, c, [transport, '+ignore', `@${gw}`, qname]);
      expect(answer.status, `${transport}: ${answer.stdout}`).toBe('SERVFAIL');
      const line = await lastLogLine(lab, c, qname, 'A');
      expect(line.upstream.map((q) => `${q.transport} ${q.outcome}`)).toEqual(shape);
      expect(line.latency_ms).toBeGreaterThanOrEqual(990);
      expect(line.latency_ms).toBeLessThan(2500);
      expect(events().filter((e) => e === 'tcp-accepted').length).toBe(before + 1); // the TCP exchange really was made
    }
    expect((await lab.cli(['rm', c])).code).toBe(0);
  });

  it('`tsnet stub serve` answers only the subnets of its own namespace by default: a client inside gets answers, one outside none', async () => {
    // A sidecar in its own container (dns-mode direct), answering --add-host names locally.
    const [sd, out] = [lab.name('sd'), lab.name('out')];
    const ips: Record<string, string> = {};
    for (const name of [sd, out]) {
      const r = await lab.create(name);
      expect(r.code, r.stderr).toBe(0);
      ips[name] = r.stdout.split(' ')[1]!;
    }
    const sdIp = ips[sd]!;
    const inspect = JSON.parse((await lab.cli(['inspect', sd, '--json'])).stdout) as { namespaces: { net: string } };
    // An outsider: an address of another /24 on `out`'s eth0, on the same bridge; the sidecar can
    // reach it (a /32 route on its eth0), so only the sidecar's own choice keeps it unanswered.
    const outsider = `${lab.subnetBase.replace(/\.(\d+)$/, (_, o: string) => `.${(Number(o) + 2) % 256}`)}.5`;
    const ipIn = async (name: string, args: string[]) => {
      const r = await lab.cli(['exec', name, '--', 'ip', ...args]);
      expect(r.code, `${name}: ip ${args.join(' ')}: ${r.stderr}`).toBe(0);
    };
    await ipIn(out, ['addr', 'add', `${outsider}/32`, 'dev', 'eth0']);
    await ipIn(sd, ['route', 'add', `${outsider}/32`, 'dev', 'eth0']);
    const serve = spawnCli(lab, [
      'stub', 'serve', '--netns', inspect.namespaces.net, '--listen', sdIp, '--upstream', lab.ip(250), '--add-host', 'probe.example:10.9.9.9',
    ]);
    try {
      await waitFor('stub serve', () => {
        if (serve.child.exitCode !== null) throw new Error(`stub serve exited ${serve.child.exitCode}: ${serve.stderr()}`);
        return serve.stdout().includes('serving on');
      });
      // The outsider's packets reach the sidecar and its replies come back: a TCP handshake completes.
      const py = `import socket; s = socket.socket(); s.bind(('${outsider}', 0)); s.settimeout(3); s.connect(('${sdIp}', 53)); print('connected')`;
      const reach = await lab.cli(['exec', out, '--', 'python3', '-c', py]);
      expect(reach.stdout, `the outsider reaches the sidecar: ${reach.stderr}`).toBe('connected\n');
      for (const transport of ['+notcp', '+tcp']) {
        const inside = await dig(lab, vic, ['+short', '+time=3', transport, `@${sdIp}`, 'probe.example']);
        expect(inside.stdout, `inside ${transport}`).toBe('10.9.9.9\n');
        const fromOut = await dig(lab, out, ['+short', '+time=2', transport, '-b', outsider, `@${sdIp}`, 'probe.example']);
        expect(fromOut.stdout, `outside ${transport}`).not.toContain('10.9.9.9');
        expect(fromOut.stdout, `outside ${transport}`).not.toMatch(/status: REFUSED/);
      }
      expect(serve.child.exitCode).toBe(null);
    } finally {
      await stopSpawned(serve);
      for (const name of [sd, out]) await lab.cli(['rm', name]);
    }
    expect(serve.stderr()).toBe('');
  });

  it('hostile TCP clients (never reading, stalled, dripping, more than the global cap from 20 addresses) while create/rm reload the stub: bounded RSS, fast reloads, others served', async () => {
    // Network B: a dns-mode direct container keeps it (bridge, gateway) for the whole test; a
    // glibc-mode one (b1) created and removed again and again makes every reload open and close
    // the stub's listener on B's gateway, which the hostile clients keep connecting to.
    const [b0, b1, netB] = [lab.name('b0'), lab.name('b1'), lab.name('nb')];
    const baseB = lab.subnetBase.replace(/\.(\d+)$/, (_, o: string) => `.${(Number(o) + 1) % 256}`);
    const gwB = `${baseB}.1`;
    const inB = (name: string, extra: string[]) => lab.cli(['create', name, '--network', netB, '--subnet', `${baseB}.0/24`, ...extra]);
    const made = await inB(b0, ['--dns-mode', 'direct', '--dns', '127.0.0.1']);
    expect(made.code, made.stderr).toBe(0);
    const extra = Array.from({ length: 20 }, (_, i) => lab.ip(220 + i));
    for (const a of extra) {
      const r = await lab.cli(['exec', att, '--', 'ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
      expect(r.code, r.stderr).toBe(0);
    }
    const pid = (await stubStatus(lab)).pid!;
    const idleKb = rssKb(pid);
    const cfg = { gwA: gw, gwB, main: attIp, extra, name: vic };
    const hostile = (attack = spawnCli(lab, ['exec', att, '--', process.execPath, attackScript, JSON.stringify(cfg)]));
    let peakKb = idleKb;
    const sampler = setInterval(() => {
      try {
        peakKb = Math.max(peakKb, rssKb(pid));
      } catch {
        // the daemon is gone: the pid check below says so
      }
    }, 100);
    const times: Array<{ op: string; ms: number; code: number | null }> = [];
    const probes: string[] = [];
    const probe = async () => {
      for (const transport of ['+tcp', '+notcp']) {
        const r = await dig(lab, vic, ['+short', '+time=3', transport, `@${gw}`, att]);
        if (r.stdout !== `${attIp}\n`) probes.push(`${transport}: ${JSON.stringify(r.stdout)} ${r.stderr}`);
      }
    };
    const timed = async (op: string, run: () => Promise<{ code: number | null }>) => {
      const t0 = performance.now();
      const r = await run();
      times.push({ op, ms: Math.round(performance.now() - t0), code: r.code });
    };
    let summary = '';
    // Four create/rm rounds, or fewer if reloads hang: the test ends (and cleans up) in bounded time.
    const budget = performance.now() + 150_000;
    try {
      await waitFor('the attack to start', () => hostile.stdout().startsWith('started\n') || hostile.child.exitCode !== null);
      await sleep(3000);
      await probe();
      for (let i = 0; i < 4 && performance.now() < budget; i++) {
        await timed('create', () => inB(b1, ['--dns-mode', 'glibc', '--dns', UP.answer]));
        await sleep(2500); // the hostile clients reach B's listener and settle in
        await probe();
        await timed('rm', () => lab.cli(['rm', b1]));
        await probe();
        await sleep(1000);
      }
    } finally {
      clearInterval(sampler);
      const done = await stopSpawned(hostile, 10_000);
      attack = undefined;
      summary = done.stdout.split('\n').find((l) => l.startsWith('{')) ?? `no summary: ${done.stderr}`;
      await lab.cli(['rm', b1]);
      await lab.cli(['rm', b0]);
    }
    const s1 = await stubStatusSettled(lab);
    const info = JSON.stringify({ idleKb, peakKb, times, probes, summary, tcp: (s1.stats as unknown as { tcp?: unknown }).tcp });
    console.log(`stub under hostile TCP: RSS idle ${Math.round(idleKb / 1024)} MiB, peak ${Math.round(peakKb / 1024)} MiB; ${times.map((t) => `${t.op} ${t.ms} ms`).join(', ')}; clients ${summary}; stub tcp ${JSON.stringify((s1.stats as unknown as { tcp?: unknown }).tcp)}`);
    expect(await stubDaemonPids(lab), info).toEqual([pid]);
    expect(times.map((t) => t.code), info).toEqual(Array(8).fill(0)); // all four rounds ran
    for (const t of times) expect(t.ms, info).toBeLessThan(3000);
    expect(peakKb, info).toBeLessThanOrEqual(150 * 1024);
    expect(probes, info).toEqual([]);
    const tcp = (s1.stats as unknown as { tcp?: { peak: number } }).tcp;
    expect(tcp?.peak ?? Infinity, info).toBeLessThanOrEqual((DEFAULT_LIMITS as unknown as { tcpTotal: number }).tcpTotal);
    // The stub closed every kind of hostile client, again and again.
    const roles = JSON.parse(summary) as Record<string, { closedByStub: number; maxAgeMs: number | null }>;
    for (const role of ['neverReadA', 'stalledB', 'drippingB', 'drippingA', 'many']) expect(roles[role]!.closedByStub, `${role}: ${info}`).toBeGreaterThan(0);
    await expectServing(vic);
  }, 400_000);
});
