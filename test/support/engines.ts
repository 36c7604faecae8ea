// Real container engines from Debian packages, private to one test file: Podman with its own
// containers.conf, storage root and runroot; a containerd started from a private config (root,
// state, sockets under a temp dir); a private dockerd (--iptables=false --ip-forward=false
// --bridge=none, vfs storage). Containers run a root filesystem made here from busybox-static,
// with --network none (Podman, Docker) or ctr's own empty network namespace: no packet can leave.
// Every lab tears down what it made — containers, daemons, shims, mounts, its temp dir — and the
// few host paths the engines insist on (/run/containerd/{s,runc,fifo}, /run/runc, /run/docker,
// /etc/docker/key.json) when they were not there before and nothing else uses them; destroy()
// returns whatever is still left.
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { run, type RunResult } from './lab.js';
import { sleep, waitFor } from './upstream.js';

/** The programs the engine tests need, with the Debian package of each. */
export const ENGINE_PROGRAMS: Array<[string, string]> = [
  ['podman', 'podman'], ['runc', 'runc'], ['conmon', 'conmon'], ['containerd', 'containerd'], ['ctr', 'containerd'],
  ['dockerd', 'docker.io'], ['docker', 'docker.io'], ['busybox', 'busybox-static'], ['nsenter', 'util-linux'],
];

export function onPath(program: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$0"', program], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The packages whose programs are missing, for a loud failure. */
export function missingEnginePackages(programs = ENGINE_PROGRAMS.map(([p]) => p)): string[] {
  return [...new Set(ENGINE_PROGRAMS.filter(([p]) => programs.includes(p) && !onPath(p)).map(([, pkg]) => pkg))];
}

const BUSYBOX = '/bin/busybox';

export interface RootfsFiles {
  resolvConf: string;
  hosts?: string;
  hostname?: string;
}

/** A root filesystem: busybox-static with sh, sleep and cat, and the given /etc files. */
export function busyboxRootfs(dir: string, files: RootfsFiles): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  // busybox-static is linked statically: a copy runs in any root
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'));
  execFileSync('chmod', ['755', join(dir, 'bin', 'busybox')]);
  for (const c of ['sh', 'sleep', 'cat']) symlinkSync('busybox', join(dir, 'bin', c));
  writeFileSync(join(dir, 'etc', 'resolv.conf'), files.resolvConf);
  writeFileSync(join(dir, 'etc', 'hosts'), files.hosts ?? '127.0.0.1 localhost\n');
  writeFileSync(join(dir, 'etc', 'hostname'), files.hostname ?? 'rootfs\n');
  return dir;
}

/** Whether a process of one of these names runs (names as the kernel keeps them: cut to 15 characters; zombies do not count). */
function anyRunning(names: string[]): boolean {
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const m = /^\d+ \((.*)\) (\S)/s.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (m && names.includes(m[1]!) && m[2] !== 'Z') return true;
    } catch {
      // gone
    }
  }
  return false;
}

/** Host paths an engine creates outside its private directories; removed after, when we made them and they are empty. */
class HostPaths {
  private readonly before: Map<string, boolean>;
  /** `users`: the programs that put things there (a parallel test's engine may be about to) */
  constructor(private readonly paths: string[], private readonly users: string[]) {
    this.before = new Map(paths.map((p) => [p, existsSync(p)]));
  }
  /**
   * rmdir (never a recursive delete) of the directories that were not there before, deepest first;
   * nothing while one of their users runs (a parallel test's engine could be about to use them).
   */
  tidy(): void {
    if (anyRunning(this.users)) return;
    for (const p of [...this.paths].sort((a, b) => b.length - a.length)) {
      if (this.before.get(p) || !existsSync(p)) continue;
      try {
        rmdirSync(p);
      } catch {
        // not empty: someone else's (a parallel test's) engine uses it; left alone
      }
    }
  }
}

/** Mount points below `dir`, from /proc/self/mountinfo. */
export function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => m !== undefined && m.startsWith(dir));
}

