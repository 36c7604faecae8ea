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
  dig, sleep, startUpstream, stubDaemonPids, destroyStubLab, stubLogs, stubStatusSettled, waitFor,
  type Upstream,
} from '../support/upstream.js';

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

describe.skipIf(!isRoot)('the stub resolver and fake-dns against hostile peers', () => {
  const lab = new Lab();
  const gw = lab.ip(1);
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-stub-hostile-'));
  const datagrams = join(dir, 'datagrams.py');
  const UP = { answer: lab.ip(200) };
  const ZONE = ['db.example=A:10.0.0.5'];
  const upName = lab.name('up');
  const [att, vic] = [lab.name('att'), lab.name('vic')];
  let up: Upstream;
  let vicIp = '';

  beforeAll(async () => {
    writeFileSync(datagrams, DATAGRAMS);
    up = await startUpstream(lab, upName, [{ address: UP.answer, behaviour: 'answer' }], ZONE);
    for (const name of [att, vic]) {
      const r = await lab.create(name, ['--dns-mode', 'glibc', '--dns', UP.answer]);
      expect(r.code, r.stderr).toBe(0);
      if (name === vic) vicIp = r.stdout.split(' ')[1]!;
    }
  });

  afterAll(async () => {
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
});
