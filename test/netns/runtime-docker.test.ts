// Runtime targets on a real Docker: a private dockerd from Debian's docker.io (20.10) started here
// with no host networking (--iptables=false --ip-forward=false --ip-masq=false --bridge=none), vfs
// storage and every directory in a temp dir; the image is a `docker import` of a busybox-static
// root filesystem. `tsnet diagnose docker:NAME` and `resolve --in docker:NAME` find the process
// through `docker container inspect` (--docker-host, or DOCKER_HOST passed through). The container
// has --network none and the rootfs's resolv.conf (127.0.0.1) bind-mounted over Docker's, where the
// project's fake DNS server listens inside its namespace: no packet leaves it.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';
import { spawnCli, stopSpawned, waitFor, type Spawned } from '../support/upstream.js';
import { busyboxRootfs, DockerLab, missingEnginePackages } from '../support/engines.js';
import type { Report } from '../../src/diagnose/diagnose.js';

describe.skipIf(!isRoot)('runtime targets: Docker', () => {
  const lab = new Lab();
  let docker: DockerLab | undefined;
  const d = () => docker!;
  let web = '';
  let pid = 0;
  let image = '';
  let fake: Spawned | undefined;
  let fakeLog = '';

  beforeAll(async () => {
    expect(missingEnginePackages(['dockerd', 'docker', 'containerd', 'runc', 'busybox']), 'install them: bash scripts/setup.sh').toEqual([]);
    docker = new DockerLab();
    await d().start();
    const rootfs = busyboxRootfs(join(d().dir, 'rootfs'), {
      resolvConf: 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n',
      hosts: '127.0.0.1 localhost\n10.9.9.9 db.example\n',
    });
    image = `${d().prefix}-busybox:1`;
    await d().importRootfs(rootfs, image);
    web = d().name('web');
    pid = await d().run(web, image, join(rootfs, 'etc', 'resolv.conf'), ['/bin/sleep', '300']);
    fakeLog = join(d().dir, 'fake-dns.log');
    const ready = join(d().dir, 'fake-dns.ready');
    fake = spawnCli(lab, ['fake-dns', '--netns', `/proc/${pid}/ns/net`, '--listen', '127.0.0.1', '--zone', 'api.example=A:10.1.2.3', '--log', fakeLog, '--ready-file', ready]);
    await waitFor('fake-dns in the container', () => {
      try {
        return readFileSync(ready, 'utf8').includes('127.0.0.1:53');
      } catch {
        return false;
      }
    });
  }, 90_000);

  afterAll(async () => {
    if (fake) await stopSpawned(fake);
    const left = docker ? await docker.destroy() : [];
    expect(left).toEqual([]);
    expect(await lab.destroy()).toEqual([]);
  }, 60_000);

  const tsnet = (args: string[], env: Record<string, string> = {}) => lab.cli(args, { env });
  const host = () => ['--docker-host', d().host];
  const oneLine = (stderr: string) => {
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines, stderr).toHaveLength(1);
    return lines[0]!;
  };
  const queries = () => readFileSync(fakeLog, 'utf8').split('\n').filter(Boolean).length;

  it('diagnose docker:NAME --no-live names the Docker container; DOCKER_HOST works as well as --docker-host', async () => {
    const r = await tsnet(['diagnose', `docker:${web}`, 'db.example', '--no-live', '--json', ...host()]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.target.label).toBe(`docker container ${web} (pid ${pid})`);
    expect(report.target.nameservers).toEqual(['127.0.0.1']);
    const env = await tsnet(['diagnose', `docker:${web}`, 'db.example', '--no-live'], { DOCKER_HOST: d().host });
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toContain(`tsnet diagnose: docker container ${web} (pid ${pid})`);
  });

  it('live: resolve --in docker:NAME asks the fake server on the container\'s loopback', async () => {
    const before = queries();
    const r = await tsnet(['resolve', 'api.example', '--mode', 'musl', '--in', `docker:${web}`, '--json', ...host()]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result.addresses).toEqual(['10.1.2.3']);
    expect(queries()).toBe(before + 2);
  });

  it('an unknown name, a container that is not running: exit 3, one line', async () => {
    const nope = await tsnet(['diagnose', `docker:${d().name('nope')}`, 'db.example', '--no-live', ...host()]);
    expect(nope.code, nope.stderr).toBe(3);
    expect(oneLine(nope.stderr)).toMatch(new RegExp(`^tsnet: no docker container "${d().name('nope')}" \\(see \`docker ps -a\``));
    const made = await d().docker(['create', '--name', d().name('idle'), '--network', 'none', image, '/bin/sleep', '300']);
    expect(made.code, made.stderr).toBe(0);
    const idle = await tsnet(['resolve', 'x.example', '--mode', 'glibc', '--in', `docker:${d().name('idle')}`, ...host()]);
    expect(idle.code, idle.stderr).toBe(3);
    expect(oneLine(idle.stderr)).toMatch(new RegExp(`^tsnet: docker container "${d().name('idle')}" is created, not running`));
  });

  it('the daemon not reachable, or docker not installed: exit 3, one line', async () => {
    const gone = await tsnet(['diagnose', `docker:${web}`, 'db.example', '--no-live', '--docker-host', `unix://${join(d().dir, 'nope.sock')}`]);
    expect(gone.code, gone.stderr).toBe(3);
    expect(oneLine(gone.stderr)).toMatch(/^tsnet: docker: the Docker daemon is not reachable: .*nope\.sock/);
    const empty = join(d().dir, 'empty-path');
    mkdirSync(empty, { recursive: true });
    const missing = await tsnet(['diagnose', `docker:${web}`, 'db.example', '--no-live', ...host()], { PATH: empty });
    expect(missing.code, missing.stderr).toBe(3);
    expect(oneLine(missing.stderr)).toMatch(/^tsnet: docker is not installed: no docker on PATH/);
  });
});
