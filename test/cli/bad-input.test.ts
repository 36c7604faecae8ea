// Bad input: one line on stderr naming the problem, exit 2, and no change to any state.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';

/** Everything observable that a create could change: files under the root, links, netns, mounts. */
function snapshot(lab: Lab): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    // the stub daemon's runtime files (status, query log) change on their own
    if (!existsSync(dir) || dir === lab.paths.stubDir) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      // ns handles are nsfs bind mounts: compare their identity, not their (unreadable) content.
      else files.push(`${p}:${p.includes('/ns/') ? statSync(p).ino : e.name === 'lock' ? '' : readFileSync(p, 'utf8')}`);
    }
  };
  walk(lab.root);
  // Kernel objects of this lab only: other test files run beside this one.
  const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((l) => lab.paths.isOurVeth(l) || lab.paths.isOurBridge(l));
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`tsnet-${lab.prefix}`)) : [];
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(lab.root) || m.startsWith(`/run/netns/tsnet-${lab.prefix}`));
  return [...files.sort(), ...links.sort(), ...netns.sort(), ...mounts.sort()];
}

describe.skipIf(!isRoot)('bad input is refused with one line, exit 2 and no state change', () => {
  const lab = new Lab();
  const existing = lab.name('exists');
  const otherSubnet = `10.${lab.subnetBase.split('.')[1]}.${(Number(lab.subnetBase.split('.')[2]) + 1) % 256}.0/24`;

  beforeAll(async () => {
    const r = await lab.create(existing);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    expect((await lab.cli(['rm', existing])).code).toBe(0);
    expect(await lab.destroy()).toEqual([]);
  });

  const cases: Array<[string, () => string[], RegExp]> = [
    ['a name with a path', () => ['create', '../x'], /invalid container name "\.\.\/x"/],
    ['an empty name', () => ['create', ''], /invalid container name ""/],
    ['a 64-character name', () => ['create', 'a'.repeat(64)], /invalid container name "a{64}": use 1-63/],
    ['a name with spaces', () => ['create', 'has space'], /invalid container name "has space"/],
    ['a duplicate name', () => ['create', existing, '--dns', '127.0.0.1', '--dns-mode', 'direct'], /container ".*exists" already exists.*tsnet rm/],
    ['a malformed --ip', () => ['create', lab.name('x'), '--ip', '10.1.2.300'], /invalid --ip address "10\.1\.2\.300"/],
    ['an --ip outside the subnet', () => ['create', lab.name('x'), '--ip', '192.0.2.200', '--dns', '127.0.0.1', '--dns-mode', 'direct'], /--ip 192\.0\.2\.200 is not a free host address of network "tsnet"/],
    ['the gateway as --ip', () => ['create', lab.name('x'), '--ip', lab.ip(1), '--dns', '127.0.0.1', '--dns-mode', 'direct'], /is not a free host address/],
    ['an --ip that is taken', () => ['create', lab.name('x'), '--ip', lab.ip(2), '--dns', '127.0.0.1', '--dns-mode', 'direct'], /--ip .* is already taken by container ".*exists"/],
    ['an unknown --dns-option', () => ['create', lab.name('x'), '--dns-option', 'ndotz:1'], /unknown --dns-option "ndotz:1": use ndots:N, timeout:N, attempts:N, rotate/],
    ['a --dns-option without its number', () => ['create', lab.name('x'), '--dns-option', 'ndots:x'], /invalid --dns-option "ndots:x"/],
    ['an --add-host without address', () => ['create', lab.name('x'), '--add-host', 'db'], /invalid --add-host "db": expected NAME:IP/],
    ['an --add-host with a bad address', () => ['create', lab.name('x'), '--add-host', 'db:10.0.0'], /invalid --add-host "db:10\.0\.0"/],
    ['an unknown --dns-mode', () => ['create', lab.name('x'), '--dns-mode', 'bind'], /unknown --dns-mode "bind": use one of glibc, musl, direct/],
    ['a bad --dns', () => ['create', lab.name('x'), '--dns', 'dns.example'], /invalid --dns "dns\.example"/],
    ['a subnet with host bits', () => ['create', lab.name('x'), '--network', 'other', '--subnet', '10.9.9.1/24'], /did you mean 10\.9\.9\.0\/24/],
    ['another --subnet for an existing network', () => ['create', lab.name('x'), '--subnet', otherSubnet], /network "tsnet" already exists with subnet/],
    ['a subnet overlapping the host', () => ['create', lab.name('x'), '--network', `${lab.prefix}-ovl`, '--subnet', '192.0.2.0/25', '--dns', '127.0.0.1', '--dns-mode', 'direct'], /overlaps a network the host already uses/],
    ['an unknown nsswitch source', () => ['create', lab.name('x'), '--nsswitch', 'files dnz'], /unknown nsswitch hosts source "dnz"/],
    ['a bad hostname', () => ['create', lab.name('x'), '--hostname', '-bad-'], /invalid hostname "-bad-"/],
    ['exec of an unknown container', () => ['exec', lab.name('nope'), '--', 'true'], /no such container/],
    ['rm of an unknown container', () => ['rm', lab.name('nope')], /no such container/],
    ['inspect of an unknown container', () => ['inspect', lab.name('nope')], /no such container/],
    ['an unknown option', () => ['create', '--colour'], /unknown option '--colour'/],
    ['an unknown command', () => ['frobnicate'], /unknown command 'frobnicate'/],
    ['trace without a target', () => ['trace', '--duration', '1'], /trace needs a target or --pid/],
    ['trace with a target and --pid', () => ['trace', existing, '--pid', '1'], /trace --pid watches that process/],
    ['trace with a bad --duration', () => ['trace', existing, '--duration', '1e3'], /invalid --duration "1e3"/],
    ['trace with a zero --duration', () => ['trace', existing, '--duration', '0'], /invalid --duration "0"/],
    ['trace with a bad --port', () => ['trace', existing, '--port', '65536', '--duration', '1'], /invalid --port "65536"/],
    ['trace with a bad --max-records', () => ['trace', existing, '--max-records', '-5', '--duration', '1'], /invalid --max-records "-5"/],
    ['trace with a bad --pid', () => ['trace', '--pid', '1x', '--duration', '1'], /invalid --pid "1x"/],
    ['trace with no way to stop', () => ['trace', existing], /needs --duration when not run from a terminal/],
  ];

  it.each(cases)('refuses %s', async (_, args, message) => {
    const before = snapshot(lab);
    const r = await lab.cli(args());
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tsnet: /);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(snapshot(lab)).toEqual(before);
  });

  it('tells a non-root user how to run it, and changes nothing', async () => {
    const before = snapshot(lab);
    for (const args of [['create', lab.name('x')], ['rm', existing], ['prune']]) {
      const r = await lab.cli(args, { asUser: 65534 });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/needs root .*run it as root: sudo tsnet/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect(snapshot(lab)).toEqual(before);
  });
});
