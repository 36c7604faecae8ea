// tsnet demo through the built CLI, as `npm run demo` runs it: every story diagnosed with its
// cause first, exit 0, and nothing of the lab left behind (containers, namespaces, links, the
// fake upstream, the state root).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, isRoot, run } from '../support/lab.js';

const demoRoots = () => readdirSync('/tmp').filter((f) => f.startsWith('tsnet-demo-'));
const demoNamespaces = () => (execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).match(/^tsnet-demo\w+-\S+/gm) ?? []);
const demoProcesses = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('fake-dns') && l.includes('tsnet-demo-'));

describe.skipIf(!isRoot)('tsnet demo', () => {
  it('shows each classic stall with its cause first, exits 0 and leaves nothing behind', async () => {
    const before = { roots: demoRoots(), ns: demoNamespaces() };
    const r = await run(process.execPath, [CLI, 'demo']);
    expect(r.code, r.stderr).toBe(0);
    // each story's first finding, in the order the demo tells them
    const firsts = r.stdout.split('\n=== ').slice(1).map((story) => /\n {2}1\. \[(\w+)\] ([^\n]*)/.exec(story)?.slice(1, 3).join(' ') ?? '');
    expect(firsts[1]).toMatch(/^error nameserver \S+ never answers/);
    expect(firsts[2]).toMatch(/^error AAAA queries get no reply while A queries are answered/);
    expect(firsts[3]).toMatch(/^error the second of two queries sent together to \S+ is lost .* conntrack race/);
    expect(firsts[4]).toMatch(/eventlet/);
    expect(r.stdout).toMatch(/glibc waits 2\.0\d s on it/); // the pod's search walk: two lost queries, then single-request-reopen
    expect(demoRoots()).toEqual(before.roots);
    expect(demoNamespaces()).toEqual(before.ns);
    expect(demoProcesses()).toEqual([]);
  }, 180_000);
});
