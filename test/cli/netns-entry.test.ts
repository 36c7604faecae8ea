// Every command that runs inside a network namespace given by path enters it through the one
// helper (src/ns/enter.ts): the same one-line errors and exit statuses for the same mistakes.
import { describe, expect, it } from 'vitest';
import { CLI, isRoot, run } from '../support/lab.js';

// Each command with everything else valid, so only --netns can be wrong. Nothing is bound or
// sent: entering the namespace comes before any socket.
const commands: Array<[string, (netns: string) => string[]]> = [
  ['resolve', (ns) => ['resolve', 'db.example', '--mode', 'glibc', '--resolv-conf', '/dev/null', '--hosts', '/dev/null', '--netns', ns]],
  ['fake-dns', (ns) => ['fake-dns', '--listen', '127.0.0.1:0', '--netns', ns]],
  ['stub serve', (ns) => ['stub', 'serve', '--listen', '127.0.0.1', '--upstream', '127.0.0.2', '--port', '53535', '--netns', ns]],
];

const tsnet = (args: string[], uid?: number) => run(process.execPath, [CLI, ...args], uid === undefined ? {} : { asUser: uid });

const oneLine = (stderr: string) => expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1);

describe.skipIf(!isRoot)('entering a network namespace by path', () => {
  it.each(commands)('%s: a missing file is bad input (exit 2)', async (_, args) => {
    const r = await tsnet(args('/nonexistent/netns'));
    expect(r.stderr).toMatch(/^tsnet: cannot open network namespace \/nonexistent\/netns: ENOENT \(pass a network namespace file such as \/run\/netns\/NAME/);
    oneLine(r.stderr);
    expect(r.code).toBe(2);
  });

  it.each(commands)('%s: a file that is not a namespace is bad input (exit 2)', async (_, args) => {
    const r = await tsnet(args('/etc/hostname'));
    expect(r.stderr).toMatch(/^tsnet: \/etc\/hostname is not a network namespace \(/);
    oneLine(r.stderr);
    expect(r.code).toBe(2);
  });

  it.each(commands)('%s: not root is refused with a hint (exit 2)', async (_, args) => {
    const r = await tsnet(args('/proc/1/ns/net'), 65534);
    expect(r.stderr).toMatch(/root/);
    oneLine(r.stderr);
    expect(r.code).toBe(2);
  });
});
