// Runtime targets on a real Podman (Debian's podman 4.3 with runc): `tsnet diagnose podman:NAME`
// and `tsnet resolve --in podman:NAME` find the container's process through `podman container
// inspect` in a private store (--podman-root/--podman-runroot, CONTAINERS_CONF and
// CONTAINERS_STORAGE_CONF passed through), then read and enter it as --pid does. The container has
// no network (--network none) and its resolv.conf names 127.0.0.1, where the project's fake DNS
// server listens inside the container's own namespace: no packet leaves it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';
import { spawnCli, stopSpawned, waitFor, type Spawned } from '../support/upstream.js';
import { busyboxRootfs, missingEnginePackages, PodmanLab } from '../support/engines.js';
import type { Report } from '../../src/diagnose/diagnose.js';

describe.skipIf(!isRoot)('runtime targets: Podman', () => {
  const lab = new Lab();
  let podman: PodmanLab | undefined;
  const p = () => podman!;
  let rootfs = '';
  let web = '';
  let pid = 0;
  let fake: Spawned | undefined;
  let fakeLog = '';

  beforeAll(async () => {
    expect(missingEnginePackages(['podman', 'runc', 'conmon', 'busybox', 'nsenter']), 'install them: bash scripts/setup.sh').toEqual([]);
    podman = new PodmanLab();
    web = p().name('web');
    rootfs = busyboxRootfs(join(p().dir, 'rootfs'), {
      resolvConf: 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n',
      hosts: '127.0.0.1 localhost\n10.9.9.9 db.example\n',
      hostname: 'web\n',
    });
    pid = await p().run(web, rootfs, ['/bin/sleep', '300']);
    // The project's fake DNS server inside the container's namespace, on its loopback.
    fakeLog = join(p().dir, 'fake-dns.log');
    const ready = join(p().dir, 'fake-dns.ready');
    fake = spawnCli(lab, ['fake-dns', '--netns', `/proc/${pid}/ns/net`, '--listen', '127.0.0.1', '--zone', 'api.example=A:10.1.2.3', '--log', fakeLog, '--ready-file', ready]);
    await waitFor('fake-dns in the container', () => {
      try {
        return readFileSync(ready, 'utf8').includes('127.0.0.1:53');
      } catch {
        return false;
      }
    });
  });

  afterAll(async () => {
    if (fake) await stopSpawned(fake);
    const left = podman ? await podman.destroy() : [];
    expect(left).toEqual([]);
    expect(await lab.destroy()).toEqual([]);
  });

  const tsnet = (args: string[], env: Record<string, string> = {}) => lab.cli(args, { env: { ...p().env, ...env } });
  const queries = () => readFileSync(fakeLog, 'utf8').split('\n').filter(Boolean).length;
  const oneLine = (stderr: string) => {
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines, stderr).toHaveLength(1);
    return lines[0]!;
  };

  it('diagnose podman:NAME --no-live: the report names the Podman container and reads its files', async () => {
    const before = queries();
    const text = await tsnet(['diagnose', `podman:${web}`, 'db.example', '--no-live', ...p().tsnetOptions]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`tsnet diagnose: podman container ${web} (pid ${pid})`);
    const json = await tsnet(['diagnose', `podman:${web}`, 'db.example', '--no-live', '--json', ...p().tsnetOptions]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.target.label).toBe(`podman container ${web} (pid ${pid})`);
    expect(report.target.runtime).toMatchObject({ engine: 'podman', name: web, namespace: null });
    expect(report.target.runtime!.id).toMatch(/^[0-9a-f]{64}$/);
    expect(report.target.nameservers).toEqual(['127.0.0.1']);
    expect(report.target.options).toEqual(['timeout:1', 'attempts:1']);
    // db.example is in the container's /etc/hosts (the rootfs's own, --no-hosts)
    for (const row of report.rows) expect(row.traces[0]!.result.addresses, row.label).toEqual(['10.9.9.9']);
    expect(queries()).toBe(before); // --no-live sends nothing
  });

  it('diagnose podman:NAME live: every emulator asks the fake server in the container\'s namespace', async () => {
    const before = queries();
    const r = await tsnet(['diagnose', `podman:${web}`, 'api.example', '--modes', 'glibc,musl', '--json', ...p().tsnetOptions]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.live).toBe(true);
    for (const row of report.rows) expect(row.traces[0]!.result.addresses, row.label).toEqual(['10.1.2.3']);
    expect(queries()).toBeGreaterThan(before);
  });

  it('resolve --in podman:NAME runs in the container\'s namespace with its files', async () => {
    const before = queries();
    const r = await tsnet(['resolve', 'api.example', '--mode', 'musl', '--in', `podman:${web}`, '--json', ...p().tsnetOptions]);
    expect(r.code, r.stderr).toBe(0);
    const trace = JSON.parse(r.stdout);
    expect(trace.result.addresses).toEqual(['10.1.2.3']);
    expect(trace.queries.map((q: { server: string }) => q.server)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(queries()).toBe(before + 2); // A and AAAA, on the container's loopback
  });

  it('the store is the one the options name: without them, podman looks elsewhere and finds nothing (exit 3)', async () => {
    const r = await tsnet(['diagnose', `podman:${web}`, 'db.example', '--no-live']);
    expect(r.code, r.stderr).toBe(3);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`^tsnet: no podman container "${web}" \\(see \`podman ps -a\``));
  });

  it('a name podman does not know: exit 3, one line naming podman and the name', async () => {
    for (const args of [['diagnose', `podman:${p().name('nope')}`, 'db.example', '--no-live'], ['resolve', 'x.example', '--mode', 'glibc', '--in', `podman:${p().name('nope')}`]]) {
      const r = await tsnet([...args, ...p().tsnetOptions]);
      expect(r.code, r.stderr).toBe(3);
      expect(oneLine(r.stderr)).toMatch(new RegExp(`^tsnet: no podman container "${p().name('nope')}"`));
    }
  });

  it('a container that is not running: exit 3, its state named', async () => {
    const made = await p().podman(['create', '--name', p().name('idle'), '--network', 'none', '--rootfs', rootfs, '/bin/sleep', '300']);
    expect(made.code, made.stderr).toBe(0);
    const r = await tsnet(['diagnose', `podman:${p().name('idle')}`, 'db.example', '--no-live', ...p().tsnetOptions]);
    expect(r.code, r.stderr).toBe(3);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`^tsnet: podman container "${p().name('idle')}" is created, not running`));
  });

  it('podman not installed (not on PATH): exit 3, one line naming podman', async () => {
    const empty = join(p().dir, 'empty-path');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'README'), 'no programs here\n');
    for (const args of [['diagnose', `podman:${web}`, 'db.example', '--no-live'], ['resolve', 'x.example', '--mode', 'glibc', '--in', `podman:${web}`]]) {
      const r = await tsnet([...args, ...p().tsnetOptions], { PATH: empty });
      expect(r.code, r.stderr).toBe(3);
      expect(oneLine(r.stderr)).toMatch(/^tsnet: podman is not installed: no podman on PATH/);
    }
  });
});