/** Processes whose command line mentions `text` (pgrep -f), excluding zombies. */
export function processesMentioning(text: string): string[] {
  try {
    const out = execFileSync('pgrep', ['-af', '--', text], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean).filter((l) => {
      const pid = l.split(' ')[0];
      try {
        return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

function killMentioning(text: string): void {
  for (const line of processesMentioning(text)) {
    const pid = Number(line.split(' ')[0]);
    if (pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

async function stopChild(child: ChildProcess | undefined, ms: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

/** Brings up lo in a process's network namespace (ctr's new namespaces have it down). */
export function loUp(pid: number): void {
  execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'link', 'set', 'lo', 'up']);
}

// ---------------------------------------------------------------------------------------------

/** Podman, isolated from any host Podman setup: private containers.conf, storage root, runroot, tmp dir. */
export class PodmanLab {
  readonly dir = mkdtempSync('/tmp/tsnet-podman-');
  readonly root = join(this.dir, 'root');
  readonly runroot = join(this.dir, 'runroot');
  readonly prefix = `tsnet-${randomBytes(3).toString('hex')}`;
  /** what the engine's CLI (and tsnet, which passes its environment through) needs */
  readonly env: Record<string, string>;
  // /var/lib/cni/results: libcni's result cache (Podman 4.3 cannot move it), empty again after DEL
  private readonly host = new HostPaths(['/run/runc', '/run/libpod', '/run/containers', '/var/lib/cni', '/var/lib/cni/results'], ['podman', 'conmon', 'runc']);

  /** `cniPluginDirs`: searched before Debian's /usr/lib/cni (a test's own plugins: tsnet's) */
  constructor(opts: { cniPluginDirs?: string[] } = {}) {
    for (const d of ['root', 'runroot', 'tmp', 'net.d', 'decoy-root', 'decoy-run']) mkdirSync(join(this.dir, d));
    const pluginDirs = [...(opts.cniPluginDirs ?? []), '/usr/lib/cni'].map((d) => JSON.stringify(d)).join(', ');
    writeFileSync(
      join(this.dir, 'containers.conf'),
      [
        '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "none"', 'runtime = "runc"', `tmp_dir = "${this.dir}/tmp"`,
        '[network]', 'network_backend = "cni"', `cni_plugin_dirs = [${pluginDirs}]`, `network_config_dir = "${this.dir}/net.d"`, '',
      ].join('\n'),
    );
    // The storage.conf's own roots are decoys: only --root/--runroot (podman's, or tsnet's
    // --podman-root/--podman-runroot) reach the store the containers are in.
    writeFileSync(join(this.dir, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${this.dir}/decoy-root"\nrunroot = "${this.dir}/decoy-run"\n`);
    this.env = { CONTAINERS_CONF: join(this.dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(this.dir, 'storage.conf') };
  }

  name(s: string): string {
    return `${this.prefix}-${s}`;
  }

  /** tsnet's options for this store */
  get tsnetOptions(): string[] {
    return ['--podman-root', this.root, '--podman-runroot', this.runroot];
  }

  podman(args: string[]): Promise<RunResult> {
    return run('podman', [`--root=${this.root}`, `--runroot=${this.runroot}`, ...args], { env: this.env });
  }

  /**
   * Runs `cmd` in a container from `rootfs` with no network: its resolv.conf and hosts are the
   * rootfs's own (bind-mounted, --no-hosts), never the host's. Returns the container's PID.
   */
  async run(name: string, rootfs: string, cmd: string[]): Promise<number> {
    const r = await this.podman([
      'run', '-d', '--name', name, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'none', '--no-hosts',
      '-v', `${join(rootfs, 'etc', 'resolv.conf')}:/etc/resolv.conf:ro`, '--rootfs', rootfs, ...cmd,
    ]);
    if (r.code !== 0) throw new Error(`podman run ${name}: ${r.stderr}`);
    return this.pid(name);
  }

  async pid(name: string): Promise<number> {
    const r = await this.podman(['inspect', '-f', '{{.State.Pid}}', name]);
    if (r.code !== 0) throw new Error(`podman inspect ${name}: ${r.stderr}`);
    return Number(r.stdout.trim());
  }

  async destroy(): Promise<string[]> {
    await this.podman(['rm', '-f', '-t', '0', '--all']);
    killMentioning(this.dir); // a conmon that outlived its container
    await sleep(50);
    const left = [...mountsBelow(this.dir).map((m) => `mount ${m}`), ...processesMentioning(this.dir).map((p) => `process ${p}`)];
    if (left.length === 0) rmSync(this.dir, { recursive: true, force: true });
    else left.push(`dir ${this.dir}`);
    this.host.tidy();
    return left;
  }
}

// ---------------------------------------------------------------------------------------------

/** A containerd of this test's own: config, root, state and sockets in a temp dir. */
export class ContainerdLab {
  readonly dir = mkdtempSync('/tmp/tsnet-ctrd-');
  readonly address = join(this.dir, 'containerd.sock');
  readonly namespaces = new Set<string>();
  private daemon: ChildProcess | undefined;
  private readonly host = new HostPaths(['/run/containerd', '/run/containerd/s', '/run/containerd/runc', '/run/containerd/fifo'], ['containerd', 'containerd-shim', 'dockerd']);

  async start(): Promise<void> {
    writeFileSync(
      join(this.dir, 'config.toml'),
      [
        'version = 2', `root = "${this.dir}/root"`, `state = "${this.dir}/state"`, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]', `  address = "${this.address}"`, '[ttrpc]', `  address = "${this.address}.ttrpc"`, '[debug]', '  address = ""', '',
      ].join('\n'),
    );
    const log = openSync(join(this.dir, 'containerd.log'), 'w');
    this.daemon = spawn('containerd', ['--config', join(this.dir, 'config.toml')], { stdio: ['ignore', log, log] });
    closeSync(log);
    await waitFor('containerd\'s socket', async () => existsSync(this.address) && (await this.ctr('default', ['version'])).code === 0);
  }

  ctr(namespace: string, args: string[]): Promise<RunResult> {
    return run('ctr', [`--address=${this.address}`, `--namespace=${namespace}`, ...args]);
  }

  /** `ctr run -d --null-io --rootfs` in `namespace` (`cni`: with --cni); returns the task's PID. */
  async run(namespace: string, id: string, rootfs: string, cmd: string[], opts: { cni?: boolean } = {}): Promise<number> {
    this.namespaces.add(namespace);
    const r = await this.ctr(namespace, ['run', '-d', '--null-io', ...(opts.cni ? ['--cni'] : []), '--rootfs', rootfs, id, ...cmd]);
    if (r.code !== 0) throw new Error(`ctr run ${id}: ${r.stderr}`);
    return waitFor(`task ${id}`, async () => {
      const ls = await this.ctr(namespace, ['task', 'ls']);
      const m = new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, 'm').exec(ls.stdout);
      return m ? Number(m[1]) : undefined;
    });
  }

  async destroy(): Promise<string[]> {
    for (const ns of this.namespaces) {
      const ids = (await this.ctr(ns, ['container', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
      for (const id of ids) {
        await this.ctr(ns, ['task', 'kill', '-s', 'SIGKILL', id]);
        await waitFor(`task ${id} to stop`, async () => !/RUNNING/.test((await this.ctr(ns, ['task', 'ls'])).stdout.split('\n').find((l) => l.startsWith(`${id} `)) ?? ''), 5000).catch(() => {});
        await this.ctr(ns, ['task', 'delete', '-f', id]);
        await this.ctr(ns, ['container', 'delete', id]);
      }
      await this.ctr(ns, ['namespace', 'remove', ns]);
    }
    await stopChild(this.daemon, 5000);
    killMentioning(this.dir); // shims (containerd-shim-runc-v2 -address <our socket>)
    await sleep(50);
    // runc's state for our namespaces (the shim's runc root is /run/containerd/runc/<namespace>)
    for (const ns of this.namespaces) {
      try {
        rmdirSync(join('/run/containerd/runc', ns));
      } catch {
        // not there, or not empty (then it shows below)
      }
    }
    const left = [
      ...mountsBelow(this.dir).map((m) => `mount ${m}`),
      ...processesMentioning(this.dir).map((p) => `process ${p}`),
      ...[...this.namespaces].filter((ns) => existsSync(join('/run/containerd/runc', ns))).map((ns) => `runc state /run/containerd/runc/${ns}`),
    ];
    if (left.length === 0) rmSync(this.dir, { recursive: true, force: true });
    else left.push(`dir ${this.dir}`);
    this.host.tidy();
    return left;
  }
}

// ---------------------------------------------------------------------------------------------

/** A dockerd of this test's own, with no host networking: --iptables=false --ip-forward=false --bridge=none. */
export class DockerLab {
  readonly dir = mkdtempSync('/tmp/tsnet-dockerd-');
  readonly host = `unix://${join(this.dir, 'docker.sock')}`;
  readonly prefix = `tsnet-${randomBytes(3).toString('hex')}`;
  private daemon: ChildProcess | undefined;
  private readonly keyJsonBefore = existsSync('/etc/docker/key.json');
  private readonly hostPaths = new HostPaths(['/run/docker', '/run/docker/plugins', '/run/containerd', '/run/containerd/s'], ['containerd', 'containerd-shim', 'dockerd']);

  name(s: string): string {
    return `${this.prefix}-${s}`;
  }

  async start(): Promise<void> {
    writeFileSync(join(this.dir, 'daemon.json'), '{}\n');
    const log = openSync(join(this.dir, 'dockerd.log'), 'w');
    this.daemon = spawn(
      'dockerd',
      [
        '--config-file', join(this.dir, 'daemon.json'), '--data-root', join(this.dir, 'data'), '--exec-root', join(this.dir, 'exec'),
        '--pidfile', join(this.dir, 'docker.pid'), '-H', this.host, '--iptables=false', '--ip-forward=false', '--ip-masq=false',
        '--bridge=none', '--storage-driver=vfs', '--userland-proxy=false',
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    await waitFor('dockerd\'s socket', async () => existsSync(join(this.dir, 'docker.sock')) && (await this.docker(['version'])).code === 0, 30_000);
  }

  docker(args: string[]): Promise<RunResult> {
    return run('docker', args, { env: { DOCKER_HOST: this.host } });
  }

  /** `docker import` of a root filesystem (a tar stream of it). */
  async importRootfs(rootfs: string, tag: string): Promise<void> {
    const tar = join(this.dir, `${tag.replace(/[^a-z0-9]/g, '-')}.tar`);
    execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
    const r = await this.docker(['import', tar, tag]);
    rmSync(tar);
    if (r.code !== 0) throw new Error(`docker import: ${r.stderr}`);
  }

  /** Runs `cmd` from `image` with no network, the rootfs's resolv.conf bind-mounted over Docker's. */
  async run(name: string, image: string, resolvConf: string, cmd: string[]): Promise<number> {
    const r = await this.docker(['run', '-d', '--name', name, '--network', 'none', '-v', `${resolvConf}:/etc/resolv.conf:ro`, image, ...cmd]);
    if (r.code !== 0) throw new Error(`docker run ${name}: ${r.stderr}`);
    const pid = await this.docker(['container', 'inspect', '-f', '{{.State.Pid}}', name]);
    return Number(pid.stdout.trim());
  }

  async destroy(): Promise<string[]> {
    if (this.daemon && this.daemon.exitCode === null) {
      const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await this.docker(['rm', '-f', ...ids]);
    }
    await stopChild(this.daemon, 15_000);
    killMentioning(this.dir); // its containerd and shims
    await sleep(50);
    if (!this.keyJsonBefore) rmSync('/etc/docker/key.json', { force: true }); // dockerd 20.10 writes it wherever --data-root is
    const left = [...mountsBelow(this.dir).map((m) => `mount ${m}`), ...processesMentioning(this.dir).map((p) => `process ${p}`)];
    if (left.length === 0) rmSync(this.dir, { recursive: true, force: true });
    else left.push(`dir ${this.dir}`);
    this.hostPaths.tidy();
    return left;
  }
}
