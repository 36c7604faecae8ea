// The state root and its records are input too. A record whose kernel names and paths were edited
// must not steer rm or prune at objects that are not the container's own (a link, a file); a
// state root that is a symlink, not root's, or writable by others is refused before anything is
// read or written in it.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab, isRoot, linkExists } from '../support/lab.js';

describe.skipIf(!isRoot)('tampered records', () => {
  const lab = new Lab();
  // A link and a file of someone else's that an edited record points at.
  const dummy = `${lab.prefix}dmy`;
  const victimDir = `${lab.root}-victim`;
  const victim = join(victimDir, 'keep');

  afterAll(async () => {
    const left = await lab.destroy();
    if (linkExists(dummy)) execFileSync('ip', ['link', 'del', dummy]);
    rmSync(victimDir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  it('rm removes the container\'s own objects, never the link and files an edited record names', async () => {
    execFileSync('ip', ['link', 'add', dummy, 'type', 'bridge']);
    mkdirSync(victimDir, { recursive: true });
    writeFileSync(victim, 'user data\n');
    const name = lab.name('edited');
    const r = await lab.create(name);
    expect(r.code, r.stderr).toBe(0);
    const file = lab.paths.record(name);
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    rec.hostVeth = dummy;
    rec.namespaces = { net: victim, uts: victim, ipNetns: `../../${victimDir}/keep` };
    rec.files = { resolvConf: victim, hosts: victim, nsswitch: victim, hostname: victim };
    writeFileSync(file, JSON.stringify(rec));

    const rm = await lab.cli(['rm', name]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(linkExists(dummy)).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('user data\n');
    expect(lab.leftovers()).toEqual([]);
  });

  it('a record that names another container is not that container', async () => {
    const [a, b] = [lab.name('a'), lab.name('b')];
    for (const n of [a, b]) expect((await lab.create(n)).code).toBe(0);
    const rec = JSON.parse(readFileSync(lab.paths.record(a), 'utf8'));
    rec.name = b;
    writeFileSync(lab.paths.record(a), JSON.stringify(rec));
    const inspect = await lab.cli(['inspect', a]);
    expect(inspect.code).not.toBe(0);
    expect(inspect.stderr).toMatch(/names another container/);
    // b is untouched by anything done to a
    const rm = await lab.cli(['rm', a]);
    expect(rm.code, rm.stderr).toBe(0);
    const ls = await lab.cli(['ls', '--json']);
    expect(JSON.parse(ls.stdout)).toEqual([expect.objectContaining({ name: b, status: 'running' })]);
    expect((await lab.cli(['rm', b])).code).toBe(0);
    expect(lab.leftovers()).toEqual([]);
  });
});

describe.skipIf(!isRoot)('an untrusted state root', () => {
  const base = `/tmp/tsnet-test-untrusted-${process.pid}`;
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const cases: Array<[string, (root: string) => void, RegExp]> = [
    ['a symlink', (root) => { mkdirSync(`${root}-target`); symlinkSync(`${root}-target`, root); }, /is a symlink/],
    ['owned by another user', (root) => { mkdirSync(root); chownSync(root, 65534, 65534); }, /owned by uid 65534/],
    ['writable by group or others', (root) => { mkdirSync(root); chmodSync(root, 0o777); }, /writable by group or others/],
    ['not a directory', (root) => writeFileSync(root, ''), /not a directory/],
  ];

  it.each(cases)('a root that is %s is refused by every command, nothing is written in it', async (_, plant, message) => {
    mkdirSync(base, { recursive: true });
    const root = join(base, _.replace(/\W+/g, '-'));
    plant(root);
    const lab = new Lab();
    for (const argv of [['ls'], ['create', lab.name('c'), '--subnet', lab.subnet, '--dns-mode', 'direct', '--dns', '127.0.0.1'], ['prune'], ['rm', 'x'], ['stub', 'status']]) {
      // lab.cli puts its own --root first; the later one wins.
      const r = await lab.cli(['--root', root, ...argv]);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const target = existsSync(`${root}-target`) ? `${root}-target` : root;
    if (statSync(target).isDirectory()) {
      expect(execFileSync('find', [target, '-mindepth', '1'], { encoding: 'utf8' })).toBe('');
    }
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toContain(lab.prefix);
  });
});
