#!/usr/bin/env node
// DNS serving benchmark: the tsnet stub resolver vs aardvark-dns vs dnsmasq, all measured with
// dnsperf from a client inside a network namespace, in the same run. Needs root. See bench/README.md.
//
//   node bench/stub.mjs [--quick] [--methods tsnet,aardvark,dnsmasq] [--scenarios local,forward]
//                       [--duration 10] [--clients 1,10] [--rate 10000] [--fwd-rate 2000] [--repeat 3]
//                       [--names 200] [--fwd-names 100000] [--hot-names 1000] [--out FILE]
//
// Safety model: every name this run creates carries a random per-run prefix (bsXXXX). The peers
// (aardvark-dns, dnsmasq) run inside private namespaces of their own: a "server" namespace with a
// bridge holding the gateway address and a veth to a "client" namespace. tsnet builds its own
// bridge in the host namespace on a private /24 (that is what tsnet does), and the stub daemon
// listens on that bridge's gateway address. The upstream for the forwarding scenario is a dnsmasq
// inside one more tsnet container of the run. Nothing is NATed or routed anywhere else; every
// address used is loopback or inside a namespace or bridge this run made. Everything is removed at
// the end, on error and on SIGINT/SIGTERM/SIGHUP, and a leak check (netns, links, processes) runs last.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { linkList, log, msSince, netnsList, now, run, running, sweep } from './common.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const AARDVARK = '/usr/lib/podman/aardvark-dns';
const ALL_METHODS = ['tsnet', 'aardvark', 'dnsmasq'];
const ALL_SCENARIOS = ['local', 'forward'];

// Address plan. tsnet's subnet is on a host bridge (tsnet checks it overlaps nothing the host has);
// the peers' subnets exist only inside their own namespaces.
const TS = { subnet: '10.155.0.0/24', gw: '10.155.0.1', upstream: '10.155.0.250' };
const AV = { subnet: '10.156.0.0/24', gw: '10.156.0.1', client: '10.156.0.2' };
const DM = { subnet: '10.157.0.0/24', gw: '10.157.0.1', client: '10.157.0.2' };
const UPLINK = { dm: '10.158.0.1', up: '10.158.0.2', prefixLen: 30 }; // dnsmasq forwarder <-> upstream
/** Answer data of the upstream zone (198.18.0.0/15, the benchmarking range): only ever written into DNS answers, never sent to. */
const zoneAddr = (i) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
/** Peer address of local name i (tsnet allocates its own). */
const peerAddr = (base, i) => base.replace(/\.0\/24$/, `.${10 + i}`);

// ---------------------------------------------------------------------------------------------
// options

const USAGE = `usage: node bench/stub.mjs [options]   (as root)
  --methods LIST     comma list of ${ALL_METHODS.join(',')} (default: all)
  --scenarios LIST   comma list of ${ALL_SCENARIOS.join(',')} (default: all; RSS is always measured)
  --duration S       dnsperf -l for every measured run (default 10; --quick: 2)
  --clients LIST     dnsperf -c settings for the unlimited-rate runs (default 1,10)
  --rate QPS         fixed rate (dnsperf -Q) for the local-answer latency run (default 10000)
  --fwd-rate QPS     fixed rate for the forwarding latency runs (default 2000)
  --repeat R         unlimited-rate runs per cell, the median is reported (default 3; --quick: 1)
  --names N          container names configured in every method (default 200; --quick: 20; max 240)
  --fwd-names M      distinct names in the upstream zone, queried by cache-off runs (default 100000; --quick: 5000)
  --hot-names H      names queried by cache-on runs (default 1000; --quick: 200)
  --workers W        parallel tsnet creates during setup (default 4)
  --no-pin           do not pin: by default (with >= 2 CPUs) every server runs on CPU 0, dnsperf and
                     the upstream on CPU 1, so each server gets one core of its own
  --quick            smoke run
  --dist DIR         where the built tsnet lives (default ${path.join(REPO, 'dist')}); the run uses a copy
  --out FILE         also write the results as JSON to FILE`;

let opt;
try {
  opt = parseArgs({
    options: {
      methods: { type: 'string' },
      scenarios: { type: 'string' },
      duration: { type: 'string' },
      clients: { type: 'string' },
      rate: { type: 'string' },
      'fwd-rate': { type: 'string' },
      repeat: { type: 'string' },
      names: { type: 'string' },
      'fwd-names': { type: 'string' },
      'hot-names': { type: 'string' },
      workers: { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      dist: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (e) {
  console.error(`${e.message}\n${USAGE}`);
  process.exit(2);
}
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}
function usage(msg) {
  console.error(`${msg}\n${USAGE}`);
  process.exit(2);
}
function intList(text, what) {
  const xs = text.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 1)) usage(`bad ${what}: ${text}`);
  return xs;
}
const int = (text, what) => intList(text, what)[0];
const list = (text, all, what) => {
  const xs = text.split(',').map((s) => s.trim());
  for (const x of xs) if (!all.includes(x)) usage(`unknown ${what}: ${x}`);
  return xs;
};

const METHODS = opt.methods ? list(opt.methods, ALL_METHODS, 'method') : ALL_METHODS;
const SCENARIOS = opt.scenarios ? list(opt.scenarios, ALL_SCENARIOS, 'scenario') : ALL_SCENARIOS;
const DURATION = int(opt.duration ?? (opt.quick ? '2' : '10'), '--duration');
const CLIENTS = intList(opt.clients ?? '1,10', '--clients');
const RATE = int(opt.rate ?? '10000', '--rate');
const FWD_RATE = int(opt['fwd-rate'] ?? '2000', '--fwd-rate');
const REPEAT = int(opt.repeat ?? (opt.quick ? '1' : '3'), '--repeat');
const NAMES = int(opt.names ?? (opt.quick ? '20' : '200'), '--names');
const FWD_NAMES = int(opt['fwd-names'] ?? (opt.quick ? '5000' : '100000'), '--fwd-names');
const HOT_NAMES = Math.min(FWD_NAMES, int(opt['hot-names'] ?? (opt.quick ? '200' : '1000'), '--hot-names'));
const WORKERS = int(opt.workers ?? '4', '--workers');
if (NAMES > 240) usage('--names: at most 240 (every method uses one /24)');
if (FWD_NAMES > 131_000) usage('--fwd-names: at most 131000 (answers come from 198.18.0.0/15)');
const DIST = path.resolve(opt.dist ?? path.join(REPO, 'dist'));
let TSNET_CLI = path.join(DIST, 'tsnet.js'); // replaced by the run's snapshot of DIST
const PIN = !opt['no-pin'] && os.cpus().length >= 2 ? { server: 0, client: 1 } : null;
const has = (m) => METHODS.includes(m);
const wants = (s) => SCENARIOS.includes(s);

// ---------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tryRun = (cmd, args) => run(cmd, args).then((s) => s.trim(), () => null);

const exists = (p) => fs.existsSync(p);
const r3 = (x) => (x == null ? null : Math.round(x * 1000) / 1000);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
/** Nearest-rank percentiles of latencies (ms). */
function percentiles(xs) {
  if (!xs.length) return null;
  const s = Float64Array.from(xs).sort();
  const rank = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { n: s.length, p50: r3(rank(50)), p90: r3(rank(90)), p99: r3(rank(99)), p999: r3(rank(99.9)), max: r3(s[s.length - 1]) };
}

/** Every command that set something up or measured something, in order, for the report. */
const commands = [];
const note = (what, cmd) => commands.push({ what, cmd: Array.isArray(cmd) ? cmd.join(' ') : cmd });

// /proc readers: CPU time of a process (all threads) and of the whole machine.
const CLK_TCK = 100; // USER_HZ on Linux
function procCpuSec(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime (fields 14, 15)
  } catch {
    return null;
  }
}
function machineCpu() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return { total: f.reduce((a, b) => a + b, 0), idle };
}
function procStatus(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    const state = /^State:\s+(\S)/m.exec(text)?.[1] ?? '?';
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1] ?? 0), state };
  } catch {
    return null;
  }
}
const cmdline = (pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null;
  }
};
/** Alive and still the process we think it is (not a zombie, not a recycled pid). */
const alive = (pid, marker) => {
  const st = procStatus(pid);
  return !!st && st.state !== 'Z' && (cmdline(pid) ?? '').includes(marker);
};

