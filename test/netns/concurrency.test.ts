// 20 create processes at once: the lock must hand out 20 distinct addresses and 20 valid records.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';

describe.skipIf(!isRoot)('concurrent creates', () => {
  const lab = new Lab();
  afterAll(async () => {
    expect(await lab.destroy()).toEqual([]);
  });

  it('20 parallel creates get 20 distinct addresses and valid records; 20 parallel rms leave nothing', async () => {
    const names = Array.from({ length: 20 }, (_, i) => lab.name(`c${i}`));
    const results = await Promise.all(names.map((n) => lab.create(n, ['--json'])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const records = results.map((r) => JSON.parse(r.stdout));
    const addresses = records.map((r) => r.address);
    expect(new Set(addresses).size).toBe(20);
    for (const a of addresses) expect(a.startsWith(`${lab.subnetBase}.`)).toBe(true);
    // The records on disk agree with what create printed, and every reservation names its owner.
    for (const rec of records) {
      const onDisk = JSON.parse(readFileSync(lab.paths.record(rec.name), 'utf8'));
      expect(onDisk).toEqual(rec);
      expect(readFileSync(lab.paths.ipFile('tsnet', rec.address), 'utf8').trim()).toBe(rec.name);
    }
    const ls = JSON.parse((await lab.cli(['ls', '--json'])).stdout);
    expect(ls.map((c: { name: string }) => c.name).sort()).toEqual([...names].sort());
    expect(ls.every((c: { status: string }) => c.status === 'running')).toBe(true);

    const removed = await Promise.all(names.map((n) => lab.cli(['rm', n])));
    for (const r of removed) expect(r.code, r.stderr).toBe(0);
    expect(lab.leftovers()).toEqual([]);
  });
});
