// Runtime targets as typed: each engine's own name rules, checked before anything is spawned.
import { describe, expect, it } from 'vitest';
import { checkEngineOptions, parseRuntimeRef } from './ref.js';

describe('parseRuntimeRef', () => {
  it('a target without ":" is no runtime target (a tsnet container)', () => {
    expect(parseRuntimeRef('web1')).toBeUndefined();
    expect(parseRuntimeRef('')).toBeUndefined();
  });

  it.each([
    ['podman:web', { engine: 'podman', name: 'web', namespace: undefined }],
    ['podman:my_app.v2-1', { engine: 'podman', name: 'my_app.v2-1', namespace: undefined }],
    ['docker:6c4b6a3e1f0d', { engine: 'docker', name: '6c4b6a3e1f0d', namespace: undefined }],
    ['containerd:web', { engine: 'containerd', name: 'web', namespace: 'default' }],
    ['containerd:k8s.io/' + 'ab12'.repeat(16), { engine: 'containerd', name: 'ab12'.repeat(16), namespace: 'k8s.io' }],
    ['containerd:moby/a-b.c--d', { engine: 'containerd', name: 'a-b.c--d', namespace: 'moby' }],
  ])('%s', (text, ref) => {
    expect(parseRuntimeRef(text)).toEqual(ref);
  });

  it('containerd takes the namespace given as the default', () => {
    expect(parseRuntimeRef('containerd:web', 'k8s.io')).toEqual({ engine: 'containerd', name: 'web', namespace: 'k8s.io' });
    expect(parseRuntimeRef('containerd:moby/web', 'k8s.io')?.namespace).toBe('moby');
  });

  it.each([
    ['podman:', /no podman container name after "podman:"/],
    ['podman:-x', /a podman container name cannot start with "-"/],
    ['podman:--root=/tmp/evil', /cannot start with "-"/],
    ['docker:-H', /a docker container name cannot start with "-"/],
    ['podman:.hidden', /letters, digits, "_", "\." and "-", starting with a letter or digit/],
    ['podman:a b', /letters, digits/],
    ['podman:a/b', /letters, digits/],
    ['podman:a:b', /letters, digits/],
    ['docker:/web', /letters, digits/],
    ['docker:web\n', /letters, digits/],
    ['podman:' + 'a'.repeat(256), /at most 255 characters/],
    ['containerd:', /empty containerd container id/],
    ['containerd:ns/', /empty containerd container id/],
    ['containerd:/x', /empty containerd namespace/],
    ['containerd:-x', /a containerd container id cannot start with "-"/],
    ['containerd:-n/x', /a containerd namespace cannot start with "-"/],
    ['containerd:a_b', /letters and digits, with "-" and "\." only between them/],
    ['containerd:a-', /only between them/],
    ['containerd:a..b', /only between them/],
    ['containerd:a/b/c', /only between them/],
    ['containerd:a:-b', /only between them/],
    ['containerd:' + 'a'.repeat(77), /at most 76 characters/],
    ['crio:web', /unknown container engine "crio"/],
    [':web', /unknown container engine ""/],
    ['PODMAN:web', /unknown container engine "PODMAN"/],
  ])('refuses %j as bad input (TSNET_USAGE, exit 2)', (text, message) => {
    let err: unknown;
    try {
      parseRuntimeRef(text);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'TSNET_USAGE', exitCode: 2 });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toMatch(/\n/);
  });

  it('quotes a hostile target as one inert line', () => {
    expect(() => parseRuntimeRef('podman:x\u202e\ny')).toThrow(/"podman:x\\u202e\\ny"/);
  });
});

describe('checkEngineOptions', () => {
  it('takes the options of the target\'s engine', () => {
    expect(() => checkEngineOptions('podman', { podmanRoot: '/tmp/p/root', podmanRunroot: '/tmp/p/run' })).not.toThrow();
    expect(() => checkEngineOptions('containerd', { containerdAddress: '/run/x/containerd.sock' })).not.toThrow();
    expect(() => checkEngineOptions('docker', { dockerHost: 'unix:///run/x/docker.sock' })).not.toThrow();
    expect(() => checkEngineOptions('docker', { dockerHost: 'tcp://127.0.0.1:2375' })).not.toThrow();
    expect(() => checkEngineOptions(undefined, {})).not.toThrow();
  });

  it.each([
    ['containerd', { podmanRoot: '/x' }, /^--podman-root is for podman: targets only$/],
    [undefined, { dockerHost: 'unix:///x' }, /^--docker-host is for docker: targets only$/],
    ['podman', { podmanRoot: 'relative/dir' }, /invalid --podman-root "relative\/dir": expected an absolute path/],
    ['podman', { podmanRunroot: '-x' }, /invalid --podman-runroot "-x"/],
    ['podman', { podmanRoot: '/a\nb' }, /invalid --podman-root "\/a\\nb"/],
    ['containerd', { containerdAddress: '--help' }, /invalid --containerd-address/],
    ['docker', { dockerHost: '-H' }, /invalid --docker-host "-H": expected unix:\/\/\/PATH/],
    ['docker', { dockerHost: 'unix:///a b' }, /invalid --docker-host/],
    ['docker', { dockerHost: 'http://x' }, /invalid --docker-host/],
  ] as const)('%s with %j: bad input', (engine, opts, message) => {
    expect(() => checkEngineOptions(engine, opts)).toThrow(message);
  });

  it('says which engine the target is', () => {
    expect(() => checkEngineOptions('containerd', { podmanRoot: '/x' })).toThrow(expect.objectContaining({ hint: 'the target is a containerd container' }));
    expect(() => checkEngineOptions(undefined, { podmanRoot: '/x' })).toThrow(expect.objectContaining({ hint: 'this target is not a podman container' }));
  });
});
