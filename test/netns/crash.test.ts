// Crash safety: kill create (and rm) with SIGKILL at each step; prune must leave nothing behind,
// and the same name must be creatable again.
import { afterAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';
import { CRASH_POINTS } from '../../src/api/crash-points.js';

const CREATE_POINTS = CRASH_POINTS.filter((p) => p.startsWith('create:'));

describe.skipIf(!isRoot)('crash safety', () => {
  const lab = new Lab();
  afterAll(async () => {
    expect(await lab.destroy()).toEqual([]);
  });

  it.each(CREATE_POINTS)('a create killed at %s is cleaned by prune and can be made again', async (point) => {
    const name = lab.name(point.replace(':', '-'));
    const killed = await lab.create(name, [], { env: { TSNET_CRASH_AT: point } });
    expect(killed.signal).toBe('SIGKILL');
    if (point !== 'create:claimed') expect(lab.leftovers().length).toBeGreaterThan(0);

    const prune = await lab.cli(['prune', '--json']);
    expect(prune.code, prune.stderr).toBe(0);
    const report = JSON.parse(prune.stdout);
    expect(report.errors).toEqual([]);
    // A claim younger than the grace period might be a create in progress: prune leaves it, says so.
    if (point === 'create:claimed') expect(report.skipped.join()).toMatch(/create may be in progress/);
    else {
      expect(report.removed.some((r: string) => r.startsWith(`container ${name} (creating when process`))).toBe(true);
      expect(lab.leftovers()).toEqual([]);
    }

    // rm by name takes a claim that has no record yet, without waiting for prune's grace period.
    if (point === 'create:claimed') {
      const rm = await lab.cli(['rm', name]);
      expect(rm, rm.stderr).toMatchObject({ code: 0, stdout: `${name}\n` });
      expect(lab.leftovers()).toEqual([]);
    }
    const again = await lab.create(name);
    expect(again.code, again.stderr).toBe(0);
    expect((await lab.cli(['rm', name])).code).toBe(0);
    expect(lab.leftovers()).toEqual([]);
  });

  it.each(CRASH_POINTS.filter((p) => p.startsWith('rm:')))('an rm killed at %s is finished by prune', async (point) => {
    const name = lab.name(point.replace(':', '-'));
    expect((await lab.create(name)).code).toBe(0);
    const killed = await lab.cli(['rm', name], { env: { TSNET_CRASH_AT: point } });
    expect(killed.signal).toBe('SIGKILL');
    const prune = await lab.cli(['prune', '--json']);
    const report = JSON.parse(prune.stdout);
    expect(report.removed.some((r: string) => r.startsWith(`container ${name} (removing when process`))).toBe(true);
    expect(lab.leftovers()).toEqual([]);
  });

  it('prune leaves running containers alone and finds a veth whose record vanished', async () => {
    const keep = lab.name('keep');
    const lost = lab.name('lost');
    expect((await lab.create(keep)).code).toBe(0);
    expect((await lab.create(lost)).code).toBe(0);
    // Simulate state lost by hand: the record goes, the kernel objects stay.
    const { rmSync } = await import('node:fs');
    rmSync(lab.paths.record(lost));
    const prune = JSON.parse((await lab.cli(['prune', '--json'])).stdout);
    expect(prune.removed.join('\n')).toMatch(new RegExp(`container ${lost} \\(no record\\)`));
    const ls = JSON.parse((await lab.cli(['ls', '--json'])).stdout);
    expect(ls.map((c: { name: string }) => c.name)).toEqual([keep]);
    expect((await lab.cli(['exec', keep, '--', 'true'])).code).toBe(0);
    expect((await lab.cli(['rm', keep])).code).toBe(0);
    expect(lab.leftovers()).toEqual([]);
  });
});
