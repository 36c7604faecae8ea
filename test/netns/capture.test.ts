// The DNS capture (src/capture) on a real AF_PACKET socket in a container's namespace, checked
// against what dig itself says it sent and received: UDP and TCP messages with their ids, names
// and kernel timestamps inside the wall-clock window of the exchange; ICMP port unreachable from
// an address where nothing listens; traffic on other ports kept out by the kernel filter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsCapture, type WireRecord } from '../../src/capture/capture.js';
import { inNetns } from '../../src/ns/enter.js';
import { Lab, requireRootOrSkip } from '../support/lab.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const runIt = requireRootOrSkip();

describe.skipIf(!runIt)('DNS capture on a real packet socket', () => {
  const lab = new Lab();
  let up: Upstream;
  let capture: DnsCapture;
  const client = lab.name('cl');
  const closed = lab.ip(9);

  beforeAll(async () => {
    up = await startUpstream(lab, lab.name('up'), [{ address: lab.ip(2), behaviour: 'answer' }], ['cap.fy.test=A:10.9.9.9']);
    const r = await lab.cli(['exec', up.container, '--', 'ip', 'addr', 'add', `${closed}/24`, 'dev', 'eth0']);
    expect(r.code, r.stderr).toBe(0);
    expect((await lab.create(client)).code).toBe(0);
    capture = inNetns(lab.paths.netnsHandle(up.container), () => DnsCapture.open({ ports: [53] }));
  }, 60_000);

  afterAll(async () => {
    capture?.close();
    await up?.stop();
    expect(await lab.destroy()).toEqual([]);
  });

  const dig = (args: string[]) => lab.cli(['exec', client, '--', 'dig', '+tries=1', '+time=2', ...args]);
  const digId = (out: string) => Number(/id: (\d+)/.exec(out)?.[1]);
  const at = (recs: WireRecord[], id: number, qr: boolean) => recs.filter((r) => r.dns?.id === id && r.dns.qr === qr);

  it('sees a UDP query arrive and its reply leave, with kernel times inside the exchange', async () => {
    capture.take();
    const before = Date.now();
    const r = await dig([`@${lab.ip(2)}`, 'cap.fy.test', 'A']);
    const after = Date.now();
    expect(r.stdout).toContain('10.9.9.9');
    const recs = capture.take();
    const id = digId(r.stdout);
    const [q] = at(recs, id, false);
    const [a] = at(recs, id, true);
    expect(q).toMatchObject({ transport: 'udp', outgoing: false, dst: lab.ip(2), dport: 53, dns: { qname: 'cap.fy.test', qtype: 'A' } });
    expect(a).toMatchObject({ transport: 'udp', outgoing: true, src: lab.ip(2), sport: 53, dns: { rcode: 0, answers: 1 } });
    expect(q!.ts).toBeGreaterThanOrEqual(before - 1);
    expect(a!.ts).toBeGreaterThanOrEqual(q!.ts);
    expect(a!.ts).toBeLessThanOrEqual(after + 1);
  });

  it('reassembles DNS over TCP', async () => {
    capture.take();
    const r = await dig([`@${lab.ip(2)}`, '+tcp', 'cap.fy.test', 'AAAA']);
    expect(r.code, r.stderr).toBe(0);
    const recs = capture.take();
    const id = digId(r.stdout);
    expect(at(recs, id, false)).toMatchObject([{ transport: 'tcp', dport: 53, dns: { qname: 'cap.fy.test', qtype: 'AAAA' } }]);
    expect(at(recs, id, true)).toMatchObject([{ transport: 'tcp', sport: 53 }]);
    expect(recs.some((x) => x.tcpFlag === 'syn')).toBe(true);
  });

  it('sees a query to an address where nothing listens, and the ICMP port unreachable it gets', async () => {
    capture.take();
    const r = await dig([`@${closed}`, 'cap.fy.test', 'A']);
    expect(r.stdout + r.stderr).toMatch(/refused|no servers|timed out/i);
    const recs = capture.take();
    expect(recs.filter((x) => x.dns && !x.dns.qr && x.dst === closed).length).toBeGreaterThanOrEqual(1);
    expect(recs.find((x) => x.transport === 'icmp')).toMatchObject({ outgoing: true, icmp: { dst: closed, dport: 53 } });
  });

  it('keeps other ports out (kernel filter)', async () => {
    capture.take();
    await dig([`@${lab.ip(2)}`, '-p', '5353', '+time=1', 'cap.fy.test', 'A']);
    const recs = capture.take();
    expect(recs.filter((x) => x.transport !== 'icmp')).toEqual([]);
    expect(capture.stats.overflow).toBe(0);
  });
});
