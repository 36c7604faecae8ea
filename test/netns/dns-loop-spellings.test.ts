// The stub resolver listens on every tsnet network's gateway: an upstream that is a gateway would
// make it forward queries to itself. create refuses one however the address is written — the
// IPv4-mapped IPv6 forms (::ffff:a.b.c.d, ::FFFF:hex, uncompressed) reach the same socket. No
// packet is sent: the lab's direct-mode container only makes the network, and nothing asks the
// one stub-mode container that is made.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';
import { destroyStubLab, stubDaemonPids } from '../support/upstream.js';

describe.skipIf(!isRoot)('create refuses a stub-mode upstream that is a tsnet gateway, however it is written', () => {
  const lab = new Lab();
  const gw = lab.ip(1);
  const [a, b, c, d] = gw.split('.').map(Number) as [number, number, number, number];
  const hex = (x: number, y: number) => ((x << 8) | y).toString(16);
  const spellings = [
    `::ffff:${gw}`,
    `::FFFF:${gw}`,
    `0:0:0:0:0:ffff:${gw}`,
    `::ffff:${hex(a, b)}:${hex(c, d)}`,
    `0000:0000:0000:0000:0000:FFFF:${hex(a, b).toUpperCase().padStart(4, '0')}:${hex(c, d).padStart(4, '0')}`,
  ];

  beforeAll(async () => {
    const r = await lab.create(lab.name('net'));
    if (r.code !== 0) throw new Error(`create: ${r.stderr}`);
  });

  afterAll(async () => {
    const { leftovers, daemons } = await destroyStubLab(lab);
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  let n = 0;
  for (const mode of ['glibc', 'musl']) {
    it.each(spellings)(`--dns-mode ${mode} --dns %s: refused as a DNS loop (exit 2), nothing made`, async (dns) => {
      const before = (await lab.cli(['ls', '--json'])).stdout;
      const name = lab.name(`loop${n++}`);
      const r = await lab.create(name, ['--dns-mode', mode, '--dns', lab.ip(200), '--dns', dns]);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/gateway of network "tsnet".*forward queries to itself/);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stdout).toBe('');
      expect(existsSync(lab.paths.containerDir(name))).toBe(false);
      expect((await lab.cli(['ls', '--json'])).stdout).toBe(before);
      expect(await stubDaemonPids(lab)).toEqual([]);
    });
  }

  it('an address that only looks alike passes the check (::ffff:0:<gw>, the SIIT form, is another address)', async () => {
    const name = lab.name('siit');
    const r = await lab.create(name, ['--dns-mode', 'glibc', '--dns', `::ffff:0:${gw}`]);
    expect(r.code, r.stderr).toBe(0);
    expect((await lab.cli(['rm', name])).code).toBe(0);
  });
});
