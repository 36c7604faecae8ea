// Helpers both benchmarks share: running commands, listing namespaces and links, and sweeping
// what a run (prefix, temp dir) may have left behind.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export const log = (...a) => console.error('[bench]', ...a);

/** Children running right now: a signal handler can kill them (a 10 s dnsperf run ends at once). */
export const running = new Set();

/**
 * Run a command; resolve with stdout, reject with stderr on non-zero exit or timeout. `env` adds to
 * this process's environment; `onlyEnv` is the whole environment (PATH and what it lists).
 */
export function run(cmd, args, { input = '', env, onlyEnv, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const childEnv = onlyEnv ? { PATH: process.env.PATH, ...onlyEnv } : env ? { ...process.env, ...env } : process.env;
    const child = spawn(cmd, args, { env: childEnv });
    running.add(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.stdin.on('error', () => {}); // EPIPE when the child exits without reading stdin
    const settle = () => {
      clearTimeout(timer);
      running.delete(child);
    };
    child.on('error', (e) => {
      settle();
      reject(e);
    });
    child.on('close', (code, signal) => {
      settle();
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')}: ${signal ?? `exit ${code}`}: ${(err || out).trim().slice(-2000)}`));
    });
    child.stdin.end(input);
  });
}

export const now = () => process.hrtime.bigint();
export const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

export async function netnsList() {
  const out = await run('ip', ['-j', 'netns', 'list']).catch(() => '');
  return out.trim() ? JSON.parse(out).map((x) => x.name) : [];
}

export async function linkList(ns) {
  const out = await run('ip', [...(ns ? ['-n', ns] : []), '-j', 'link', 'show']);
  return JSON.parse(out).map((x) => x.ifname);
}

/**
 * Removes whatever a run left: namespaces and links whose names carry `prefix` (or are listed in
 * `links`), bind mounts under `tmp` (tsnet's namespace handles), then `tmp` itself.
 */
export async function sweep({ prefix, tmp, links = new Set() }) {
  for (const ns of await netnsList()) {
    if (ns.includes(prefix)) await run('ip', ['netns', 'del', ns]).catch((e) => log(e.message));
  }
  for (const l of await linkList().catch(() => [])) {
    if (l.includes(prefix) || links.has(l)) await run('ip', ['link', 'del', l]).catch((e) => log(e.message));
  }
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((mp) => mp && mp.startsWith(tmp + '/'))
    .sort((a, b) => b.length - a.length);
  for (const mp of mounts) await run('umount', ['-l', mp]).catch((e) => log(e.message));
  fs.rmSync(tmp, { recursive: true, force: true });
}
