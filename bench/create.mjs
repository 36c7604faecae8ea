#!/usr/bin/env node
// Per-container network setup benchmark: raw iproute2 vs the CNI bridge plugin vs netavark vs tsnet,
// all measured in the same run. Needs root. See bench/README.md.
//
//   node bench/create.mjs [--quick] [--methods ip-batch,cni,netavark,tsnet-lib,tsnet-cli]
//                         [--n 1,20,100] [--parallel 4x10] [--min-samples 10] [--out FILE]
//
// Safety model: every name this run creates starts with a random per-run prefix (bcXXXX). The peer
// methods (ip-batch, cni, netavark) keep their bridge inside a private "host" namespace of their own,
// so the real host's links, sysctls and firewall are never touched. Everything is removed at the end,
// on error and on SIGINT/SIGTERM, and a leak check runs last.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { linkList, log, msSince, netnsList, now, run, sweep } from './common.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CNI_DIR = '/usr/lib/cni';
const NETAVARK = '/usr/lib/podman/netavark';
// dns-mode direct: this benchmark measures network setup; the stub resolver is measured in bench/stub.mjs.
const TSNET_DNS = '127.0.0.1';
const ALL_METHODS = ['ip-batch', 'cni', 'netavark', 'netavark-dns', 'tsnet-lib', 'tsnet-cli', 'tsnet-cni'];
const AARDVARK = '/usr/lib/podman/aardvark-dns';
// stub-mode upstream for tsnet-cni: TEST-NET-1, never sent to (no query reaches the stub in this benchmark)
const TSNET_CNI_UPSTREAM = '192.0.2.53';

// ---------------------------------------------------------------------------------------------
// options

const USAGE = `usage: node bench/create.mjs [options]   (as root)
  --methods LIST     comma list of ${ALL_METHODS.join(',')} (default: all)
  --n LIST           sequential scenario sizes (default 1,20,100; --quick: 1,5)
  --parallel WxK     W concurrent workers each creating K (default 4x10; --quick: 4x3; 0 to skip)
  --min-samples S    repeat small sequential scenarios until each has >= S samples (default 10; --quick: 5)
  --interleave       sequential scenarios take turns: container i of every method, then i+1 (the
                     fair comparison on a machine whose speed drifts; no parallel scenario)
  --quick            smoke run
  --dist DIR         where the built tsnet lives (default ${path.join(REPO, 'dist')})
  --out FILE         also write the results as JSON to FILE`;

