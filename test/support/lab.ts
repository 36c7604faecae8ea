// A private tsnet world for one test file: its own state root, a unique name prefix and subnet,
// the built CLI to drive it, and a leak check that lists everything the root may have left behind.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Paths } from '../../src/state/paths.js';

export const isRoot = process.getuid?.() === 0;

/** Whether a command is on PATH (a test that needs it skips or fails with a clear reason). */
export function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
export const CLI = resolve(import.meta.dirname, '../../dist/tsnet.js');
/** The CNI plugin's own entry, what `tsnet cni install` points a runtime at. */
export const CNI_PLUGIN = resolve(import.meta.dirname, '../../dist/cni-plugin.cjs');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  /** run as this uid/gid (via setpriv) */
  asUser?: number;
}

/**
 * The built CLI where any user can read it. A checkout may sit below a directory only root can
 * enter (a clone into `mktemp -d`), so runs as another user use the world-readable copy of dist/
 * that global-setup.ts makes for the run (and removes after it).
 */
const cliReadableByAnyone = () => process.env.TSNET_TEST_READABLE_CLI ?? CLI;

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const asOther = (u: number) => ['setpriv', [`--reuid=${u}`, `--regid=${u}`, '--clear-groups', cmd, ...args.map((a) => (a === CLI ? cliReadableByAnyone() : a))]] as const;
  const [file, argv] = opts.asUser === undefined ? [cmd, args] : asOther(opts.asUser);
  return new Promise((done, fail) => {
    const child = spawn(file, argv, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
    child.stdin.on('error', () => {}); // a child that exits before reading its stdin
    child.stdin.end(opts.input ?? '');
  });
}

export class Lab {
  readonly root: string;
  readonly prefix: string;
  readonly paths: Paths;
  /** a /24 of its own in 10.160.0.0/11, so parallel test files never overlap */
  readonly subnet: string;
  readonly subnetBase: string;

  constructor() {
    // Only a unique path: tsnet makes the root when it first needs it, so a suite that is skipped
    // or filtered leaves nothing behind.
    this.root = join('/tmp', `tsnet-test-${randomBytes(6).toString('hex')}`);
    this.prefix = `t${randomBytes(2).toString('hex')}`;
    this.paths = new Paths(this.root);
    this.subnetBase = `10.${160 + randomInt(32)}.${randomInt(256)}`;
    this.subnet = `${this.subnetBase}.0/24`;
  }

  name(s: string): string {
    return `${this.prefix}-${s}`;
  }

  ip(host: number): string {
    return `${this.subnetBase}.${host}`;
  }

  /** Runs the CLI against this lab's root. */
  cli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(process.execPath, [CLI, '--root', this.root, ...args], {
      ...opts,
      env: { TSNET_LOG_LEVEL: 'warn', TSNET_DEFAULT_SUBNET: this.subnet, ...opts.env },
    });
  }

  /**
   * create with this lab's subnet, in dns-mode direct with the container's own loopback as its
   * nameserver, where nothing listens: a stray DNS query fails at once and never leaves the
   * container's namespace. (Stub tests pass their own --dns-mode and upstreams.)
   */
  create(name: string, extra: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    const defaults = extra.includes('--dns-mode') ? [] : ['--dns-mode', 'direct', '--dns', '127.0.0.1'];
    return this.cli(['create', name, '--subnet', this.subnet, ...defaults, ...extra], opts);
  }

  /** Everything this root or prefix still has on the machine: files, links, namespaces, mounts. */
  leftovers(): string[] {
    const out: string[] = [];
    for (const dir of ['containers', 'networks']) {
      const p = join(this.root, dir);
      if (existsSync(p)) out.push(...readdirSync(p).map((e) => `file ${dir}/${e}`));
    }
    if (existsSync(this.paths.lockFile)) out.push('file lock');
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    for (const m of links.matchAll(/^\d+: ([^:@]+)/gm)) {
      if (this.paths.isOurVeth(m[1]!) || this.paths.isOurBridge(m[1]!)) out.push(`link ${m[1]}`);
    }
    if (existsSync('/run/netns')) {
      out.push(...readdirSync('/run/netns').filter((e) => e.startsWith(`tsnet-${this.prefix}`)).map((e) => `netns ${e}`));
    }
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const mp = line.split(' ')[4];
      if (mp?.startsWith(this.root) || mp?.startsWith(`/run/netns/tsnet-${this.prefix}`)) out.push(`mount ${mp}`);
    }
    return out;
  }

  /** Removes whatever is left (rm of every container, then prune) and deletes the root. */
  async destroy(): Promise<string[]> {
    const ls = await this.cli(['ls', '--json']);
    const names = ls.code === 0 ? (JSON.parse(ls.stdout) as Array<{ name: string }>).map((c) => c.name) : [];
    if (names.length > 0) await this.cli(['rm', ...names]);
    await this.cli(['prune']);
    const after = this.leftovers();
    // The root goes unless something is still mounted in it (deleting a mount point's file would
    // fail, and its record is what a later prune needs); the caller asserts `after` is empty.
    if (!after.some((l) => l.startsWith(`mount ${this.root}`))) rmSync(this.root, { recursive: true, force: true });
    return after;
  }
}

/** Whether a network interface of this name exists in the host namespace. */
export function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Loud skip reason for privileged suites. */
export function requireRootOrSkip(): boolean {
  if (!isRoot) console.warn('SKIPPED: this suite needs root (real namespaces, veth, mounts); run the tests as root');
  return isRoot;
}
