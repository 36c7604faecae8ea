// Runtime targets on a real containerd (Debian's containerd 1.6, started here from a private
// config: root, state and sockets in a temp dir). `tsnet diagnose containerd:[NS/]ID` finds the
// task's process through `ctr task ls`, in the namespace given (Kubernetes pods' containers are in
// k8s.io; here a dotted namespace of the test's own), else "default" or CONTAINERD_NAMESPACE. The
// containers run in ctr's own new network namespaces; the fake DNS server listens on their
// loopback: no packet leaves them.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';
import { spawnCli, stopSpawned, waitFor, type Spawned } from '../support/upstream.js';
import { busyboxRootfs, ContainerdLab, loUp, missingEnginePackages } from '../support/engines.js';
import type { Report } from '../../src/diagnose/diagnose.js';

describe.skipIf(!isRoot)('runtime targets: containerd', () => {
  const lab = new Lab();
  let containerd: ContainerdLab | undefined;
  const c = () => containerd!;
  const tag = randomBytes(3).toString('hex');
  /** a namespace of this test's own, dotted like Kubernetes' k8s.io */
  const ns = `tsnet-${tag}.k8s.io`;
  const web = `tsnet-${tag}-web`;
  const pod = `${'ab12'.repeat(16)}`; // a Kubernetes container id: 64 hex digits
  let webPid = 0;
  let podPid = 0;
  let fake: Spawned | undefined;
  let fakeLog = '';

  beforeAll(async () => {
    expect(missingEnginePackages(['containerd', 'ctr', 'runc', 'busybox', 'nsenter']), 'install them: bash scripts/setup.sh').toEqual([]);
    containerd = new ContainerdLab();
    await c().start();
    const rootfs = busyboxRootfs(join(c().dir, 'rootfs'), {
      resolvConf: 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n',
      hosts: '127.0.0.1 localhost\n10.9.9.9 db.example\n',
    });
    webPid = await c().run('default', web, rootfs, ['/bin/sleep', '300']);
    podPid = await c().run(ns, pod, rootfs, ['/bin/sleep', '300']);
    // The pod's namespace gets lo up and the project's fake DNS server on it.
    loUp(podPid);
    fakeLog = join(c().dir, 'fake-dns.log');
    const ready = join(c().dir, 'fake-dns.ready');
    fake = spawnCli(lab, ['fake-dns', '--netns', `/proc/${podPid}/ns/net`, '--listen', '127.0.0.1', '--zone', 'api.example=A:10.1.2.3', '--log', fakeLog, '--ready-file', ready]);
    await waitFor('fake-dns in the pod', () => {
      try {
        return readFileSync(ready, 'utf8').includes('127.0.0.1:53');
      } catch {
        return false;
      }
    });
  });

  afterAll(async () => {
    if (fake) await stopSpawned(fake);
    const left = containerd ? await containerd.destroy() : [];
    expect(left).toEqual([]);
    expect(await lab.destroy()).toEqual([]);
  });

  const tsnet = (args: string[], env: Record<string, string> = {}) => lab.cli(args, { env });
  const address = () => ['--containerd-address', c().address];
  const oneLine = (stderr: string) => {
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines, stderr).toHaveLength(1);
    return lines[0]!;
  };
  const queries = () => readFileSync(fakeLog, 'utf8').split('\n').filter(Boolean).length;

  it('diagnose containerd:ID (namespace "default") --no-live names the containerd container', async () => {
    const r = await tsnet(['diagnose', `containerd:${web}`, 'db.example', '--no-live', '--json', ...address()]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.target.label).toBe(`containerd container default/${web} (pid ${webPid})`);
    expect(report.target.runtime).toEqual({ engine: 'containerd', name: web, id: web, namespace: 'default' });
    expect(report.target.nameservers).toEqual(['127.0.0.1']);
    for (const row of report.rows) expect(row.traces[0]!.result.addresses, row.label).toEqual(['10.9.9.9']);
  });

  it('diagnose containerd:NAMESPACE/ID, and the same id is not found in another namespace (exit 3)', async () => {
    const r = await tsnet(['diagnose', `containerd:${ns}/${pod}`, 'db.example', '--no-live', ...address()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`tsnet diagnose: containerd container ${ns}/${pod} (pid ${podPid})`);
    const wrong = await tsnet(['diagnose', `containerd:${pod}`, 'db.example', '--no-live', ...address()]);
    expect(wrong.code, wrong.stderr).toBe(3);
    expect(oneLine(wrong.stderr)).toMatch(new RegExp(`^tsnet: no running containerd container "default/${pod}": containerd has no task "${pod}" in namespace "default"`));
  });

  it('CONTAINERD_ADDRESS and CONTAINERD_NAMESPACE pass through as ctr reads them', async () => {
    const r = await tsnet(['diagnose', `containerd:${pod}`, 'db.example', '--no-live'], { CONTAINERD_ADDRESS: c().address, CONTAINERD_NAMESPACE: ns });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`containerd container ${ns}/${pod} (pid ${podPid})`);
  });

  it('live: diagnose and resolve --in containerd:NS/ID ask the fake server on the pod\'s loopback', async () => {
    const before = queries();
    const d = await tsnet(['diagnose', `containerd:${ns}/${pod}`, 'api.example', '--modes', 'glibc', '--json', ...address()]);
    expect(d.code, d.stderr).toBe(0);
    expect((JSON.parse(d.stdout) as Report).rows.map((row) => row.traces[0]!.result.addresses)).toEqual([['10.1.2.3']]);
    const r = await tsnet(['resolve', 'api.example', '--mode', 'glibc', '--in', `containerd:${ns}/${pod}`, '--json', ...address()]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result.addresses).toEqual(['10.1.2.3']);
    expect(queries()).toBeGreaterThan(before);
  });

  it('a stopped task: exit 3, its state named', async () => {
    const idle = `tsnet-${tag}-idle`;
    const rootfs = join(c().dir, 'rootfs');
    await c().run('default', idle, rootfs, ['/bin/sleep', '300']);
    expect((await c().ctr('default', ['task', 'kill', '-s', 'SIGKILL', idle])).code).toBe(0);
    await waitFor('the task to stop', async () => new RegExp(`^${idle}\\s+\\d+\\s+STOPPED`, 'm').test((await c().ctr('default', ['task', 'ls'])).stdout));
    const r = await tsnet(['diagnose', `containerd:${idle}`, 'db.example', '--no-live', ...address()]);
    expect(r.code, r.stderr).toBe(3);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`^tsnet: containerd container "default/${idle}" is stopped, not running`));
  });

  it('containerd not running at the address, or ctr not installed: exit 3, one line each', async () => {
    const gone = await tsnet(['diagnose', `containerd:${web}`, 'db.example', '--no-live', '--containerd-address', join(c().dir, 'nope.sock')]);
    expect(gone.code, gone.stderr).toBe(3);
    expect(oneLine(gone.stderr)).toMatch(/^tsnet: containerd is not running at ".*\/nope\.sock": no such socket/);
    const empty = join(c().dir, 'empty-path');
    mkdirSync(empty, { recursive: true });
    const missing = await tsnet(['resolve', 'x.example', '--mode', 'glibc', '--in', `containerd:${web}`, ...address()], { PATH: empty });
    expect(missing.code, missing.stderr).toBe(3);
    expect(oneLine(missing.stderr)).toMatch(/^tsnet: containerd is not installed: no ctr on PATH/);
  });
});
