// Names that are paths. Every command that takes a container or network name must refuse `.`,
// `..`, `''`, `../x` and their kin before it touches the disk: `tsnet rm ..` once took the state
// root for a half-made container and deleted it. Files planted beside and above the container
// directories, and a running container, must survive every attempt.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';

describe.skipIf(!isRoot)('names that are paths', () => {
  const lab = new Lab();
  const keep = lab.name('keep');
  // "Above": a sibling of the state root, reachable as ../../<it> from the containers directory.
  const above = `${lab.root}-above`;
  const planted = [join(lab.root, 'x', 'keep'), join(lab.root, 'planted'), join(lab.root, 'networks-x', 'keep'), join(above, 'keep')];
  const BAD = ['.', '..', '', '../x', '../containers', 'x/..', './', '../planted', `../../${basename(above)}`, '-', 'a\nb'];

  beforeAll(async () => {
    const r = await lab.create(keep);
    expect(r.code, r.stderr).toBe(0);
    for (const f of planted) {
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, 'user data\n');
    }
  });

  afterAll(async () => {
    const left = await lab.destroy();
    rmSync(above, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  const commands: Array<[string, (n: string) => string[]]> = [
    ['rm', (n) => ['rm', n]],
    ['rm (several)', (n) => ['rm', n, n]],
    ['inspect', (n) => ['inspect', n]],
    ['exec', (n) => ['exec', n, '--', 'true']],
    ['diagnose', (n) => ['diagnose', n, '--no-live']],
    ['stub logs', (n) => ['stub', 'logs', n]],
    ['resolve --in', (n) => ['resolve', '--mode', 'glibc', '--in', n, 'example']],
    ['create', (n) => ['create', n, '--subnet', lab.subnet, '--dns-mode', 'direct', '--dns', '127.0.0.1']],
    ['create --network', (n) => ['create', lab.name('net'), '--network', n, '--subnet', lab.subnet, '--dns-mode', 'direct', '--dns', '127.0.0.1']],
  ];

  it.each(commands)('%s refuses every name that is a path, with one line and exit 2', async (_, argv) => {
    for (const bad of BAD) {
      const r = await lab.cli(argv(bad));
      expect(r.code, `${argv(bad).join(' ')}: ${r.stderr}`).toBe(2);
      // One line per refused name (rm reports each of several).
      const lines = r.stderr.trim().split('\n');
      expect(lines, `${argv(bad).join(' ')}`).toHaveLength(argv(bad).filter((a) => a === bad).length);
      for (const l of lines) expect(l, `${argv(bad).join(' ')}`).toMatch(/invalid (container|network) name/);
    }
    for (const f of planted) expect(readFileSync(f, 'utf8'), f).toBe('user data\n');
    const ls = await lab.cli(['ls', '--json']);
    expect(JSON.parse(ls.stdout)).toEqual([expect.objectContaining({ name: keep, status: 'running' })]);
    expect(existsSync(lab.paths.record(keep))).toBe(true);
    expect(existsSync(lab.paths.lockFile)).toBe(true);
  }, 120_000);
});
