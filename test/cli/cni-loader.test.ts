// The CNI plugin's loader (dist/cni-plugin.cjs) running the plugin in its own process, with V8 code
// caches, on a copy of the built plugin: a cache is written after a run, used (left as it is) when
// it matches, and ignored and replaced when it names another bundle file, is garbage V8 rejects, or
// could have been written by someone other than the bundle's owner. The plugin answers correctly
// in every case.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CNI_PLUGIN, isRoot, run } from '../support/lab.js';

const DIST = resolve(import.meta.dirname, '../../dist');

// root: the plugin is root's (chown, a read-only bind mount)
describe.skipIf(!isRoot)('the CNI plugin loader and its code cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-test-loader-'));
  const loader = join(dir, 'cni-plugin.cjs');
  const cache = join(dir, 'cni-plugin-body.cjs.VERSION.v8cache');
  const version = async () => {
    const r = await run(process.execPath, [loader], { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"0.4.0"}' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cniVersion: '0.4.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  };
  const inode = () => statSync(cache).ino;

  beforeAll(() => {
    expect(existsSync(CNI_PLUGIN), 'build first: npm run build').toBe(true);
    for (const f of ['cni-plugin.cjs', 'cni-plugin-body.cjs']) copyFileSync(join(DIST, f), join(dir, f));
    symlinkSync(resolve(DIST, '../node_modules'), join(dir, 'node_modules'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a cache after a run, naming the bundle and the Node, and then uses it as it is', async () => {
    await version();
    const text = readFileSync(cache);
    const header = text.subarray(0, text.indexOf(10)).toString('latin1').split(' ');
    const st = statSync(join(dir, 'cni-plugin-body.cjs'), { bigint: true });
    expect(header).toEqual(['tsnet-v8-code-cache', '2', `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`, process.version]);
    expect(statSync(cache).mode & 0o777).toBe(0o644);
    const before = inode();
    await version();
    expect(inode()).toBe(before); // accepted: not rewritten
  });

  it('replaces a cache that names another bundle, or that V8 rejects', async () => {
    const good = readFileSync(cache);
    const eol = good.indexOf(10);
    writeFileSync(cache, Buffer.concat([Buffer.from(good.subarray(0, eol).toString('latin1').replace(/ \d+:\d+:\d+:\d+ /, ' 1:2:3:4 ') + '\n'), good.subarray(eol + 1)]));
    let before = inode();
    await version();
    expect(inode()).not.toBe(before);
    writeFileSync(cache, Buffer.concat([good.subarray(0, eol + 1), Buffer.from('not a V8 code cache')]));
    before = inode();
    await version();
    expect(inode()).not.toBe(before);
  });

  it('ignores a cache others could have written, and a FIFO in its place, and replaces them', async () => {
    chmodSync(cache, 0o666);
    let before = inode();
    await version();
    expect(inode()).not.toBe(before);
    expect(statSync(cache).mode & 0o777).toBe(0o644);
    execFileSync('chown', ['65534', cache]);
    before = inode();
    await version();
    expect(inode()).not.toBe(before);
    expect(statSync(cache).uid).toBe(statSync(join(dir, 'cni-plugin-body.cjs')).uid);
    rmSync(cache);
    execFileSync('mkfifo', [cache]);
    const started = Date.now();
    await version();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(statSync(cache).isFile()).toBe(true);
  });

  it('runs without a cache where it cannot write one', async () => {
    rmSync(cache);
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    for (const f of ['cni-plugin.cjs', 'cni-plugin-body.cjs']) copyFileSync(join(dir, f), join(ro, f));
    symlinkSync(resolve(DIST, '../node_modules'), join(ro, 'node_modules'));
    execFileSync('mount', ['--bind', '-o', 'ro', ro, ro]);
    try {
      const r = await run(process.execPath, [join(ro, 'cni-plugin.cjs')], { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).cniVersion).toBe('1.0.0');
    } finally {
      execFileSync('umount', [ro]);
    }
  });
});
