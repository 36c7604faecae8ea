// readFileInRoot on a directory tree made here: links are resolved inside the given root, never
// above it, the way the process whose root it is would see them (RESOLVE_IN_ROOT).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, MAX_SYMLINKS, readFileInRoot, resolveInRoot } from './in-root.js';

const base = mkdtempSync(join(tmpdir(), 'tsnet-inroot-unit-'));
const root = join(base, 'root');
const put = (path: string, text: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};
const link = (path: string, to: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(to, join(root, path));
};

put('/etc/real', 'inside\n');
put('/run/x', 'run-x\n');
writeFileSync(join(base, 'outside'), 'OUTSIDE\n');
link('/etc/abs', '/run/x');
link('/etc/up', '../run/x');
link('/etc/escape', '../../outside'); // from the host: base/outside
link('/etc/far', '../../../../../../../etc/real');
link('/etc/host-abs', join(base, 'outside')); // an absolute host path: inside, it does not exist
link('/etc/dir', '/run');
link('/etc/via-dir', 'dir/x');
link('/etc/dotdot-after-link', 'dir/../etc/real'); // dir is /run, its .. is /
link('/etc/chain1', 'chain2');
link('/etc/chain2', '/etc/chain3');
link('/etc/chain3', './real');
link('/etc/loop', 'loop');
link('/etc/dangling', '/nowhere');
mkdirSync(join(root, 'etc', 'subdir'));

afterAll(() => rmSync(base, { recursive: true, force: true }));

const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
  return 'no error';
};

describe('readFileInRoot: links resolved inside the root', () => {
  it.each([
    ['/etc/real', 'inside\n'],
    ['etc/real', 'inside\n'],
    ['/etc/abs', 'run-x\n'],
    ['/etc/up', 'run-x\n'],
    ['/etc/far', 'inside\n'],
    ['/../../etc/real', 'inside\n'],
    ['/etc/via-dir', 'run-x\n'],
    ['/etc/dotdot-after-link', 'inside\n'],
    ['/etc/chain1', 'inside\n'],
    ['/etc/./subdir/../real', 'inside\n'],
  ])('%s → %j', (path, text) => {
    expect(readFileInRoot(root, path)).toBe(text);
  });

  it('".." at the root stays at the root: a link up and out reads the root\'s file of that name, not the host\'s', () => {
    put('/outside', 'the root\'s own\n');
    expect(readFileInRoot(root, '/etc/escape')).toBe('the root\'s own\n');
    rmSync(join(root, 'outside'));
    expect(code(() => readFileInRoot(root, '/etc/escape'))).toBe('ENOENT');
  });

  it('an absolute link to a host path that exists only on the host is missing inside', () => {
    expect(code(() => readFileInRoot(root, '/etc/host-abs'))).toBe('ENOENT');
  });

  it('resolveInRoot names the host path with no link left in it', () => {
    expect(resolveInRoot(root, '/etc/dotdot-after-link').path).toBe(join(root, 'etc/real'));
    expect(resolveInRoot(root, '/').path).toBe(root);
  });

  it('errors carry the kernel\'s codes: ENOENT, ENOTDIR, ELOOP; not a regular file: ENOTREG', () => {
    expect(code(() => readFileInRoot(root, '/etc/dangling'))).toBe('ENOENT');
    expect(code(() => readFileInRoot(root, '/etc/real/x'))).toBe('ENOTDIR');
    expect(code(() => readFileInRoot(root, '/etc/real/'))).toBe('ENOTDIR');
    expect(code(() => readFileInRoot(root, '/etc/loop'))).toBe('ELOOP');
    expect(code(() => readFileInRoot(root, '/etc/subdir'))).toBe('ENOTREG');
    execFileSync('mkfifo', [join(root, 'etc', 'fifo')]);
    expect(code(() => readFileInRoot(root, '/etc/fifo'))).toBe('ENOTREG');
  });

  it(`follows at most ${MAX_SYMLINKS} links in one lookup, like the kernel`, () => {
    // l0 → l1 → ... → lN → real: N+1 links
    const chain = (n: number) => {
      const dir = join(root, `chain${n}`);
      mkdirSync(dir);
      for (let i = 0; i < n; i++) symlinkSync(`l${i + 1}`, join(dir, `l${i}`));
      symlinkSync('/etc/real', join(dir, `l${n}`));
      return `/chain${n}/l0`;
    };
    expect(readFileInRoot(root, chain(MAX_SYMLINKS - 1))).toBe('inside\n');
    expect(code(() => readFileInRoot(root, chain(MAX_SYMLINKS)))).toBe('ELOOP');
  });

  it(`refuses a file above ${MAX_FILE_BYTES} bytes`, () => {
    put('/big', 'x'.repeat(MAX_FILE_BYTES + 1));
    expect(code(() => readFileInRoot(root, '/big'))).toBe('EFBIG');
    put('/big', 'x'.repeat(MAX_FILE_BYTES));
    expect(readFileInRoot(root, '/big')).toHaveLength(MAX_FILE_BYTES);
  });
});