// ---------------------------------------------------------------------------------------------
// run identity and global cleanup

if (process.getuid?.() !== 0) {
  console.error('bench/stub.mjs must run as root (it creates network namespaces)');
  process.exit(1);
}

let PREFIX;
{
  const taken = new Set([...(await netnsList()), ...(await linkList())]);
  do PREFIX = `bs${randomBytes(2).toString('hex')}`;
  while ([...taken].some((n) => n.includes(PREFIX)));
}
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-`));
fs.chmodSync(TMP, 0o755); // dnsmasq drops privileges; it must still read its hosts files

const TSNET = {
  root: path.join(TMP, 'tsnet-root'),
  network: `${PREFIX}net`,
  live: new Set(), // container names to `tsnet rm`
  links: new Set(), // tsnet's own bridge/veth names for this run (they do not carry the prefix)
  stubPid: null,
  records: new Map(),
};
const names = Array.from({ length: NAMES }, (_, i) => `${PREFIX}-n${i}`);
const NS = {
  avServer: `${PREFIX}-as`,
  avClient: `${PREFIX}-ac`,
  dmServer: `${PREFIX}-ds`,
  dmClient: `${PREFIX}-dc`,
  upOwn: `${PREFIX}-up`, // the upstream's own namespace, only when tsnet is not measured
  ts: (name) => `tsnet-${name}`,
};
const UP_CONTAINER = `${PREFIX}-up`;

/** Long-lived server processes of this run: {name, pid, marker, child?}. */
const procs = [];
let aborted = null;
const checkAbort = () => {
  if (aborted) throw new Error(`aborted by ${aborted}`);
};

async function stopProc(p) {
  if (!alive(p.pid, p.marker)) return;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 60 && alive(p.pid, p.marker); i++) await sleep(50);
  if (alive(p.pid, p.marker)) {
    log(`${p.name} (pid ${p.pid}) ignored SIGTERM; SIGKILL`);
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
    for (let i = 0; i < 40 && alive(p.pid, p.marker); i++) await sleep(50);
  }
}

const tsnetCli = (args, { timeoutMs = 60_000 } = {}) =>
  run(process.execPath, [TSNET_CLI, '--root', TSNET.root, ...args], {
    // No host resolver settings leak into the containers: tsnet reads search/options defaults from here.
    env: { TSNET_HOST_RESOLV_CONF: path.join(TMP, 'empty-resolv.conf'), TSNET_LOG_LEVEL: 'warn' },
    timeoutMs,
  });

/** This run's tsnet links as tsnet's state records them, half-made containers included. */
function recordTsnetLinks() {
  const read = (f) => {
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch {
      return null;
    }
  };
  for (const dir of ['containers', 'networks']) {
    const base = path.join(TSNET.root, dir);
    if (!exists(base)) continue;
    for (const n of fs.readdirSync(base)) {
      const rec = read(path.join(base, n, dir === 'containers' ? 'container.json' : 'network.json'));
      if (typeof rec?.hostVeth === 'string') TSNET.links.add(rec.hostVeth);
      if (typeof rec?.bridge === 'string') TSNET.links.add(rec.bridge);
    }
  }
}

/** Remove this run's tsnet containers through tsnet itself (one `rm` with every name, then one by one). */
async function tsnetDrain() {
  if (!exists(TSNET.root)) return;
  recordTsnetLinks();
  // Only what tsnet knows: a create killed early may have left nothing (the sweep covers the rest).
  const listed = await tsnetCli(['ls', '--json']).then(
    (out) => new Set(JSON.parse(out).map((c) => c.name)),
    () => null,
  );
  const all = [...TSNET.live].filter((n) => !listed || listed.has(n));
  TSNET.live.clear();
  if (!all.length) return;
  try {
    await tsnetCli(['rm', ...all], { timeoutMs: 600_000 });
  } catch (e) {
    log(`tsnet rm (all): ${e.message.split('\n')[0].slice(-300)}; removing one by one`);
    for (const n of all) {
      await tsnetCli(['rm', n]).catch((err) => {
        if (!/no such container/.test(err.message)) log(`tsnet rm ${n}: ${err.message.split('\n')[0].slice(-300)}`);
      });
    }
  }
}

let cleanupPromise = null;
function cleanupAll() {
  cleanupPromise ??= (async () => {
    for (const c of running) c.kill('SIGTERM');
    for (const p of [...procs].reverse()) await stopProc(p).catch((e) => log(`stop ${p.name}: ${e.message}`));
    await tsnetDrain().catch((e) => log(`tsnet drain: ${e.message}`));
    // The stub daemon exits with the last container; if it has not, it is ours (our root): stop it.
    if (TSNET.stubPid) {
      for (let i = 0; i < 40 && alive(TSNET.stubPid, TSNET.root); i++) await sleep(50);
      await stopProc({ name: 'tsnet stub daemon', pid: TSNET.stubPid, marker: TSNET.root });
    }
    // Sweep: namespaces carrying the prefix (the peers' ones, and tsnet-<prefix>-* if tsnet rm failed),
    // then links carrying the prefix or recorded as this run's tsnet bridge/veths.
    await sweep({ prefix: PREFIX, tmp: TMP, links: TSNET.links });
  })();
  return cleanupPromise;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (aborted) return;
    aborted = sig;
    log(`caught ${sig}; stopping the current step and cleaning up`);
    for (const c of running) c.kill('SIGTERM'); // a 10 s dnsperf run ends now
    // The main flow cleans up when it notices; this is for a step that hangs.
    setTimeout(() => cleanupAll().finally(() => process.exit(128 + os.constants.signals[sig])), 20_000).unref();
  });
}

// ---------------------------------------------------------------------------------------------
// topology

/** A peer's private world: server namespace (bridge with the gateway) + client namespace (veth). */
async function peerTopology(serverNs, clientNs, bridge, veth, net) {
  const cmds = [
    ['ip', 'netns', 'add', serverNs],
    ['ip', 'netns', 'add', clientNs],
    ['ip', '-n', serverNs, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', clientNs, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', serverNs, 'link', 'add', bridge, 'type', 'bridge'],
    ['ip', '-n', serverNs, 'addr', 'add', `${net.gw}/24`, 'dev', bridge],
    ['ip', '-n', serverNs, 'link', 'set', bridge, 'up'],
    ['ip', '-n', serverNs, 'link', 'add', veth, 'up', 'master', bridge, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', clientNs],
    ['ip', '-n', clientNs, 'addr', 'add', `${net.client}/24`, 'dev', 'eth0'],
    ['ip', '-n', clientNs, 'link', 'set', 'eth0', 'up'],
  ];
  for (const c of cmds) {
    note('topology', c);
    await run(c[0], c.slice(1));
  }
}

/** Pins every thread of a server process to one CPU (threads made later inherit it). */
async function pin(pid, cpu, what) {
  if (!PIN) return;
  const args = ['-a', '-p', '-c', String(cpu), String(pid)];
  note(`pin ${what}`, ['taskset', ...args]);
  await run('taskset', args);
}

/** PIDs listening on ADDR:53/udp in a namespace (null: the host namespace). */
async function udpListeners(ns, addr) {
  const out = await run('ss', [...(ns ? ['-N', ns] : []), '-Hlnup', 'src', `${addr}:53`]).catch(() => '');
  return [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}
async function waitListening(ns, addr, pid, what) {
  for (let i = 0; i < 100; i++) {
    if ((await udpListeners(ns, addr)).includes(pid)) return;
    await sleep(50);
  }
  const holders = await udpListeners(ns, addr);
  throw new Error(`${what} (pid ${pid}) is not listening on ${addr}:53${holders.length ? `; held by pid ${holders.join(',')}` : ''}`);
}

/** `dig` from a client namespace: the A answers, to check every method answers what it should. */
async function dig(ns, server, name) {
  const out = await run('ip', ['netns', 'exec', ns, 'dig', '+short', '+time=2', '+tries=1', `@${server}`, name, 'A']);
  return out.trim().split('\n').filter(Boolean);
}
async function expectAnswer(what, ns, server, name, want) {
  const got = await dig(ns, server, name);
  if (got.length !== 1 || got[0] !== want) throw new Error(`${what}: ${name} answered [${got.join(', ')}], expected ${want}`);
}

// dnsmasq: one instance per configuration, restarted between scenarios.
async function startDnsmasq(label, ns, listen, extra) {
  const args = [
    'netns', 'exec', ns, 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--log-facility=-', '--no-resolv', '--no-hosts',
    ...listen.map((a) => `--listen-address=${a}`), '--bind-interfaces', ...extra,
  ];
  const logFile = path.join(TMP, `dnsmasq-${label}.log`);
  note(`dnsmasq ${label}`, ['ip', ...args]);
  const fd = fs.openSync(logFile, 'a');
  const child = spawn('ip', args, { stdio: ['ignore', fd, fd] }); // ip netns exec execs dnsmasq: same pid
  fs.closeSync(fd);
  const p = { name: `dnsmasq ${label}`, pid: child.pid, marker: 'dnsmasq', logFile };
  child.on('error', () => {});
  procs.push(p);
  try {
    await waitListening(ns, listen[0], p.pid, p.name);
  } catch (e) {
    throw new Error(`${e.message}\n${fs.readFileSync(logFile, 'utf8').slice(-1000)}`);
  }
  await pin(p.pid, label === 'upstream' ? PIN?.client : PIN?.server, p.name);
  return p;
}
async function stopDnsmasq(p) {
  await stopProc(p);
  procs.splice(procs.indexOf(p), 1);
}
/** dnsmasq's own counters: SIGUSR1 makes it log them. */
async function dnsmasqCounters(p) {
  try {
    process.kill(p.pid, 'SIGUSR1');
  } catch {
    return null;
  }
  await sleep(300);
  const text = fs.readFileSync(p.logFile, 'utf8');
  const m = [...text.matchAll(/queries forwarded (\d+), queries answered locally (\d+)/g)].pop();
  return m ? { forwarded: Number(m[1]), local: Number(m[2]) } : null;
}

// ---------------------------------------------------------------------------------------------
// setup per method

const files = {
  local: path.join(TMP, 'q-local.txt'),
  fwd: path.join(TMP, 'q-fwd-distinct.txt'),
  hot: path.join(TMP, 'q-fwd-hot.txt'),
  zone: path.join(TMP, 'upstream-zone.hosts'),
  dmHosts: path.join(TMP, 'dnsmasq-local.hosts'),
  avDir: path.join(TMP, 'aardvark'),
};
const fwdName = (i) => `f${i}.fwd.bench.test`;

function writeInputs() {
  fs.writeFileSync(path.join(TMP, 'empty-resolv.conf'), '');
  fs.writeFileSync(files.local, names.map((n) => `${n} A\n`).join(''));
  const fwd = [];
  const zone = [];
  for (let i = 0; i < FWD_NAMES; i++) {
    fwd.push(`${fwdName(i)} A\n`);
    zone.push(`${zoneAddr(i + 1)} ${fwdName(i)}\n`);
  }
  fs.writeFileSync(files.fwd, fwd.join(''));
  fs.writeFileSync(files.hot, fwd.slice(0, HOT_NAMES).join(''));
  fs.writeFileSync(files.zone, zone.join(''));
  fs.writeFileSync(
    files.dmHosts,
    [`${DM.client} ${PREFIX}-client\n`, ...names.map((n, i) => `${peerAddr(DM.subnet, i)} ${n}\n`)].join(''),
  );
  for (const f of fs.readdirSync(TMP)) fs.chmodSync(path.join(TMP, f), 0o644);
}

/**
 * The run works on a copy of DIST: a rebuild of the shared dist/ during the run (the bundles
 * replaced under a running daemon) would otherwise break the stub daemon or `tsnet rm` mid-run.
 * pino and koffi stay external and resolve through a node_modules symlink next to the copy.
 */
async function snapshotDist() {
  const src = path.join(DIST, 'tsnet.js');
  for (let attempt = 0; attempt < 30; attempt++) {
    const m0 = exists(src) ? fs.statSync(src).mtimeMs : 0;
    if (m0 && Date.now() - m0 > 3000) {
      const dst = path.join(TMP, 'dist');
      fs.rmSync(dst, { recursive: true, force: true });
      fs.cpSync(DIST, dst, { recursive: true });
      const m1 = exists(src) ? fs.statSync(src).mtimeMs : 0;
      if (m1 === m0 && (await tryRun(process.execPath, [path.join(dst, 'tsnet.js'), 'stub', '--help'])) !== null) {
        const nm = path.join(path.dirname(DIST), 'node_modules');
        if (!exists(path.join(TMP, 'node_modules'))) fs.symlinkSync(nm, path.join(TMP, 'node_modules'));
        TSNET_CLI = path.join(dst, 'tsnet.js');
        return new Date(m0).toISOString();
      }
    }
    await sleep(1000); // a build is running
  }
  throw new Error(`${src} missing or changing for 30 s (npm run build)`);
}

async function setupTsnet() {
  fs.mkdirSync(TSNET.root, { recursive: true });
  const create = async (name, extra) => {
    TSNET.live.add(name); // before the call, so a half-made container still gets an rm
    const out = await tsnetCli(['create', name, '--network', TSNET.network, '--subnet', TS.subnet, ...extra, '--json']);
    const rec = JSON.parse(out);
    if (rec.hostVeth) TSNET.links.add(rec.hostVeth);
    TSNET.records.set(name, rec);
    return rec;
  };
  const base = (extra) => ['node', TSNET_CLI, '--root', TSNET.root, 'create', '<NAME>', '--network', TSNET.network, '--subnet', TS.subnet, ...extra, '--json'];
  // The upstream's host: a tsnet container in dns-mode direct (it never uses the stub itself).
  const upArgs = ['--ip', TS.upstream, '--dns-mode', 'direct', '--dns', '127.0.0.1'];
  note('tsnet upstream host', base(upArgs).join(' ').replace('<NAME>', UP_CONTAINER));
  await create(UP_CONTAINER, upArgs);
  const net = JSON.parse(fs.readFileSync(path.join(TSNET.root, 'networks', TSNET.network, 'network.json'), 'utf8'));
  TSNET.links.add(net.bridge);
  TSNET.bridge = net.bridge;
  // Clients: local answers (cl), forwarding with the cache off (fo; fm in musl mode) and on (fc).
  const glibc = ['--dns-mode', 'glibc', '--dns', TS.upstream];
  const clients = [
    [`${PREFIX}-cl`, glibc],
    [`${PREFIX}-fo`, glibc],
    [`${PREFIX}-fm`, ['--dns-mode', 'musl', '--dns', TS.upstream]],
    [`${PREFIX}-fc`, [...glibc, '--dns-cache', '10000']],
  ];
  for (const [n, extra] of clients) {
    note('tsnet client', base(extra).join(' ').replace('<NAME>', n));
    await create(n, extra);
  }
  TSNET.stubPid = JSON.parse(fs.readFileSync(path.join(TSNET.root, 'stub', 'ready.json'), 'utf8')).pid;
  if (!alive(TSNET.stubPid, TSNET.root) || !cmdline(TSNET.stubPid).includes('stub daemon')) {
    throw new Error(`stub daemon pid ${TSNET.stubPid} from ready.json is not running`);
  }
  await waitListening(null, TS.gw, TSNET.stubPid, 'tsnet stub daemon');
  await pin(TSNET.stubPid, PIN?.server, 'tsnet stub daemon');
  rss.push(rssRow('tsnet', `stub daemon, ${clients.length} client containers (before the ${NAMES} names)`, TSNET.stubPid));
  // The names every method serves: N glibc containers, W creates at a time.
  note(`tsnet names (x${NAMES}, ${WORKERS} at a time)`, base(glibc).join(' ').replace('<NAME>', `${PREFIX}-n<i>`));
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < names.length) {
        checkAbort();
        const n = names[next++];
        await create(n, glibc);
      }
    }),
  );
  log(`tsnet: ${NAMES} containers created in ${(msSince(t0) / 1000).toFixed(1)} s`);
  const ready = JSON.parse(fs.readFileSync(path.join(TSNET.root, 'stub', 'ready.json'), 'utf8'));
  if (ready.pid !== TSNET.stubPid) throw new Error(`the stub daemon changed pid during setup: ${TSNET.stubPid} -> ${ready.pid}`);
  const clientNs = NS.ts(`${PREFIX}-cl`);
  for (const i of [0, NAMES - 1]) await expectAnswer('tsnet', clientNs, TS.gw, names[i], TSNET.records.get(names[i]).address);
  return {
    sanity:
      `stub pid ${TSNET.stubPid} on ${TS.gw}:53, ${ready.containers} glibc clients; ` +
      `${names[0]} -> ${TSNET.records.get(names[0]).address} from ${clientNs}`,
  };
}

async function setupAardvark() {
  if (!exists(AARDVARK)) throw new Error(`${AARDVARK} missing (apt install aardvark-dns)`);
  await peerTopology(NS.avServer, NS.avClient, `${PREFIX}ab`, `${PREFIX}av`, AV);
  fs.mkdirSync(files.avDir);
  // Config format (aardvark-dns 1.4): file name = network name; first line the listen (gateway)
  // address(es); then one line per container: ID IPv4s IPv6s NAMES. aardvark answers only
  // requesters it finds in the file, so the client namespace is listed too.
  const id = () => randomBytes(32).toString('hex');
  const conf = [
    `${AV.gw}\n`,
    `${id()} ${AV.client}  ${PREFIX}-client\n`,
    ...names.map((n, i) => `${id()} ${peerAddr(AV.subnet, i)}  ${n}\n`),
  ].join('');
  fs.writeFileSync(path.join(files.avDir, `${PREFIX}aav`), conf);
  const args = ['netns', 'exec', NS.avServer, AARDVARK, '--config', files.avDir, '-p', '53', 'run'];
  note('aardvark-dns', ['ip', ...args]);
  // `run` forks: the parent returns once the child serves; the child writes aardvark.pid.
  await run('ip', args);
  const pid = Number(fs.readFileSync(path.join(files.avDir, 'aardvark.pid'), 'utf8').trim());
  const p = { name: 'aardvark-dns', pid, marker: files.avDir };
  procs.push(p);
  // aardvark 1.4 keeps running even when it cannot bind: check the socket is really its own.
  await waitListening(NS.avServer, AV.gw, pid, 'aardvark-dns');
  await pin(pid, PIN?.server, 'aardvark-dns');
  for (const i of [0, NAMES - 1]) await expectAnswer('aardvark', NS.avClient, AV.gw, names[i], peerAddr(AV.subnet, i));
  rss.push(rssRow('aardvark', `${NAMES} names, before any load`, pid));
  return { pid, sanity: `pid ${pid} on ${AV.gw}:53 in ${NS.avServer}; ${names[0]} -> ${peerAddr(AV.subnet, 0)}` };
}

const dmLocalArgs = () => [`--addn-hosts=${files.dmHosts}`, '--local-ttl=5', '--cache-size=10000'];
async function setupDnsmasq() {
  await peerTopology(NS.dmServer, NS.dmClient, `${PREFIX}db`, `${PREFIX}dv`, DM);
  const p = await startDnsmasq('local', NS.dmServer, [DM.gw], dmLocalArgs());
  for (const i of [0, NAMES - 1]) await expectAnswer('dnsmasq', NS.dmClient, DM.gw, names[i], peerAddr(DM.subnet, i));
  rss.push(rssRow('dnsmasq', `${NAMES} names (hosts file), before any load`, p.pid));
  return { sanity: `pid ${p.pid} on ${DM.gw}:53 in ${NS.dmServer}; ${names[0]} -> ${peerAddr(DM.subnet, 0)}`, proc: p };
}

/**
 * The forwarding upstream: dnsmasq answering the zone from a hosts file (authoritative-style,
 * TTL 300, no upstream of its own). It lives in the tsnet container `<prefix>-up` (10.155.0.250,
 * reached by the stub over tsnet's bridge); a /30 veth from the dnsmasq server namespace into the
 * same namespace lets the dnsmasq forwarder reach the very same process.
 */
async function setupUpstream() {
  const upNs = has('tsnet') ? NS.ts(UP_CONTAINER) : NS.upOwn;
  const listen = [];
  if (!has('tsnet')) {
    for (const c of [['ip', 'netns', 'add', upNs], ['ip', '-n', upNs, 'link', 'set', 'lo', 'up']]) {
      note('topology', c);
      await run(c[0], c.slice(1));
    }
  } else listen.push(TS.upstream);
  if (has('dnsmasq')) {
    const cmds = [
      ['ip', '-n', NS.dmServer, 'link', 'add', `${PREFIX}du`, 'type', 'veth', 'peer', 'name', `${PREFIX}ud`, 'netns', upNs],
      ['ip', '-n', NS.dmServer, 'addr', 'add', `${UPLINK.dm}/${UPLINK.prefixLen}`, 'dev', `${PREFIX}du`],
      ['ip', '-n', NS.dmServer, 'link', 'set', `${PREFIX}du`, 'up'],
      ['ip', '-n', upNs, 'addr', 'add', `${UPLINK.up}/${UPLINK.prefixLen}`, 'dev', `${PREFIX}ud`],
      ['ip', '-n', upNs, 'link', 'set', `${PREFIX}ud`, 'up'],
    ];
    for (const c of cmds) {
      note('topology', c);
      await run(c[0], c.slice(1));
    }
    listen.push(UPLINK.up);
  }
  const p = await startDnsmasq('upstream', upNs, listen, [`--addn-hosts=${files.zone}`, '--local-ttl=300', '--cache-size=0']);
  for (const a of listen.slice(1)) await waitListening(upNs, a, p.pid, p.name);
  return { ns: upNs, listen, proc: p };
}

// ---------------------------------------------------------------------------------------------
// measuring

const rss = [];
/** VmRSS now and VmHWM: the peak since the last row of that process (each row resets it). */
function rssRow(method, what, pid) {
  const st = procStatus(pid);
  resetPeak(pid);
  return { method, what, pid, rssKb: st?.rssKb ?? null, hwmKb: st?.hwmKb ?? null, threads: st?.threads ?? null };
}
/** "5" to clear_refs resets VmHWM to the current RSS (Linux >= 4.0): each phase gets its own peak. */
function resetPeak(pid) {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // gone, or an older kernel: the peak is then the process's lifetime one
  }
}

function parseDnsperf(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  const codes = {};
  const codeLine = /Response codes:\s+(.*)/.exec(out)?.[1] ?? '';
  for (const m of codeLine.matchAll(/([A-Z]+) (\d+)/g)) codes[m[1]] = Number(m[2]);
  const lat = /Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)/.exec(out);
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    codes,
    runTimeS: num(/Run time \(s\):\s+([\d.]+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgLatencyMs: lat ? r3(Number(lat[1]) * 1000) : null,
    minLatencyMs: lat ? r3(Number(lat[2]) * 1000) : null,
    maxLatencyMs: lat ? r3(Number(lat[3]) * 1000) : null,
    stddevMs: r3((num(/Latency StdDev \(s\):\s+([\d.]+)/) ?? NaN) * 1000),
  };
}

/** Reads the stub's counters (status.json is rewritten every second). */
async function stubStats() {
  await sleep(1100);
  try {
    return JSON.parse(fs.readFileSync(path.join(TSNET.root, 'stub', 'status.json'), 'utf8')).stats;
  } catch {
    return null;
  }
}
const statsDelta = (a, b) =>
  a && b ? Object.fromEntries(['queries', 'local', 'forwarded', 'cached', 'refused', 'limited', 'malformed'].map((k) => [k, b[k] - a[k]])) : null;

/**
 * One dnsperf run from a client namespace. rate: -Q (null: unlimited); verbose: -v, so every
 * response's latency is printed and percentiles can be computed.
 */
async function dnsperf({ ns, server, file, clients, rate = null, verbose = false, duration = DURATION, serverPid }) {
  const args = ['netns', 'exec', ns, ...(PIN ? ['taskset', '-c', String(PIN.client)] : []), 'dnsperf', '-s', server, '-d', file, '-l', String(duration), '-c', String(clients)];
  if (rate) args.push('-Q', String(rate));
  if (verbose) args.push('-v');
  const cpu0 = procCpuSec(serverPid);
  const m0 = machineCpu();
  const t0 = now();
  const out = await run('ip', args, { timeoutMs: (duration + 40) * 1000 });
  const wallS = msSince(t0) / 1000;
  const cpu1 = procCpuSec(serverPid);
  const m1 = machineCpu();
  const res = { cmd: ['ip', ...args].join(' '), clients, rate, ...parseDnsperf(out) };
  if (verbose) {
    const lats = [];
    for (const m of out.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)) lats.push(Number(m[1]) * 1000);
    res.latency = percentiles(lats);
  }
  res.serverCpuPct = cpu0 != null && cpu1 != null ? Math.round(((cpu1 - cpu0) / wallS) * 1000) / 10 : null;
  // Server CPU time per answered query: independent of how fast the client could push.
  res.cpuUsPerQuery = cpu0 != null && cpu1 != null && res.completed ? Math.round(((cpu1 - cpu0) / res.completed) * 1e7) / 10 : null;
  const busy = m1.total - m1.idle - (m0.total - m0.idle);
  res.machineBusyPct = Math.round((busy / Math.max(1, m1.total - m0.total)) * 1000) / 10; // of all CPUs
  return res;
}

/** The per-method context of a scenario: where the client is, what it queries, the server pid. */
function target(method, scenario) {
  if (method === 'tsnet') {
    const client = { local: `${PREFIX}-cl`, 'fwd-off': `${PREFIX}-fo`, 'fwd-on': `${PREFIX}-fc` }[scenario];
    return { ns: NS.ts(client), server: TS.gw, serverPid: TSNET.stubPid };
  }
  if (method === 'tsnet-musl') return { ns: NS.ts(`${PREFIX}-fm`), server: TS.gw, serverPid: TSNET.stubPid }; // fwd-off only
  if (method === 'aardvark') return { ns: NS.avClient, server: AV.gw, serverPid: state.aardvark.pid };
  return { ns: NS.dmClient, server: DM.gw, serverPid: state.dnsmasq.pid };
}

const results = []; // every measured run
const state = { aardvark: null, dnsmasq: null, upstream: null };

/** The scenario's cells: warm-up, unlimited-rate qps at each -c (REPEAT times, interleaved), fixed-rate latency. */
async function scenario(name, methods, file, fixedRate, extra = {}) {
  const warmed = new Set();
  const beforeRun = async (m) => {
    if (warmed.has(m)) return;
    warmed.add(m);
    const t = target(m, name);
    const w = await dnsperf({ ...t, file, clients: 1, duration: 1 });
    log(`${name} ${m}: warm-up ${Math.round(w.qps)} qps, codes ${JSON.stringify(w.codes)}`);
  };
  const one = async (m, kind, opts) => {
    checkAbort();
    await beforeRun(m);
    const t = target(m, name);
    const s0 = m.startsWith('tsnet') ? await stubStats() : null;
    const d0 = m === 'dnsmasq' && extra.dnsmasqCounters ? await dnsmasqCounters(state.dnsmasq) : null;
    const res = await dnsperf({ ...t, file, ...opts });
    const row = { scenario: name, method: m, kind, ...res };
    if (m.startsWith('tsnet')) row.stub = statsDelta(s0, await stubStats());
    if (d0) {
      const d1 = await dnsmasqCounters(state.dnsmasq);
      row.dnsmasq = d1 ? { forwarded: d1.forwarded - d0.forwarded, local: d1.local - d0.local } : null;
    }
    results.push(row);
    const lat = row.latency ? `, p50 ${row.latency.p50} p99 ${row.latency.p99} ms` : '';
    log(
      `${name} ${m} ${kind} c=${opts.clients}${opts.rate ? ` Q=${opts.rate}` : ''}: ${Math.round(row.qps)} qps${lat}, ` +
        `server CPU ${row.serverCpuPct}%, machine ${row.machineBusyPct}%, codes ${JSON.stringify(row.codes)}` +
        (row.stub ? `, stub ${JSON.stringify(row.stub)}` : '') +
        (row.dnsmasq ? `, dnsmasq ${JSON.stringify(row.dnsmasq)}` : ''),
    );
  };
  for (const c of CLIENTS) {
    for (let r = 0; r < REPEAT; r++) for (const m of methods) await one(m, 'qps', { clients: c });
  }
  // the fixed-rate runs too are repeated, interleaved: p99 is the median of REPEAT runs
  for (let r = 0; r < REPEAT; r++) for (const m of methods) await one(m, 'latency', { clients: 1, rate: fixedRate, verbose: true });
}

// ---------------------------------------------------------------------------------------------
// environment, leak check, report

async function environment() {
  const first = (s) => s?.split('\n')[0] ?? null;
  return {
    date: new Date().toISOString(),
    host: os.hostname(),
    kernel: os.release(),
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavgStart: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    node: process.version,
    tsnetCommit: await tryRun('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']),
    tsnetDirty: !!(await tryRun('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no', 'src', 'resolvers', 'native'])),
    distBuilt: null, // set by snapshotDist()
    dnsperf: /Version ([\d.]+)/.exec((await tryRun('sh', ['-c', 'dnsperf -h 2>&1; true'])) ?? '')?.[1] ?? null,
    dnsmasq: first(await tryRun('dnsmasq', ['--version'])),
    aardvark: exists(AARDVARK) ? await tryRun(AARDVARK, ['--version']) : null,
    prefix: PREFIX,
    options: {
      methods: METHODS, scenarios: SCENARIOS, duration: DURATION, clients: CLIENTS, rate: RATE, fwdRate: FWD_RATE,
      repeat: REPEAT, names: NAMES, fwdNames: FWD_NAMES, hotNames: HOT_NAMES, pin: PIN,
    },
  };
}

async function hostState() {
  const rules = await run('iptables-save', []).then(
    (s) => s.split('\n').filter((l) => l && !l.startsWith('#')),
    () => null,
  );
  return {
    netns: await netnsList(),
    links: await linkList(),
    ipForward: fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
    iptables: rules,
  };
}

async function leakCheck(before, after) {
  const ours = (xs) => xs.filter((x) => x.includes(PREFIX) || TSNET.links.has(x));
  // Processes: anything dnsmasq/aardvark/tsnet whose command line names this run's temp dir or prefix.
  const pg = (await run('pgrep', ['-af', 'dnsmasq|aardvark|tsnet']).catch(() => '')).split('\n').filter(Boolean);
  const ourProcs = pg.filter((l) => (l.includes(TMP) || l.includes(PREFIX)) && !l.startsWith(`${process.pid} `));
  const pidsAlive = [...procs.map((p) => p), ...(TSNET.stubPid ? [{ name: 'stub daemon', pid: TSNET.stubPid, marker: TSNET.root }] : [])]
    .filter((p) => alive(p.pid, p.marker))
    .map((p) => `${p.name} ${p.pid}`);
  return {
    ourNetnsLeft: ours(after.netns),
    ourLinksLeft: ours(after.links),
    ourProcessesLeft: [...ourProcs, ...pidsAlive],
    tmpDirLeft: exists(TMP),
    // Not ours by name or record: another session's (tsnet names its own links), listed for information.
    otherNewNetns: after.netns.filter((x) => !before.netns.includes(x) && !x.includes(PREFIX)),
    otherNewLinks: after.links.filter((x) => !before.links.includes(x) && !x.includes(PREFIX) && !TSNET.links.has(x)),
    otherProcesses: pg.length - ourProcs.length,
    ipForwardChanged: before.ipForward !== after.ipForward ? `${before.ipForward} -> ${after.ipForward}` : null,
    iptablesChanged:
      before.iptables && after.iptables && before.iptables.join('\n') !== after.iptables.join('\n')
        ? `${before.iptables.length} -> ${after.iptables.length} rule lines`
        : null,
  };
}

const fmtQps = (x) => (x == null ? '–' : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));
const fmtMs = (x) => (x == null ? '–' : x >= 10 ? x.toFixed(1) : x.toFixed(3));
const ratio = (a, b) => (a != null && b ? `${(a / b).toFixed(2)}x` : '–');
const mib = (kb) => (kb == null ? '–' : `${(kb / 1024).toFixed(1)} MiB`);

function cell(scen, method, c) {
  const rows = results.filter((r) => r.scenario === scen && r.method === method && r.kind === 'qps' && r.clients === c);
  if (!rows.length) return null;
  return {
    qps: median(rows.map((r) => r.qps)),
    all: rows.map((r) => r.qps),
    cpu: median(rows.map((r) => r.serverCpuPct)),
    us: median(rows.map((r) => r.cpuUsPerQuery)),
    rows,
  };
}
/** The fixed-rate runs of a method: each percentile the median over the runs; `p99s` every run's p99. */
function latRow(scen, method) {
  const rows = results.filter((r) => r.scenario === scen && r.method === method && r.kind === 'latency' && r.latency);
  if (!rows.length) return undefined;
  const pick = (k) => median(rows.map((r) => r.latency[k]));
  return {
    qps: median(rows.map((r) => r.qps)),
    serverCpuPct: median(rows.map((r) => r.serverCpuPct)),
    latency: { p50: pick('p50'), p99: pick('p99'), p999: pick('p999'), max: pick('max') },
    p99s: rows.map((r) => r.latency.p99),
  };
}
const codesText = (codes) =>
  Object.entries(codes ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

function scenarioTables(L, scen, methods, title, rate) {
  const present = methods.filter((m) => results.some((r) => r.scenario === scen && r.method === m));
  if (!present.length) return;
  L.push(`### ${title}`, '');
  const qpsCols = CLIENTS.map((c) => `qps -c ${c}`);
  L.push(`| method | ${qpsCols.join(' | ')} | latency @ ${fmtQps(rate)} qps: p50 / p99 / p99.9 / max ms (achieved qps; server CPU) |`);
  L.push(`|---|${qpsCols.map(() => '---:').join('|')}|---|`);
  for (const m of present) {
    const cells = CLIENTS.map((c) => {
      const x = cell(scen, m, c);
      if (!x) return '–';
      const runs = REPEAT > 1 ? ` [${x.all.map(fmtQps).join(', ')}]` : '';
      return `${fmtQps(x.qps)}${runs} · ${x.cpu ?? '–'}% · ${x.us ?? '–'} µs/q`;
    });
    const lat = latRow(scen, m);
    const latText = lat?.latency
      ? `${fmtMs(lat.latency.p50)} / ${fmtMs(lat.latency.p99)}${lat.p99s.length > 1 ? ` [${lat.p99s.map(fmtMs).join(', ')}]` : ''} / ${fmtMs(lat.latency.p999)} / ${fmtMs(lat.latency.max)} ` +
        `(${fmtQps(lat.qps)}; ${lat.serverCpuPct ?? '–'}%)`
      : '–';
    L.push(`| ${m} | ${cells.join(' | ')} | ${latText} |`);
  }
  L.push('');
  const ours = present.filter((m) => m.startsWith('tsnet'));
  if (ours.length && present.length > ours.length) {
    L.push('| ratio | ' + CLIENTS.map((c) => `qps -c ${c}`).join(' | ') + ' | ' + CLIENTS.map((c) => `CPU µs/query -c ${c}`).join(' | ') + ' | p99 latency |');
    L.push(`|---|${CLIENTS.map(() => '---:').join('|')}|${CLIENTS.map(() => '---:').join('|')}|---:|`);
    for (const mine of ours) {
      for (const peer of present.filter((m) => !m.startsWith('tsnet'))) {
        const qs = CLIENTS.map((c) => ratio(cell(scen, mine, c)?.qps, cell(scen, peer, c)?.qps));
        const us = CLIENTS.map((c) => ratio(cell(scen, mine, c)?.us, cell(scen, peer, c)?.us));
        L.push(`| ${mine} / ${peer} | ${qs.join(' | ')} | ${us.join(' | ')} | ${ratio(latRow(scen, mine)?.latency?.p99, latRow(scen, peer)?.latency?.p99)} |`);
      }
    }
    L.push('');
  }
  const odd = results.filter(
    (r) => r.scenario === scen && (r.lost > 0 || Object.keys(r.codes ?? {}).some((k) => k !== 'NOERROR')),
  );
  for (const r of odd) L.push(`- ⚠ ${r.method} ${r.kind} -c ${r.clients}${r.rate ? ` -Q ${r.rate}` : ''}: lost ${r.lost}, codes ${codesText(r.codes)}`);
  if (odd.length) L.push('');
}

