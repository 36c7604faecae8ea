// The CLI's loader (dist/tsnet.js): which command line gets which V8 code cache, and the caches at
// work on a copy of the built CLI — written after a run of a command, used (left as they are) when
// they match, replaced when V8 rejects them; the CLI answers the same in every case. The cache's
// trust rules (owner, mode, FIFO, read-only directory) are the shared code-cache.ts's, proven on the
// CNI plugin's loader (cni-loader.test.ts).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHED_COMMANDS, cacheNameOf, commandOf } from '../../src/cli/cached-commands.js';
import { CLI, isRoot, run } from '../support/lab.js';

const DIST = resolve(import.meta.dirname, '../../dist');

describe('which command line gets which code cache', () => {
  it('every command of the CLI, and nothing else', async () => {
    const r = await run(process.execPath, [CLI, '--help']);
    const listed = r.stdout.slice(r.stdout.indexOf('Commands:')).split('\n').slice(1).map((l) => /^ {2}([a-z-]+)/.exec(l)?.[1]).filter((c) => c !== undefined && c !== 'help');
    expect([...CACHED_COMMANDS].sort()).toEqual(listed.sort());
  });

  it('the command past the global options; no cache for anything else', () => {
    expect(commandOf(['--root', '/tmp/r', 'create', 'web'])).toBe('create');
    expect(commandOf(['--log-level', 'debug', '--root=/tmp/ls', 'ls'])).toBe('ls');
    expect(commandOf(['--root', 'ls', 'inspect', 'x'])).toBe('inspect');
    expect(commandOf(['--help'])).toBeUndefined();
    expect(commandOf(['../../etc/passwd'])).toBeUndefined();
    expect(commandOf(['nosuch', 'ls'])).toBeUndefined();
    expect(commandOf([])).toBeUndefined();
  });

  it('none for help; one of its own under V8 flags (V8 rejects a cache made under other flags)', () => {
    expect(cacheNameOf(['create', 'web'])).toBe('create');
    expect(cacheNameOf(['create', '--help'])).toBeUndefined();
    expect(cacheNameOf(['-h'])).toBeUndefined();
    const daemon = cacheNameOf(['stub', 'daemon'], ['--max-semi-space-size=2', '--max-old-space-size=256']);
    expect(daemon).toMatch(/^stub-[0-9a-f]{1,8}$/);
    expect(cacheNameOf(['stub', 'status'], ['--max-old-space-size=512'])).not.toBe(daemon);
    expect(cacheNameOf(['stub', 'status'])).toBe('stub');
  });
});

// root: the caches are written only by the bundle's owner
describe.skipIf(!isRoot)('the CLI loader and its code cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-test-cli-loader-'));
  const root = mkdtempSync(join(tmpdir(), 'tsnet-test-cli-loader-root-'));
  const cache = join(dir, 'tsnet-body.cjs.ls.v8cache');
  const ls = async () => {
    const r = await run(process.execPath, [join(dir, 'tsnet.js'), '--root', root, 'ls', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  };

  beforeAll(() => {
    expect(existsSync(CLI), 'build first: npm run build').toBe(true);
    for (const f of ['tsnet.js', 'tsnet-body.cjs', 'package.json']) copyFileSync(join(DIST, f), join(dir, f));
    symlinkSync(resolve(DIST, '../node_modules'), join(dir, 'node_modules'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('writes the command\'s cache after a run, naming the bundle and the Node, then uses it as it is', async () => {
    await ls();
    const text = readFileSync(cache);
    const st = statSync(join(dir, 'tsnet-body.cjs'), { bigint: true });
    expect(text.subarray(0, text.indexOf(10)).toString('latin1').split(' ')).toEqual(['tsnet-v8-code-cache', '2', `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`, process.version]);
    const before = statSync(cache).ino;
    await ls();
    expect(statSync(cache).ino).toBe(before);
  });

  it('replaces a cache V8 rejects, and answers the same', async () => {
    const good = readFileSync(cache);
    writeFileSync(cache, Buffer.concat([good.subarray(0, good.indexOf(10) + 1), Buffer.from('not a V8 code cache')]));
    const before = statSync(cache).ino;
    await ls();
    expect(statSync(cache).ino).not.toBe(before);
  });

  it('writes no cache for a command line that names no command', async () => {
    const r = await run(process.execPath, [join(dir, 'tsnet.js'), 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'nosuch'/);
    const r2 = await run(process.execPath, [join(dir, 'tsnet.js'), '--help']);
    expect(r2.code).toBe(0);
    expect(existsSync(join(dir, 'tsnet-body.cjs.nosuch.v8cache'))).toBe(false);
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe('{"type":"commonjs"}\n');
  });

  it('writes no cache after a run that failed (it compiled only a corner of the code)', async () => {
    const r = await run(process.execPath, [join(dir, 'tsnet.js'), '--root', root, 'inspect', 'nosuch']);
    expect(r.code).not.toBe(0);
    expect(existsSync(join(dir, 'tsnet-body.cjs.inspect.v8cache'))).toBe(false);
  });

  it('the body runs in strict mode, as the ES modules it is made of (its first statement says so)', () => {
    expect(readFileSync(join(dir, 'tsnet-body.cjs'), 'utf8').startsWith("'use strict';\n")).toBe(true);
  });

  it('the body holds no import() (a script run by node:vm has no loader for it: an import() of a builtin threw)', () => {
    expect(readFileSync(join(dir, 'tsnet-body.cjs'), 'utf8')).not.toMatch(/\bimport\(/);
  });
});
