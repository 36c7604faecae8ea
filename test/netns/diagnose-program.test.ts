// diagnose --pid names the resolver library the target program really uses, from its executable,
// its maps and its environment — for programs built here the way containers ship them: a glibc
// program, a musl one (dynamic, musl's loader), a static C program, Go with and without cgo (and
// with cgo forced by RES_OPTIONS), Python with eventlet, Node. What each one is comes from how it
// was built (the oracle), not from tsnet. Every target sits in a network namespace of its own with
// nothing in it, and diagnose runs --no-live: no packet is sent.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';
import { spawnCli, waitFor } from '../support/upstream.js';
import type { Report } from '../../src/diagnose/diagnose.js';

const C = '#include <netdb.h>\n#include <unistd.h>\nint main(int c, char **v) { struct addrinfo *r; if (c > 5) getaddrinfo(v[1], 0, 0, &r); pause(); return 0; }\n';
const GO = 'package main\nimport ("net"; "os"; "time")\nfunc main() { if len(os.Args) > 5 { net.LookupHost(os.Args[1]); return }; time.Sleep(time.Hour) }\n';
/** go build, its stderr in the error when it fails. */
const goBuild = (cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }) => {
  try {
    execFileSync(cmd, args, { ...opts, stdio: 'pipe' });
  } catch (err) {
    throw new Error(`${cmd} ${args.join(' ')}: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
};
const haveGo = (() => {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!isRoot)('diagnose --pid names the program\'s resolver library', () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-program-'));
  const children: ChildProcess[] = [];
  const bin: Record<string, string> = {};

  /**
   * `argv` in a new, empty network namespace and a private mount namespace where the test's
   * resolv.conf and nsswitch.conf are bind-mounted over /etc (the host's are never read).
   */
  const isolated = (argv: string[], files = etc()) => [
    '--net', '--mount', '--propagation', 'private', 'sh', '-c',
    'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@"',
    'sh', files.resolvConf, files.nsswitch, ...argv,
  ];
  let etcCount = 0;
  /** resolv.conf and nsswitch.conf files for a target. */
  function etc(resolvConf = 'nameserver 10.0.0.1\n', nsswitch = 'hosts: files dns\n') {
    const n = etcCount++;
    writeFileSync(join(dir, `resolv.conf.${n}`), resolvConf);
    writeFileSync(join(dir, `nsswitch.conf.${n}`), nsswitch);
    return { resolvConf: join(dir, `resolv.conf.${n}`), nsswitch: join(dir, `nsswitch.conf.${n}`) };
  }

  /** Starts `argv` isolated (see above); resolves to its pid once it has exec'd. */
  async function start(argv: string[], env: Record<string, string> = {}, comm?: string, mapsHas?: string, files = etc()): Promise<number> {
    const child = spawn('unshare', isolated(argv, files), { stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    children.push(child);
    const pid = child.pid!;
    const want = comm ?? argv[0]!.slice(argv[0]!.lastIndexOf('/') + 1).slice(0, 15);
    await waitFor(`${want} running`, () => {
      if (child.exitCode !== null) throw new Error(`${argv.join(' ')} exited ${child.exitCode}`);
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === want && (mapsHas === undefined || readFileSync(`/proc/${pid}/maps`, 'utf8').includes(mapsHas));
      } catch {
        return false;
      }
    });
    return pid;
  }

  async function diagnose(pid: number): Promise<Report> {
    const s = spawnCli(lab, ['diagnose', '--pid', String(pid), '--no-live', '--json', 'db.example']);
    const res = await s.done;
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as Report;
  }

  beforeAll(() => {
    writeFileSync(join(dir, 'prog.c'), C);
    const cc = (name: string, compiler: string, ...flags: string[]) => {
      bin[name] = join(dir, name);
      execFileSync(compiler, [...flags, '-o', bin[name]!, join(dir, 'prog.c')], { stdio: 'pipe' });
    };
    cc('glibc', 'gcc');
    cc('musl', 'musl-gcc', '-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1');
    cc('static', 'gcc', '-static');
    if (haveGo) {
      const src = join(dir, 'gosrc');
      mkdirSync(src);
      writeFileSync(join(src, 'main.go'), GO);
      writeFileSync(join(src, 'go.mod'), 'module example.com/app\n\ngo 1.19\n');
      for (const [name, cgo] of [['gopure', '0'], ['gocgo', '1']] as const) {
        bin[name] = join(dir, name);
        goBuild('go', ['build', '-o', bin[name]!, '.'], { cwd: src, env: { ...process.env, CGO_ENABLED: cgo, GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath') } });
      }
    }
  }, 180_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
    expect(existsSync(dir)).toBe(false);
    expect(await lab.destroy()).toEqual([]);
  });

  it('a dynamic glibc program: glibc and its version (ldd --version), the glibc row leads', async () => {
    const r = await diagnose(await start([bin.glibc!]));
    const ldd = /(\d+\.\d+)\s*$/m.exec(execFileSync('ldd', ['--version'], { encoding: 'utf8' }).split('\n')[0]!)![1];
    expect(r.program).toMatchObject({ library: 'glibc', mode: 'glibc', summary: `glibc ${ldd}`, approximate: false });
    expect(r.rows[0]).toMatchObject({ mode: 'glibc', lead: 'program' });
    expect(r.findings.map((f) => f.id)).not.toContain('node-threadpool');
  });

  it('a musl program (musl\'s loader): musl and its version (dpkg), the musl row first', async () => {
    const r = await diagnose(await start([bin.musl!]));
    const pkg = /^Version: (\d+\.\d+\.\d+)/m.exec(execFileSync('dpkg', ['-s', 'musl'], { encoding: 'utf8' }))![1];
    expect(r.program).toMatchObject({ library: 'musl', mode: 'musl', summary: `musl ${pkg}` });
    expect(r.rows.map((x) => x.mode)).toEqual(['musl', 'glibc', 'eventlet', 'go']);
    expect(r.rows[0]!.lead).toBe('program');
  });

  it('a static C program: unclassified, no row leads', async () => {
    const r = await diagnose(await start([bin.static!]));
    expect(r.program!.library).toBe('unclassified');
    expect(r.program!.mode).toBeUndefined();
    expect(r.rows.every((x) => x.lead === undefined)).toBe(true);
  });

  it('Go built with CGO_ENABLED=0: Go\'s own resolver, the go emulator\'s row leads', async () => {
    if (!haveGo) throw new Error('go is not installed: apt-get install golang-go (scripts/setup.sh does)');
    const r = await diagnose(await start([bin.gopure!]));
    expect(r.program).toMatchObject({ library: 'go', mode: 'go', approximate: false });
    expect(r.program!.summary).toMatch(/^Go go1\.\d+(\.\d+)?, Go's own resolver$/);
    expect(r.rows[0]).toMatchObject({ mode: 'go', lead: 'program' });
  });

  it('Go with cgo: Go\'s resolver by default; RES_OPTIONS makes it glibc\'s getaddrinfo (and every row reads it)', async () => {
    if (!haveGo) throw new Error('go is not installed: apt-get install golang-go (scripts/setup.sh does)');
    const plain = await diagnose(await start([bin.gocgo!]));
    expect(plain.program).toMatchObject({ library: 'go', mode: 'go-cgo', approximate: false });
    const forced = await diagnose(await start([bin.gocgo!], { RES_OPTIONS: 'timeout:1 attempts:1' }));
    expect(forced.program).toMatchObject({ library: 'go', mode: 'glibc', approximate: false });
    expect(forced.program!.summary).toMatch(/cgo resolver: getaddrinfo of glibc/);
    expect(forced.program!.env).toEqual({ RES_OPTIONS: 'timeout:1 attempts:1' });
  });

  it('Go with cgo: which resolver it picks agrees with the real Go runtime\'s own account (GODEBUG=netdns=2) for each condition that forces cgo', async () => {
    if (!haveGo) throw new Error('go is not installed: apt-get install golang-go (scripts/setup.sh does)');
    const cases: Array<{ why: string; env?: Record<string, string>; resolvConf?: string; nsswitch?: string }> = [
      { why: 'nothing forces cgo' },
      { why: 'RES_OPTIONS', env: { RES_OPTIONS: 'attempts:1' } },
      { why: 'LOCALDOMAIN set, empty', env: { LOCALDOMAIN: '' } },
      { why: 'options edns0 (unknown to Go 1.19)', resolvConf: 'nameserver 10.0.0.1\noptions edns0\n' },
      { why: 'options rotate ndots:2 (known)', resolvConf: 'nameserver 10.0.0.1\noptions rotate ndots:2\n' },
      { why: 'nsswitch source resolve', nsswitch: 'hosts: files resolve dns\n' },
      { why: 'nsswitch [NOTFOUND=return], the source\'s last criterion', nsswitch: 'hosts: files [NOTFOUND=return] dns\n' },
      { why: 'nsswitch [NOTFOUND=return] not last', nsswitch: 'hosts: files [NOTFOUND=return UNAVAIL=continue] dns\n' },
    ];
    for (const c of cases) {
      const files = etc(c.resolvConf, c.nsswitch);
      // The oracle: the program itself, one lookup with Go's resolver debugging on. Its network
      // namespace is empty (lo down): the lookup cannot send anything anywhere.
      const debug = spawnSync('unshare', isolated([bin.gocgo!, 'db.example', '1', '2', '3', '4'], files), { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH, GODEBUG: 'netdns=2', ...c.env } });
      const order = /hostLookupOrder\(db\.example\) = (\S+)/.exec(debug.stderr)?.[1];
      expect(order, `${c.why}: ${debug.stderr}`).toBeDefined();
      const r = await diagnose(await start([bin.gocgo!], c.env, undefined, undefined, files));
      expect(r.program!.mode === 'glibc' ? 'cgo' : 'go', `${c.why}: ${r.program!.summary}`).toBe(order === 'cgo' ? 'cgo' : 'go');
    }
  });

  it('Python with eventlet monkey-patched: eventlet, its version (the package\'s own), greendns; EVENTLET_NO_GREENDNS=yes turns it off', async () => {
    const script = 'import eventlet; eventlet.monkey_patch(); import time; time.sleep(3600)';
    const version = execFileSync('/usr/bin/python3', ['-c', 'import eventlet; print(eventlet.__version__)'], { encoding: 'utf8' }).trim();
    // ready once eventlet is imported: greenlet's module is mapped
    const on = await diagnose(await start(['/usr/bin/python3', '-c', script], {}, 'python3', '_greenlet'));
    expect(on.program).toMatchObject({ library: 'eventlet', mode: 'eventlet', summary: `eventlet ${version}, greendns (dnspython)` });
    const off = await diagnose(await start(['/usr/bin/python3', '-c', script], { EVENTLET_NO_GREENDNS: 'yes' }, 'python3', '_greenlet'));
    expect(off.program!.summary).toMatch(/greendns off/);
    expect(off.program!.env).toEqual({ EVENTLET_NO_GREENDNS: 'yes' });
    const plain = await diagnose(await start(['/usr/bin/python3', '-c', 'import time; time.sleep(3600)'], {}, 'python3'));
    expect(plain.program).toMatchObject({ library: 'python', mode: 'glibc' });
  });

  it('Node: its libc and its threadpool size (UV_THREADPOOL_SIZE)', async () => {
    const r = await diagnose(await start([process.execPath, '-e', 'setTimeout(() => {}, 3600e3)'], { UV_THREADPOOL_SIZE: '8' }, 'node'));
    expect(r.program).toMatchObject({ library: 'node', mode: 'node', threadpool: 8 });
  });
});
