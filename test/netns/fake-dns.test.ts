// fake-dns inside a network namespace of its own, queried with dig from inside that namespace.
// Every packet stays in the namespace this file creates; afterAll removes it and the server.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, run } from '../support/lab.js';

describe.skipIf(process.getuid?.() !== 0)('fake-dns in a network namespace', () => {
  const ns = `fd${randomBytes(4).toString('hex')}`;
  const net = `10.199.${randomInt(256)}`;
  const up = `${net}.1`;
  const closed = `${net}.2`;
  const wrong = `${net}.3`;
  const race = `${net}.4`;
  const dir = mkdtempSync(join(tmpdir(), 'fakedns-netns-'));
  const ready = join(dir, 'ready');
  const log = join(dir, 'log.jsonl');
  let child: ChildProcess | undefined;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  let stderr = '';

  const ip = async (args: string[]) => {
    const r = await run('ip', args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  const dig = (args: string[]) => run('ip', ['netns', 'exec', ns, 'dig', '+time=1', '+tries=1', ...args]);

  beforeAll(async () => {
    await ip(['netns', 'add', ns]);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', ns, 'addr', 'add', `${up}/32`, 'dev', 'lo']);
    await ip(['-n', ns, 'addr', 'add', `${closed}/32`, 'dev', 'lo']);
    await ip(['-n', ns, 'addr', 'add', `${wrong}/32`, 'dev', 'lo']);
    await ip(['-n', ns, 'addr', 'add', `${race}/32`, 'dev', 'lo']);
    child = spawn(process.execPath, [
      CLI, 'fake-dns', '--netns', `/run/netns/${ns}`,
      '--listen', `${up}=answer`, '--listen', `${closed}=closed`, '--listen', `${wrong}=wrong-port-first`, '--listen', `${race}=race-drop:50`,
      '--zone', 'db.example=A:10.0.0.5', '--zone', 'db.example=AAAA:fd00::5', '--zone', 'www.example=CNAME:db.example',
      '--ready-file', ready, '--log', log,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const c = child;
    exited = new Promise((done) => c.on('exit', (code, signal) => done({ code, signal })));
    for (let i = 0; i < 400 && !existsSync(ready); i++) {
      if (child.exitCode !== null) throw new Error(`fake-dns exited ${child.exitCode}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(readFileSync(ready, 'utf8')).toBe(`${up}:53\n${wrong}:53\n${race}:53\n`);
  });

  afterAll(async () => {
    // Runs after a failure too: nothing may outlive the suite.
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await run('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
    expect(existsSync(`/run/netns/${ns}`)).toBe(false);
  });

  it('answers over UDP and TCP', async () => {
    const a = await dig(['+short', `@${up}`, 'db.example']);
    expect(a.stdout, a.stderr).toBe('10.0.0.5\n');
    const aaaa = await dig(['+short', '+tcp', `@${up}`, 'db.example', 'AAAA']);
    expect(aaaa.stdout, aaaa.stderr).toBe('fd00::5\n');
    const cname = await dig(['+short', '+tcp', `@${up}`, 'www.example']);
    expect(cname.stdout).toBe('db.example.\n10.0.0.5\n');
    const nx = await dig([`@${up}`, 'nope.example']);
    expect(nx.stdout).toMatch(/status: NXDOMAIN/);
  });

  it('a closed address is refused by the kernel at once, over UDP and TCP', async () => {
    for (const transport of ['+notcp', '+tcp']) {
      const start = performance.now();
      const r = await dig(['+short', transport, `@${closed}`, 'db.example']);
      expect(r.stdout + r.stderr).toMatch(/connection refused/i);
      expect(r.stdout).not.toMatch(/10\.0\.0\.5/);
      // ICMP port unreachable / RST: well before dig's 1 s timeout.
      expect(performance.now() - start).toBeLessThan(900);
    }
  });

  it('wrong-port-first: an unconnected socket gets the reply from another source port, then from port 53; dig (connected) only the latter', async () => {
    // dig 9.18 connects its UDP socket: the kernel drops the wrong-port datagram before dig sees it.
    const d = await dig(['+short', `@${wrong}`, 'db.example']);
    expect(d.stdout, d.stderr).toBe('10.0.0.5\n');
    const script = `
      const s = require('node:dgram').createSocket('udp4'); const got = [];
      s.on('message', (m, r) => got.push(r.port));
      const q = Buffer.from('000701000001000000000000026462076578616d706c650000010001', 'hex');
      s.send(q, 53, process.argv[1]);
      setTimeout(() => { console.log(JSON.stringify(got)); s.close(); }, 300);`;
    const r = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', script, wrong]);
    const ports = JSON.parse(r.stdout) as number[];
    expect(ports, r.stderr).toHaveLength(2);
    expect(ports[0]).not.toBe(53);
    expect(ports[1]).toBe(53);
  });

  it('race-drop: of A and AAAA sent together from one socket the AAAA is lost; its resend and another socket pass', async () => {
    // Python's socket module: one unconnected UDP socket, two sendto()s back to back, as musl does.
    const script = `
import socket, struct, sys
def q(i, t): return struct.pack('>HHHHHH', i, 0x100, 1, 0, 0, 0) + b'\\x02db\\x07example\\x00' + struct.pack('>HH', t, 1)
def replies(s):
    got = []
    try:
        while True: got.append(struct.unpack('>H', s.recv(512)[:2])[0])
    except socket.timeout: return sorted(got)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.3)
s.sendto(q(1, 1), ('${race}', 53)); s.sendto(q(2, 28), ('${race}', 53))
first = replies(s)
s.sendto(q(2, 28), ('${race}', 53))
resend = replies(s)
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); o.settimeout(0.3)
o.sendto(q(3, 1), ('${race}', 53))
print(first, resend, replies(o))
`;
    const r = await run('ip', ['netns', 'exec', ns, 'python3', '-c', script]);
    expect(r.stdout.trim(), r.stderr).toBe('[1] [2] [3]');
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { server: string; id: number; action: string });
    expect(lines.filter((l) => l.server === race).map((l) => `${l.id}:${l.action}`)).toEqual(['1:answer', '2:race-drop', '2:answer', '3:answer']);
  });

  it('logs every query, stops on SIGTERM with exit 0 and removes its ready file', async () => {
    child!.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stderr).toBe('');
    expect(existsSync(ready)).toBe(false);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.server !== race).map((l) => `${l.server} ${l.transport} ${l.qname} ${l.qtype} ${l.action}`)).toEqual([
      `${up} udp db.example A answer`,
      `${up} tcp db.example AAAA answer`,
      `${up} tcp www.example A answer`,
      `${up} udp nope.example A nxdomain`,
      `${wrong} udp db.example A answer+wrong-port-first`,
      `${wrong} udp db.example A answer+wrong-port-first`,
    ]);
  });
});
