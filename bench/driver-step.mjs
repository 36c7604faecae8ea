#!/usr/bin/env node
// The real driver's own time per step, read off the wire: from a reply's arrival to the next
// query it triggers, and from a lookup's start to its first query, for tsnet's real driver in
// glibc and musl mode and for the real glibc and musl (test/fidelity/ref/gai.c) in the same run,
// against the same `tsnet fake-dns`. Needs root, python3, gcc and musl-gcc. Results: docs/benchmarks.md.
//
//   node bench/driver-step.mjs [--lookups 40] [--processes 5] [--scenarios nxwalk,servfail,healthy]
//                              [--libs tsnet-glibc,tsnet-musl,glibc,musl] [--out FILE]
//
// The wire is the oracle: an AF_PACKET socket on the client's interface (python3, kernel receive
// and transmit timestamps, CLOCK_REALTIME) sees each query leave and each reply arrive. Every
// lookup's start is a CLOCK_REALTIME stamp taken right before getaddrinfo() (gai.c) or
// lookupReal() (a child process running the driver). Scenarios, one fake-dns per address:
//   nxwalk    "db" with six search domains, every name NXDOMAIN: each reply triggers the next query
//   servfail  a SERVFAILing first server and a healthy second one (musl races them)
//   healthy   one server that answers: the whole lookup's time
//
// Safety model: two network namespaces of this run (random prefix dsbXXXX), a server and a client,
// joined by a veth pair born inside them; addresses 10.188.N.0/24 exist only there. No packet
// leaves them. Everything (namespaces, processes, the temp dir) is removed at the end, on error
// and on SIGINT/SIGTERM/SIGHUP, and a leak check runs last.
//
// tsnet's driver runs from a bundle of src/ made here with esbuild the way scripts/bundle.mjs
// makes dist/ (dist/lib.mjs does not export lookupReal); fake-dns runs from dist/.

import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { log, netnsList, run, running, sweep } from './common.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// The wire oracle (also used by test/netns/driver-*.test.ts)

/**
 * python3 reading an AF_PACKET socket bound to one interface: at the end, one JSON line per IPv4
 * DNS packet (port 53) or ICMP message, with the kernel's CLOCK_REALTIME stamp in ns (SIOCGSTAMPNS: the
 * first call enables stamping and fails with ENOENT, every later one returns the last packet's
 * stamp) and `out` for packets this host sent. Hand-written rather than tcpdump (not installed)
 * or src/capture (another module's work in progress): it is the observer, independent of tsnet.
 */
export const CAPTURE_PY = String.raw`
import socket, fcntl, struct, sys, json, signal, select
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
try:
    fcntl.ioctl(s, 0x8907, bytes(16))
except OSError:
    pass
s.bind((sys.argv[1], 0))
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
def qname(b, o):
    labels = []
    while o < len(b):
        n = b[o]
        if n == 0: return '.'.join(labels), o + 1
        if n >= 0xc0: return '.'.join(labels), o + 2
        labels.append(b[o + 1:o + 1 + n].decode('ascii', 'replace')); o += 1 + n
    return '.'.join(labels), o
raw = []
def drain():
    # only the stamp and the bytes while packets flow: the observer takes as little CPU as it can
    # from the processes it watches (decoded after the run)
    while True:
        try:
            data, addr = s.recvfrom(256, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        raw.append((fcntl.ioctl(s, 0x8907, bytes(16)), addr[2], data))
def decode(stamp, pkttype, data):
    sec, nsec = struct.unpack('qq', stamp)
    if len(data) < 34 or data[12:14] != b'\x08\x00': return None
    ip = data[14:]; p = ip[(ip[0] & 15) * 4:]
    rec = {'t': sec * 1000000000 + nsec, 'out': pkttype == 4, 'src': socket.inet_ntoa(ip[12:16]), 'dst': socket.inet_ntoa(ip[16:20])}
    if ip[9] == 17 and len(p) >= 20:
        sp, dp = struct.unpack('!HH', p[:4]); d = p[8:]
        if 53 not in (sp, dp): return None
        qid, fl, qd = struct.unpack('!HHH', d[:6])
        rec.update(kind='dns', sport=sp, dport=dp, id=qid, qr=fl >> 15, rcode=fl & 15, qname=None, qtype=None)
        if qd:
            n, o = qname(d, 12)
            rec.update(qname=n.lower(), qtype=struct.unpack('!H', d[o:o + 2])[0] if o + 2 <= len(d) else None)
    elif ip[9] == 1 and len(p) >= 2:
        rec.update(kind='icmp', type=p[0], code=p[1])
    else: return None
    return rec
print('ready', flush=True)
while not stop:
    if select.select([s], [], [], 0.1)[0]: drain()
drain()
for r in raw:
    rec = decode(*r)
    if rec: sys.stdout.write(json.dumps(rec) + '\n')
sys.stdout.flush()
`;

