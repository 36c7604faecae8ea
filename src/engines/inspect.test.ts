// `podman/docker container inspect` answers: the recorded documented shape, and output that is
// wrong in every way a parser of another program's output can be surprised by.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerInspectArgs, parseInspect, podmanInspectArgs, saysDaemonUnreachable, saysNoSuchContainer } from './inspect.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'testdata', name), 'utf8');

describe('argument vectors', () => {
  it('podman: connection options as --flag=value, then -- before the name', () => {
    expect(podmanInspectArgs('web', {})).toEqual(['container', 'inspect', '--', 'web']);
    expect(podmanInspectArgs('web', { podmanRoot: '/t/root', podmanRunroot: '/t/run' })).toEqual(['--root=/t/root', '--runroot=/t/run', 'container', 'inspect', '--', 'web']);
  });

  it('docker: --host=value, then -- before the name', () => {
    expect(dockerInspectArgs('web', {})).toEqual(['container', 'inspect', '--', 'web']);
    expect(dockerInspectArgs('web', { dockerHost: 'unix:///t/d.sock' })).toEqual(['--host=unix:///t/d.sock', 'container', 'inspect', '--', 'web']);
  });
});

describe('parseInspect', () => {
  it('docker: a running container (written from Docker\'s documented `docker container inspect` format)', () => {
    expect(parseInspect(fixture('docker-inspect-running.json'))).toEqual({
      id: '6c4b6a3e1f0d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b',
      name: 'web',
      pid: 4242,
      status: 'running',
      running: true,
    });
  });

  it('docker: a running container (recorded from dockerd 20.10.24, Debian\'s docker.io, with the docker 28 client)', () => {
    expect(parseInspect(fixture('docker-inspect-20.10-running.json'))).toEqual({
      id: '5eb3ebc34aa6a1d932093735503359d5cae1e4cbdfb2896c2d33ee6a3e95ee91',
      name: 'tsnet-dk-probe',
      pid: 12896,
      status: 'running',
      running: true,
    });
  });

  it('docker: an exited container has pid 0', () => {
    expect(parseInspect(fixture('docker-inspect-exited.json'))).toMatchObject({ name: 'done', pid: 0, status: 'exited', running: false });
  });

  it('podman: a running container (recorded from podman 4.3.1: container inspect of a --rootfs container)', () => {
    expect(parseInspect(fixture('podman-inspect-running.json'))).toEqual({
      id: '526842cec2afed7d42741cdcead32a03388ee935164b97cbfe3e02d4197a2ebc',
      name: 'tsnet-probe',
      pid: 9660,
      status: 'running',
      running: true,
    });
  });

  const one = (c: unknown) => JSON.stringify([c]);
  const good = { Id: 'ab'.repeat(32), Name: 'web', State: { Pid: 12, Status: 'running', Running: true } };

  it.each([
    ['', /not JSON/],
    ['[{"Id":', /not JSON/],
    ['{}', /not a JSON array/],
    ['[]', /lists 0 containers, not one/],
    [JSON.stringify([good, good]), /lists 2 containers/],
    ['[null]', /not a JSON object/],
    ['[42]', /not a JSON object/],
    [one({ ...good, Id: 'xyz' }), /Id is not a container id/],
    [one({ ...good, Id: 'ab'.repeat(40) }), /Id is not a container id/],
    [one({ ...good, Id: undefined }), /Id is not a container id/],
    [one({ ...good, Name: 'a\nb' }), /Name is not a container name/],
    [one({ ...good, Name: '-x' }), /Name is not a container name/],
    [one({ ...good, Name: 7 }), /Name is not a container name/],
    [one({ ...good, State: null }), /State is missing/],
    [one({ ...good, State: { ...good.State, Pid: '12' } }), /State.Pid is not a process id/],
    [one({ ...good, State: { ...good.State, Pid: -1 } }), /State.Pid is not a process id/],
    [one({ ...good, State: { ...good.State, Pid: 1.5 } }), /State.Pid is not a process id/],
    [one({ ...good, State: { ...good.State, Pid: 4194305 } }), /State.Pid is not a process id/],
    [one({ ...good, State: { ...good.State, Pid: 1e300 } }), /State.Pid is not a process id/],
    [one({ ...good, State: { ...good.State, Status: 'Running\n' } }), /State.Status is not a status/],
    [one({ ...good, State: { ...good.State, Running: 'true' } }), /State.Running is not true or false/],
  ])('refuses %j', (text, message) => {
    expect(() => parseInspect(text)).toThrow(message);
  });

  it('takes Docker\'s leading "/" off the name, and the smallest valid answer', () => {
    expect(parseInspect(one({ ...good, Name: '/web' }))).toEqual({ id: 'ab'.repeat(32), name: 'web', pid: 12, status: 'running', running: true });
  });
});

describe('saysNoSuchContainer', () => {
  it.each([
    ['Error: No such container: nope', true],
    ['Error: no such container nope', true],
    ['Error: inspecting object: no such container "nope"', true],
    ['Error: No such object: nope', true],
    ['Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?', false],
    ['', false],
  ])('%j: %s', (stderr, yes) => {
    expect(saysNoSuchContainer(stderr)).toBe(yes);
  });
});

describe('saysDaemonUnreachable', () => {
  it.each([
    ['Cannot connect to the Docker daemon at unix:///nonexistent/d.sock. Is the docker daemon running?', true], // docker 28 (recorded here)
    ['failed to connect to the docker API at unix:///x.sock; check if the path is correct and if the daemon is running: dial unix /x.sock: connect: no such file or directory', true],
    ['error during connect: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.45/containers/web/json": dial unix /var/run/docker.sock: connect: permission denied', true],
    ['Error: No such container: web', false],
    ['Error response from daemon: page not found', false],
  ])('%j: %s', (stderr, yes) => {
    expect(saysDaemonUnreachable(stderr)).toBe(yes);
  });
});
