// The stub resolver end to end on real namespaces: real clients (glibc getent, dig, a static musl
// binary) inside containers ask the stub on the network gateway; upstreams are `tsnet fake-dns`
// in a dns-mode direct container on the same lab network. Every packet stays inside the lab's
// bridge and namespaces: each stub-mode container is given --dns addresses of that upstream
// container (never the host's nameservers).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot, run } from '../support/lab.js';
import {
  killStubDaemons,
  dig, lastLogLine, sleep, startUpstream, stubDaemonPids, destroyStubLab, stubLogs, stubStatus, waitFor,
  type StubLogLine, type UpstreamTraceQuery, type Upstream,
} from '../support/upstream.js';

const MUSL_GAI_C = String.raw`
#include <stdio.h>
#include <string.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
  struct addrinfo hints, *res, *p;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(argv[1], NULL, &hints, &res);
  if (rc != 0) { printf("error %d %s\n", rc, gai_strerror(rc)); return 2; }
  for (p = res; p; p = p->ai_next) {
    char buf[64];
    void *a = p->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)p->ai_addr)->sin_addr
                                      : (void *)&((struct sockaddr_in6 *)p->ai_addr)->sin6_addr;
    inet_ntop(p->ai_family, a, buf, sizeof buf);
    printf("%s\n", buf);
  }
  freeaddrinfo(res);
  return 0;
}
`;

interface SimTrace {
  elapsed_ms: number;
  result: { addresses: string[]; error: string | null };
  queries: UpstreamTraceQuery[];
}

const bridgeOf = (lab: Lab) => (JSON.parse(readFileSync(lab.paths.networkRecord('tsnet'), 'utf8')) as { bridge: string }).bridge;
const macOf = (link: string) => readFileSync(`/sys/class/net/${link}/address`, 'utf8').trim();

