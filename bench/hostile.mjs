#!/usr/bin/env node
// Hostile-client benchmark: the same hostile DNS clients against tsnet's stub resolver,
// dnsmasq and aardvark-dns, in the same run, side by side. Needs root. See bench/README.md.
//
//   node bench/hostile.mjs [--quick] [--methods tsnet,aardvark,dnsmasq] [--out FILE]
//                          [--cap 60] [--pipeline 100000] [--observe 30] [--many 200] [--sources 10] [--hold 15]
//
// What it does, per server: UDP probes (a query from source port 0 over a raw socket, a query from
// port 7, a response with QR=1), then TCP attacks (stalled, dripping, half-frame: together; then
// never-reading; then many-client), while a legitimate client in its own namespace keeps querying
// over UDP and TCP. It samples each server's VmRSS every 100 ms and notes whether its pid survived.
//
// Safety model (as bench/stub.mjs): every name this run creates carries a random prefix (bhXXXX).
// The peers run inside private namespaces: a server namespace with a bridge holding the gateway,
// and two client namespaces (legit, attacker) on veths into that bridge. tsnet builds its own
// bridge in the host namespace on a private /24 (that is what tsnet does); its stub daemon listens
// on that bridge's gateway and the clients are two tsnet containers. Every packet goes to an
// address inside a namespace or bridge this run made. No NAT, no forwarding, no route anywhere
// else. Everything is removed at the end, on error and on SIGINT/SIGTERM/SIGHUP, and a leak
// check (netns, links, processes, temp dir) runs last.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { linkList, log, netnsList, run, running, sweep } from './common.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const AARDVARK = '/usr/lib/podman/aardvark-dns';
const ALL_METHODS = ['tsnet', 'dnsmasq', 'aardvark'];

// Address plan. tsnet's subnet is on a host bridge (tsnet refuses it if the host already uses it);
// the peers' subnets exist only inside their own namespaces. .2 is the legit client, .3 the
// attacker, and the attacker also holds EXTRA source addresses for the many-client attack.
const NETS = {
  tsnet: { subnet: '10.160.0.0/24', gw: '10.160.0.1', extraBase: 100 },
  aardvark: { subnet: '10.161.0.0/24', gw: '10.161.0.1', legit: '10.161.0.2', attacker: '10.161.0.3', extraBase: 100 },
  dnsmasq: { subnet: '10.162.0.0/24', gw: '10.162.0.1', legit: '10.162.0.2', attacker: '10.162.0.3', extraBase: 100 },
};
const TS_DNS = '10.160.0.250'; // the tsnet containers' upstream: never used (every query is for a local name)

// ---------------------------------------------------------------------------------------------
// options

const USAGE = `usage: node bench/hostile.mjs [options]   (as root)
  --methods LIST     comma list of ${ALL_METHODS.join(',')} (default: all)
  --cap S            how long stalled / dripping / half-frame connections are watched (default 60; --quick: 10)
  --pipeline N       queries the never-reading client pipelines (default 100000; --quick: 20000)
  --observe S        how long the never-reading connection is watched (default 30; --quick: 8)
  --many N           connections of the many-client attack (default 200; --quick: 160)
  --sources K        source addresses they come from (default 25, 8 connections each; --quick: 20)
  --hold S           how long the many-client connections are held after connecting (default 15; --quick: 4)
  --quick            smoke run (about a minute)
  --dist DIR         where the built tsnet lives (default ${path.join(REPO, 'dist')}); the run uses a copy
  --out FILE         also write the results as JSON to FILE`;