let opt;
try {
  opt = parseArgs({
    options: {
      methods: { type: 'string' },
      n: { type: 'string' },
      parallel: { type: 'string' },
      'min-samples': { type: 'string' },
      quick: { type: 'boolean', default: false },
      interleave: { type: 'boolean', default: false },
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

function intList(text, what) {
  const xs = text.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 1)) usage(`bad ${what}: ${text}`);
  return xs;
}
function usage(msg) {
  console.error(`${msg}\n${USAGE}`);
  process.exit(2);
}

const METHODS = opt.methods ? opt.methods.split(',').map((s) => s.trim()) : ALL_METHODS;
for (const m of METHODS) if (!ALL_METHODS.includes(m)) usage(`unknown method: ${m}`);
const SEQ_NS = intList(opt.n ?? (opt.quick ? '1,5' : '1,20,100'), '--n').sort((a, b) => a - b);
const [PAR_W, PAR_K] = (() => {
  const text = opt.interleave ? '0' : (opt.parallel ?? (opt.quick ? '4x3' : '4x10'));
  if (text === '0') return [0, 0];
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) usage(`bad --parallel: ${text}`);
  return [Number(m[1]), Number(m[2])];
})();
const MIN_SAMPLES = opt['min-samples'] ? intList(opt['min-samples'], '--min-samples')[0] : opt.quick ? 5 : 10;
const REF_SAMPLES = opt.quick ? 5 : 20;
const DIST = path.resolve(opt.dist ?? path.join(REPO, 'dist'));

// ---------------------------------------------------------------------------------------------
// small helpers

async function timed(fn) {
  const t0 = now();
  const result = await fn();
  return [msSince(t0), result];
}

function stats(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]; // nearest rank
  const r = (x) => Math.round(x * 1000) / 1000;
  return {
    n: s.length,
    p50: r(rank(50)),
    p95: r(rank(95)),
    min: r(s[0]),
    max: r(s[s.length - 1]),
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

const exists = (p) => fs.existsSync(p);

/** Host address number i (0-based) in 10.<second>.0.0/16, starting at .0.2 (.0.1 is the gateway). */
function hostAddr(second, i) {
  const n = i + 2;
  if (n > 65533) throw new Error('address space exhausted');
  return `10.${second}.${n >> 8}.${n & 255}`;
}

/** One-line summary of what a container namespace got, to show every method did the full job. */
async function describeNetns(ns) {
  // tsnet keeps its namespace files under its root, which `ip -n` cannot name; nsenter can.
  const ip = (...args) =>
    ns.includes('/') ? run('nsenter', [`--net=${ns}`, 'ip', ...args]) : run('ip', ['-n', ns, ...args]);
  const links = JSON.parse(await ip('-j', 'addr', 'show'));
  const parts = links.map((l) => {
    const v4 = (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
    const up = l.flags.includes('UP') ? 'up' : 'down';
    return `${l.ifname} ${up}${v4.length ? ' ' + v4.join(',') : ''}`;
  });
  const routes = JSON.parse(await ip('-j', 'route', 'show', 'default'));
  parts.push(routes.length ? `default via ${routes[0].gateway}` : 'no default route');
  return parts.join('; ');
}

// ---------------------------------------------------------------------------------------------
// run identity and global cleanup

if (process.getuid?.() !== 0) {
  console.error('bench/create.mjs must run as root (it creates network namespaces)');
  process.exit(1);
}

let PREFIX;
{
  const taken = new Set([...(await netnsList()), ...(await linkList())]);
  do PREFIX = `bc${randomBytes(2).toString('hex')}`;
  while ([...taken].some((n) => n.includes(PREFIX)));
}
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-`));

const started = []; // adapters whose setup ran; teardown is idempotent
let aborted = null;
const checkAbort = () => {
  if (aborted) throw new Error(`aborted by ${aborted}`);
};

let cleanupPromise = null;
function cleanupAll() {
  cleanupPromise ??= (async () => {
    for (const m of started) await m.teardown().catch((e) => log(`teardown ${m.name}: ${e.message}`));
    // Sweep anything carrying the run prefix, in case a step died half way (a netns added but the
    // plugin failed); "includes" because tsnet embeds the container name in its netns names.
    await sweep({ prefix: PREFIX, tmp: TMP });
  })();
  return cleanupPromise;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (aborted) return;
    aborted = sig;
    log(`caught ${sig}; stopping after the current step and cleaning up`);
    // The main flow cleans up when it notices; this is for a step that hangs.
    setTimeout(() => cleanupAll().finally(() => process.exit(128 + os.constants.signals[sig])), 20_000);
  });
}

// ---------------------------------------------------------------------------------------------
// method adapters: setup()/teardown() are untimed; create()/remove() are what gets measured.

/** Private "host" namespace for a peer method: its bridge and host-side veths live here. */
async function makeHostNs(name) {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Delete a peer method's container namespaces and its host namespace (which takes the bridge along). */
async function dropNamespaces(nsPrefix, hostNs) {
  for (const ns of await netnsList()) {
    if (ns.startsWith(nsPrefix) && ns !== hostNs) await run('ip', ['netns', 'del', ns]).catch((e) => log(e.message));
  }
  if ((await netnsList()).includes(hostNs)) await run('ip', ['netns', 'del', hostNs]);
}

function ipBatch() {
  const host = `${PREFIX}-h-ipb`;
  const nsPrefix = `${PREFIX}-i`;
  const br = `${PREFIX}ib`;
  let brIndex = 0;
  let seq = 0;
  return {
    name: 'ip-batch',
    subnet: '10.150.0.0/16',
    async available() {
      return true;
    },
    async setup() {
      await makeHostNs(host);
      await run('ip', ['-n', host, '-batch', '-'], {
        input: `link add ${br} type bridge\naddr add 10.150.0.1/16 dev ${br}\nlink set ${br} up\n`,
      });
      brIndex = JSON.parse(await run('ip', ['-n', host, '-j', 'link', 'show', br]))[0].ifindex;
    },
    async create() {
      const i = seq++;
      const ns = `${nsPrefix}${i}`;
      const veth = `${PREFIX}i${i}`;
      // Process 1, in the caller's namespace: add the netns and create the veth pair with each end
      // born in its final namespace (no move, no rename). `ip -n HOST -batch` cannot be used for this:
      // -n gives ip a private mount namespace, so the netns bind mount would be invisible outside.
      // `master ifN` is the bridge's ifindex: ip cannot resolve the bridge's name from here, and the
      // kernel resolves IFLA_MASTER in the device's (host) namespace.
      await run('ip', ['-batch', '-'], {
        input:
          `netns add ${ns}\n` +
          `link add ${veth} netns ${host} up master if${brIndex} type veth peer name eth0 netns ${ns}\n`,
      });
      // Process 2, inside the container namespace.
      await run('ip', ['-n', ns, '-batch', '-'], {
        input:
          `addr add ${hostAddr(150, i)}/16 dev eth0\nlink set lo up\nlink set eth0 up\n` +
          `route add default via 10.150.0.1\n`,
      });
      return { ns, veth };
    },
    async remove(h) {
      // Deleting the veth first makes its removal synchronous, like CNI DEL / netavark teardown.
      await run('ip', ['-n', host, 'link', 'del', h.veth]);
      await run('ip', ['netns', 'del', h.ns]);
    },
    sanity: (h) => describeNetns(h.ns),
    teardown: () => dropNamespaces(nsPrefix, host),
  };
}

function cni() {
  const host = `${PREFIX}-h-cni`;
  const nsPrefix = `${PREFIX}-c`;
  const bridgeConf = JSON.stringify({
    cniVersion: '1.0.0',
    name: `${PREFIX}cni`,
    type: 'bridge',
    bridge: `${PREFIX}cb`,
    isGateway: true,
    ipMasq: false,
    ipam: {
      type: 'host-local',
      dataDir: path.join(TMP, 'cni-ipam'),
      subnet: '10.151.0.0/16',
      routes: [{ dst: '0.0.0.0/0' }],
    },
  });
  const loConf = JSON.stringify({ cniVersion: '1.0.0', name: `${PREFIX}lo`, type: 'loopback' });
  const env = (command, id, ns, ifname) => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: `/run/netns/${ns}`,
    CNI_IFNAME: ifname,
    CNI_PATH: CNI_DIR,
  });
  let seq = 0;
  return {
    name: 'cni',
    subnet: '10.151.0.0/16',
    async available() {
      for (const p of ['bridge', 'host-local', 'loopback']) {
        if (!exists(path.join(CNI_DIR, p))) return `${CNI_DIR}/${p} missing (apt install containernetworking-plugins)`;
      }
      return true;
    },
    async setup() {
      await makeHostNs(host);
    },
    async create() {
      const i = seq++;
      const ns = `${nsPrefix}${i}`;
      const id = `${PREFIX}-c${i}`;
      await run('ip', ['netns', 'add', ns]);
      await run('ip', ['netns', 'exec', host, path.join(CNI_DIR, 'bridge')], {
        input: bridgeConf,
        env: env('ADD', id, ns, 'eth0'),
      });
      // Runtimes (containerd, CRI-O) bring lo up with the loopback plugin; it only touches the
      // container namespace, so it needs no host-namespace wrapper.
      await run(path.join(CNI_DIR, 'loopback'), [], { input: loConf, env: env('ADD', id, ns, 'lo') });
      return { ns, id };
    },
    async remove(h) {
      // loopback DEL is skipped: it only sets lo down in a namespace that is deleted next.
      await run('ip', ['netns', 'exec', host, path.join(CNI_DIR, 'bridge')], {
        input: bridgeConf,
        env: env('DEL', h.id, h.ns, 'eth0'),
      });
      await run('ip', ['netns', 'del', h.ns]);
    },
    sanity: (h) => describeNetns(h.ns),
    teardown: () => dropNamespaces(nsPrefix, host),
  };
}

/**
 * netavark (Podman's network backend) in a host namespace of its own. `dns`: with aardvark-dns
 * (Podman's DNS for container names: netavark starts it on the network's gateway and tells it of
 * every container) — the closest peer of a tsnet network with its stub resolver.
 */
function netavark(dns = false) {
  const tag = dns ? 'nad' : 'nav';
  const second = dns ? 155 : 152;
  const host = `${PREFIX}-h-${tag}`;
  const nsPrefix = `${PREFIX}-${dns ? 'd' : 'n'}`;
  const net = `${PREFIX}${tag}`;
  const configDir = path.join(TMP, `netavark-${tag}`);
  const info = {
    dns_enabled: dns,
    driver: 'bridge',
    id: randomBytes(32).toString('hex'),
    internal: true, // no NAT / firewall rules
    ipv6_enabled: false,
    name: net,
    network_interface: `${PREFIX}${dns ? 'db' : 'nb'}`,
    subnets: [{ subnet: `10.${second}.0.0/16`, gateway: `10.${second}.0.1` }],
  };
  const bin = [NETAVARK, '--config', configDir, ...(dns ? ['--aardvark-binary', AARDVARK] : [])];
  // netavark does no IPAM (podman does), so the caller passes static_ips.
  const options = (id, addr) =>
    JSON.stringify({
      container_id: id,
      container_name: id,
      networks: { [net]: { interface_name: 'eth0', static_ips: [addr], ...(dns ? { aliases: [id] } : {}) } },
      network_info: { [net]: info },
    });
  let seq = 0;
  return {
    name: dns ? 'netavark-dns' : 'netavark',
    subnet: `10.${second}.0.0/16`,
    async available() {
      if (dns && !exists(AARDVARK)) return `${AARDVARK} missing (apt install aardvark-dns)`;
      return exists(NETAVARK) ? true : `${NETAVARK} missing (apt install netavark)`;
    },
    async setup() {
      await makeHostNs(host);
      fs.mkdirSync(configDir, { recursive: true });
    },
    async create() {
      const i = seq++;
      const ns = `${nsPrefix}${i}`;
      const input = options(`${PREFIX}${tag}${i}`, hostAddr(second, i));
      await run('ip', ['netns', 'add', ns]);
      await run('ip', ['netns', 'exec', host, ...bin, 'setup', `/run/netns/${ns}`], { input });
      return { ns, input };
    },
    async remove(h) {
      await run('ip', ['netns', 'exec', host, ...bin, 'teardown', `/run/netns/${h.ns}`], {
        input: h.input,
      });
      await run('ip', ['netns', 'del', h.ns]);
    },
    sanity: (h) => describeNetns(h.ns),
    teardown: () => dropNamespaces(nsPrefix, host),
  };
}

// Both tsnet methods share one root and one network (made by whichever runs first), so the
// host namespace never holds two bridges for 10.154.0.0/16.
const tsnetShared = {
  root: path.join(TMP, 'tsnet-root'),
  network: `${PREFIX}net`,
  subnet: '10.154.0.0/16',
  live: new Set(),
  lib: null,
  deps: null,
};
const TSNET_CLI = path.join(DIST, 'tsnet.js');
const TSNET_LIB = path.join(DIST, 'lib.mjs');

async function loadTsnetLib() {
  if (tsnetShared.lib) return tsnetShared.lib;
  if (!exists(TSNET_LIB)) throw new Error(`${TSNET_LIB} not built yet`);
  const lib = await import(pathToFileURL(TSNET_LIB).href);
  for (const f of ['createContainer', 'removeContainer', 'makeDeps']) {
    if (typeof lib[f] !== 'function') throw new Error(`${TSNET_LIB} does not export ${f}()`);
  }
  fs.mkdirSync(tsnetShared.root, { recursive: true });
  tsnetShared.deps = lib.makeDeps({ root: tsnetShared.root });
  return (tsnetShared.lib = lib);
}

const tsnetCli = (...args) => run(process.execPath, [TSNET_CLI, '--root', tsnetShared.root, ...args]);

/** Remove whatever tsnet containers are still alive, through tsnet itself. */
async function tsnetDrain() {
  for (const name of [...tsnetShared.live]) {
    // One attempt each: a create that failed half way may have left nothing tsnet knows about;
    // anything named with the run prefix is swept afterwards anyway.
    tsnetShared.live.delete(name);
    try {
      if (tsnetShared.lib) await tsnetShared.lib.removeContainer(name, tsnetShared.deps);
      else await tsnetCli('rm', name);
    } catch (e) {
      log(`tsnet rm ${name}: ${e.message}`);
    }
  }
}

/** What a tsnet create returned (object, or the CLI's --json text), checked against the kernel. */
async function describeTsnet(result) {
  let rec = result;
  if (typeof rec === 'string') {
    try {
      rec = JSON.parse(rec);
    } catch {
      return `non-JSON output: ${rec.trim().slice(0, 200)}`;
    }
  }
  const netns = rec?.namespaces?.net;
  if (typeof netns !== 'string') return `result: ${JSON.stringify(rec)?.slice(0, 300) ?? '(none)'}`;
  const parts = [await describeNetns(netns)];
  if (typeof rec.hostVeth === 'string') {
    const [veth] = JSON.parse(await run('ip', ['-j', 'link', 'show', rec.hostVeth]));
    parts.push(`host ${rec.hostVeth} ${veth.operstate} master ${veth.master ?? 'none'}`);
  }
  return parts.join('; ');
}

function tsnetLib() {
  let seq = 0;
  return {
    name: 'tsnet-lib',
    subnet: tsnetShared.subnet,
    async available() {
      try {
        await loadTsnetLib();
        return true;
      } catch (e) {
        return `unavailable: ${e.message}`;
      }
    },
    async setup() {},
    async create() {
      const name = `${PREFIX}-l${seq++}`;
      tsnetShared.live.add(name); // before the call, so a half-made container still gets an rm
      const result = await tsnetShared.lib.createContainer(
        { name, network: tsnetShared.network, subnet: tsnetShared.subnet, dns: [TSNET_DNS], dnsMode: 'direct' },
        tsnetShared.deps,
      );
      return { name, result };
    },
    async remove(h) {
      await tsnetShared.lib.removeContainer(h.name, tsnetShared.deps);
      tsnetShared.live.delete(h.name);
    },
    sanity: (h) => describeTsnet(h.result),
    teardown: tsnetDrain,
  };
}

function tsnetCliMethod() {
  let seq = 0;
  return {
    name: 'tsnet-cli',
    subnet: tsnetShared.subnet,
    async available() {
      if (!exists(TSNET_CLI)) return `unavailable: ${TSNET_CLI} not built yet`;
      try {
        await run(process.execPath, [TSNET_CLI, '--help']);
      } catch (e) {
        return `unavailable: ${e.message}`;
      }
      fs.mkdirSync(tsnetShared.root, { recursive: true });
      return true;
    },
    async setup() {},
    async create() {
      const name = `${PREFIX}-x${seq++}`;
      tsnetShared.live.add(name);
      const out = await tsnetCli(
        'create', name, '--network', tsnetShared.network, '--subnet', tsnetShared.subnet, '--dns', TSNET_DNS, '--dns-mode', 'direct', '--json',
      );
      return { name, out };
    },
    async remove(h) {
      await tsnetCli('rm', h.name);
      tsnetShared.live.delete(h.name);
    },
    sanity: (h) => describeTsnet(h.out),
    teardown: tsnetDrain,
  };
}

/**
 * tsnet as a CNI plugin (ADD/DEL through `tsnet cni plugin`, what /opt/cni/bin/tsnet execs), with
 * the stub resolver (dns-mode glibc: every ADD and DEL reloads it) — the peer of netavark-dns.
 * In the host namespace, as the runtime runs its plugins; its own state root and network.
 */
function tsnetCniMethod() {
  const nsPrefix = `${PREFIX}-k`;
  const root = path.join(TMP, 'tsnet-cni-root');
  const conf = JSON.stringify({
    cniVersion: '1.0.0', name: `${PREFIX}cni`, type: 'tsnet', subnet: '10.156.0.0/16', dnsMode: 'glibc',
    dns: { nameservers: [TSNET_CNI_UPSTREAM] }, root,
  });
  const env = (command, id, ns) => ({ CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' });
  // what a runtime runs: the executable `tsnet cni install` writes (sh, then node on the plugin's loader)
  const bin = path.join(TMP, 'tsnet-cni-bin');
  const exe = path.join(bin, 'tsnet');
  // Its own environment (PATH and the CNI_* variables), as a runtime gives a plugin its own: this
  // benchmark's may carry settings that slow every Node start (NODE_EXTRA_CA_CERTS: ~50 ms of
  // certificate parsing, measured), which `node -e 0` below is spared in the same way.
  const plugin = (command, id, ns) => run(exe, [], { input: conf, onlyEnv: env(command, id, ns) });
  const live = new Map();
  let seq = 0;
  return {
    name: 'tsnet-cni',
    // `node -e 0` before each ADD (untimed for ADD): the target's "Node start-up", measured in the
    // same moments as the plugin, not minutes apart under another load
    async between() {
      return (await timed(() => run(process.execPath, ['-e', '0'], { onlyEnv: {} })))[0];
    },
    subnet: '10.156.0.0/16',
    async available() {
      return exists(TSNET_CLI) ? true : `unavailable: ${TSNET_CLI} not built yet`;
    },
    async setup() {
      fs.mkdirSync(bin, { recursive: true });
      await run(process.execPath, [TSNET_CLI, 'cni', 'install', '--bin-dir', bin]);
    },
    async create() {
      const i = seq++;
      const ns = `${nsPrefix}${i}`;
      const id = `${PREFIX}-k${i}`;
      await run('ip', ['netns', 'add', ns]);
      live.set(id, ns);
      const out = await plugin('ADD', id, ns);
      return { ns, id, out };
    },
    async remove(h) {
      await plugin('DEL', h.id, h.ns);
      live.delete(h.id);
      await run('ip', ['netns', 'del', h.ns]);
    },
    sanity: (h) => describeNetns(h.ns),
    async teardown() {
      for (const [id, ns] of live) {
        await plugin('DEL', id, ns).catch(() => {});
        await run('ip', ['netns', 'del', ns]).catch(() => {});
      }
      live.clear();
    },
  };
}

const FACTORIES = {
  'ip-batch': ipBatch,
  cni,
  netavark: () => netavark(false),
  'netavark-dns': () => netavark(true),
  'tsnet-lib': tsnetLib,
  'tsnet-cli': tsnetCliMethod,
  'tsnet-cni': tsnetCniMethod,
};

// ---------------------------------------------------------------------------------------------
// scenarios

/** N creates one after another, then N removes; repeated until there are >= MIN_SAMPLES samples. */
async function sequential(m, N) {
  const rounds = Math.max(1, Math.ceil(MIN_SAMPLES / N));
  const create = [];
  const remove = [];
  const node = [];
  for (let r = 0; r < rounds; r++) {
    const made = [];
    try {
      for (let i = 0; i < N; i++) {
        checkAbort();
        const ref = await m.between?.(); // untimed
        if (ref !== undefined) node.push(ref);
        const [ms, h] = await timed(() => m.create());
        create.push(ms);
        made.push(h);
      }
      while (made.length) {
        checkAbort();
        const [ms] = await timed(() => m.remove(made[0]));
        made.shift();
        remove.push(ms);
      }
    } finally {
      for (const h of made) await m.remove(h).catch(() => {});
    }
  }
  return { scenario: `seq${N}`, kind: 'sequential', n: N, rounds, create: stats(create), remove: stats(remove), ...(node.length ? { node: stats(node) } : {}) };
}

/** W workers start together, each creating K one after another; then the same for removes. */
async function parallel(m, W, K) {
  const perWorker = Array.from({ length: W }, () => []);
  const create = [];
  const remove = [];
  const settle = async (promises) => {
    const failed = (await Promise.allSettled(promises)).find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    const t0 = now();
    await settle(
      perWorker.map(async (mine) => {
        for (let k = 0; k < K; k++) {
          checkAbort();
          const [ms, h] = await timed(() => m.create());
          create.push(ms);
          mine.push(h);
        }
      }),
    );
    const createWall = msSince(t0);
    const t1 = now();
    await settle(
      perWorker.map(async (mine) => {
        while (mine.length) {
          checkAbort();
          const [ms] = await timed(() => m.remove(mine[0]));
          mine.shift();
          remove.push(ms);
        }
      }),
    );
    const removeWall = msSince(t1);
    const total = W * K;
    return {
      scenario: `par${W}x${K}`,
      kind: 'parallel',
      workers: W,
      each: K,
      create: stats(create),
      remove: stats(remove),
      createWallMs: Math.round(createWall * 10) / 10,
      removeWallMs: Math.round(removeWall * 10) / 10,
      createsPerSec: Math.round((total / createWall) * 1000 * 10) / 10,
      removesPerSec: Math.round((total / removeWall) * 1000 * 10) / 10,
    };
  } finally {
    for (const h of perWorker.flat()) await m.remove(h).catch(() => {});
  }
}

async function benchMethod(name) {
  const m = FACTORIES[name]();
  const res = { method: name, subnet: m.subnet, status: 'ok', scenarios: [], errors: [] };
  const avail = await m.available();
  if (avail !== true) {
    log(`${name}: ${avail}; skipped`);
    return { ...res, status: 'unavailable', reason: avail };
  }
  started.push(m);
  try {
    await m.setup();
    // An untimed keeper container stays attached throughout: it makes the bridge exist before any
    // timed create (netavark deletes the bridge with its last container) and warms caches.
    const keeper = await m.create();
    res.sanity = await m.sanity(keeper).catch((e) => `sanity check failed: ${e.message}`);
    log(`${name}: keeper ${res.sanity}`);
    const scenarios = SEQ_NS.map((N) => [`seq${N}`, () => sequential(m, N)]);
    if (PAR_W) scenarios.push([`par${PAR_W}x${PAR_K}`, () => parallel(m, PAR_W, PAR_K)]);
    for (const [scName, sc] of scenarios) {
      checkAbort();
      try {
        const r = await sc();
        res.scenarios.push(r);
        log(`${name} ${r.scenario}: create p50 ${r.create.p50} ms p95 ${r.create.p95} ms; remove p50 ${r.remove.p50} ms`);
      } catch (e) {
        if (aborted) throw e;
        log(`${name} ${scName}: failed: ${e.message}`);
        res.errors.push(`${scName}: ${e.message}`);
      }
    }
    await m.remove(keeper);
  } catch (e) {
    log(`${name}: ${e.message}`);
    res.status = 'failed';
    res.errors.push(e.message);
  } finally {
    await m.teardown().catch((e) => res.errors.push(`teardown: ${e.message}`));
  }
  return res;
}

/**
 * Every method set up at once, each with its keeper; then each sequential scenario with the
 * methods taking turns, container by container, creates then removes.
 */
async function benchInterleaved(names) {
  const live = [];
  for (const name of names) {
    const m = FACTORIES[name]();
    const res = { method: name, subnet: m.subnet, status: 'ok', scenarios: [], errors: [] };
    const avail = await m.available();
    if (avail !== true) {
      live.push({ res: { ...res, status: 'unavailable', reason: avail } });
      continue;
    }
    started.push(m);
    try {
      await m.setup();
      const keeper = await m.create();
      res.sanity = await m.sanity(keeper).catch((e) => `sanity check failed: ${e.message}`);
      live.push({ m, res, keeper });
    } catch (e) {
      res.status = 'failed';
      res.errors.push(e.message);
      live.push({ res });
      await m.teardown().catch(() => {});
    }
  }
  const running = live.filter((l) => l.m);
  try {
    for (const N of SEQ_NS) {
      checkAbort();
      const rounds = Math.max(1, Math.ceil(MIN_SAMPLES / N));
      const times = new Map(running.map((l) => [l, { create: [], remove: [], node: [] }]));
      for (let r = 0; r < rounds; r++) {
        const made = new Map(running.map((l) => [l, []]));
        try {
          for (let i = 0; i < N; i++) {
            for (const l of running) {
              checkAbort();
              const ref = await l.m.between?.();
              if (ref !== undefined) times.get(l).node.push(ref);
              const [ms, h] = await timed(() => l.m.create());
              times.get(l).create.push(ms);
              made.get(l).push(h);
            }
          }
          for (let i = 0; i < N; i++) {
            for (const l of running) {
              checkAbort();
              const [ms] = await timed(() => l.m.remove(made.get(l)[0]));
              made.get(l).shift();
              times.get(l).remove.push(ms);
            }
          }
        } finally {
          for (const [l, hs] of made) for (const h of hs) await l.m.remove(h).catch(() => {});
        }
      }
      for (const l of running) {
        const t = times.get(l);
        l.res.scenarios.push({ scenario: `seq${N}`, kind: 'sequential', n: N, rounds, create: stats(t.create), remove: stats(t.remove), ...(t.node.length ? { node: stats(t.node) } : {}) });
      }
      log(`interleaved seq${N}: ${running.map((l) => `${l.res.method} ${stats(times.get(l).create).p50}`).join(', ')}`);
    }
  } finally {
    for (const l of running) {
      await l.m.remove(l.keeper).catch((e) => l.res.errors.push(`keeper: ${e.message}`));
      await l.m.teardown().catch((e) => l.res.errors.push(`teardown: ${e.message}`));
    }
  }
  return live.map((l) => l.res);
}

/** Reference costs: Node start-up, a bare spawn, and the `ip netns exec` wrapper peers pay per call. */
async function references() {
  const sample = async (fn) => {
    const xs = [];
    for (let i = 0; i < REF_SAMPLES; i++) {
      checkAbort();
      xs.push((await timed(fn))[0]);
    }
    return stats(xs);
  };
  const refNs = `${PREFIX}-ref`;
  const out = {};
  out['node -e 0'] = await sample(() => run(process.execPath, ['-e', '0']));
  out['spawn true'] = await sample(() => run('true', []));
  await run('ip', ['netns', 'add', refNs]);
  try {
    out['ip netns exec NS true'] = await sample(() => run('ip', ['netns', 'exec', refNs, 'true']));
  } finally {
    await run('ip', ['netns', 'del', refNs]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// environment, leak check, report

async function environment() {
  const tryRun = (cmd, args) => run(cmd, args).then((s) => s.trim(), () => null);
  return {
    date: new Date().toISOString(),
    host: os.hostname(),
    kernel: os.release(),
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    node: process.version,
    iproute2: await tryRun('ip', ['-V']),
    netavark: exists(NETAVARK) ? await tryRun(NETAVARK, ['--version']) : null,
    cniPlugins: await tryRun('dpkg-query', ['-W', '-f', '${Version}', 'containernetworking-plugins']),
    prefix: PREFIX,
    options: { methods: METHODS, n: SEQ_NS, parallel: PAR_W ? `${PAR_W}x${PAR_K}` : null, minSamples: MIN_SAMPLES },
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

function leakCheck(before, after) {
  const ours = (xs) => xs.filter((x) => x.includes(PREFIX));
  const added = (a, b) => b.filter((x) => !a.includes(x));
  return {
    ourNetnsLeft: ours(after.netns),
    ourLinksLeft: ours(after.links),
    tmpDirLeft: exists(TMP),
    // Not ours by name: could be tsnet's (it names its own bridge/veths) or a concurrent test's.
    otherNewNetns: added(before.netns, after.netns).filter((x) => !x.includes(PREFIX)),
    otherNewLinks: added(before.links, after.links).filter((x) => !x.includes(PREFIX)),
    ipForwardChanged: before.ipForward !== after.ipForward ? `${before.ipForward} -> ${after.ipForward}` : null,
    iptablesChanged:
      before.iptables && after.iptables && before.iptables.join('\n') !== after.iptables.join('\n')
        ? `${before.iptables.length} -> ${after.iptables.length} rule lines`
        : null,
  };
}

const fmt = (x) => (x == null ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pair = (s) => (s ? `${fmt(s.p50)} / ${fmt(s.p95)}` : '–');

/** ADD ≤ Node's start-up + 1.5 × the bridge plugins' time: p50s of each sequential scenario of this run. */
function targetLines(results, find) {
  const tsnet = results.find((r) => r.method === 'tsnet-cni');
  const bridge = results.find((r) => r.method === 'cni');
  if (!tsnet || !bridge) return [];
  return SEQ_NS.map((N) => `seq${N}`).flatMap((scenario) => {
    const t = find(tsnet, scenario);
    const b = find(bridge, scenario)?.create?.p50;
    const add = t?.create?.p50;
    const node = t?.node?.p50;
    if (!add || !b || !node) return [];
    const limit = node + 1.5 * b;
    return [`| ${scenario} | ${fmt(add)} | ${fmt(node)} (n=${t.node.n}) | ${fmt(b)} | ${fmt(limit)} | ${fmt(add - node)} = ${((add - node) / b).toFixed(2)}× | ${add <= limit ? 'met' : '**NOT met**'} |`];
  });
}

function markdown(report) {
  const { env, refs, results, leaks } = report;
  const L = [];
  L.push(`# tsnet create benchmark${env.interleaved ? ' (methods interleaved, container by container)' : ''}`, '');
  L.push(
    `${env.date} · kernel ${env.kernel} · ${env.cpus} · node ${env.node} · ${env.iproute2 ?? 'iproute2 ?'} · ` +
      `${env.netavark ?? 'netavark n/a'} · CNI plugins ${env.cniPlugins ?? 'n/a'} · run prefix \`${env.prefix}\``,
    '',
  );
  const seqCols = SEQ_NS.map((n) => `seq N=${n}`);
  const parCol = PAR_W ? [`par ${PAR_W}x${PAR_K}`] : [];
  const lo = SEQ_NS[0];
  const hi = SEQ_NS[SEQ_NS.length - 1];
  const find = (r, name) => r.scenarios.find((s) => s.scenario === name);
  const scenarioNames = [...SEQ_NS.map((n) => `seq${n}`), ...(PAR_W ? [`par${PAR_W}x${PAR_K}`] : [])];

  for (const [title, key] of [
    ['Create', 'create'],
    ['Remove', 'remove'],
  ]) {
    L.push(`## ${title}: ms per container, p50 / p95`, '');
    const flat = key === 'create' && SEQ_NS.length > 1 ? [`flat (p50 N=${hi} / N=${lo})`] : [];
    L.push(`| method | ${[...seqCols, ...parCol, ...flat].join(' | ')} |`);
    L.push(`|---|${[...seqCols, ...parCol, ...flat].map(() => '---:').join('|')}|`);
    for (const r of results) {
      if (r.status === 'unavailable') {
        L.push(`| ${r.method} | ${r.reason} |`);
        continue;
      }
      if (r.status === 'failed' && !r.scenarios.length) {
        L.push(`| ${r.method} | failed, see Errors |`);
        continue;
      }
      const cells = scenarioNames.map((n) => pair(find(r, n)?.[key]));
      if (flat.length) {
        const a = find(r, `seq${lo}`)?.create?.p50;
        const b = find(r, `seq${hi}`)?.create?.p50;
        cells.push(a && b ? `${(b / a).toFixed(2)}x` : '–');
      }
      L.push(`| ${r.method} | ${cells.join(' | ')} |`);
    }
    L.push('');
  }
  const samples = SEQ_NS.map((n) => `N=${n}: ${Math.max(1, Math.ceil(MIN_SAMPLES / n))} round(s)`).join(', ');
  L.push(`Sequential rounds (so every column has ≥ ${MIN_SAMPLES} samples): ${samples}.`, '');

  if (PAR_W) {
    L.push(`## Parallel: ${PAR_W} workers x ${PAR_K} containers`, '');
    L.push('| method | create wall ms | creates/s | remove wall ms | removes/s |');
    L.push('|---|---:|---:|---:|---:|');
    for (const r of results) {
      const p = find(r, `par${PAR_W}x${PAR_K}`);
      if (!p) continue;
      L.push(
        `| ${r.method} | ${fmt(p.createWallMs)} | ${p.createsPerSec.toFixed(1)} | ` +
          `${fmt(p.removeWallMs)} | ${p.removesPerSec.toFixed(1)} |`,
      );
    }
    L.push('');
  }

  const target = targetLines(results, find);
  if (target.length) {
    L.push('## Target (the CNI plugin issue): ADD ≤ `node -e 0` + 1.5 × the bridge plugins, p50 ms', '');
    L.push('| scenario | tsnet-cni ADD | `node -e 0` (one before each ADD) | cni ADD | limit | tsnet past Node | |', '|---|---:|---:|---:|---:|---:|---|');
    L.push(...target, '');
  }

  L.push('## Reference costs (ms, p50 / p95)', '');
  for (const [k, s] of Object.entries(refs ?? {})) L.push(`- \`${k}\`: ${pair(s)} (n=${s.n})`);
  L.push('');

  L.push('## What each method left in its keeper container', '');
  for (const r of results) if (r.sanity) L.push(`- ${r.method}: ${r.sanity}`);
  L.push('');

  const errs = results.filter((r) => r.errors?.length);
  if (errs.length) {
    L.push('## Errors', '');
    for (const r of errs) for (const e of r.errors) L.push(`- ${r.method}: ${e}`);
    L.push('');
  }

  L.push('## Leak check', '');
  if (!leaks) L.push('- not run');
  else {
    const clean = !leaks.ourNetnsLeft.length && !leaks.ourLinksLeft.length && !leaks.tmpDirLeft;
    L.push(clean ? `- nothing named \`${PREFIX}*\` left (netns, links, temp dir): clean` : `- LEFT BEHIND: ${JSON.stringify(leaks)}`);
    if (leaks.otherNewNetns.length || leaks.otherNewLinks.length) {
      L.push(
        `- appeared during the run, not named by the bench (tsnet's own names, or someone else's): ` +
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
  report.env.interleaved = opt.interleave;
  log(`run prefix ${PREFIX}, temp dir ${TMP}`);
  report.refs = await references();
  if (opt.interleave) {
    report.results.push(...(await benchInterleaved(METHODS)));
    return;
  }
  for (const name of METHODS) {
    checkAbort();
    report.results.push(await benchMethod(name));
  }
}

const report = { env: null, refs: null, results: [], leaks: null };
const before = await hostState();
let exitCode = 0;
try {
  await main(report);
} catch (e) {
  log(e.message);
  exitCode = 1;
} finally {
  await cleanupAll().catch((e) => log(`cleanup: ${e.message}`));
  report.leaks = leakCheck(before, await hostState());
}
const { ourNetnsLeft, ourLinksLeft, tmpDirLeft } = report.leaks;
if (ourNetnsLeft.length || ourLinksLeft.length || tmpDirLeft) exitCode = 1;

if (report.env) console.log(markdown(report));
if (opt.out) fs.writeFileSync(opt.out, JSON.stringify(report, null, 2) + '\n');
// Exit explicitly: a loaded tsnet library may hold handles open.
process.exit(aborted ? 128 + os.constants.signals[aborted] : exitCode);
