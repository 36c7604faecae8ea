// Issue 11's acceptance on a real Podman: `tsnet diagnose podman:NAME` names the resolver library
// of the program each container runs — a musl program (musl's loader copied in), a glibc one (with
// the libraries ldd lists), Go built with CGO_ENABLED=0 and with cgo, and a static C program
// (unclassified). One busybox root filesystem per program, made here; every container has no
// network (--network none) and diagnose runs --no-live: nothing is sent.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';
import { busyboxRootfs, missingEnginePackages, PodmanLab } from '../support/engines.js';
import type { Report } from '../../src/diagnose/diagnose.js';

const C = '#include <netdb.h>\n#include <unistd.h>\nint main(int c, char **v) { struct addrinfo *r; if (c > 5) getaddrinfo(v[1], 0, 0, &r); pause(); return 0; }\n';
const GO = 'package main\nimport ("net"; "os"; "time")\nfunc main() { if len(os.Args) > 5 { net.LookupHost(os.Args[1]); return }; time.Sleep(time.Hour) }\n';

/** Copies `file` (resolving links) to the same path inside `root`. */
function copyIn(root: string, file: string, as = file): void {
  mkdirSync(dirname(join(root, as)), { recursive: true });
  copyFileSync(execFileSync('readlink', ['-f', file], { encoding: 'utf8' }).trim(), join(root, as));
  chmodSync(join(root, as), 0o755);
}

/** The shared libraries `ldd` lists for `bin` (and its loader), copied into `root`. */
function copyLibraries(root: string, bin: string): void {
  for (const line of execFileSync('ldd', [bin], { encoding: 'utf8' }).split('\n')) {
    const path = /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)/.exec(line)?.[1];
    if (path) copyIn(root, path);
  }
}

describe.skipIf(!isRoot)('diagnose podman:NAME names the program\'s resolver library', () => {
  const lab = new Lab();
  const build = mkdtempSync(join(tmpdir(), 'tsnet-podprog-'));
  let podman: PodmanLab | undefined;
  const p = () => podman!;
  const names: Record<string, string> = {};

  beforeAll(async () => {
    expect(missingEnginePackages(['podman', 'runc', 'conmon', 'busybox', 'nsenter']), 'install them: bash scripts/setup.sh').toEqual([]);
    podman = new PodmanLab();
    writeFileSync(join(build, 'prog.c'), C);
    const bins: Record<string, string> = {};
    const cc = (name: string, compiler: string, ...flags: string[]) => {
      bins[name] = join(build, name);
      execFileSync(compiler, [...flags, '-o', bins[name]!, join(build, 'prog.c')], { stdio: 'pipe' });
    };
    cc('glibc', 'gcc');
    cc('musl', 'musl-gcc', '-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1');
    cc('static', 'gcc', '-static');
    const src = join(build, 'gosrc');
    mkdirSync(src);
    writeFileSync(join(src, 'main.go'), GO);
    writeFileSync(join(src, 'go.mod'), 'module example.com/app\n\ngo 1.19\n');
    for (const [name, cgo] of [['gopure', '0'], ['gocgo', '1']] as const) {
      bins[name] = join(build, name);
      execFileSync('go', ['build', '-o', bins[name]!, '.'], { cwd: src, stdio: 'pipe', env: { ...process.env, CGO_ENABLED: cgo, GOCACHE: join(build, 'gocache'), GOPATH: join(build, 'gopath') } });
    }
    for (const [name, bin] of Object.entries(bins)) {
      const rootfs = busyboxRootfs(join(p().dir, `rootfs-${name}`), { resolvConf: 'nameserver 127.0.0.1\n', hostname: `${name}\n` });
      copyIn(rootfs, bin, '/app');
      if (name === 'musl') copyIn(rootfs, '/lib/ld-musl-x86_64.so.1');
      else if (name === 'glibc' || name === 'gocgo') copyLibraries(rootfs, bin);
      names[name] = p().name(name);
      await p().run(names[name]!, rootfs, ['/app']);
    }
  }, 240_000);

  afterAll(async () => {
    const left = podman ? await podman.destroy() : [];
    rmSync(build, { recursive: true, force: true });
    expect(left).toEqual([]);
    expect(await lab.destroy()).toEqual([]);
  });

  async function diagnose(name: string): Promise<Report> {
    const r = await lab.cli(['diagnose', `podman:${names[name]}`, ...p().tsnetOptions, '--no-live', '--json', 'db.example'], { env: p().env });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Report;
  }

  it('musl (dynamic, musl\'s loader in the image): musl leads', async () => {
    const r = await diagnose('musl');
    expect(r.program).toMatchObject({ library: 'musl', mode: 'musl', approximate: false });
    expect(r.program!.evidence.join(' ')).toContain('/lib/ld-musl-x86_64.so.1');
    expect(r.rows[0]).toMatchObject({ mode: 'musl', lead: 'program' });
  });

  it('glibc (with the libraries ldd lists): glibc and its version lead', async () => {
    const r = await diagnose('glibc');
    const ldd = /(\d+\.\d+)\s*$/m.exec(execFileSync('ldd', ['--version'], { encoding: 'utf8' }).split('\n')[0]!)![1];
    expect(r.program).toMatchObject({ library: 'glibc', mode: 'glibc', summary: `glibc ${ldd}` });
  });

  it('Go, CGO_ENABLED=0: Go\'s own resolver, the go emulator\'s row leads', async () => {
    const r = await diagnose('gopure');
    expect(r.program).toMatchObject({ library: 'go', mode: 'go', approximate: false });
    expect(r.program!.libc).toBeUndefined();
    expect(r.program!.evidence.join(' ')).toMatch(/CGO_ENABLED=0/);
    expect(r.rows[0]!.lead).toBe('program');
  });

  it('Go with cgo: named as a cgo build on glibc (Go\'s resolver unless something forces cgo: nothing does here)', async () => {
    const r = await diagnose('gocgo');
    expect(r.program).toMatchObject({ library: 'go', libc: { kind: 'glibc' } });
    expect(r.program!.evidence.join(' ')).toMatch(/CGO_ENABLED=1/);
    expect(r.program!.summary).toMatch(/Go's own resolver \(glibc [\d.]+ for names ending in \.local/);
  });

  it('a static C program: unclassified, no row leads', async () => {
    const r = await diagnose('static');
    expect(r.program!.library).toBe('unclassified');
    expect(r.rows.every((x) => x.lead === undefined)).toBe(true);
  });
});
