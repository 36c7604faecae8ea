// Commands that run at the same time must not undo each other: prune during creates, rm of a
// container another process is still creating, and a create racing the rm of the last container
// (whose reload stops the stub).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab, isRoot, linkExists } from '../support/lab.js';
import { dig, destroyStubLab } from '../support/upstream.js';
import { processStart } from '../../src/state/store.js';

describe.skipIf(!isRoot)('races between commands', () => {
  const lab = new Lab();
  afterAll(async () => {
    const { leftovers, daemons } = await destroyStubLab(lab);
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  it('prune during 20 parallel creates takes nothing from them: every veth, address and record stays', async () => {
    const names = Array.from({ length: 20 }, (_, i) => lab.name(`p${i}`));
    let creating = true;
    const prunes: Array<{ code: number | null; stderr: string }> = [];
    const pruning = (async () => {
      while (creating) prunes.push(await lab.cli(['prune']));
    })();
    const results = await Promise.all(names.map((n) => lab.create(n, ['--json'])));
    creating = false;
    await pruning;
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(prunes.length).toBeGreaterThan(0);
    for (const p of prunes) expect(p.code, p.stderr).toBe(0);
    const records = results.map((r) => JSON.parse(r.stdout) as { name: string; address: string });
    expect(new Set(records.map((r) => r.address)).size).toBe(20);
    for (const rec of records) {
      expect(linkExists(lab.paths.hostVeth(rec.name)), `veth of ${rec.name}`).toBe(true);
      expect(readFileSync(lab.paths.ipFile('tsnet', rec.address), 'utf8').trim(), `reservation of ${rec.name}`).toBe(rec.name);
      expect(existsSync(lab.paths.ipNetnsHandle(rec.name)), `ip netns of ${rec.name}`).toBe(true);
    }
    // and one more prune afterwards finds nothing to do
    const last = await lab.cli(['prune', '--json']);
    expect(JSON.parse(last.stdout).removed).toEqual([]);
    const rm = await lab.cli(['rm', ...names]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(lab.leftovers()).toEqual([]);
  }, 180_000);

  it('creates that run while prune stands between its listing and its sweep keep their veths and addresses', async () => {
    const names = Array.from({ length: 5 }, (_, i) => lab.name(`s${i}`));
    // prune lists what is alive, then (held still here for 8 s) sweeps veths and reservations.
    const prune = lab.cli(['prune', '--json'], { env: { TSNET_STALL_AT: 'prune:listed:8000' } });
    await new Promise((r) => setTimeout(r, 1500));
    const results = await Promise.all(names.map((n) => lab.create(n, ['--json'])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const p = await prune;
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).removed).toEqual([]);
    for (const rec of results.map((r) => JSON.parse(r.stdout) as { name: string; address: string })) {
      expect(linkExists(lab.paths.hostVeth(rec.name)), `veth of ${rec.name}`).toBe(true);
      expect(readFileSync(lab.paths.ipFile('tsnet', rec.address), 'utf8').trim(), `reservation of ${rec.name}`).toBe(rec.name);
    }
    expect((await lab.cli(['rm', ...names])).code).toBe(0);
    expect(lab.leftovers()).toEqual([]);
  }, 60_000);

  it('rm refuses a container whose create is still running, and removes it once that process is gone', async () => {
    const name = lab.name('busy');
    expect((await lab.create(name)).code).toBe(0);
    // Stand-in for a create in progress: the record says "creating" by a live process.
    const owner = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const file = lab.paths.record(name);
      const rec = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(file, JSON.stringify({ ...rec, status: 'creating', owner: { pid: owner.pid, start: processStart(owner.pid!) } }));
      const rm = await lab.cli(['rm', name]);
      expect(rm.code, rm.stderr).toBe(2);
      expect(rm.stderr).toMatch(/is being created by process/);
      expect(existsSync(lab.paths.record(name))).toBe(true);
      expect(linkExists(lab.paths.hostVeth(name))).toBe(true);
    } finally {
      owner.kill('SIGKILL');
      await new Promise((r) => owner.once('exit', r));
    }
    const rm = await lab.cli(['rm', name]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(lab.leftovers()).toEqual([]);
  });

  it('a create racing the rm of the last stub-mode container is served by a stub', async () => {
    // Nothing is forwarded: only the containers' own names are asked, answered by the stub.
    const stubArgs = ['--dns-mode', 'glibc', '--dns', lab.ip(250)];
    for (let i = 0; i < 6; i++) {
      const [a, b] = [lab.name(`last${i}`), lab.name(`next${i}`)];
      const ra = await lab.create(a, stubArgs);
      expect(ra.code, ra.stderr).toBe(0);
      const [rm, rb] = await Promise.all([lab.cli(['rm', a]), lab.create(b, [...stubArgs, '--json'])]);
      expect(rm.code, rm.stderr).toBe(0);
      expect(rb.code, rb.stderr).toBe(0);
      const { address, gateway } = JSON.parse(rb.stdout) as { address: string; gateway: string };
      // No tsnet command in between: the stub that create left behind answers.
      const d = await dig(lab, b, ['+short', `@${gateway}`, b]);
      expect(d.stdout, `round ${i}: ${d.stderr}`).toBe(`${address}\n`);
      expect((await lab.cli(['rm', b])).code).toBe(0);
    }
  }, 180_000);
});
