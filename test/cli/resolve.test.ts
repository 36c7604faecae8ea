// tsnet resolve through the built CLI: simulated runs, JSON shape, bad input.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, run } from '../support/lab.js';

const dir = mkdtempSync('/tmp/tsnet-resolve-');
const rc = join(dir, 'resolv.conf');
writeFileSync(rc, 'nameserver 10.0.0.1\nnameserver 10.0.0.2\noptions timeout:2\nnot a keyword line\n');
const hosts = join(dir, 'hosts');
writeFileSync(hosts, '127.0.0.1 localhost\n10.7.7.7 pinned.example\n');
const scenario = JSON.stringify({ servers: { '10.0.0.1': 'blackhole', '10.0.0.2': 'answer' }, zone: ['db.example=A:10.1.2.3'] });
const tsnet = (...args: string[]) => run(process.execPath, [CLI, 'resolve', ...args]);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tsnet resolve (simulated network)', () => {
  it('prints the documented trace shape with --json', async () => {
    const r = await tsnet('db.example', '--mode', 'glibc', '--resolv-conf', rc, '--hosts', hosts, '--simulate', scenario, '--json');
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(Object.keys(t).sort()).toEqual(['elapsed_ms', 'family', 'mode', 'name', 'queries', 'result', 'warnings']);
    expect(t).toMatchObject({ mode: 'glibc', name: 'db.example', family: 'any', result: { addresses: ['10.1.2.3'], error: null } });
    expect(t.elapsed_ms).toBeCloseTo(2000.2, 1); // timeout:2 on the blackholed first server
    expect(t.queries[0]).toEqual({ t_ms: 0, server: '10.0.0.1', transport: 'udp', qname: 'db.example', qtype: 'A', outcome: 'timeout', rtt_ms: null });
    expect(t.warnings.join()).toMatch(/line 4: unknown keyword "not"; glibc ignores it/);
  });

  it('prints a readable timeline, and exits 1 when the name does not resolve', async () => {
    const ok = await tsnet('db.example', '--mode', 'glibc', '--resolv-conf', rc, '--hosts', hosts, '--simulate', scenario);
    expect(ok.stdout).toMatch(/^glibc: db\.example → 10\.1\.2\.3 in 2\.000 s$/m);
    expect(ok.stdout).toMatch(/2000\.0 +10\.0\.0\.2 +udp +A db\.example +answer/);
    const bad = await tsnet('nope.example', '--mode', 'glibc', '--resolv-conf', rc, '--hosts', hosts, '--simulate', scenario);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/failed with EAI_NONAME/);
  });

  it('answers from the hosts file without sending anything', async () => {
    const r = await tsnet('pinned.example', '--mode', 'glibc', '--resolv-conf', rc, '--hosts', hosts, '--simulate', scenario, '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ result: { addresses: ['10.7.7.7'] }, queries: [], elapsed_ms: 0 });
  });

  it('runs several lookups in one process with --repeat', async () => {
    const r = await tsnet('db.example', '--mode', 'glibc', '--resolv-conf', rc, '--hosts', hosts, '--simulate', scenario, '--repeat', '3', '--json');
    const traces = JSON.parse(r.stdout);
    expect(traces).toHaveLength(3);
  });

  it.each([
    [['x', '--mode', 'bind9'], /unknown --mode "bind9": use one of glibc/],
    [['a..b', '--mode', 'glibc'], /invalid name "a\.\.b": empty label/],
    [[`${'a'.repeat(64)}.example`, '--mode', 'glibc'], /a label is longer than 63 characters/],
    [['x', '--mode', 'glibc', '--resolv-conf', '/nonexistent/resolv.conf'], /cannot read resolv-conf \/nonexistent\/resolv\.conf: ENOENT/],
    [['x', '--mode', 'glibc', '--env', 'RES_OPTIONS'], /invalid --env "RES_OPTIONS": expected KEY=VALUE/],
    [['x', '--mode', 'glibc', '--simulate', '{"servers": {"10.0.0.1": "sometimes"}}'], /unknown behaviour "sometimes"/],
    [['x', '--mode', 'glibc', '--in', 'a', '--netns', '/run/netns/x'], /--in and --netns both name a network/],
  ])('refuses bad input %j with exit 2 and one line', async (args, message) => {
    const r = await tsnet(...args);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.code).toBe(2);
  });
});
