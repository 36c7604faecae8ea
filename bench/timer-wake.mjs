#!/usr/bin/env node
// How late the real driver's timers wake, against a C program's poll() in the same run: the
// library's own wait (musl and glibc sleep in poll()). A resolver's decisions at a timing margin
// (musl's resend loop: 6 ms of margin over 7 wake-ups with timeout:1 attempts:7) are only as
// faithful as the driver's wake-ups. Three ways of waiting, each for --wakes sleeps of --ms:
//   c-poll        poll(NULL, 0, ms) in C (the peer), lateness read with clock_gettime
//   tsnet-thread  the driver's way: a Node timer to 2.5 ms before, then native/clock.ts sleepUntil
//   loop-turn     the driver's former way: a Node timer to 1.5 ms before, then setImmediate turns
// With --stress, `stress-ng --cpu 2` (local CPU hogs, no I/O) runs during the measurement.
// No packets are sent. Needs gcc (and stress-ng for --stress). Results: docs/benchmarks.md.
//
//   node bench/timer-wake.mjs [--wakes 40] [--ms 142] [--stress]

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(args[i + 1]);
};
const WAKES = opt('wakes', 40);
const MS = opt('ms', 142);
const STRESS = args.includes('--stress');

const C_POLL = `#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
int main(int argc, char **argv) {
  int n = atoi(argv[1]), ms = atoi(argv[2]);
  for (int i = 0; i < n; i++) { double at = now() + ms; poll(0, 0, ms); printf("%.4f\\n", now() - at); }
  return 0;
}
`;

/** The child's body for the two Node ways: prints one lateness (ms) per line. */
const nodeChild = (bundle, how) => `
import { prepareClock, sleepUntil } from ${JSON.stringify(bundle)};
prepareClock();
const [n, ms] = [${WAKES}, ${MS}];
const thread = (at, cb) => {
  const rest = at - performance.now();
  if (rest > 3) return setTimeout(() => thread(at, cb), Math.floor(rest - 2.5));
  const check = () => (performance.now() >= at ? cb() : setImmediate(check));
  if (!sleepUntil(at, check)) setImmediate(check);
};
const turn = (at, cb) => {
  const rest = at - performance.now();
  if (rest > 2) return setTimeout(() => turn(at, cb), Math.floor(rest - 1.5));
  const check = () => (performance.now() >= at ? cb() : setImmediate(check));
  setImmediate(check);
};
const wait = ${how === 'tsnet-thread' ? 'thread' : 'turn'};
let left = n;
const once = () => {
  const at = performance.now() + ms;
  wait(at, () => {
    console.log((performance.now() - at).toFixed(4));
    if (--left > 0) once();
  });
};
once();
`;

function run(cmd, argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').map(Number)) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: q(s, 0.5), p90: q(s, 0.9), max: s[s.length - 1], sum: s.reduce((a, b) => a + b, 0) };
};

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsnet-bench-wake-'));
  let stress;
  try {
    fs.writeFileSync(path.join(tmp, 'poll.c'), C_POLL);
    execFileSync('gcc', ['-O2', '-o', path.join(tmp, 'poll'), path.join(tmp, 'poll.c')]);
    const { build } = await import(pathToFileURL(path.join(REPO, 'node_modules/esbuild/lib/main.js')).href);
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(tmp, 'node_modules')); // koffi, found from the bundle
    const bundle = path.join(tmp, 'clock.js');
    await build({
      entryPoints: [path.join(REPO, 'native/clock.ts')], outfile: bundle, bundle: true, format: 'esm', platform: 'node',
      target: 'node20', external: ['koffi'], logLevel: 'warning',
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    });
    for (const how of ['tsnet-thread', 'loop-turn']) fs.writeFileSync(path.join(tmp, `${how}.mjs`), nodeChild(bundle, how));
    if (STRESS) {
      stress = spawn('stress-ng', ['--cpu', '2', '--timeout', `${Math.ceil((WAKES * MS) / 1000) + 30}s`], { stdio: 'ignore', detached: true });
      await new Promise((r) => setTimeout(r, 1000));
    }
    // All three at once: the same load for each.
    const [c, thread, turn] = await Promise.all([
      run(path.join(tmp, 'poll'), [String(WAKES), String(MS)]),
      run(process.execPath, [path.join(tmp, 'tsnet-thread.mjs')]),
      run(process.execPath, [path.join(tmp, 'loop-turn.mjs')]),
    ]);
    const rows = { 'c-poll (peer)': summary(c), 'tsnet-thread (driver)': summary(thread), 'loop-turn (former driver)': summary(turn) };
    const peer = rows['c-poll (peer)'];
    console.log(`| ${WAKES} sleeps of ${MS} ms${STRESS ? ', stress-ng --cpu 2' : ''} | late p50 ms | p90 ms | max ms | sum ms | sum / peer's |`);
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const [name, r] of Object.entries(rows)) {
      console.log(`| ${name} | ${r.p50.toFixed(3)} | ${r.p90.toFixed(3)} | ${r.max.toFixed(3)} | ${r.sum.toFixed(2)} | ${(r.sum / peer.sum).toFixed(2)}× |`);
    }
  } finally {
    if (stress) process.kill(-stress.pid, 'SIGKILL'); // its workers too
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