let opt;
try {
  opt = parseArgs({
    options: {
      methods: { type: 'string' },
      cap: { type: 'string' },
      pipeline: { type: 'string' },
      observe: { type: 'string' },
      many: { type: 'string' },
      sources: { type: 'string' },
      hold: { type: 'string' },
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
function int(text, what, max = Infinity) {
  const x = Number(text);
  if (!Number.isInteger(x) || x < 1 || x > max) usage(`bad ${what}: ${text}`);
  return x;
}
const Q = opt.quick;
const METHODS = opt.methods
  ? opt.methods.split(',').map((s) => {
      if (!ALL_METHODS.includes(s.trim())) usage(`unknown method: ${s}`);
      return s.trim();
    })
  : ALL_METHODS;
const CAP_S = int(opt.cap ?? (Q ? '10' : '60'), '--cap', 600);
const PIPELINE = int(opt.pipeline ?? (Q ? '20000' : '100000'), '--pipeline', 1_000_000);
const OBSERVE_S = int(opt.observe ?? (Q ? '8' : '30'), '--observe', 600);
const MANY = int(opt.many ?? (Q ? '160' : '200'), '--many', 900);
const SOURCES = int(opt.sources ?? (Q ? '20' : '25'), '--sources', 100);
const HOLD_S = int(opt.hold ?? (Q ? '4' : '15'), '--hold', 600);
const DIST = path.resolve(opt.dist ?? path.join(REPO, 'dist'));
let TSNET_CLI = path.join(DIST, 'tsnet.js'); // replaced by the run's snapshot of DIST
const has = (m) => METHODS.includes(m);
// The legit client: one UDP query every 50 ms and one TCP query (a new connection each) every
// 100 ms, each launched on schedule whatever is still outstanding, each given 2 s.
const LEGIT = { udpIntervalMs: 50, tcpIntervalMs: 100, timeoutMs: 2000 };
const PROBE_WAIT_MS = 1500;
const CONNECT_TIMEOUT_S = 3;
const REPLY_TIMEOUT_S = 3;

// ---------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tryRun = (cmd, args) => run(cmd, args).then((s) => s.trim(), () => null);
const exists = (p) => fs.existsSync(p);
const r1 = (x) => (x == null ? null : Math.round(x * 10) / 10);
const r3 = (x) => (x == null ? null : Math.round(x * 1000) / 1000);
function percentiles(xs) {
  if (!xs.length) return { n: 0, p50: null, p99: null, max: null };
  const s = Float64Array.from(xs).sort();
  const rank = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { n: s.length, p50: r3(rank(50)), p99: r3(rank(99)), max: r3(s[s.length - 1]) };
}

/** Every command that set something up or ran an attack, in order, for the report. */
const commands = [];
const note = (what, cmd) => commands.push({ what, cmd: Array.isArray(cmd) ? cmd.join(' ') : cmd });

function procStatus(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    const state = /^State:\s+(\S)/m.exec(text)?.[1] ?? '?';
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), state };
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
/** Children of pid (dnsmasq forks one per TCP connection); pids wrap, so every process is looked at. */
function childrenOf(pid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    const n = Number(d);
    if (!Number.isInteger(n) || n === pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid) out.push(n);
    } catch {}
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the client agent: one python3 file, run inside a client namespace with `ip netns exec`

const AGENT = String.raw`
import asyncio, errno, fcntl, json, os, random, select, socket, struct, sys, termios, time

PPID = os.getppid()
def orphaned():
    return os.getppid() != PPID

def out(obj):
    sys.stdout.write(json.dumps(obj) + '\n'); sys.stdout.flush()

def errname(e):
    return errno.errorcode.get(getattr(e, 'errno', None) or 0, type(e).__name__)

def qname(name):
    b = b''
    for l in name.rstrip('.').split('.'):
        l = l.encode(); b += bytes([len(l)]) + l
    return b + b'\x00'

def query(name, qid, flags=0x0100):
    return struct.pack('!HHHHHH', qid, flags, 1, 0, 0, 0) + qname(name) + struct.pack('!HH', 1, 1)

def frame(m):
    return struct.pack('!H', len(m)) + m

RC = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED'}
def parse(b):
    if len(b) < 12: return None
    qid, flags, qd, an, ns, ar = struct.unpack('!HHHHHH', b[:12])
    return {'id': qid, 'qr': flags >> 15, 'rcode': RC.get(flags & 15, 'RCODE%d' % (flags & 15)), 'an': an, 'len': len(b)}

def tcp_state(s):
    try:
        return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
    except OSError:
        return 7
ST = {1: 'ESTABLISHED', 7: 'CLOSE', 8: 'CLOSE_WAIT', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT', 9: 'LAST_ACK', 11: 'CLOSING'}

def ioctl_int(s, req):
    try:
        return struct.unpack('i', fcntl.ioctl(s.fileno(), req, b'\0\0\0\0'))[0]
    except OSError:
        return None
SIOCINQ = termios.FIONREAD
SIOCOUTQ = termios.TIOCOUTQ

# ---- legit: UDP and TCP queries on a fixed schedule, one JSON line per query, until killed
async def legit(a):
    server, name, tmo = a['server'], a['name'], a['timeoutMs'] / 1000
    loop = asyncio.get_running_loop()
    tasks = set()
    async def udp_one():
        t = time.time() * 1000; t0 = time.monotonic(); qid = random.randrange(65536)
        res = {'t': round(t, 1), 'p': 'udp', 'ok': False}
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setblocking(False)
        try:
            s.connect((server, 53)); s.send(query(name, qid))
            while True:
                left = t0 + tmo - time.monotonic()
                if left <= 0: raise TimeoutError()
                r = parse(await asyncio.wait_for(loop.sock_recv(s, 4096), left))
                if r and r['id'] == qid and r['qr']: break
            res['ms'] = round((time.monotonic() - t0) * 1000, 3)
            res['ok'] = r['rcode'] == 'NOERROR' and r['an'] > 0
            if not res['ok']: res['err'] = r['rcode']
        except TimeoutError: res['err'] = 'timeout'
        except OSError as e: res['err'] = errname(e)
        finally: s.close()
        out(res)
    async def tcp_one():
        t = time.time() * 1000; t0 = time.monotonic(); qid = random.randrange(65536)
        res = {'t': round(t, 1), 'p': 'tcp', 'ok': False}
        w = None
        async def go():
            nonlocal w
            rd, w = await asyncio.open_connection(server, 53)
            w.write(frame(query(name, qid))); await w.drain()
            while True:
                n = struct.unpack('!H', await rd.readexactly(2))[0]
                r = parse(await rd.readexactly(n))
                if r and r['id'] == qid: return r
        try:
            r = await asyncio.wait_for(go(), tmo)
            res['ms'] = round((time.monotonic() - t0) * 1000, 3)
            res['ok'] = r['rcode'] == 'NOERROR' and r['an'] > 0
            if not res['ok']: res['err'] = r['rcode']
        except TimeoutError: res['err'] = 'timeout'
        except asyncio.IncompleteReadError: res['err'] = 'closed'
        except OSError as e: res['err'] = errname(e)
        finally:
            if w: w.close()
        out(res)
    async def sched(fn, interval):
        nxt = time.monotonic()
        while not orphaned():
            t = asyncio.ensure_future(fn()); tasks.add(t); t.add_done_callback(tasks.discard)
            nxt += interval
            await asyncio.sleep(max(0, nxt - time.monotonic()))
    jobs = [sched(udp_one, a['udpIntervalMs'] / 1000)]
    if a['tcp']: jobs.append(sched(tcp_one, a['tcpIntervalMs'] / 1000))
    await asyncio.gather(*jobs)

# ---- check: one UDP and (if asked) one TCP query, 2 s each
def check(a):
    res = {}
    qid = random.randrange(65536)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    t0 = time.monotonic()
    try:
        s.sendto(query(a['name'], qid), (a['server'], 53))
        while True:
            r = parse(s.recv(4096))
            if r and r['id'] == qid: break
        res['udp'] = {'ok': r['rcode'] == 'NOERROR' and r['an'] > 0, 'rcode': r['rcode'], 'ms': round((time.monotonic() - t0) * 1000, 3)}
    except OSError as e: res['udp'] = {'ok': False, 'err': errname(e)}
    if a['tcp']:
        t0 = time.monotonic()
        try:
            c = socket.create_connection((a['server'], 53), timeout=2)
            c.sendall(frame(query(a['name'], qid)))
            buf = b''
            while len(buf) < 2 or len(buf) < 2 + struct.unpack('!H', buf[:2])[0]:
                d = c.recv(4096)
                if not d: raise ConnectionAbortedError(errno.ECONNABORTED, 'closed')
                buf += d
            r = parse(buf[2:])
            res['tcp'] = {'ok': r['rcode'] == 'NOERROR' and r['an'] > 0, 'rcode': r['rcode'], 'ms': round((time.monotonic() - t0) * 1000, 3)}
            c.close()
        except OSError as e: res['tcp'] = {'ok': False, 'err': errname(e)}
    out(res)

# ---- UDP probes
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def watch_replies(rx, server, ports, wait):
    """Every UDP datagram from server:53 seen by a raw socket within wait s (dport, parsed reply)."""
    seen = []
    deadline = time.monotonic() + wait
    sip = socket.inet_aton(server)
    while True:
        left = deadline - time.monotonic()
        if left <= 0: break
        r, _, _ = select.select([rx], [], [], left)
        if not r: continue
        d = rx.recv(65535)
        ihl = (d[0] & 15) * 4
        if d[12:16] != sip or len(d) < ihl + 8: continue
        sport, dport = struct.unpack('!HH', d[ihl:ihl + 4])
        if sport == 53 and (ports is None or dport in ports):
            p = parse(d[ihl + 8:])
            seen.append({'dport': dport, 'rcode': p and p['rcode'], 'qr': p and p['qr'], 'an': p and p['an']})
    return seen

def probe(a):
    server, src, name, wait = a['server'], a['src'], a['name'], a['waitMs'] / 1000
    kind = a['kind']
    qid = random.randrange(65536)
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)  # a copy of every UDP datagram in
    res = {'kind': kind}
    try:
        if kind == 'port0':
            q = query(name, qid)
            tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
            tx.bind((src, 0))
            ln = 8 + len(q)
            pseudo = socket.inet_aton(src) + socket.inet_aton(server) + struct.pack('!BBH', 0, 17, ln)
            c = csum(pseudo + struct.pack('!HHHH', 0, 53, ln, 0) + q) or 0xffff
            tx.sendto(struct.pack('!HHHH', 0, 53, ln, c) + q, (server, 0))
            res['sent'] = 'udp %s:0 -> %s:53, %d bytes, checksum 0x%04x' % (src, server, ln, c)
            seen = watch_replies(rx, server, None, wait)
        elif kind == 'port7':
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 7))
            s.sendto(query(name, qid), (server, 53))
            res['sent'] = 'udp %s:7 -> %s:53 query' % (src, server)
            seen = watch_replies(rx, server, [7], wait)
        elif kind == 'qr1':
            # a well-formed response: QR=1 AA RD RA, the question and one A answer (198.18.0.1, data only)
            q = query(name, qid, 0x8580)
            m = q[:6] + struct.pack('!H', 1) + q[8:] + struct.pack('!HHHIH', 0xc00c, 1, 1, 60, 4) + socket.inet_aton('198.18.0.1')
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
            port = s.getsockname()[1]
            s.sendto(m, (server, 53))
            res['sent'] = 'udp %s:%d -> %s:53 response (QR=1, 1 answer)' % (src, port, server)
            seen = watch_replies(rx, server, [port], wait)
        res['replies'] = seen
        res['replied'] = len(seen) > 0
    except OSError as e:
        res['err'] = errname(e)
    out(res)

# ---- TCP: one connection, stalled / dripping / half-frame, watched until the server closes it or cap
def slow(a):
    server, mode, cap = a['server'], a['mode'], a['capS']
    res = {'mode': mode, 'capS': cap, 'connected': False, 'closedAfterS': None, 'how': None, 'bytesSent': 0, 'bytesReceived': 0}
    try:
        s = socket.create_connection((server, 53), timeout=CONNECT)
    except OSError as e:
        res['err'] = errname(e); out(res); return
    res['connected'] = True
    s.setblocking(False)
    t0 = time.monotonic()
    drip = frame(query(a['name'], random.randrange(65536))) * 100
    nxt = t0
    if mode == 'half':
        s.send(b'\xff\xff' + b'\x12\x34\x01\x00'); res['bytesSent'] = 6
    while time.monotonic() - t0 < cap and not orphaned():
        if mode == 'drip' and time.monotonic() >= nxt:
            try:
                s.send(drip[res['bytesSent']:res['bytesSent'] + 1]); res['bytesSent'] += 1
            except OSError as e:
                res['closedAfterS'] = round(time.monotonic() - t0, 1); res['how'] = 'send ' + errname(e); break
            nxt += a.get('intervalS', 2)
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            try:
                d = s.recv(65536)
            except OSError as e:
                res['closedAfterS'] = round(time.monotonic() - t0, 1); res['how'] = 'reset' if e.errno == errno.ECONNRESET else errname(e); break
            if not d:
                res['closedAfterS'] = round(time.monotonic() - t0, 1); res['how'] = 'fin'; break
            res['bytesReceived'] += len(d)
    s.close()
    out(res)

# ---- TCP: never-reading. Pipelines count queries as fast as the server takes them, never reads.
def never_read(a):
    server, count, observe = a['server'], a['count'], a['observeS']
    res = {'count': count, 'observeS': observe, 'connected': False, 'closedAfterS': None, 'how': None}
    try:
        s = socket.create_connection((server, 53), timeout=CONNECT)
    except OSError as e:
        res['err'] = errname(e); out(res); return
    res['connected'] = True
    base = random.randrange(65536)
    one = len(frame(query(a['name'], 0)))
    buf = memoryview(b''.join(frame(query(a['name'], (base + i) & 0xffff)) for i in range(count)))
    s.setblocking(False)
    t0 = time.monotonic(); off = 0; allSentAt = None; lastProgress = t0; acked = 0; inq = 0
    def poll():
        nonlocal acked, inq
        st = tcp_state(s)
        q = ioctl_int(s, SIOCOUTQ)
        if q is not None and st in (1, 8): acked = max(acked, off - q)
        q = ioctl_int(s, SIOCINQ)
        if q is not None: inq = max(inq, q)
        return st
    while time.monotonic() - t0 < observe and not orphaned():
        if off < len(buf):
            _, w, _ = select.select([], [s], [], 0.1)
            if w:
                try:
                    n = s.send(buf[off:off + 65536]); off += n; lastProgress = time.monotonic()
                    if off == len(buf): allSentAt = round(time.monotonic() - t0, 2)
                except BlockingIOError: pass
                except OSError as e:
                    res['closedAfterS'] = round(time.monotonic() - t0, 1); res['how'] = 'send ' + errname(e); break
        else:
            time.sleep(0.1)
        st = poll()
        if st != 1 and res['closedAfterS'] is None:
            res['closedAfterS'] = round(time.monotonic() - t0, 1); res['how'] = ST.get(st, str(st)); break
    poll()
    res['queryBytes'] = one
    res['queriesWritten'] = off // one  # taken by our kernel
    res['allWrittenAfterS'] = allSentAt
    res['queriesAcked'] = acked // one  # acknowledged by the server's kernel (read by the server, or in its receive buffer)
    res['replyBytesWaiting'] = inq  # the server's replies sitting unread in our receive buffer (max seen)
    res['stateAtEnd'] = ST.get(tcp_state(s), '?')
    res['sendStalledForS'] = round(time.monotonic() - lastProgress, 1) if off < len(buf) else None
    s.close()
    out(res)

# ---- TCP: many clients from several source addresses, held open
async def many(a):
    server, sources, per, hold = a['server'], a['sources'], a['perSource'], a['holdS']
    t0 = time.monotonic()
    deadline = t0 + CONNECT + a['replyTimeoutS'] + hold
    async def one(src, i):
        c = {'connected': False, 'answeredAfterS': None, 'rcode': None, 'closedAfterS': None, 'err': None}
        try:
            rd, w = await asyncio.wait_for(asyncio.open_connection(server, 53, local_addr=(src, 0)), CONNECT)
        except TimeoutError: c['err'] = 'connect timeout'; return c
        except OSError as e: c['err'] = 'connect ' + errname(e); return c
        c['connected'] = True
        c['connectedAfterS'] = round(time.monotonic() - t0, 3)
        qid = random.randrange(65536)
        try:
            w.write(frame(query(a['name'], qid)))
            while True:
                left = deadline - time.monotonic()
                if left <= 0: break
                try:
                    n = struct.unpack('!H', await asyncio.wait_for(rd.readexactly(2), left))[0]
                    r = parse(await asyncio.wait_for(rd.readexactly(n), max(0.01, deadline - time.monotonic())))
                except TimeoutError:
                    break
                if c['answeredAfterS'] is None:
                    c['answeredAfterS'] = round(time.monotonic() - t0, 3); c['rcode'] = r and r['rcode']
        except asyncio.IncompleteReadError:
            c['closedAfterS'] = round(time.monotonic() - t0, 2); c['err'] = 'closed'
        except OSError as e:
            c['closedAfterS'] = round(time.monotonic() - t0, 2); c['err'] = errname(e)
        # held until the deadline; closed together at the end
        await asyncio.sleep(max(0, deadline - time.monotonic()))
        c['_w'] = w
        return c
    conns = await asyncio.gather(*[one(src, i) for src in sources for i in range(per)])
    for c in conns:
        w = c.pop('_w', None)
        if w: w.close()
    err = {}
    for c in conns:
        if c['err']: err[c['err']] = err.get(c['err'], 0) + 1
    rcodes = {}
    for c in conns:
        if c['rcode']: rcodes[c['rcode']] = rcodes.get(c['rcode'], 0) + 1
    ans = sorted(c['answeredAfterS'] for c in conns if c['answeredAfterS'] is not None)
    out({
        'attempted': len(conns),
        'connected': sum(c['connected'] for c in conns),
        'answered': len(ans),
        'answeredInTime': sum(1 for x in ans if x <= CONNECT + a['replyTimeoutS']),
        'rcodes': rcodes,
        'closedByServer': sum(1 for c in conns if c['closedAfterS'] is not None),
        'closedAtOnce': sum(1 for c in conns if c['closedAfterS'] is not None and c['answeredAfterS'] is None),
        'closedAfterAnswer': sorted(round(c['closedAfterS'] - c['answeredAfterS'], 1) for c in conns if c['closedAfterS'] is not None and c['answeredAfterS'] is not None),
        'openAtEnd': sum(1 for c in conns if c['connected'] and c['closedAfterS'] is None),
        'answerAfterS': {'p50': ans[len(ans) // 2] if ans else None, 'max': ans[-1] if ans else None},
        'errors': err,
        'windowS': round(time.monotonic() - t0, 1),
    })

CONNECT = 3
if __name__ == '__main__':
    cmd, a = sys.argv[1], json.loads(sys.argv[2])
    CONNECT = a.get('connectTimeoutS', 3)
    if cmd == 'legit': asyncio.run(legit(a))
    elif cmd == 'check': check(a)
    elif cmd == 'probe': probe(a)
    elif cmd == 'slow': slow(a)
    elif cmd == 'never-read': never_read(a)
    elif cmd == 'many': asyncio.run(many(a))
    else: sys.exit('unknown command ' + cmd)
`;

// ---------------------------------------------------------------------------------------------
// run identity and global cleanup

if (process.getuid?.() !== 0) {
  console.error('bench/hostile.mjs must run as root (it creates network namespaces)');
  process.exit(1);
}

let PREFIX;
{
  const taken = new Set([...(await netnsList()), ...(await linkList())]);
  do PREFIX = `bh${randomBytes(2).toString('hex')}`;
  while ([...taken].some((n) => n.includes(PREFIX)));
}
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-`));
fs.chmodSync(TMP, 0o755); // dnsmasq drops privileges; it must still read its hosts file
const AGENT_PY = path.join(TMP, 'agent.py');

const TSNET = {
  root: path.join(TMP, 'tsnet-root'),
  network: `${PREFIX}net`,
  live: new Set(), // container names to `tsnet rm`
  links: new Set(), // tsnet's own bridge/veth names for this run (they do not carry the prefix)
  stubPid: null,
  bridge: null,
};

/** Long-lived server processes of this run: {name, pid, marker}. */
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
    // No host resolver settings leak into the containers.
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

/** Remove this run's tsnet containers through tsnet itself. */
async function tsnetDrain() {
  if (!exists(TSNET.root)) return;
  recordTsnetLinks();
  const listed = await tsnetCli(['ls', '--json']).then(
    (out) => new Set(JSON.parse(out).map((c) => c.name)),
    () => null,
  );
  const all = [...TSNET.live].filter((n) => !listed || listed.has(n));
  TSNET.live.clear();
  if (!all.length) return;
  try {
    await tsnetCli(['rm', ...all], { timeoutMs: 120_000 });
  } catch (e) {
    log(`tsnet rm (all): ${e.message.split('\n')[0].slice(-300)}; removing one by one`);
    for (const n of all) {
      await tsnetCli(['rm', n]).catch((err) => {
        if (!/no such container/.test(err.message)) log(`tsnet rm ${n}: ${err.message.split('\n')[0].slice(-300)}`);
      });
    }
  }
}

/** The current stub daemon pid (the supervisor restarts it under a new pid after a death). */
function stubPidNow() {
  try {
    const pid = JSON.parse(fs.readFileSync(path.join(TSNET.root, 'stub', 'ready.json'), 'utf8')).pid;
    return alive(pid, TSNET.root) ? pid : null;
  } catch {
    return null;
  }
}

let sampler = null;
let cleanupPromise = null;
function cleanupAll() {
  cleanupPromise ??= (async () => {
    if (sampler) clearInterval(sampler);
    for (const c of running) c.kill('SIGTERM');
    await sleep(200);
    for (const c of running) c.kill('SIGKILL');
    for (const p of [...procs].reverse()) await stopProc(p).catch((e) => log(`stop ${p.name}: ${e.message}`));
    await tsnetDrain().catch((e) => log(`tsnet drain: ${e.message}`));
    // The stub daemon exits with the last container; if it has not, it is ours (our root): stop it
    // (its supervisor stops on a clean exit).
    for (const pid of new Set([TSNET.stubPid, stubPidNow()].filter(Boolean))) {
      for (let i = 0; i < 40 && alive(pid, TSNET.root); i++) await sleep(50);
      await stopProc({ name: 'tsnet stub daemon', pid, marker: TSNET.root });
    }
    await sweep({ prefix: PREFIX, tmp: TMP, links: TSNET.links });
  })();
  return cleanupPromise;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (aborted) return;
    aborted = sig;
    log(`caught ${sig}; stopping the current step and cleaning up`);
    for (const c of running) c.kill('SIGTERM'); // attacks and legit clients end now
    // The main flow cleans up when it notices; this is for a step that hangs.
    setTimeout(() => cleanupAll().finally(() => process.exit(128 + os.constants.signals[sig])), 20_000).unref();
  });
}

// ---------------------------------------------------------------------------------------------
// topology and servers

const runNoted = async (what, c) => {
  note(what, c);
  return run(c[0], c.slice(1));
};

/** A peer's private world: server namespace (bridge with the gateway), legit and attacker namespaces on veths. */
async function peerTopology(t) {
  const { serverNs, legitNs, attackNs, bridge, net } = t;
  const cmds = [
    ['ip', 'netns', 'add', serverNs],
    ['ip', 'netns', 'add', legitNs],
    ['ip', 'netns', 'add', attackNs],
    ['ip', '-n', serverNs, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', legitNs, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', attackNs, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', serverNs, 'link', 'add', bridge, 'type', 'bridge'],
    ['ip', '-n', serverNs, 'addr', 'add', `${net.gw}/24`, 'dev', bridge],
    ['ip', '-n', serverNs, 'link', 'set', bridge, 'up'],
    ['ip', '-n', serverNs, 'link', 'add', `${bridge}l`, 'up', 'master', bridge, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', legitNs],
    ['ip', '-n', serverNs, 'link', 'add', `${bridge}a`, 'up', 'master', bridge, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', attackNs],
    ['ip', '-n', legitNs, 'addr', 'add', `${net.legit}/24`, 'dev', 'eth0'],
    ['ip', '-n', legitNs, 'link', 'set', 'eth0', 'up'],
    ['ip', '-n', attackNs, 'addr', 'add', `${net.attacker}/24`, 'dev', 'eth0'],
    ['ip', '-n', attackNs, 'link', 'set', 'eth0', 'up'],
  ];
  for (const c of cmds) await runNoted('topology', c);
}

/** Extra source addresses on the attacker's eth0 (nodad: usable at once). */
async function addExtras(ns, subnet, base) {
  const extras = Array.from({ length: SOURCES }, (_, i) => subnet.replace(/\.0\/24$/, `.${base + i}`));
  for (const a of extras) await runNoted('attacker source addresses', ['ip', '-n', ns, 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
  return extras;
}

async function listeners(ns, addr, proto) {
  const out = await run('ss', [...(ns ? ['-N', ns] : []), proto === 'udp' ? '-Hlnup' : '-Hlntp', 'src', `${addr}:53`]).catch(() => '');
  return [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}
async function waitListening(ns, addr, pid, what) {
  for (let i = 0; i < 100; i++) {
    if ((await listeners(ns, addr, 'udp')).includes(pid)) return;
    await sleep(50);
  }
  throw new Error(`${what} (pid ${pid}) is not listening on ${addr}:53/udp`);
}

/** The run works on a copy of DIST: a rebuild of the shared dist/ during the run would break the stub daemon or `tsnet rm`. */
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

/** Each method's server, clients and name: {server, pid, marker, legitNs, attackNs, attacker, extras, name, tcp}. */
const S = {};

async function setupTsnet() {
  fs.mkdirSync(TSNET.root, { recursive: true });
  const net = NETS.tsnet;
  const create = async (name) => {
    TSNET.live.add(name); // before the call, so a half-made container still gets an rm
    const args = ['create', name, '--network', TSNET.network, '--subnet', net.subnet, '--dns-mode', 'glibc', '--dns', TS_DNS, '--json'];
    note('tsnet container', ['node', TSNET_CLI, '--root', TSNET.root, ...args].join(' '));
    const rec = JSON.parse(await tsnetCli(args));
    if (rec.hostVeth) TSNET.links.add(rec.hostVeth);
    return rec;
  };
  const legit = await create(`${PREFIX}-lg`);
  const attacker = await create(`${PREFIX}-at`);
  const netRec = JSON.parse(fs.readFileSync(path.join(TSNET.root, 'networks', TSNET.network, 'network.json'), 'utf8'));
  TSNET.links.add(netRec.bridge);
  TSNET.bridge = netRec.bridge;
  TSNET.stubPid = stubPidNow();
  if (!TSNET.stubPid || !cmdline(TSNET.stubPid).includes('stub daemon')) throw new Error('the tsnet stub daemon is not running after create');
  await waitListening(null, net.gw, TSNET.stubPid, 'tsnet stub daemon');
  const attackNs = `tsnet-${PREFIX}-at`;
  const extras = await addExtras(attackNs, net.subnet, net.extraBase);
  S.tsnet = {
    server: net.gw, pid: TSNET.stubPid, marker: TSNET.root, legitNs: `tsnet-${PREFIX}-lg`, attackNs,
    attacker: attacker.address, extras, name: `${PREFIX}-lg`, expect: legit.address,
    tcp: (await listeners(null, net.gw, 'tcp')).includes(TSNET.stubPid),
    what: `stub daemon pid ${TSNET.stubPid} on ${net.gw}:53 (tsnet bridge ${netRec.bridge}); legit client = container ${PREFIX}-lg (${legit.address}), attacker = container ${PREFIX}-at (${attacker.address} + ${extras.length} extra addresses)`,
  };
}

async function setupDnsmasq() {
  const net = NETS.dnsmasq;
  const t = { serverNs: `${PREFIX}-ds`, legitNs: `${PREFIX}-dl`, attackNs: `${PREFIX}-da`, bridge: `${PREFIX}db`, net };
  await peerTopology(t);
  const extras = await addExtras(t.attackNs, net.subnet, net.extraBase);
  const hosts = path.join(TMP, 'dnsmasq.hosts');
  fs.writeFileSync(hosts, `${net.legit} ${PREFIX}-lg\n${net.attacker} ${PREFIX}-at\n`);
  fs.chmodSync(hosts, 0o644);
  const args = [
    // --keep-in-foreground, not --no-daemon: --no-daemon is dnsmasq's debug mode, which serves TCP
    // inline in the main process instead of forking a child per connection (a stalled TCP client
    // would then stall everything). Production dnsmasq forks, up to --max-tcp-connections (20).
    'netns', 'exec', t.serverNs, 'dnsmasq', '--keep-in-foreground', `--pid-file=${path.join(TMP, 'dnsmasq.pid')}`,
    '--conf-file=/dev/null', '--log-facility=-', '--no-resolv', '--no-hosts',
    `--addn-hosts=${hosts}`, `--listen-address=${net.gw}`, '--bind-interfaces', '--local-ttl=5', '--cache-size=1000',
  ];
  note('dnsmasq', ['ip', ...args]);
  const logFile = path.join(TMP, 'dnsmasq.log');
  const fd = fs.openSync(logFile, 'a');
  const child = spawn('ip', args, { stdio: ['ignore', fd, fd] }); // ip netns exec execs dnsmasq: same pid
  fs.closeSync(fd);
  child.on('error', () => {});
  const p = { name: 'dnsmasq', pid: child.pid, marker: 'dnsmasq' };
  procs.push(p);
  try {
    await waitListening(t.serverNs, net.gw, p.pid, 'dnsmasq');
  } catch (e) {
    throw new Error(`${e.message}\n${fs.readFileSync(logFile, 'utf8').slice(-1000)}`);
  }
  S.dnsmasq = {
    server: net.gw, pid: p.pid, marker: 'dnsmasq', legitNs: t.legitNs, attackNs: t.attackNs, attacker: net.attacker, extras,
    name: `${PREFIX}-lg`, expect: net.legit, tcp: (await listeners(t.serverNs, net.gw, 'tcp')).includes(p.pid), logFile,
    what: `pid ${p.pid} on ${net.gw}:53 in ${t.serverNs}; legit ${t.legitNs} (${net.legit}), attacker ${t.attackNs} (${net.attacker} + ${extras.length} extra)`,
  };
}

async function setupAardvark() {
  if (!exists(AARDVARK)) throw new Error(`${AARDVARK} missing (apt install aardvark-dns)`);
  const net = NETS.aardvark;
  const t = { serverNs: `${PREFIX}-as`, legitNs: `${PREFIX}-al`, attackNs: `${PREFIX}-aa`, bridge: `${PREFIX}ab`, net };
  await peerTopology(t);
  const extras = await addExtras(t.attackNs, net.subnet, net.extraBase);
  // Config (aardvark-dns 1.4): file name = network name; first line the gateway; then one line per
  // container: ID IPv4 IPv6 NAMES. aardvark answers only requesters listed here, so the attacker
  // and each of its extra addresses are listed too: every hostile client is a "known container".
  const dir = path.join(TMP, 'aardvark');
  fs.mkdirSync(dir);
  const id = () => randomBytes(32).toString('hex');
  const conf = [
    `${net.gw}\n`,
    `${id()} ${net.legit}  ${PREFIX}-lg\n`,
    `${id()} ${net.attacker}  ${PREFIX}-at\n`,
    ...extras.map((a, i) => `${id()} ${a}  ${PREFIX}-x${i}\n`),
  ].join('');
  fs.writeFileSync(path.join(dir, `${PREFIX}aav`), conf);
  const args = ['netns', 'exec', t.serverNs, AARDVARK, '--config', dir, '-p', '53', 'run'];
  note('aardvark-dns', ['ip', ...args]);
  await run('ip', args); // `run` forks: the parent returns once the child serves; the child writes aardvark.pid
  const pid = Number(fs.readFileSync(path.join(dir, 'aardvark.pid'), 'utf8').trim());
  procs.push({ name: 'aardvark-dns', pid, marker: dir });
  await waitListening(t.serverNs, net.gw, pid, 'aardvark-dns');
  S.aardvark = {
    server: net.gw, pid, marker: dir, legitNs: t.legitNs, attackNs: t.attackNs, attacker: net.attacker, extras,
    name: `${PREFIX}-lg`, expect: net.legit, tcp: (await listeners(t.serverNs, net.gw, 'tcp')).includes(pid),
    what: `pid ${pid} on ${net.gw}:53 in ${t.serverNs}; legit ${t.legitNs} (${net.legit}), attacker ${t.attackNs} (${net.attacker} + ${extras.length} extra), all listed in its config`,
  };
}

// ---------------------------------------------------------------------------------------------
// agents, sampling, legit clients

/** Runs the agent in a namespace and returns its (last) JSON line. */
async function agent(ns, cmd, args, what, timeoutMs = 120_000) {
  const argv = ['netns', 'exec', ns, 'python3', AGENT_PY, cmd, JSON.stringify(args)];
  note(what, `ip netns exec ${ns} python3 agent.py ${cmd} '${JSON.stringify(args)}'`);
  const out = await run('ip', argv, { timeoutMs });
  const lines = out.trim().split('\n').filter(Boolean);
  return JSON.parse(lines[lines.length - 1]);
}

/** Per method: every 100 ms {t, rssKb, treeKb, children, pid} of the server (null rss: not alive). */
const samples = Object.fromEntries(ALL_METHODS.map((m) => [m, []]));
/** Per method: pid changes and deaths seen by the sampler. */
const events = Object.fromEntries(ALL_METHODS.map((m) => [m, []]));

function sampleOnce() {
  const t = Date.now();
  for (const m of METHODS) {
    const s = S[m];
    if (!s) continue;
    let pid = s.pid;
    if (!alive(pid, s.marker)) {
      const newPid = m === 'tsnet' ? stubPidNow() : null;
      if (!s.deadSince) {
        s.deadSince = t;
        events[m].push({ t, event: `pid ${pid} gone` });
      }
      if (newPid && newPid !== pid) {
        events[m].push({ t, event: `restarted as pid ${newPid}` });
        s.pid = pid = newPid;
        s.deadSince = null;
      } else {
        samples[m].push({ t, pid, rssKb: null });
        continue;
      }
    }
    const st = procStatus(pid);
    let treeKb = st?.rssKb ?? null;
    let children = 0;
    if (m === 'dnsmasq' && st) {
      // The full /proc scan runs every 500 ms (it costs CPU on a 2-core machine); the children it
      // found are read every 100 ms.
      if (!s.kidsAt || t - s.kidsAt >= 500) {
        s.kids = childrenOf(pid);
        s.kidsAt = t;
      }
      for (const c of s.kids) {
        const cs = procStatus(c);
        if (cs?.rssKb) {
          treeKb += cs.rssKb;
          children++;
        }
      }
    }
    samples[m].push({ t, pid, rssKb: st?.rssKb ?? null, treeKb, children });
  }
}

/** The legit clients' answers: per method, one entry per query {t, p, ok, ms, err}. */
const legitLog = Object.fromEntries(ALL_METHODS.map((m) => [m, []]));

function startLegit(m) {
  const s = S[m];
  const args = { server: s.server, name: s.name, tcp: s.tcp, ...LEGIT };
  const argv = ['netns', 'exec', s.legitNs, 'python3', AGENT_PY, 'legit', JSON.stringify(args)];
  note('legit client (whole run)', `ip ${argv.slice(0, 5).join(' ')} legit '${JSON.stringify(args)}'`);
  const child = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('close', () => running.delete(child));
  child.on('error', () => {});
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (err = (err + d).slice(-2000)));
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      legitLog[m].push(JSON.parse(l));
    } catch {}
  });
  s.legitChild = child;
  s.legitErr = () => err;
}

function legitStats(m, t0, t1) {
  const rows = legitLog[m].filter((r) => r.t >= t0 && r.t <= t1);
  const one = (p) => {
    const xs = rows.filter((r) => r.p === p);
    if (!xs.length) return null;
    const ok = xs.filter((r) => r.ok);
    const errs = {};
    for (const r of xs) if (!r.ok) errs[r.err ?? '?'] = (errs[r.err ?? '?'] ?? 0) + 1;
    const pc = percentiles(ok.map((r) => r.ms));
    return { sent: xs.length, ok: ok.length, okPct: r1((ok.length / xs.length) * 100), p50: pc.p50, p99: pc.p99, max: pc.max, errors: errs };
  };
  return { udp: one('udp'), tcp: S[m].tcp ? one('tcp') : null };
}

function rssStats(m, t0, t1) {
  const xs = samples[m];
  const inWin = xs.filter((x) => x.t >= t0 && x.t <= t1);
  const before = [...xs].reverse().find((x) => x.t < t0 && x.rssKb != null) ?? inWin.find((x) => x.rssKb != null);
  const after = [...xs].reverse().find((x) => x.t <= t1 + 1000 && x.rssKb != null);
  const max = (k) => inWin.reduce((a, x) => (x[k] != null && x[k] > a ? x[k] : a), 0) || null;
  return {
    samples: inWin.length,
    beforeKb: before?.rssKb ?? null,
    peakKb: max('rssKb'),
    afterKb: after?.rssKb ?? null,
    ...(m === 'dnsmasq' ? { peakTreeKb: max('treeKb'), peakChildren: max('children') ?? 0 } : {}),
  };
}

/** After an attack: the same pid (or what happened to it), and one legit UDP + TCP query. */
async function survival(m, pidBefore) {
  const s = S[m];
  const pidNow = alive(s.pid, s.marker) ? s.pid : m === 'tsnet' ? stubPidNow() : null;
  const chk = await agent(s.legitNs, 'check', { server: s.server, name: s.name, tcp: s.tcp }, `survival check ${m}`).catch((e) => ({
    err: e.message.slice(-300),
  }));
  return {
    pidBefore,
    samePid: pidNow === pidBefore,
    pid: pidNow,
    crashed: pidNow !== pidBefore,
    check: chk,
    answers: !!chk.udp?.ok && (!s.tcp || !!chk.tcp?.ok),
  };
}

const attacks = []; // every attack result

/**
 * One attack against one method inside a window: fn() runs the attack; the window's RSS peak,
 * the legit client's numbers and the survival check afterwards are recorded with it.
 */
async function attack(m, kind, fn) {
  checkAbort();
  const s = S[m];
  const pidBefore = s.pid;
  const stubBefore = m === 'tsnet' ? stubStats() : null;
  const t0 = Date.now();
  let result;
  try {
    result = await fn();
  } catch (e) {
    result = { error: e.message.slice(-500) };
  }
  const t1 = Date.now();
  await sleep(1100); // a last RSS sample, the legit answers of the window's end, the stub's status.json (rewritten every second)
  const row = {
    method: m,
    attack: kind,
    windowS: r1((t1 - t0) / 1000),
    result,
    rss: rssStats(m, t0, t1),
    legit: legitStats(m, t0, t1),
    survival: await survival(m, pidBefore),
    events: events[m].filter((e) => e.t >= t0 && e.t <= Date.now()),
  };
  if (m === 'tsnet') row.stub = statsDelta(stubBefore, stubStats());
  attacks.push(row);
  log(`${m} ${kind}: ${JSON.stringify(result).slice(0, 300)} | peak RSS ${row.rss.peakKb} kB | survived ${!row.survival.crashed && row.survival.answers}`);
  return row;
}

function stubStats() {
  try {
    return JSON.parse(fs.readFileSync(path.join(TSNET.root, 'stub', 'status.json'), 'utf8')).stats;
  } catch {
    return null;
  }
}
function statsDelta(a, b) {
  if (!a || !b) return null;
  const out = {};
  for (const k of ['queries', 'local', 'refused', 'limited', 'malformed', 'dropped', 'sendErrors']) if (typeof b[k] === 'number') out[k] = b[k] - (a[k] ?? 0);
  // stats.tcp: what each TCP limit did (the stub's own counters, when it has them)
  // (open and peak are gauges: their value at the end, not a difference)
  if (b.tcp && typeof b.tcp === 'object') {
    for (const [k, v] of Object.entries(b.tcp)) {
      if (typeof v !== 'number') continue;
      if (k === 'open' || k === 'peak') out[`tcp.${k} (value)`] = v;
      else if (v - (a.tcp?.[k] ?? 0)) out[`tcp.${k}`] = v - (a.tcp?.[k] ?? 0);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the attacks

const base = (m) => ({ server: S[m].server, name: S[m].name, connectTimeoutS: CONNECT_TIMEOUT_S });

async function udpProbes(m) {
  for (const kind of ['port0', 'port7', 'qr1']) {
    await attack(m, `udp-${kind}`, () =>
      agent(S[m].attackNs, 'probe', { ...base(m), src: S[m].attacker, kind, waitMs: PROBE_WAIT_MS }, `udp probe ${kind} (${m})`),
    );
  }
}

/** stalled, dripping and half-frame: one connection each, at the same time (they cost the server nothing but a socket). */
async function slowTrio(m) {
  const rows = await Promise.all(
    ['stall', 'drip', 'half'].map((mode) =>
      attack(m, `tcp-${mode}`, () =>
        agent(S[m].attackNs, 'slow', { ...base(m), mode, capS: CAP_S, intervalS: 2 }, `tcp ${mode} (${m})`, (CAP_S + 30) * 1000),
      ),
    ),
  );
  return rows;
}

const neverRead = (m) =>
  attack(m, 'tcp-never-read', () =>
    agent(S[m].attackNs, 'never-read', { ...base(m), count: PIPELINE, observeS: OBSERVE_S }, `tcp never-read (${m})`, (OBSERVE_S + 60) * 1000),
  );

const manyClients = (m) =>
  attack(m, 'tcp-many', () =>
    agent(
      S[m].attackNs,
      'many',
      { ...base(m), sources: S[m].extras, perSource: Math.ceil(MANY / SOURCES), holdS: HOLD_S, replyTimeoutS: REPLY_TIMEOUT_S },
      `tcp many-client (${m})`,
      (CONNECT_TIMEOUT_S + REPLY_TIMEOUT_S + HOLD_S + 60) * 1000,
    ),
  );

// ---------------------------------------------------------------------------------------------
// report

const TSNET_SRC = exists(path.join(path.dirname(DIST), '.git')) ? path.dirname(DIST) : REPO;

async function environment() {
  const first = (s) => (s ? s.split('\n')[0].trim() : null);
  return {
    date: new Date().toISOString(),
    host: os.hostname(),
    kernel: os.release(),
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    python: await tryRun('python3', ['--version']),
    // The checkout DIST was built in (--dist /tmp/clone/dist: that clone), else this repository.
    tsnetSource: TSNET_SRC,
    tsnetCommit: await tryRun('git', ['-C', TSNET_SRC, 'rev-parse', '--short', 'HEAD']),
    // uncommitted changes to what goes into dist/ (tests excluded)
    tsnetDirty: !!(await tryRun('git', ['-C', TSNET_SRC, 'status', '--porcelain', '--untracked-files=no', '--', 'src', 'resolvers', ':!*.test.ts'])),
    distBuilt: null,
    dnsmasq: first(await tryRun('dnsmasq', ['--version'])),
    aardvark: exists(AARDVARK) ? await tryRun(AARDVARK, ['--version']) : null,
    prefix: PREFIX,
    options: { methods: METHODS, capS: CAP_S, pipeline: PIPELINE, observeS: OBSERVE_S, many: MANY, sources: SOURCES, holdS: HOLD_S, legit: LEGIT, quick: Q },
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
  const pg = (await run('pgrep', ['-af', 'dnsmasq|aardvark|tsnet|agent.py']).catch(() => '')).split('\n').filter(Boolean);
  const ourProcs = pg.filter((l) => (l.includes(TMP) || l.includes(PREFIX)) && !l.startsWith(`${process.pid} `));
  const pidsAlive = [...procs, ...(TSNET.stubPid ? [{ name: 'stub daemon', pid: TSNET.stubPid, marker: TSNET.root }] : [])]
    .filter((p) => alive(p.pid, p.marker))
    .map((p) => `${p.name} ${p.pid}`);
  return {
    ourNetnsLeft: ours(after.netns),
    ourLinksLeft: ours(after.links),
    ourProcessesLeft: [...ourProcs, ...pidsAlive],
    tmpDirLeft: exists(TMP),
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

const kib = (b) => (b == null ? '?' : b >= 1024 ? `${(b / 1024).toFixed(0)} KiB` : `${b} B`);
const mib = (kb) => (kb == null ? '–' : `${(kb / 1024).toFixed(1)}`);
const fmtMs = (x) => (x == null ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const secs = (x, cap) => (x == null ? `>${cap} s` : `${x} s`);

const KIND_TITLE = {
  'udp-port0': 'UDP query from source port 0 (raw socket)',
  'udp-port7': 'UDP query from source port 7 (echo)',
  'udp-qr1': 'UDP response (QR=1) sent to the server',
  'tcp-stall': 'TCP stalled: connects, sends nothing',
  'tcp-drip': 'TCP dripping: one byte every 2 s',
  'tcp-half': 'TCP half-frame: length 65535 + 4 bytes, then silence',
  'tcp-never-read': `TCP never-reading: ${PIPELINE} pipelined queries, never reads`,
  'tcp-many': `TCP many-client: ${MANY} connections from ${SOURCES} addresses, held ${HOLD_S} s`,
};

/** The attack's own outcome, in a few words. */
function outcome(row) {
  const r = row.result ?? {};
  if (r.error) return `error: ${r.error.split('\n')[0].slice(0, 120)}`;
  switch (row.attack) {
    case 'udp-port0':
    case 'udp-port7':
    case 'udp-qr1':
      if (r.err) return `probe error ${r.err}`;
      return r.replied ? `**replied** (${r.replies.map((x) => `${x.rcode ?? '?'}, ${x.an ?? '?'} answer(s), to :${x.dport}`).join('; ')})` : 'no reply';
    case 'tcp-stall':
    case 'tcp-drip':
    case 'tcp-half':
      if (!r.connected) return `no connection (${r.err})`;
      return r.closedAfterS == null
        ? `open after ${r.capS} s (>${r.capS} s)${r.bytesReceived ? `, got ${r.bytesReceived} B` : ''}`
        : `closed after ${r.closedAfterS} s (${r.how})${row.attack === 'tcp-drip' ? `, ${r.bytesSent} B dripped` : ''}`;
    case 'tcp-never-read': {
      if (!r.connected) return `no connection (${r.err})`;
      const closed = r.closedAfterS == null ? `**still open after ${r.observeS} s**` : `closed after ${r.closedAfterS} s (${r.how === 'CLOSE' ? 'RST' : r.how})`;
      return `${closed}; ${r.queriesWritten}/${r.count} queries written, ${r.queriesAcked} acked by the server's kernel; ${kib(r.replyBytesWaiting)} of replies unread`;
    }
    case 'tcp-many': {
      if (r.attempted == null) return JSON.stringify(r).slice(0, 120);
      const errs = Object.entries(r.errors ?? {})
        .filter(([k]) => k !== 'closed')
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
      return (
        `${r.connected}/${r.attempted} connected, **${r.answeredInTime} answered** within ${CONNECT_TIMEOUT_S + REPLY_TIMEOUT_S} s` +
        `${r.answered > r.answeredInTime ? ` (+${r.answered - r.answeredInTime} later)` : ''}` +
        `${Object.keys(r.rcodes ?? {}).length ? ` [${Object.entries(r.rcodes).map(([k, v]) => `${k} ${v}`).join(', ')}]` : ''}` +
        `; closed by the server: ${r.closedAtOnce} unanswered, ${r.closedAfterAnswer.length} after answering${r.closedAfterAnswer.length ? ` (${r.closedAfterAnswer[0]}–${r.closedAfterAnswer[r.closedAfterAnswer.length - 1]} s later)` : ''}` +
        `; ${r.openAtEnd} open at the end${errs ? `; ${errs}` : ''}`
      );
    }
  }
  return JSON.stringify(r).slice(0, 120);
}

