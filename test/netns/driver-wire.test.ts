// The real driver judged by the wire: `tsnet resolve --netns` in a client namespace against
// `tsnet fake-dns` in a server namespace (a veth pair born inside both), watched by an AF_PACKET
// capture (python3, kernel timestamps: bench/driver-step.mjs's oracle, independent of tsnet).
// Every packet stays in the two namespaces this file creates; afterAll removes them, the server
// and the capture, also after a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trace } from '../../resolvers/core/types.js';
import { CLI, run } from '../support/lab.js';

interface Packet {
  t: number;
  out: boolean;
  src: string;
  dst: string;
  kind: 'dns' | 'icmp';
  qr?: number;
  rcode?: number;
  qname?: string | null;
  qtype?: number | null;
}
interface Capture {
  stop(): Promise<Packet[]>;
  kill(): void;
}
interface WireOracle {
  startCapture(ns: string, ifname: string): Promise<Capture>;
  steps(packets: Packet[], start?: number): { gapsUs: number[]; firstUs: number | undefined };
  quantile(values: number[], q: number): number;
  QTYPE: Record<number, string>;
}
// A plain-JS module (bench/ runs without a build); typed here by what this file uses.
const ORACLE: string = '../../bench/driver-step.mjs';

describe.skipIf(process.getuid?.() !== 0)('the real driver on the wire', () => {
  const prefix = `dw${randomBytes(3).toString('hex')}`;
  const sns = `${prefix}-s`;
  const cns = `${prefix}-c`;
  const sif = `${prefix}s`;
  const cif = `${prefix}c`;
  const net = `10.189.${randomInt(256)}`;
  const closed = `${net}.1`; // nothing listens: ICMP port unreachable
  const ok = `${net}.2`;
  const nx = `${net}.3`;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const ready = join(dir, 'ready');
  let fake: ChildProcess | undefined;
  let wire: WireOracle;
  const captures = new Set<Capture>();

  const ip = async (args: string[]) => {
    const r = await run('ip', args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const capture = async (ns: string, ifname: string) => {
    const c = await wire.startCapture(ns, ifname);
    captures.add(c);
    return c;
  };
  // Both sides at nice -10, as the fidelity suite runs its rows: a step's time is the driver's, not
  // its share of the CPU against hogs at the default priority (under `stress-ng --cpu 2` at nice 0
  // the p95 below was 2.0-2.7 ms; the driver's own p50 stayed 160-240 µs).
  const NICE = ['-n', '-10'];
  const resolve = async (name: string, mode: string, conf: string, repeat: number): Promise<Trace[]> => {
    const r = await run('nice', [...NICE, process.execPath,
      CLI, 'resolve', name, '--mode', mode, '--netns', `/run/netns/${cns}`, '--resolv-conf', conf,
      '--hosts', file('hosts', '127.0.0.1 localhost\n'), '--nsswitch', file('nsswitch.conf', 'hosts: files dns\n'),
      '--repeat', String(repeat), '--json',
    ]);
    if (r.stdout.trim() === '') throw new Error(`resolve: exit ${r.code}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as Trace | Trace[];
    return Array.isArray(out) ? out : [out];
  };

  beforeAll(async () => {
    wire = (await import(ORACLE)) as WireOracle;
    await ip(['netns', 'add', sns]);
    await ip(['netns', 'add', cns]);
    await ip(['link', 'add', sif, 'netns', sns, 'type', 'veth', 'peer', 'name', cif, 'netns', cns]);
    for (const [ns, dev] of [[sns, sif], [cns, cif]] as const) {
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'link', 'set', dev, 'up']);
    }
    for (const a of [closed, ok, nx]) await ip(['-n', sns, 'addr', 'add', `${a}/24`, 'dev', sif]);
    await ip(['-n', cns, 'addr', 'add', `${net}.100/24`, 'dev', cif]);
    // every port unreachable answered (no ICMP rate limit inside this namespace)
    await ip(['netns', 'exec', sns, 'sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);
    fake = spawn('nice', [...NICE, process.execPath,
      CLI, 'fake-dns', '--netns', `/run/netns/${sns}`, '--listen', `${ok}=answer`, '--listen', `${nx}=nxdomain`,
      '--zone', 'db.example=A:192.0.2.10', '--zone', 'db.example=AAAA:2001:db8::10', '--ready-file', ready,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    fake.stderr!.on('data', (d: Buffer) => (stderr += d));
    for (let i = 0; !existsSync(ready); i++) {
      if (fake.exitCode !== null || i > 400) throw new Error(`fake-dns did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    // neighbour entries first: the first packet to each address would wait for ARP
    for (const a of [closed, ok, nx]) await run('ip', ['netns', 'exec', cns, 'dig', '+time=1', '+tries=1', `@${a}`, 'warm.example']);
  });

  afterAll(async () => {
    for (const c of captures) c.kill();
    if (fake && fake.exitCode === null && fake.signalCode === null) {
      const exited = new Promise((ok) => fake!.once('exit', ok));
      fake.kill('SIGKILL');
      await exited;
    }
    await run('ip', ['netns', 'del', sns]);
    await run('ip', ['netns', 'del', cns]);
    rmSync(dir, { recursive: true, force: true });
    expect(existsSync(`/run/netns/${sns}`) || existsSync(`/run/netns/${cns}`)).toBe(false);
  });

  it('glibc mode, first nameserver closed: A and AAAA reach it, and the trace lists exactly what the wire saw', async () => {
    const conf = file('closed.conf', `nameserver ${closed}\nnameserver ${ok}\n`);
    const cap = await capture(sns, sif);
    const traces = await resolve('db.example', 'glibc', conf, 5);
    const packets = await cap.stop();
    captures.delete(cap);

    const onWire = packets
      .filter((p) => p.kind === 'dns' && !p.out && p.qr === 0 && p.src === `${net}.100`)
      .map((p) => `${p.dst} ${p.qname} ${wire.QTYPE[p.qtype!]}`);
    const inTrace = traces.flatMap((t) => t.queries.map((q) => `${q.server} ${q.qname} ${q.qtype}`));
    // what real glibc does (one sendmmsg before the ICMP error is back): both queries, every lookup
    expect(onWire.filter((q) => q.startsWith(`${closed} `)).sort()).toEqual(
      Array.from({ length: 5 }, () => [`${closed} db.example A`, `${closed} db.example AAAA`]).flat().sort(),
    );
    expect(inTrace.sort()).toEqual(onWire.sort());
    for (const t of traces) {
      // the order is glibc's sort with this namespace's routes (resolvers/core/addrsort.ts, checked in test/netns/addrsort.test.ts)
      expect({ ...t.result, addresses: [...t.result.addresses].sort() }).toEqual({ addresses: ['192.0.2.10', '2001:db8::10'], error: null });
      expect(t.queries.filter((q) => q.server === closed).map((q) => q.outcome)).toEqual(['icmp-unreachable', 'icmp-unreachable']);
    }
  });

  it.each(['glibc', 'musl'])('%s mode: from a reply to the query it triggers, p95 under 1 ms over six-NXDOMAIN search walks', async (mode) => {
    const conf = file('nx.conf', `nameserver ${nx}\nsearch d1.example d2.example d3.example d4.example d5.example d6.example\n`);
    await resolve('db', mode, conf, 20); // fake-dns warm (V8 compiles it on its first queries too)
    const cap = await capture(cns, cif);
    const traces = await resolve('db', mode, conf, 31);
    const packets = await cap.stop();
    captures.delete(cap);

    for (const t of traces) expect(t.result.error).toBe('EAI_NONAME');
    // The process's first lookup runs cold code (V8 compiles the emulator, dns-packet and the
    // driver on first use; bench/driver-step.mjs reports it apart): the steps of the other 30.
    // A regression guard, loose for a shared 2-core machine where other suites run beside this
    // one (a GC scavenge or a preemption costs ~1 ms: p99 of 200 samples is their 3rd worst, so
    // p95); the 200 us target is the bench's.
    const firsts = packets.filter((p) => p.kind === 'dns' && p.out && p.qr === 0 && p.qname === 'db.d1.example' && p.qtype === 1);
    expect(firsts).toHaveLength(31);
    const { gapsUs } = wire.steps(packets.filter((p) => p.t >= firsts[1]!.t));
    // 7 names a lookup: 6 steps inside each, 1 into the next lookup
    expect(gapsUs.length).toBeGreaterThanOrEqual(200);
    const p95 = wire.quantile(gapsUs, 0.95);
    expect(p95, `p50 ${wire.quantile(gapsUs, 0.5)} µs, p95 ${p95} µs, p99 ${wire.quantile(gapsUs, 0.99)} µs`).toBeLessThan(1000);
  });
});