describe.skipIf(!isRoot)('the stub resolver on real namespaces', () => {
  const lab = new Lab();
  const gw = lab.ip(1);
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-stub-test-'));
  // One upstream container, one fake-dns behaviour per address (high addresses: the lab's
  // allocator hands out .2 upwards to the containers the tests create).
  const UP = {
    answer: lab.ip(200),
    blackhole: lab.ip(201),
    servfail: lab.ip(202),
    nxdomain: lab.ip(203),
    truncate: lab.ip(204),
    dropAaaa: lab.ip(205),
    slowAnswer: lab.ip(206),
  };
  const BEHAVIOUR: Record<string, string> = {
    [UP.answer]: 'answer', [UP.blackhole]: 'blackhole', [UP.servfail]: 'servfail', [UP.nxdomain]: 'nxdomain',
    [UP.truncate]: 'truncate', [UP.dropAaaa]: 'drop-aaaa', [UP.slowAnswer]: 'answer,delay:100',
  };
  const ZONE = ['db.example=A:10.0.0.5', 'db.example=AAAA:fd00::5'];
  let up: Upstream;
  const upName = lab.name('up');

  beforeAll(async () => {
    up = await startUpstream(lab, upName, Object.entries(BEHAVIOUR).map(([address, behaviour]) => ({ address, behaviour })), ZONE);
    // tsnet gives the bridge a fixed MAC of its own (NET_ADDR_SET), so containers coming and going
    // never change the gateway's address under the others' feet.
    expect(readFileSync(`/sys/class/net/${bridgeOf(lab)}/addr_assign_type`, 'utf8').trim()).toBe('3');
  });

  afterEach(async () => {
    // Each test removes its containers; a failed one may not have: remove them here so the next
    // test starts with no stub-mode container (and so no stub daemon).
    const ls = JSON.parse((await lab.cli(['ls', '--json'])).stdout) as Array<{ name: string }>;
    const left = ls.map((c) => c.name).filter((n) => n !== upName);
    if (left.length > 0) await lab.cli(['rm', ...left]);
  });

  afterAll(async () => {
    await up?.stop();
    const { leftovers, daemons } = await destroyStubLab(lab);
    rmSync(dir, { recursive: true, force: true });
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  const create = async (name: string, args: string[]) => {
    const r = await lab.create(name, args);
    expect(r.stderr, `create ${name}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout.split(' ')[1]!; // NAME ADDRESS ID
  };

  /** What the stub and the network looked like when a container's query went unanswered (for failure messages). */
  const netDiag = async (from: string) => [
    `stub status: ${JSON.stringify(await stubStatus(lab))}`,
    `listening: ${(await run('ss', ['-Hlunp', `src ${gw}:53`])).stdout}`,
    `daemon output:\n${existsSync(join(lab.root, 'stub', 'daemon.log')) ? readFileSync(join(lab.root, 'stub', 'daemon.log'), 'utf8') : '-'}`,
    `${from}'s neighbours: ${(await lab.cli(['exec', from, '--', 'ip', 'neigh'])).stdout}`,
    `bridge ${bridgeOf(lab)} ${macOf(bridgeOf(lab))}; ports:\n${execFileSync('ip', ['-br', 'link', 'show', 'master', bridgeOf(lab)], { encoding: 'utf8' })}`,
    `asked again: ${(await lab.cli(['exec', from, '--', 'dig', '+tries=1', '+time=2', `@${gw}`, 'again.example'])).stdout}`,
  ].join('\n');

  it('real clients resolve through the stub: glibc getent, dig over UDP and TCP, PTR, a static musl binary', async () => {
    const [ga, gb, ma] = [lab.name('ga'), lab.name('gb'), lab.name('ma')];
    const gaIp = await create(ga, ['--dns-mode', 'glibc', '--dns', UP.answer, '--add-host', `addhost.example:10.9.9.9`]);
    const gbIp = await create(gb, ['--dns-mode', 'glibc', '--dns', UP.answer]);
    const maIp = await create(ma, ['--dns-mode', 'musl', '--dns', UP.answer]);
    expect(new Set([gaIp, gbIp, maIp]).size).toBe(3);

    // glibc's getaddrinfo in ga, through ga's resolv.conf (the stub) — gb is not in ga's hosts file.
    const hostsFile = await lab.cli(['exec', ga, '--', 'cat', '/etc/hosts']);
    expect(hostsFile.stdout).not.toContain(gb);
    const ah = await lab.cli(['exec', ga, '--', 'getent', 'ahosts', gb]);
    expect(ah.code, ah.stderr).toBe(0);
    const ahLines = ah.stdout.trim().split('\n');
    expect(ahLines.length).toBeGreaterThan(0);
    for (const l of ahLines) expect(l.split(/\s+/)[0]).toBe(gbIp); // A only: AAAA of a container name is NODATA
    expect((await lastLogLine(lab, ga, gb, 'A')).source).toBe('container');
    const aaaaLog = await lastLogLine(lab, ga, gb, 'AAAA');
    expect(aaaaLog).toMatchObject({ source: 'container', rcode: 'NOERROR', answers: 0 });

    // The --add-host name: in ga's hosts file (getent), and answered by the stub itself (dig).
    const gh = await lab.cli(['exec', ga, '--', 'getent', 'hosts', 'addhost.example']);
    expect(gh.stdout.split(/\s+/)[0]).toBe('10.9.9.9');
    const addh = await dig(lab, ga, ['+short', `@${gw}`, 'addhost.example']);
    expect(addh.stdout).toBe('10.9.9.9\n');
    expect((await lastLogLine(lab, ga, 'addhost.example', 'A')).source).toBe('add-host');
    // ...for ga only: gb's copy of the question goes upstream (the zone does not have it).
    const addhGb = await dig(lab, gb, [`@${gw}`, 'addhost.example']);
    expect(addhGb.status).toBe('NXDOMAIN');
    expect((await lastLogLine(lab, gb, 'addhost.example', 'A')).source).toBe('upstream');

    // Container names with dig, UDP and TCP, short and qualified with the network's zone.
    for (const transport of ['+notcp', '+tcp']) {
      const short = await dig(lab, ga, [transport, `@${gw}`, gb]);
      expect(short.status, short.stdout).toBe('NOERROR');
      expect(short.answers).toEqual([`${gb}. A ${gbIp}`]);
      expect(short.flags).toContain('aa');
      const fq = await dig(lab, ga, [transport, `@${gw}`, `${ma}.tsnet.tsnet`]);
      expect(fq.answers).toEqual([`${ma}.tsnet.tsnet. A ${maIp}`]);
      const mixedCase = await dig(lab, ga, [transport, `@${gw}`, `${gb.toUpperCase()}.TSNET.tsnet`]);
      expect(mixedCase.answers.map((a) => a.split(' ').slice(1).join(' '))).toEqual([`A ${gbIp}`]);
      const aaaa = await dig(lab, ga, [transport, `@${gw}`, gb, 'AAAA']);
      expect(aaaa.status).toBe('NOERROR');
      expect(aaaa.answers).toEqual([]);
      const missing = await dig(lab, ga, [transport, `@${gw}`, `nobody.tsnet.tsnet`]);
      expect(missing.status).toBe('NXDOMAIN');
    }
    expect((await stubLogs(lab, ga)).filter((l) => l.transport === 'tcp' && l.qname === gb).length).toBeGreaterThan(0);

    // PTR for the subnet.
    const ptr = await dig(lab, ga, ['+short', `@${gw}`, '-x', gbIp]);
    expect(ptr.stdout).toBe(`${gb}.tsnet.tsnet.\n`);
    const ptrTcp = await dig(lab, ma, ['+short', '+tcp', `@${gw}`, '-x', gaIp]);
    expect(ptrTcp.stdout).toBe(`${ga}.tsnet.tsnet.\n`);
    const freeAddr = await dig(lab, ga, [`@${gw}`, '-x', lab.ip(150)]);
    expect(freeAddr.status).toBe('NXDOMAIN');
    expect((await lastLogLine(lab, ga, `150.${lab.subnetBase.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR')).upstream).toEqual([]);

    // A forwarded name, from the upstream's zone.
    const before = up.log().filter((q) => q.qname === 'db.example').length;
    const fwd = await dig(lab, ga, ['+short', `@${gw}`, 'db.example']);
    expect(fwd.stdout).toBe('10.0.0.5\n');
    const fwdTcp = await dig(lab, ga, ['+short', '+tcp', `@${gw}`, 'db.example', 'AAAA']);
    expect(fwdTcp.stdout).toBe('fd00::5\n');
    const fwdLog = await lastLogLine(lab, ga, 'db.example', 'A');
    expect(fwdLog).toMatchObject({ source: 'upstream', rcode: 'NOERROR', answers: 1 });
    expect(fwdLog.upstream.map((q) => `${q.server} ${q.transport} ${q.outcome}`)).toEqual([`${UP.answer} udp answer`]);
    const seen = up.log().filter((q) => q.qname === 'db.example').slice(before);
    expect(seen.map((q) => `${q.server} ${q.transport} ${q.qtype}`)).toEqual([`${UP.answer} udp A`, `${UP.answer} tcp AAAA`]);
    const gai = await lab.cli(['exec', ga, '--', 'getent', 'ahosts', 'db.example']);
    expect(new Set(gai.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]))).toEqual(new Set(['10.0.0.5', 'fd00::5']));

    // musl's getaddrinfo, statically linked, in the musl-mode container.
    const bin = join(dir, 'gai-musl');
    writeFileSync(join(dir, 'gai.c'), MUSL_GAI_C);
    execFileSync('musl-gcc', ['-static', '-O2', '-o', bin, join(dir, 'gai.c')]);
    expect(readFileSync(bin).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    const mctr = await lab.cli(['exec', ma, '--', bin, ga]);
    expect(mctr).toMatchObject({ code: 0, stdout: `${gaIp}\n` });
    const mfwd = await lab.cli(['exec', ma, '--', bin, 'db.example']);
    expect(mfwd.code, mfwd.stdout).toBe(0);
    expect(mfwd.stdout.trim().split('\n').sort()).toEqual(['10.0.0.5', 'fd00::5']);
    const mnx = await lab.cli(['exec', ma, '--', bin, 'nothing-here.example']);
    expect(mnx.stdout).toMatch(/^error /);
    // musl sends A and AAAA at once; both reached the stub from ma.
    expect((await lastLogLine(lab, ma, ga, 'A')).source).toBe('container');
    expect((await lastLogLine(lab, ma, 'db.example', 'AAAA')).source).toBe('upstream');

    expect((await lab.cli(['rm', ga, gb, ma])).code).toBe(0);
  });

  describe('dns-mode: the stub reaches the upstreams the way glibc or musl would, as `tsnet resolve --simulate` predicts', () => {
    const tolerance = (predicted: number) => Math.max(50, 0.05 * predicted);
    const shape = (q: UpstreamTraceQuery) => `${q.server} ${q.transport} ${q.qname} ${q.qtype} ${q.outcome}`;

    /**
     * The stub's upstream exchange (its log line) against the emulator's queries for the same
     * qtype, packet by packet: servers, transports and outcomes exactly, send times and the answer
     * time within max(50 ms, 5 %). `servfailRace`: musl resends a query to a server that answered
     * SERVFAIL at once (up to 2 × per interval), and whether those resends are answered before the
     * healthy server's answer is a race on a real network (the simulation has fixed latencies); such
     * trailing resends to `servfailRace` are accepted.
     */
    const compare = (line: StubLogLine, sim: SimTrace, qtype: string, servfailRace?: string) => {
      let predicted = sim.queries.filter((q) => q.qtype === qtype);
      let got = line.upstream;
      if (servfailRace !== undefined) {
        predicted = predicted.filter((q) => !(q.server === servfailRace && q.outcome === 'timeout'));
        const extra = got.slice(predicted.length);
        if (extra.length <= 2 && extra.every((q) => q.server === servfailRace && (q.outcome === 'servfail' || q.outcome === 'timeout'))) {
          got = got.slice(0, predicted.length);
        }
      }
      const gs = got.map(shape).join(' | ');
      const ps = predicted.map(shape).join(' | ');
      return { shape: gs === ps ? [] : [`stub: ${line.upstream.map(shape).join(' | ')}  ≠  predicted: ${ps}`], timing: gs === ps ? timing(got, predicted, line, sim) : [] };
    };
    const timing = (got: UpstreamTraceQuery[], predicted: UpstreamTraceQuery[], line: StubLogLine, sim: SimTrace) => {
      const out: string[] = [];
      got.forEach((q, i) => {
        const p = predicted[i]!.t_ms;
        if (Math.abs(q.t_ms - p) > tolerance(p)) out.push(`query ${i} sent at ${q.t_ms} ms, predicted ${p} ms`);
      });
      if (Math.abs(line.latency_ms - sim.elapsed_ms) > tolerance(sim.elapsed_ms)) out.push(`answered after ${line.latency_ms} ms, predicted ${sim.elapsed_ms} ms`);
      return out;
    };

    /**
     * One client query (dig) through a fresh container of this mode, and the emulator's prediction
     * for one query of that type (--family inet for A, inet6 for AAAA: the stub forwards each client
     * query on its own) on a simulated network with the same behaviours, nameservers and options.
     * A timing miss (never a shape miss) is retried once with a new container: a loaded test machine
     * can stall any process for tens of ms.
     */
    const scenario = async (label: string, mode: 'glibc' | 'musl', servers: string[], qtype: 'A' | 'AAAA', digArgs: string[] = [], servfailRace?: string) => {
      const options = ['timeout:1'];
      const sdir = mkdtempSync(join(dir, `${label}-${mode}-`));
      writeFileSync(join(sdir, 'resolv.conf'), servers.map((s) => `nameserver ${s}\n`).join('') + `options ${options.join(' ')}\n`);
      writeFileSync(join(sdir, 'hosts'), '');
      writeFileSync(join(sdir, 'nsswitch.conf'), 'hosts: dns\n');
      const scenarioJson = JSON.stringify({ servers: Object.fromEntries(servers.map((s) => [s, BEHAVIOUR[s]])), zone: ZONE });
      const simRun = await lab.cli([
        'resolve', 'db.example', '--mode', mode, '--family', qtype === 'A' ? 'inet' : 'inet6', '--simulate', scenarioJson,
        '--resolv-conf', join(sdir, 'resolv.conf'), '--hosts', join(sdir, 'hosts'), '--nsswitch', join(sdir, 'nsswitch.conf'), '--json',
      ]);
      expect(simRun.stderr).toBe('');
      const sim = JSON.parse(simRun.stdout) as SimTrace;
      for (let attempt = 1; ; attempt++) {
        const name = lab.name(`${mode[0]}-${label}-${attempt}`);
        await create(name, ['--dns-mode', mode, ...servers.flatMap((s) => ['--dns', s]), ...options.flatMap((o) => ['--dns-option', o])]);
        const result = await dig(lab, name, [...digArgs, `@${gw}`, 'db.example', qtype]);
        const line = await lastLogLine(lab, name, 'db.example', qtype);
        await lab.cli(['rm', name]);
        const problems = compare(line, sim, qtype, servfailRace);
        if (process.env.STUB_TEST_DEBUG) console.log(label, mode, attempt, JSON.stringify({ problems, line, sim }));
        if (problems.shape.length > 0 || problems.timing.length === 0 || attempt === 2) return { result, line, sim, problems: [...problems.shape, ...problems.timing] };
      }
    };

    it('[blackholed, healthy] with timeout:1: glibc waits ≈ 1 s on the first server, musl answers at once', async () => {
      const g = await scenario('bh', 'glibc', [UP.blackhole, UP.answer], 'A');
      expect(g.result.status).toBe('NOERROR');
      expect(g.result.answers).toEqual(['db.example. A 10.0.0.5']);
      expect(g.line.latency_ms).toBeGreaterThanOrEqual(990);
      expect(g.line.latency_ms).toBeLessThan(1100);
      expect(g.result.wallMs).toBeGreaterThanOrEqual(990);
      expect(g.problems).toEqual([]);
      expect(g.sim.elapsed_ms).toBeCloseTo(1000, -1);

      const m = await scenario('bh', 'musl', [UP.blackhole, UP.answer], 'A');
      expect(m.result.answers).toEqual(['db.example. A 10.0.0.5']);
      expect(m.line.latency_ms).toBeLessThan(200);
      expect(m.result.wallMs).toBeLessThan(900);
      expect(m.problems).toEqual([]);
    });

    it('[SERVFAIL, healthy]: glibc asks the next server at once; musl takes the healthy answer (and resends to the failed one)', async () => {
      const g = await scenario('sf', 'glibc', [UP.servfail, UP.answer], 'A');
      expect(g.result.answers).toEqual(['db.example. A 10.0.0.5']);
      expect(g.line.upstream.map((q) => `${q.server} ${q.outcome}`)).toEqual([`${UP.servfail} servfail`, `${UP.answer} answer`]);
      expect(g.line.latency_ms).toBeLessThan(200);
      expect(g.problems).toEqual([]);

      const m = await scenario('sf', 'musl', [UP.servfail, UP.answer], 'A', [], UP.servfail);
      expect(m.result.answers).toEqual(['db.example. A 10.0.0.5']);
      expect(m.line.latency_ms).toBeLessThan(200);
      expect(m.problems).toEqual([]);
    });

    it('[NXDOMAIN-fast, healthy-but-100ms-late]: musl takes the fast NXDOMAIN; glibc stops at the first NXDOMAIN', async () => {
      const m = await scenario('nx', 'musl', [UP.nxdomain, UP.slowAnswer], 'A');
      expect(m.result.status).toBe('NXDOMAIN');
      expect(m.result.answers).toEqual([]);
      expect(m.line.latency_ms).toBeLessThan(200);
      expect(m.problems).toEqual([]);

      const g = await scenario('nx', 'glibc', [UP.nxdomain, UP.slowAnswer], 'A');
      expect(g.result.status).toBe('NXDOMAIN');
      expect(g.line.upstream.map((q) => `${q.server} ${q.outcome}`)).toEqual([`${UP.nxdomain} nxdomain`]);
      expect(g.problems).toEqual([]);
    });

    it('truncation: glibc mode retries over TCP and answers in full; musl mode passes TC=1 back', async () => {
      const g = await scenario('tc', 'glibc', [UP.truncate], 'A', ['+ignore', '+notcp']);
      expect(g.result.flags).not.toContain('tc');
      expect(g.result.answers).toEqual(['db.example. A 10.0.0.5']);
      expect(g.line.upstream.map((q) => `${q.transport} ${q.outcome}`)).toEqual(['udp truncated', 'tcp answer']);
      expect(g.problems).toEqual([]);

      const m = await scenario('tc', 'musl', [UP.truncate], 'A', ['+ignore', '+notcp']);
      expect(m.result.flags).toContain('tc');
      expect(m.result.answers).toEqual([]);
      expect(m.line.upstream.map((q) => `${q.transport} ${q.outcome}`)).toEqual(['udp truncated']);
      expect(m.problems).toEqual([]);
    });

    it('AAAA dropped upstream: glibc mode answers AAAA SERVFAIL after the glibc waits, A at once', async () => {
      const g6 = await scenario('da6', 'glibc', [UP.dropAaaa], 'AAAA');
      expect(g6.result.status).toBe('SERVFAIL');
      // one server, timeout:1, glibc's default attempts:2 → two 1 s waits
      expect(g6.line.latency_ms).toBeGreaterThanOrEqual(1990);
      expect(g6.line.latency_ms).toBeLessThan(2150);
      expect(g6.problems).toEqual([]);
      expect(g6.sim.result.error).toBe('EAI_AGAIN');

      const g4 = await scenario('da4', 'glibc', [UP.dropAaaa], 'A');
      expect(g4.result.answers).toEqual(['db.example. A 10.0.0.5']);
      expect(g4.line.latency_ms).toBeLessThan(200);
      expect(g4.problems).toEqual([]);

      const m6 = await scenario('da6', 'musl', [UP.dropAaaa], 'AAAA');
      expect(m6.result.status).toBe('SERVFAIL');
      expect(m6.problems).toEqual([]);
    });
  });

  it('a TCP client query to a blackholed upstream gets SERVFAIL within the stub\'s advertised worst case', async () => {
    const c = lab.name('tcp-bh');
    await create(c, ['--dns-mode', 'glibc', '--dns', UP.blackhole, '--dns-option', 'timeout:1', '--dns-option', 'attempts:1']);
    const rc = await lab.cli(['exec', c, '--', 'cat', '/etc/resolv.conf']);
    expect(rc.stdout).toMatch(/^options timeout:2 attempts:1$/m);
    const r = await lab.cli(['exec', c, '--', 'dig', '+tcp', '+tries=1', '+time=4', `@${gw}`, 'tcp-blackhole.example']);
    expect(r.stdout).toMatch(/status: SERVFAIL/);
  });

  it('lifecycle: status, stop with the last stub-mode container, restarted by its supervisor after SIGKILL, a singleton daemon', async () => {
    expect((await stubStatus(lab)).running).toBe(false);
    expect(await stubDaemonPids(lab)).toEqual([]);
    const [l1, l2, l3] = [lab.name('l1'), lab.name('l2'), lab.name('l3')];
    const l1Ip = await create(l1, ['--dns-mode', 'glibc', '--dns', UP.answer]);
    const l2Ip = await create(l2, ['--dns-mode', 'musl', '--dns', UP.answer, '--dns', UP.slowAnswer]);

    const s1 = await stubStatus(lab);
    expect(s1).toMatchObject({ running: true, addresses: [gw], networks: [{ name: 'tsnet', gateway: gw, subnet: lab.subnet }] });
    expect(s1.containers.map((c) => `${c.name} ${c.address} ${c.mode} ${c.upstreams.join(',')}`).sort()).toEqual([
      `${l1} ${l1Ip} glibc ${UP.answer}`,
      `${l2} ${l2Ip} musl ${UP.answer},${UP.slowAnswer}`,
    ]);
    expect(await stubDaemonPids(lab)).toEqual([s1.pid]);
    const text = await lab.cli(['stub', 'status']);
    expect(text.stdout).toMatch(new RegExp(`^stub: running, pid ${s1.pid}, .*listening on ${gw.replace(/\./g, '\\.')}:53`, 'm'));

    // A second daemon for the same root refuses to start; the first keeps serving.
    const second = await lab.cli(['stub', 'daemon']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/already running/);
    expect((await stubStatus(lab)).pid).toBe(s1.pid);
    expect(await stubDaemonPids(lab)).toEqual([s1.pid]);
    expect((await dig(lab, l1, ['+short', `@${gw}`, l2])).stdout).toBe(`${l2Ip}\n`);

    // SIGKILL (what the OOM killer sends): the supervisor restarts the daemon, and the containers
    // are served again within 2 s without any tsnet command; status says it restarted and why.
    const killedAt = Date.now();
    process.kill(s1.pid!, 'SIGKILL');
    const back = await waitFor('a restarted daemon', async () => {
      const pids = await stubDaemonPids(lab);
      return pids.length === 1 && pids[0] !== s1.pid ? pids[0] : undefined;
    });
    await waitFor('the restarted daemon to answer', async () => {
      const d = await lab.cli(['exec', l1, '--', 'dig', '+short', '+tries=1', '+time=1', `@${gw}`, l2]);
      return d.stdout === `${l2Ip}\n`;
    });
    const servedAfterMs = Date.now() - killedAt;
    const restarted = await stubStatus(lab);
    expect(restarted).toMatchObject({ running: true, pid: back, restarts: [{ why: 'killed by SIGKILL' }] });
    expect(restarted.containers.map((c) => c.name).sort()).toEqual([l1, l2].sort());
    expect((await lab.cli(['stub', 'status'])).stdout).toMatch(/^restarts: {3}1, last at \S+ \(the daemon before it was killed by SIGKILL\)$/m);
    // From the kill to the new daemon's ready file (written once it listens): within 2 s.
    const ready = JSON.parse(readFileSync(lab.paths.stubReady, 'utf8')) as { pid: number };
    const readyAfterMs = statSync(lab.paths.stubReady).mtimeMs - killedAt;
    console.log(`stub restart after SIGKILL: ready after ${Math.round(readyAfterMs)} ms, a dig answered after ${servedAfterMs} ms`);
    expect(ready.pid).toBe(back);
    expect(readyAfterMs).toBeLessThan(2_000);
    const l3Ip = await create(l3, ['--dns-mode', 'glibc', '--dns', UP.answer]);
    const s2 = await stubStatus(lab);
    expect(s2.running).toBe(true);
    expect(s2.pid).toBe(back);
    expect(await stubDaemonPids(lab)).toEqual([s2.pid]);
    expect(s2.containers.map((c) => c.name).sort()).toEqual([l1, l2, l3].sort());
    expect(s2.addresses).toEqual([gw]);
    const again = await dig(lab, l1, ['+short', `@${gw}`, l2]);
    if (again.stdout !== `${l2Ip}\n`) expect.fail(`${again.stdout}\n${await netDiag(l1)}`);
    expect((await dig(lab, l2, ['+short', '+tcp', `@${gw}`, l3])).stdout).toBe(`${l3Ip}\n`);
    expect((await dig(lab, l2, ['+short', `@${gw}`, 'db.example'])).stdout).toBe('10.0.0.5\n');
    const m = await lab.cli(['exec', l1, '--', 'getent', 'hosts', l3]);
    expect(m.stdout.split(/\s+/)[0]).toBe(l3Ip);

    // rm: the daemon stays while a stub-mode container is left (the dns-mode direct upstream
    // container does not count) and stops with the last one.
    expect((await lab.cli(['rm', l1, l2])).code).toBe(0);
    const s3 = await stubStatus(lab);
    expect(s3).toMatchObject({ running: true, pid: s2.pid });
    expect(s3.containers.map((c) => c.name)).toEqual([l3]);
    expect((await lab.cli(['rm', l3])).code).toBe(0);
    expect(await stubStatus(lab)).toMatchObject({ running: false, pid: null });
    await waitFor('the daemon process to exit', async () => (await stubDaemonPids(lab)).length === 0, 3000);
    expect(existsSync(join(lab.root, 'stub', 'ready'))).toBe(false);
    expect((await run('ss', ['-Hlun', `src ${gw}:53`])).stdout.trim()).toBe('');
  });

  it('safety: a non-container gets REFUSED and nothing goes upstream; loop and loopback upstreams are refused at create', async () => {
    const s = lab.name('safe');
    const sIp = await create(s, ['--dns-mode', 'glibc', '--dns', UP.answer]);

    // The stub serves its own client...
    const own = await dig(lab, s, ['+short', `@${gw}`, s]);
    if (own.stdout !== `${sIp}\n`) expect.fail(`${own.stdout}\n${await netDiag(s)}`);
    // ...but the upstream container, on the network in dns-mode direct, is not a stub client.
    const probe = 'refused-probe.example';
    for (const transport of ['+notcp', '+tcp']) {
      const r = await dig(lab, upName, [transport, `@${gw}`, probe]);
      if (r.status !== 'REFUSED') expect.fail(`${r.stdout}\n${await netDiag(upName)}`);
      expect(r.answers).toEqual([]);
      const ctr = await dig(lab, upName, [transport, `@${gw}`, s]);
      expect(ctr.status).toBe('REFUSED');
      expect(ctr.stdout).not.toContain(sIp);
    }
    await sleep(200);
    expect(up.log().filter((q) => q.qname === probe)).toEqual([]);
    const refused = (await stubLogs(lab)).filter((l) => l.client === UP.answer);
    expect(refused.length).toBe(4);
    for (const l of refused) expect(l).toMatchObject({ container: null, source: 'refused', rcode: 'REFUSED', upstream: [] });
    // The stub's own client gets the name forwarded (the zone does not have it: NXDOMAIN).
    expect((await dig(lab, s, [`@${gw}`, probe])).status).toBe('NXDOMAIN');
    expect(up.log().filter((q) => q.qname === probe).map((q) => q.action)).toEqual(['nxdomain']);

    // Upstreams that would loop back into the stub (any tsnet gateway) or reach the host's loopback.
    const before = (await lab.cli(['ls', '--json'])).stdout;
    for (const [mode, dns, why] of [
      ['glibc', gw, /gateway of network "tsnet".*forward queries to itself/],
      ['musl', gw, /gateway of network "tsnet"/],
      ['glibc', '127.0.0.1', /loopback/],
      ['musl', '127.0.0.1', /loopback/],
      ['musl', '127.0.0.53', /loopback/],
      ['glibc', '::1', /loopback/],
    ] as const) {
      const name = lab.name('loop');
      const r = await lab.create(name, ['--dns-mode', mode, '--dns', UP.answer, '--dns', dns]);
      expect(r.code, `${mode} --dns ${dns}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stdout).toBe('');
      expect(existsSync(lab.paths.containerDir(name))).toBe(false);
    }
    expect((await lab.cli(['ls', '--json'])).stdout).toBe(before);
    expect((await stubStatus(lab)).containers.map((c) => c.name)).toEqual([s]);
    expect((await lab.cli(['rm', s])).code).toBe(0);
  });
});

describe.skipIf(!isRoot)('the network bridge keeps its address (the stub on the gateway stays reachable)', () => {
  const lab = new Lab();
  const gw = lab.ip(1);
  afterAll(async () => {
    const leftovers = await lab.destroy();
    const daemons = await stubDaemonPids(lab);
    killStubDaemons(daemons);
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  it('a container still reaches the stub after another container leaves the network', async () => {
    for (let i = 0; i < 12; i++) {
      const [x, a] = [lab.name(`x${i}`), lab.name(`a${i}`)];
      expect((await lab.create(x)).code).toBe(0);
      const created = await lab.create(a, ['--dns-mode', 'glibc', '--dns', lab.ip(200)]);
      expect(created.code, created.stderr).toBe(0);
      const aIp = created.stdout.split(' ')[1]!;
      const bridge = bridgeOf(lab);
      const before = macOf(bridge);
      const first = await dig(lab, a, ['+short', `@${gw}`, a]);
      expect(first.stdout).toBe(`${aIp}\n`);
      expect((await lab.cli(['rm', x])).code).toBe(0);
      const after = await lab.cli(['exec', a, '--', 'dig', '+short', '+tries=1', '+time=2', `@${gw}`, a]);
      expect(after.stdout, `bridge MAC ${before} → ${macOf(bridge)} when ${x} left`).toBe(`${aIp}\n`);
      expect(macOf(bridge)).toBe(before);
      expect((await lab.cli(['rm', a])).code).toBe(0);
    }
  });
});