const legitText = (x) => (x ? `${x.okPct}% (${x.ok}/${x.sent}) ${fmtMs(x.p50)} / ${fmtMs(x.p99)}` : '–');
const survivalText = (row) => {
  const s = row.survival;
  const pid = s.crashed ? `**pid ${s.pidBefore} → ${s.pid ?? 'gone'}**` : 'same pid';
  const ans = s.answers ? 'answers' : `**does not answer** (${JSON.stringify(s.check).slice(0, 80)})`;
  return `${pid}, ${ans}`;
};
const rssText = (row) => {
  const r = row.rss;
  const tree = row.method === 'dnsmasq' && r.peakChildren ? ` (+${r.peakChildren} children: ${mib(r.peakTreeKb)} total)` : '';
  return `${mib(r.beforeKb)} → **${mib(r.peakKb)}**${tree} → ${mib(r.afterKb)}`;
};

function markdown(report) {
  const { env, leaks } = report;
  const L = [];
  const ms = METHODS.filter((m) => S[m]);
  L.push('# Hostile clients: tsnet stub vs dnsmasq vs aardvark-dns', '');
  L.push(
    `${env.date} · ${env.cpus} · ${env.memGiB} GiB · kernel ${env.kernel} · node ${env.node} · ${env.python ?? 'python3 ?'} · ` +
      `tsnet ${env.tsnetCommit ?? '?'}${env.tsnetDirty ? ' (+ uncommitted changes in src/)' : ''}` +
      `${env.tsnetSource !== REPO ? ` (built in ${env.tsnetSource})` : ''}, dist built ${env.distBuilt ?? '–'} · ` +
      `${env.dnsmasq ?? 'dnsmasq ?'} · ${env.aardvark ?? 'aardvark-dns ?'} · run prefix \`${env.prefix}\`${Q ? ' · **--quick**' : ''}`,
    '',
  );
  L.push('Servers:', '');
  for (const m of ms) L.push(`- **${m}**: ${S[m].what}; TCP listener: ${S[m].tcp ? 'yes' : '**none**'}`);
  L.push('');
  L.push(
    `Legit client (its own namespace, the whole run): a UDP query every ${LEGIT.udpIntervalMs} ms and a TCP query ` +
      `(new connection) every ${LEGIT.tcpIntervalMs} ms for a local name, launched on schedule, ${LEGIT.timeoutMs} ms timeout; ` +
      `"legit" cells are success% (ok/sent) p50 / p99 ms of the queries launched during the attack's window. ` +
      `RSS (MiB) is VmRSS of the server pid sampled every 100 ms: before → **peak in the window** → after. ` +
      `"survived": same pid after the attack, and a fresh UDP (+TCP) query answered.`,
    '',
  );
  // side by side summary
  const kinds = [...new Set(attacks.map((a) => a.attack))];
  L.push('## Side by side', '');
  L.push(`| attack | ${ms.join(' | ')} |`);
  L.push(`|---|${ms.map(() => '---').join('|')}|`);
  for (const k of kinds) {
    const cells = ms.map((m) => {
      const row = attacks.find((a) => a.method === m && a.attack === k);
      if (!row) return '–';
      const surv = row.survival.crashed ? ' · **CRASHED/RESTARTED**' : row.survival.answers ? '' : ' · **stopped answering**';
      return `${outcome(row)} · peak ${mib(row.rss.peakKb)} MiB${surv}`;
    });
    L.push(`| ${KIND_TITLE[k] ?? k} | ${cells.join(' | ')} |`);
  }
  L.push('');
  L.push('## Details per attack', '');
  for (const k of kinds) {
    L.push(`### ${KIND_TITLE[k] ?? k}`, '');
    L.push('| server | outcome | window | RSS MiB before → peak → after | survived | legit UDP %, p50 / p99 ms | legit TCP %, p50 / p99 ms |');
    L.push('|---|---|---:|---|---|---|---|');
    for (const m of ms) {
      const row = attacks.find((a) => a.method === m && a.attack === k);
      if (!row) continue;
      L.push(
        `| ${m} | ${outcome(row)} | ${row.windowS} s | ${rssText(row)} | ${survivalText(row)} | ${legitText(row.legit.udp)} | ${S[m].tcp ? legitText(row.legit.tcp) : 'no TCP'} |`,
      );
    }
    const notes = [];
    for (const m of ms) {
      const row = attacks.find((a) => a.method === m && a.attack === k);
      if (!row) continue;
      const errs = [row.legit.udp, row.legit.tcp].filter(Boolean).flatMap((x, i) =>
        Object.keys(x.errors).length ? [`${i === 0 ? 'UDP' : 'TCP'} ${Object.entries(x.errors).map(([e, n]) => `${n} ${e}`).join(', ')}`] : [],
      );
      if (errs.length) notes.push(`- ${m}: legit failures: ${errs.join('; ')}`);
      if (row.stub) notes.push(`- ${m}: stub counters in the window: ${Object.entries(row.stub).map(([a, b]) => `${a} ${b}`).join(', ')}`);
      if (row.events.length) notes.push(`- ${m}: ${row.events.map((e) => e.event).join('; ')}`);
    }
    if (notes.length) L.push('', ...notes);
    L.push('');
  }
  if (report.errors.length) {
    L.push('## Errors', '');
    for (const e of report.errors) L.push(`- ${e}`);
    L.push('');
  }
  L.push('## Commands', '', '```sh');
  let what = null;
  for (const c of commands) {
    if (c.what !== what) L.push(`# ${c.what}`);
    what = c.what;
    L.push(c.cmd);
  }
  L.push('```', '');
  L.push('## Leak check', '');
  if (!leaks) L.push('- not run');
  else {
    const clean = !leaks.ourNetnsLeft.length && !leaks.ourLinksLeft.length && !leaks.ourProcessesLeft.length && !leaks.tmpDirLeft;
    L.push(clean ? '- nothing of this run left (netns, links, processes, temp dir): clean' : `- LEFT BEHIND: ${JSON.stringify(leaks)}`);
    L.push(`- other dnsmasq/aardvark/tsnet processes on the host, not this run's: ${leaks.otherProcesses}`);
    if (leaks.otherNewNetns.length || leaks.otherNewLinks.length) {
      L.push(`- appeared during the run, not this run's: netns [${leaks.otherNewNetns.join(', ')}], links [${leaks.otherNewLinks.join(', ')}]`);
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
  for (const tool of ['python3', 'ss', ...(has('dnsmasq') ? ['dnsmasq'] : [])]) {
    if (!(await tryRun('sh', ['-c', `command -v ${tool}`]))) throw new Error(`${tool} missing`);
  }
  fs.writeFileSync(AGENT_PY, AGENT);
  fs.writeFileSync(path.join(TMP, 'empty-resolv.conf'), '');
  if (has('tsnet')) {
    report.env.distBuilt = await snapshotDist();
    log(`tsnet: using a copy of ${DIST} (built ${report.env.distBuilt})`);
  }
  const setups = { tsnet: setupTsnet, dnsmasq: setupDnsmasq, aardvark: setupAardvark };
  for (const m of METHODS) {
    checkAbort();
    log(`setting up ${m}`);
    await setups[m]();
    S[m].pidAtStart = S[m].pid;
    const chk = await agent(S[m].legitNs, 'check', { server: S[m].server, name: S[m].name, tcp: S[m].tcp }, `sanity ${m}`);
    if (!chk.udp?.ok) throw new Error(`${m}: the legit client gets no answer before any attack: ${JSON.stringify(chk)}`);
    log(`${m}: ${S[m].what}; tcp ${S[m].tcp}; sanity ${JSON.stringify(chk)}`);
  }
  sampler = setInterval(sampleOnce, 100);
  for (const m of METHODS) startLegit(m);
  await sleep(2000); // the legit clients' baseline
  const t0 = Date.now();
  const idle = Object.fromEntries(METHODS.map((m) => [m, legitStats(m, t0 - 2000, t0)]));
  report.baseline = idle;

  // 1. UDP probes: every server at once (three datagrams each, nothing to interfere with).
  log('UDP probes');
  await Promise.all(METHODS.map((m) => udpProbes(m)));
  // 2. stalled / dripping / half-frame: every server at once; they only hold a socket each.
  log(`stalled / dripping / half-frame connections (cap ${CAP_S} s)`);
  await Promise.all(METHODS.map((m) => slowTrio(m)));
  // 3. never-reading and 4. many-client: one server at a time (they cost CPU, which would show
  // up in the other servers' legit latency on 2 cores).
  for (const m of METHODS) {
    log(`never-reading (${m})`);
    await neverRead(m);
    await sleep(1000);
  }
  for (const m of METHODS) {
    log(`many-client (${m})`);
    await manyClients(m);
    await sleep(1000);
  }
  report.legitTotals = Object.fromEntries(METHODS.map((m) => [m, legitStats(m, 0, Date.now())]));
  report.finalRss = Object.fromEntries(METHODS.map((m) => [m, { pid: S[m].pid, ...procStatus(S[m].pid) }]));
}

const report = { env: null, servers: S, attacks, baseline: null, errors: [], leaks: null, commands };
const before = await hostState();
let exitCode = 0;
try {
  await main(report);
} catch (e) {
  log(e.stack ?? e.message);
  report.errors.push(e.message);
  exitCode = 1;
} finally {
  log('cleaning up');
  for (const m of METHODS) if (S[m]?.legitChild && S[m].legitErr()) report.errors.push(`${m} legit client stderr: ${S[m].legitErr().slice(-300)}`);
  await cleanupAll().catch((e) => log(`cleanup: ${e.message}`));
  report.leaks = await leakCheck(before, await hostState());
}
const { ourNetnsLeft, ourLinksLeft, ourProcessesLeft, tmpDirLeft } = report.leaks;
if (ourNetnsLeft.length || ourLinksLeft.length || ourProcessesLeft.length || tmpDirLeft) exitCode = 1;

for (const m of Object.keys(S)) {
  delete S[m].legitChild;
  delete S[m].legitErr;
}
report.samples = samples;
if (report.env) console.log(markdown(report));
if (opt.out) fs.writeFileSync(opt.out, JSON.stringify(report, null, 2) + '\n');
process.exit(aborted ? 128 + os.constants.signals[aborted] : exitCode);
