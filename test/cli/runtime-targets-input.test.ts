// Runtime targets are input to a program that runs as root: hostile names never reach an engine's
// CLI, the CLI gets an argument vector it cannot misread, and whatever it prints (too much,
// nothing sensible, a PID that is not there, terminal escapes, or nothing at all for too long)
// ends in one line and exit 3. The engines here are fake podman, ctr and docker programs on PATH
// that record how they were run and answer as the test tells them (through the environment, which
// tsnet passes through to them as it does CONTAINERS_CONF or DOCKER_HOST).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, run } from '../support/lab.js';

const FAKE = `#!/bin/sh
# a fake engine CLI: records its argv (one per line) and environment, then answers per FAKE_MODE
printf '%s\\n' "$0" "$@" > "$FAKE_DIR/argv"
env > "$FAKE_DIR/env"
id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
case "$FAKE_MODE" in
  ok) printf '[{"Id":"%s","Name":"/web","State":{"Pid":%s,"Status":"running","Running":true}}]\\n' "$id" "$FAKE_PID" ;;
  tasks) printf 'TASK    PID    STATUS    \\nweb     %s    RUNNING\\n' "$FAKE_PID" ;;
  huge) head -c 3000000 /dev/zero | tr '\\0' x ;;
  garbage) echo 'this is not JSON' ;;
  two) printf '[{"Id":"%s","Name":"a","State":{"Pid":1,"Status":"running","Running":true}},{"Id":"%s","Name":"b","State":{"Pid":1,"Status":"running","Running":true}}]' "$id" "$id" ;;
  gone) printf '[{"Id":"%s","Name":"web","State":{"Pid":4194301,"Status":"running","Running":true}}]' "$id" ;;
  escapes) printf 'Error: \\033[2J\\033[31mred\\342\\200\\256 text\\nsecond line\\n' >&2; exit 125 ;;
  slow) exec sleep 60 ;;
esac
`;