function markdown(report) {
  const { env, leaks } = report;
  const L = [];
  L.push('# tsnet stub benchmark', '');
  L.push(
    `${env.date} · kernel ${env.kernel} · ${env.cpus} · ${env.memGiB} GiB · node ${env.node} · tsnet ${env.tsnetCommit ?? '?'}` +
      `${env.tsnetDirty ? ' (+ uncommitted changes)' : ''}, dist built ${env.distBuilt ?? '–'} · dnsperf ${env.dnsperf ?? '?'} · ` +
      `${env.dnsmasq ?? 'dnsmasq ?'} · ${env.aardvark ?? 'aardvark-dns ?'} · run prefix \`${env.prefix}\``,
    '',
  );
  L.push(
    `Load average at start ${env.loadavgStart}, at end ${report.loadavgEnd ?? '–'}. dnsperf: -l ${DURATION} s, ` +
      `default -q 100 outstanding, 1 send + 1 receive thread, UDP, A queries. Cells: qps, median of ${REPEAT} run(s)` +
      `${REPEAT > 1 ? ' [every run]' : ''}, methods interleaved; the fixed-rate latency runs too (each percentile the median of ${REPEAT}${REPEAT > 1 ? ', [every run\'s p99]' : ''}) · server CPU (median) · server CPU time per answered query ` +
      `(median; this one does not depend on how hard the client could push). "server CPU" is the server process's ` +
      `user+sys time over the run's wall time (100% = one core; node's helper threads count too). ` +
      (PIN
        ? `Pinned: every server (all its threads) on CPU ${PIN.server}; dnsperf and the forwarding upstream on CPU ${PIN.client}; ` +
          `the kernel's network work runs on whichever CPU sends. A server well below 100% was held back by the client side.`
        : 'Not pinned: servers, dnsperf and the kernel share every CPU.'),
    '',
  );
  if (SCENARIOS.includes('local')) {
    scenarioTables(L, 'local', METHODS, `Local answers: ${NAMES} container names, queried round-robin`, RATE);
  }
  if (SCENARIOS.includes('forward')) {
    const up = report.upstream;
    L.push(`### Forwarding to a local upstream (dnsmasq answering ${FWD_NAMES} names from a hosts file, TTL 300)`, '');
    if (up?.reference) {
      L.push(
        `Upstream ceiling, queried directly from \`${up.reference.fromNs}\` (-c ${up.reference.clients}): ` +
          `${fmtQps(up.reference.qps)} qps, upstream CPU ${up.reference.serverCpuPct}%.`,
        '',
      );
    }
    const fwdMethods = METHODS.filter((m) => m !== 'aardvark');
    scenarioTables(L, 'fwd-off', [...fwdMethods, 'tsnet-musl'], `Cache off: ${FWD_NAMES} distinct names (tsnet without --dns-cache; dnsmasq --cache-size=0)`, FWD_RATE);
    scenarioTables(L, 'fwd-on', fwdMethods, `Cache on: ${HOT_NAMES} hot names (tsnet --dns-cache 10000; dnsmasq --cache-size=10000)`, RATE);
    const hits = results.filter((r) => r.scenario.startsWith('fwd') && (r.stub || r.dnsmasq) && r.kind === 'qps');
    if (hits.length) {
      L.push('Where the answers came from (per run: tsnet stub counters; dnsmasq SIGUSR1 counters):', '');
      for (const r of hits) {
        const src = r.stub
          ? `stub: ${r.stub.queries} queries, ${r.stub.forwarded} forwarded, ${r.stub.cached} from cache, ${r.stub.limited} over limits`
          : `dnsmasq: ${r.dnsmasq.forwarded} forwarded, ${r.dnsmasq.local} answered locally (cache/hosts)`;
        L.push(`- ${r.scenario} ${r.method} -c ${r.clients}: ${src}`);
      }
      L.push('');
    }
  }
  L.push(`### Memory (VmRSS / VmHWM of the serving process)`, '');
  L.push('| method | when | VmRSS | VmHWM (peak since the row before) | threads |');
  L.push('|---|---|---:|---:|---:|');
  for (const r of rss) L.push(`| ${r.method} | ${r.what} | ${mib(r.rssKb)} | ${mib(r.hwmKb)} | ${r.threads ?? '–'} |`);
  L.push('');
  L.push('### Setup', '');
  for (const [m, s] of Object.entries(report.sanity ?? {})) L.push(`- ${m}: ${s}`);
  L.push('');
  if (report.errors.length) {
    L.push('### Errors', '');
    for (const e of report.errors) L.push(`- ${e}`);
    L.push('');
  }
  L.push('### Commands', '', '```sh');
  let what = null;
  for (const c of commands) {
    if (c.what !== what) L.push(`# ${c.what}`);
    what = c.what;
    L.push(c.cmd);
  }
  L.push('# measured runs');
  for (const r of results) L.push(r.cmd);
  L.push('```', '');
  L.push('### Leak check', '');
  if (!leaks) L.push('- not run');
  else {
    const clean = !leaks.ourNetnsLeft.length && !leaks.ourLinksLeft.length && !leaks.ourProcessesLeft.length && !leaks.tmpDirLeft;
    L.push(
      clean
        ? `- nothing of this run left (netns, links${TSNET.bridge ? ` incl. tsnet's bridge \`${TSNET.bridge}\` and ${TSNET.links.size - 1} veths` : ''}, processes, temp dir): clean`
        : `- LEFT BEHIND: ${JSON.stringify(leaks)}`,
    );
    L.push(`- other dnsmasq/aardvark/tsnet processes on the host, not this run's: ${leaks.otherProcesses}`);
    if (leaks.otherNewNetns.length || leaks.otherNewLinks.length) {
      L.push(
        `- appeared during the run, neither named nor recorded by it (another session's?): ` +
          `netns [${leaks.otherNewNetns.join(', ')}], links [${leaks.otherNewLinks.join(', ')}]`,
      );
    }
    L.push(`- host ip_forward: ${leaks.ipForwardChanged ?? 'unchanged'}; host iptables: ${leaks.iptablesChanged ?? 'unchanged'}`);
  }
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------
// main

async function main(report) {
  report.env = await environment();
  log(`run prefix ${PREFIX}, temp dir ${TMP}`);
  for (const tool of ['dnsperf', 'dig', 'ss', ...(has('dnsmasq') || wants('forward') ? ['dnsmasq'] : [])]) {
    if (!(await tryRun('sh', ['-c', `command -v ${tool}`]))) throw new Error(`${tool} missing (apt-get install -y dnsperf dnsutils dnsmasq)`);
  }
  writeInputs();
  if (has('tsnet')) {
    report.env.distBuilt = await snapshotDist();
    log(`tsnet: using a copy of ${DIST} (built ${report.env.distBuilt}) at ${TSNET_CLI}`);
  }
  report.sanity = {};
  const setups = { tsnet: setupTsnet, aardvark: setupAardvark, dnsmasq: setupDnsmasq };
  for (const m of METHODS) {
    checkAbort();
    log(`setting up ${m}`);
    const s = await setups[m]();
    report.sanity[m] = s.sanity;
    if (m === 'aardvark') state.aardvark = s;
    if (m === 'dnsmasq') state.dnsmasq = s.proc;
  }
  if (has('tsnet')) rss.push(rssRow('tsnet', `stub daemon, ${NAMES} + 4 client containers, before any load`, TSNET.stubPid));

  if (wants('local')) {
    checkAbort();
    await scenario('local', METHODS, files.local, RATE);
    if (has('tsnet')) rss.push(rssRow('tsnet', 'after the local-answer runs', TSNET.stubPid));
    if (has('aardvark')) rss.push(rssRow('aardvark', 'after the local-answer runs', state.aardvark.pid));
    if (has('dnsmasq')) rss.push(rssRow('dnsmasq', 'after the local-answer runs', state.dnsmasq.pid));
  }

  const fwdMethods = METHODS.filter((m) => m !== 'aardvark');
  if (wants('forward') && fwdMethods.length) {
    checkAbort();
    state.upstream = await setupUpstream();
    report.upstream = { ns: state.upstream.ns, listen: state.upstream.listen, pid: state.upstream.proc.pid };
    // The upstream answers what it should, on each path a forwarder uses.
    if (has('tsnet')) await expectAnswer('upstream via tsnet stub', NS.ts(`${PREFIX}-fo`), TS.gw, fwdName(0), zoneAddr(1));
    // Ceiling: the upstream queried directly over the forwarders' own hop.
    const refNs = has('tsnet') ? NS.ts(`${PREFIX}-fo`) : NS.dmServer;
    const refAddr = has('tsnet') ? TS.upstream : UPLINK.up;
    const ref = await dnsperf({ ns: refNs, server: refAddr, file: files.fwd, clients: CLIENTS[CLIENTS.length - 1], serverPid: state.upstream.proc.pid });
    report.upstream.reference = { fromNs: refNs, ...ref };
    log(`upstream ceiling: ${Math.round(ref.qps)} qps, upstream CPU ${ref.serverCpuPct}%, codes ${JSON.stringify(ref.codes)}`);
    commands.push({ what: 'upstream ceiling (direct)', cmd: ref.cmd });

    for (const [scen, cacheSize, file, rate] of [
      ['fwd-off', 0, files.fwd, FWD_RATE],
      ['fwd-on', 10000, files.hot, RATE],
    ]) {
      checkAbort();
      if (has('dnsmasq')) {
        await stopDnsmasq(state.dnsmasq);
        state.dnsmasq = await startDnsmasq(scen, NS.dmServer, [DM.gw], [
          `--addn-hosts=${files.dmHosts}`, '--local-ttl=5', `--server=${UPLINK.up}`, `--cache-size=${cacheSize}`,
        ]);
        await expectAnswer(`dnsmasq ${scen}`, NS.dmClient, DM.gw, fwdName(0), zoneAddr(1));
      }
      // musl mode forwards to every server at once, one socket per lookup: measured with the cache off
      const methods = scen === 'fwd-off' && has('tsnet') ? [...fwdMethods, 'tsnet-musl'] : fwdMethods;
      await scenario(scen, methods, file, rate, { dnsmasqCounters: true });
      if (has('tsnet')) rss.push(rssRow('tsnet', `after the ${scen} runs`, TSNET.stubPid));
      if (has('dnsmasq')) rss.push(rssRow('dnsmasq', `${scen} forwarder, after its runs`, state.dnsmasq.pid));
    }
  }
}

const report = { env: null, results, rss, upstream: null, sanity: null, errors: [], leaks: null, commands };
const before = await hostState();
let exitCode = 0;
try {
  await main(report);
} catch (e) {
  log(e.message);
  report.errors.push(e.message);
  exitCode = 1;
} finally {
  report.loadavgEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  log('cleaning up');
  await cleanupAll().catch((e) => log(`cleanup: ${e.message}`));
  report.leaks = await leakCheck(before, await hostState());
}
const { ourNetnsLeft, ourLinksLeft, ourProcessesLeft, tmpDirLeft } = report.leaks;
if (ourNetnsLeft.length || ourLinksLeft.length || ourProcessesLeft.length || tmpDirLeft) exitCode = 1;

if (report.env) console.log(markdown(report));
if (opt.out) fs.writeFileSync(opt.out, JSON.stringify(report, null, 2) + '\n');
process.exit(aborted ? 128 + os.constants.signals[aborted] : exitCode);