/** Starts a capture on `ifname` inside network namespace `ns` (an ip-netns name); stop() returns the packets. */
export async function startCapture(ns, ifname) {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', CAPTURE_PY, ifname], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise((ok) => child.on('close', () => { running.delete(child); ok(); }));
  for (let i = 0; !out.startsWith('ready\n'); i++) {
    if (child.exitCode !== null || i > 400) {
      child.kill('SIGKILL');
      throw new Error(`capture on ${ns}/${ifname} did not start: ${err.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 50)); // the last packets reach the socket
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      return out.split('\n').slice(1).filter(Boolean).map((l) => JSON.parse(l)).sort((a, b) => a.t - b.t);
    },
    kill: () => child.kill('SIGKILL'),
  };
}

export const QTYPE = { 1: 'A', 28: 'AAAA', 5: 'CNAME' };

/**
 * The steps of one lookup seen from the client (packets sorted by time, `start` in ns or
 * undefined): `gapsUs` from each reply that triggered the next query to that query, and
 * `firstUs` from the start to the first query. A reply triggers the next query when nothing
 * else is outstanding after it (the next search name, the next server) — unless that query is
 * the second half of a pair to the same server for the same name — or when it is a SERVFAIL
 * and the query is the same question resent to the same server (musl's retry).
 */
export function steps(packets, start) {
  const outstanding = new Map();
  const servfails = new Map();
  let open = 0;
  let anyTrigger;
  let prev;
  let firstUs;
  const gapsUs = [];
  for (const p of packets) {
    if (p.kind !== 'dns' || (start !== undefined && p.t < start)) continue;
    if (p.out && p.qr === 0) {
      if (firstUs === undefined && start !== undefined) firstUs = (p.t - start) / 1000;
      const q = `${p.dst}|${p.qname}|${p.qtype}`;
      if (servfails.has(q)) {
        gapsUs.push((p.t - servfails.get(q)) / 1000);
        servfails.delete(q);
      } else if (anyTrigger !== undefined && !(prev && prev.dst === p.dst && prev.qname === p.qname)) {
        gapsUs.push((p.t - anyTrigger) / 1000);
      }
      anyTrigger = undefined;
      prev = p;
      const k = `${p.dst}|${p.id}|${p.qname}|${p.qtype}`;
      outstanding.set(k, (outstanding.get(k) ?? 0) + 1);
      open++;
    } else if (!p.out && p.qr === 1) {
      const k = `${p.src}|${p.id}|${p.qname}|${p.qtype}`;
      if (!outstanding.get(k)) continue;
      outstanding.set(k, outstanding.get(k) - 1);
      open--;
      if (open === 0) anyTrigger = p.t;
      if (p.rcode === 2) servfails.set(`${p.src}|${p.qname}|${p.qtype}`, p.t);
    }
  }
  return { gapsUs, firstUs };
}

/** Splits packets into lookups by their start stamps (ns, ascending). */
export function byLookup(packets, starts) {
  return starts.map((s, i) => packets.filter((p) => p.t >= s && (i + 1 === starts.length || p.t < starts[i + 1])));
}

export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)];
}

// ---------------------------------------------------------------------------------------------
// the run

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) await main();

async function main() {
  const USAGE = `usage: node bench/driver-step.mjs [options]   (as root, after npm run build)
  --lookups N      lookups per process (default 40)
  --processes P    processes per library and scenario (each one's first lookup is reported apart; default 5)
  --scenarios L    comma list of nxwalk,servfail,healthy (default: all)
  --libs L         comma list of tsnet-glibc,tsnet-musl,glibc,musl (default: all)
  --out FILE       also write the results as JSON`;
  let opt;
  try {
    opt = parseArgs({
      options: {
        lookups: { type: 'string', default: '40' },
        processes: { type: 'string', default: '5' },
        scenarios: { type: 'string', default: 'nxwalk,servfail,healthy' },
        libs: { type: 'string', default: 'tsnet-glibc,tsnet-musl,glibc,musl' },
        out: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (opt.help) {
    console.log(USAGE);
    return;
  }
  if (process.getuid() !== 0) {
    console.error('bench/driver-step.mjs needs root (network namespaces)');
    process.exit(2);
  }
  const lookups = Number(opt.lookups);
  const processes = Number(opt.processes);
  const scenarios = opt.scenarios.split(',');
  const libs = opt.libs.split(',');

  const prefix = `dsb${randomBytes(2).toString('hex')}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const net = `10.188.${randomInt(256)}`;
  const srv = { nx: `${net}.1`, servfail: `${net}.2`, ok: `${net}.3` };
  const client = `${net}.100`;
  const sns = `${prefix}-s`;
  const cns = `${prefix}-c`;
  const cif = `${prefix}c`;
  const children = new Set();

  const cleanup = async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const c of running) c.kill('SIGKILL');
    await sweep({ prefix, tmp });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      cleanup().finally(() => process.exit(130));
    });
  }

  let results;
  try {
    log(`run ${prefix}: namespaces, fake-dns, references`);
    await run('ip', ['netns', 'add', sns]);
    await run('ip', ['netns', 'add', cns]);
    await run('ip', ['link', 'add', `${prefix}s`, 'netns', sns, 'type', 'veth', 'peer', 'name', cif, 'netns', cns]);
    for (const [ns, dev] of [[sns, `${prefix}s`], [cns, cif]]) {
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    for (const a of Object.values(srv)) await run('ip', ['-n', sns, 'addr', 'add', `${a}/24`, 'dev', `${prefix}s`]);
    await run('ip', ['-n', cns, 'addr', 'add', `${client}/24`, 'dev', cif]);

    // fake-dns from dist/
    const ready = path.join(tmp, 'ready');
    const fake = spawn(process.execPath, [
      path.join(REPO, 'dist/tsnet.js'), 'fake-dns', '--netns', `/run/netns/${sns}`,
      '--listen', `${srv.nx}=nxdomain`, '--listen', `${srv.servfail}=servfail`, '--listen', `${srv.ok}=answer`,
      '--zone', 'db.example=A:192.0.2.10', '--zone', 'db.example=AAAA:2001:db8::10', '--ready-file', ready,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(fake);
    let fakeErr = '';
    fake.stderr.setEncoding('utf8').on('data', (d) => (fakeErr += d));
    for (let i = 0; !fs.existsSync(ready); i++) {
      if (fake.exitCode !== null || i > 400) throw new Error(`fake-dns did not start: ${fakeErr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    // The neighbour entries exist before anything is measured (the first packet would wait for ARP).
    for (const a of Object.values(srv)) await run('ip', ['netns', 'exec', cns, 'dig', '+time=1', '+tries=1', `@${a}`, 'warm.example']).catch(() => {});

    // references and the tsnet harness
    const gai = { glibc: path.join(tmp, 'gai-glibc'), musl: path.join(tmp, 'gai-musl') };
    const src = path.join(REPO, 'test/fidelity/ref/gai.c');
    await run('gcc', ['-O2', '-Wall', '-o', gai.glibc, src]);
    await run('musl-gcc', ['-static', '-O2', '-Wall', '-o', gai.musl, src]);
    const harness = await buildHarness(tmp);

    const files = {
      nxwalk: { conf: `nameserver ${srv.nx}\nsearch d1.example d2.example d3.example d4.example d5.example d6.example\n`, name: 'db' },
      servfail: { conf: `nameserver ${srv.servfail}\nnameserver ${srv.ok}\n`, name: 'db.example' },
      healthy: { conf: `nameserver ${srv.ok}\n`, name: 'db.example' },
    };
    fs.writeFileSync(path.join(tmp, 'hosts'), '127.0.0.1 localhost\n');
    fs.writeFileSync(path.join(tmp, 'nsswitch.conf'), 'hosts: files dns\n');
    for (const [s, f] of Object.entries(files)) fs.writeFileSync(path.join(tmp, `${s}.conf`), f.conf);

    results = [];
    for (const scenario of scenarios) {
      for (const lib of libs) {
        const rows = [];
        for (let p = 0; p < processes; p++) {
          const cap = await startCapture(cns, cif);
          let out;
          try {
            out = await runLookups({ lib, scenario, files, tmp, cns, gai, harness, lookups });
          } finally {
            rows.push({ packets: await cap.stop(), out });
          }
        }
        results.push(summarise(lib, scenario, rows, srv));
        log(JSON.stringify(results.at(-1)));
      }
    }
  } finally {
    await cleanup();
    const left = (await netnsList()).filter((n) => n.includes(prefix));
    const procs = (await run('pgrep', ['-af', prefix]).catch(() => '')).trim();
    if (left.length || procs || fs.existsSync(tmp)) log(`LEAK: netns ${left.join(' ')} processes ${procs} tmp ${fs.existsSync(tmp)}`);
    else log('cleanup: nothing left');
  }
  printTable(results);
  if (opt.out) fs.writeFileSync(opt.out, JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
}

/** Bundles the driver, the emulators and a clock_gettime for the child processes. */
async function buildHarness(tmp) {
  const { build } = await import(pathToFileURL(path.join(REPO, 'node_modules/esbuild/lib/main.js')).href);
  const dir = path.join(tmp, 'harness');
  fs.mkdirSync(dir);
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(tmp, 'node_modules')); // koffi, found from the bundle
  fs.writeFileSync(path.join(dir, 'entry.ts'), [
    `export { lookupReal } from ${JSON.stringify(path.join(REPO, 'src/driver/real-driver.ts'))};`,
    `export { emulatorFor } from ${JSON.stringify(path.join(REPO, 'resolvers/index.ts'))};`,
    `export { loadKoffi } from ${JSON.stringify(path.join(REPO, 'native/koffi.ts'))};`,
  ].join('\n'));
  await build({
    entryPoints: { harness: path.join(dir, 'entry.ts') }, outdir: dir, bundle: true, format: 'esm', platform: 'node',
    target: 'node20', external: ['koffi', 'pino'], logLevel: 'warning',
    banner: { js: "import { createRequire as __tsnetCreateRequire } from 'node:module'; const require = __tsnetCreateRequire(import.meta.url);" },
  });
  const child = path.join(dir, 'child.mjs');
  fs.writeFileSync(child, `
import { readFileSync } from 'node:fs';
import { emulatorFor, loadKoffi, lookupReal } from './harness.js';
const [mode, conf, hosts, nss, name, n] = process.argv.slice(2);
const koffi = loadKoffi();
koffi.struct('bench_timespec', { tv_sec: 'int64_t', tv_nsec: 'int64_t' });
const clockGettime = koffi.load('libc.so.6').func('int clock_gettime(int clk, _Out_ bench_timespec *ts)');
const ts = {};
const realtimeNs = () => (clockGettime(0, ts), BigInt(ts.tv_sec) * 1000000000n + BigInt(ts.tv_nsec));
const input = { resolvConf: readFileSync(conf, 'utf8'), hosts: readFileSync(hosts, 'utf8'), nsswitch: readFileSync(nss, 'utf8'), env: {}, hostname: 'bench' };
const proc = emulatorFor(mode).createProcess({ input, random: Math.random, warn: () => {} });
const lines = [];
for (let i = 0; i < Number(n); i++) {
  const start = realtimeNs();
  const t0 = performance.now();
  const trace = await lookupReal(proc, { name, family: 'any', canonname: false }, { mode, port: 53, warnings: [] });
  const elapsed = performance.now() - t0;
  lines.push(JSON.stringify({ start_ns: String(start), elapsed_ms: elapsed, error: trace.result.error, queries: trace.queries.length }));
}
console.log(lines.join('\\n'));
`);
  return child;
}

async function runLookups({ lib, scenario, files, tmp, cns, gai, harness, lookups }) {
  const conf = path.join(tmp, `${scenario}.conf`);
  const hosts = path.join(tmp, 'hosts');
  const nss = path.join(tmp, 'nsswitch.conf');
  const name = files[scenario].name;
  let stdout;
  if (lib.startsWith('tsnet-')) {
    stdout = await run('ip', ['netns', 'exec', cns, process.execPath, harness, lib.slice(6), conf, hosts, nss, name, String(lookups)]);
  } else {
    // the real library reads the files at /etc: bind-mounted in a private mount namespace
    const script = 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && mount --bind "$3" /etc/nsswitch.conf && shift 3 && exec "$@"';
    stdout = await run('ip', ['netns', 'exec', cns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', conf, hosts, nss, gai[lib], name, 'any', 'nocanon', String(lookups), '0']);
  }
  return stdout.trim().split('\n').map((l) => {
    const j = JSON.parse(l);
    return { start: j.start_ns !== undefined ? Number(BigInt(j.start_ns)) : Math.round(j.start_ms * 1e6), elapsedMs: j.elapsed_ms, error: j.error };
  });
}

function summarise(lib, scenario, rows, srv) {
  const gaps = [];
  const firstOfProcess = [];
  const firsts = [];
  const elapsed = [];
  let resendsToFailing = 0;
  let lookupsSeen = 0;
  for (const { packets, out } of rows) {
    const windows = byLookup(packets, out.map((o) => o.start));
    windows.forEach((w, i) => {
      const s = steps(w, out[i].start);
      gaps.push(...s.gapsUs);
      if (s.firstUs !== undefined) (i === 0 ? firstOfProcess : firsts).push(s.firstUs);
      if (i > 0) elapsed.push(out[i].elapsedMs);
      lookupsSeen++;
      resendsToFailing += w.filter((p) => p.kind === 'dns' && p.out && p.qr === 0 && p.dst === srv.servfail).length;
    });
  }
  const r = (x) => Math.round(x * 10) / 10;
  return {
    lib,
    scenario,
    lookups: lookupsSeen,
    steps: gaps.length,
    stepP50us: r(quantile(gaps, 0.5)),
    stepP99us: r(quantile(gaps, 0.99)),
    firstP50us: r(quantile(firsts, 0.5)),
    firstP99us: r(quantile(firsts, 0.99)),
    firstOfProcessP50us: r(quantile(firstOfProcess, 0.5)),
    elapsedP50ms: Math.round(quantile(elapsed, 0.5) * 1000) / 1000,
    ...(scenario === 'servfail' ? { queriesToFailingPerLookup: r(resendsToFailing / lookupsSeen) } : {}),
  };
}

function printTable(results) {
  const head = ['scenario', 'library', 'steps', 'reply→next p50 µs', 'p99 µs', 'start→1st p50 µs', 'p99 µs', '1st lookup of process p50 µs', 'elapsed p50 ms', 'to failing server'];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
  for (const x of results) {
    console.log(`| ${[x.scenario, x.lib, x.steps, x.stepP50us, x.stepP99us, x.firstP50us, x.firstP99us, x.firstOfProcessP50us, x.elapsedP50ms, x.queriesToFailingPerLookup ?? ''].join(' | ')} |`);
  }
}