describe.skipIf(!isRoot)('runtime targets: hostile input and hostile engine output', () => {
  const dir = mkdtempSync('/tmp/tsnet-fake-engines-');
  const bin = join(dir, 'bin');
  let sleeper: ReturnType<typeof spawn> | undefined;
  let pid = 0;

  beforeAll(async () => {
    rmSync(bin, { recursive: true, force: true });
    for (const name of ['podman', 'ctr', 'docker']) {
      writeFileSync(join(dir, name), FAKE);
      chmodSync(join(dir, name), 0o755);
    }
    // the target process: any process of ours, in its own (the host's) namespace is enough here
    sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
    pid = sleeper.pid!;
    writeFileSync(join(dir, 'ctr.sock'), ''); // ctr's "socket": it only has to exist for tsnet to ask ctr
  });

  afterAll(() => {
    sleeper?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    expect(existsSync(dir)).toBe(false);
  });

  const tsnet = (args: string[], mode = 'ok') =>
    run(process.execPath, [CLI, ...args], { env: { PATH: `${dir}:/usr/bin:/bin`, FAKE_DIR: dir, FAKE_MODE: mode, FAKE_PID: String(pid), CONTAINERS_CONF: '/tmp/tsnet-passed-through.conf' } });
  const argv = () => readFileSync(join(dir, 'argv'), 'utf8').split('\n').slice(0, -1);
  const ran = () => existsSync(join(dir, 'argv'));
  const forget = () => rmSync(join(dir, 'argv'), { force: true });
  const oneLine = (stderr: string) => {
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines, stderr).toHaveLength(1);
    return lines[0]!;
  };

  it('podman gets an argument vector: --flag=value options, -- before the name, and the environment as set', async () => {
    forget();
    const r = await tsnet(['diagnose', 'podman:web', 'db.example', '--no-live', '--json', '--podman-root', '/tmp/x root', '--podman-runroot', '/tmp/x;run']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).target.label).toBe(`podman container web (pid ${pid})`);
    expect(argv()).toEqual([join(dir, 'podman'), '--root=/tmp/x root', '--runroot=/tmp/x;run', 'container', 'inspect', '--', 'web']);
    expect(readFileSync(join(dir, 'env'), 'utf8')).toContain('CONTAINERS_CONF=/tmp/tsnet-passed-through.conf\n');
  });

  it('ctr and docker get theirs', async () => {
    forget();
    const c = await tsnet(['diagnose', 'containerd:k8s.io/web', 'db.example', '--no-live', '--containerd-address', join(dir, 'ctr.sock')], 'tasks');
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain(`containerd container k8s.io/web (pid ${pid})`);
    expect(argv()).toEqual([join(dir, 'ctr'), `--address=${join(dir, 'ctr.sock')}`, '--namespace=k8s.io', '--connect-timeout=5s', 'task', 'ls']);
    forget();
    const d = await tsnet(['resolve', 'x.example', '--mode', 'glibc', '--in', 'docker:web', '--docker-host', 'tcp://127.0.0.1:1', '--resolv-conf', '/dev/null', '--hosts', '/dev/null', '--port', '1']);
    expect(argv()).toEqual([join(dir, 'docker'), '--host=tcp://127.0.0.1:1', 'container', 'inspect', '--', 'web']);
    expect(d.code, d.stderr).toBe(1); // found and entered; nothing to ask (no nameserver): not resolved
  });

  it.each([
    ['podman:-x', /invalid target "podman:-x": a podman container name cannot start with "-"/],
    ['podman:--root=/etc', /cannot start with "-"/],
    ['docker:-H=tcp://evil', /cannot start with "-"/],
    ['containerd:--address=/x/web', /a containerd namespace cannot start with "-"/],
    ['containerd:k8s.io/-n', /a containerd container id cannot start with "-"/],
    ['podman:a b', /letters, digits/],
    ['podman:$(id)', /letters, digits/],
    ['docker:web;id', /letters, digits/],
    ['containerd:../../etc', /only between them/],
    ['podman:x\n-y', /letters, digits/],
    ['lxc:web', /unknown container engine "lxc"/],
  ])('%j is refused before anything runs: exit 2, one line', async (target, message) => {
    forget();
    for (const args of [['diagnose', target, 'db.example', '--no-live'], ['resolve', 'x.example', '--mode', 'glibc', '--in', target]]) {
      const r = await tsnet(args);
      expect(r.code, r.stderr).toBe(2);
      expect(oneLine(r.stderr)).toMatch(message);
    }
    expect(ran()).toBe(false);
  });

  it('an engine option for another engine, or a bad value, is refused before anything runs', async () => {
    forget();
    for (const [args, message] of [
      [['diagnose', 'podman:web', '--no-live', '--containerd-address', '/x.sock'], /--containerd-address is for containerd: targets only \(the target is a podman container\)/],
      [['diagnose', '--pid', String(pid), 'db.example', '--no-live', '--docker-host', 'unix:///x'], /--docker-host is for docker: targets only/],
      [['resolve', 'x.example', '--mode', 'glibc', '--in', 'podman:web', '--podman-root', 'relative'], /invalid --podman-root "relative": expected an absolute path/],
      [['diagnose', 'docker:web', '--no-live', '--docker-host', '--help'], /invalid --docker-host "--help"/],
    ] as const) {
      const r = await tsnet([...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(oneLine(r.stderr)).toMatch(message);
    }
    expect(ran()).toBe(false);
  });

  it.each([
    ['huge', /^tsnet: podman: podman printed more than 1048576 bytes$/],
    ['garbage', /^tsnet: podman: unexpected answer about podman container "web": the output is not JSON$/],
    ['two', /^tsnet: podman: unexpected answer about podman container "web": the output lists 2 containers, not one$/],
    ['gone', /^tsnet: podman says container "web" runs as process 4194301, but there is no process 4194301 /],
    ['escapes', /^tsnet: podman: cannot inspect podman container "web": Error: \\u001b\[2J\\u001b\[31mred\\u202e text$/],
  ])('podman answering %s: exit 3, one inert line', async (mode, message) => {
    const r = await tsnet(['diagnose', 'podman:web', 'db.example', '--no-live'], mode);
    expect(r.code, r.stderr).toBe(3);
    expect(oneLine(r.stderr)).toMatch(message);
    expect(r.stderr).not.toMatch(/\x1b|\u202e/);
  });

  it('an engine that does not answer is killed at the 10 s deadline: exit 3', async () => {
    const started = Date.now();
    const r = await tsnet(['diagnose', 'docker:web', 'db.example', '--no-live'], 'slow');
    expect(r.code, r.stderr).toBe(3);
    expect(oneLine(r.stderr)).toMatch(/^tsnet: docker: docker did not answer within 10 s/);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);
});
