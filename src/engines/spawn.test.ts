// runCli's bounds, with node itself as the engine's CLI: a deadline, a bound on output, a missing
// program, an exit status; and firstLine, the one line of an engine's stderr a message quotes.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnPath, firstLine, runCli } from './spawn.js';

const node = process.execPath;

describe('runCli', () => {
  it('returns the status and both outputs of a program that answers', () => {
    expect(runCli(node, ['-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)'])).toEqual({ kind: 'done', status: 3, stdout: 'out', stderr: 'err' });
  });

  it('passes every argument as one argument, never through a shell', () => {
    const r = runCli(node, ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '--', '$(id)', 'a b', ';true', '-x']);
    expect(r).toMatchObject({ kind: 'done', status: 0 });
    expect(JSON.parse((r as { stdout: string }).stdout)).toEqual(['$(id)', 'a b', ';true', '-x']);
  });

  it('kills a program past its deadline', () => {
    const started = Date.now();
    expect(runCli(node, ['-e', 'setTimeout(() => {}, 60000)'], { deadlineMs: 300 })).toEqual({ kind: 'timeout', ms: 300 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops reading past the output bound', () => {
    expect(runCli(node, ['-e', 'process.stdout.write("x".repeat(200000)); setTimeout(() => {}, 60000)'], { maxOutput: 65536 })).toEqual({ kind: 'too-much', bytes: 65536 });
  });

  it('a program that is not there', () => {
    expect(runCli('tsnet-no-such-engine-cli', ['inspect'])).toEqual({ kind: 'missing', code: 'ENOENT' });
  });

  it('a program killed by a signal', () => {
    expect(runCli(node, ['-e', 'process.stderr.write("dying\\n"); process.kill(process.pid, "SIGKILL")'])).toEqual({ kind: 'killed', signal: 'SIGKILL', stderr: 'dying\n' });
  });
});

describe('firstLine', () => {
  it('the first line that is not empty, trimmed', () => {
    expect(firstLine('\n\n  Error: no such container web  \nmore\n')).toBe('Error: no such container web');
    expect(firstLine('')).toBe('');
  });

  it('escapes control and bidi characters, and cuts a long line', () => {
    expect(firstLine('a\x1b[31mb\u202ec\r')).toBe('a\\u001b[31mb\\u202ec');
    expect(firstLine('x'.repeat(1000))).toBe(`${'x'.repeat(300)}…`);
  });
});

describe('findOnPath', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-onpath-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const put = (sub: string, mode: number) => {
    mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, sub, 'podman'), '#!/bin/sh\n');
    chmodSync(join(dir, sub, 'podman'), mode);
  };
  put('noexec', 0o644);
  put('exec', 0o755);
  mkdirSync(join(dir, 'isdir', 'podman'), { recursive: true });

  it('the first executable regular file along PATH', () => {
    expect(findOnPath('podman', [join(dir, 'none'), join(dir, 'isdir'), join(dir, 'noexec'), join(dir, 'exec')].join(':'))).toBe(join(dir, 'exec', 'podman'));
  });

  it('nothing when no entry has it; an empty entry is not "."', () => {
    expect(findOnPath('podman', `${join(dir, 'noexec')}::/nonexistent`)).toBeUndefined();
    expect(findOnPath('podman', '')).toBeUndefined();
  });
});
