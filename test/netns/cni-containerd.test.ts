// Issue 12 acceptance on a real containerd 1.6 (Debian's, started privately): `ctr run --cni`
// attaches containers to a tsnet network through the plugin. ctr reads the first configuration
// in /etc/cni/net.d and the plugins in /opt/cni/bin (and wants `loopback` there): the test puts
// its conflist, the tsnet plugin and — only if none is there — a copy of Debian's loopback there,
// and removes exactly those. Upstreams are the project's fake servers in a tsnet container of
// this test; no packet leaves the lab's bridge and namespaces.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, run } from '../support/lab.js';
import { DnsLab } from '../support/dns-lab.js';
import { waitFor } from '../support/upstream.js';
import { busyboxRootfs, ContainerdLab, missingEnginePackages } from '../support/engines.js';
import type { Report } from '../../src/diagnose/diagnose.js';

const BIN = '/opt/cni/bin';
const CONF = '/etc/cni/net.d';
/** libcni's result cache: ctr writes an entry per ADD and, sending no DEL, never removes it */
const CACHE = ['/var/lib/cni', '/var/lib/cni/results'];

interface LogLine { client: string; qname: string; qtype: string; latency_ms: number; mode: string | null; upstream: Array<{ server: string }> }

describe.skipIf(!isRoot)('CNI plugin on a real containerd (ctr run --cni)', () => {
  let d: DnsLab | undefined;
  let containerd: ContainerdLab | undefined;
  const c = () => containerd!;
  const lab = () => d!.lab;
  /** what this test put on the host, to remove exactly that */
  const made: string[] = [];
  const cacheExisted = CACHE.map((p) => existsSync(p));
  let conflist = '';
  let gw = '';
  let subnetPrefix = '';
  const tsnet = (args: string[]) => lab().cli(args);

  beforeAll(async () => {
    expect(missingEnginePackages(['containerd', 'ctr', 'runc', 'busybox', 'nsenter']), 'install them: bash scripts/setup.sh').toEqual([]);
    expect(existsSync(join(BIN, 'tsnet')), `${BIN}/tsnet exists already: this test will not replace it`).toBe(false);
    for (const dir of ['/opt/cni', BIN, '/etc/cni', CONF]) {
      if (!existsSync(dir)) {
        mkdirSync(dir);
        made.push(dir);
      }
    }
    d = await DnsLab.start({ 50: 'blackhole', 51: 'answer' }, ['db.example=A:192.0.2.10']);
    const inst = await run(process.execPath, [CLI, 'cni', 'install', '--bin-dir', BIN]);
    expect(inst.code, inst.stderr).toBe(0);
    made.push(join(BIN, 'tsnet'));
    if (!existsSync(join(BIN, 'loopback'))) {
      copyFileSync('/usr/lib/cni/loopback', join(BIN, 'loopback'));
      execFileSync('chmod', ['755', join(BIN, 'loopback')]);
      made.push(join(BIN, 'loopback'));
    }
    const [a, b, third] = lab().subnetBase.split('.');
    subnetPrefix = `${a}.${b}.${(Number(third) + 103) % 256}`;
    gw = `${subnetPrefix}.1`;
    const list = await tsnet(['cni', 'conflist', '--network', `${lab().prefix}-ctrd`, '--subnet', `${subnetPrefix}.0/24`, '--dns-mode', 'musl',
      '--dns', d.addr('blackhole'), '--dns', d.addr('answer'), '--dns-option', 'timeout:1', '--state-root', lab().root]);
    expect(list.code, list.stderr).toBe(0);
    // ctr takes the first file in lexical order: "00-" and nothing before it, or the test would use another network
    conflist = join(CONF, `00-tsnet-${lab().prefix}.conflist`);
    const earlier = readdirSync(CONF).filter((f) => f < `00-tsnet-${lab().prefix}.conflist`);
    expect(earlier, `${CONF} has configurations ctr would take first`).toEqual([]);
    writeFileSync(conflist, list.stdout);
    made.push(conflist);
    containerd = new ContainerdLab();
    await c().start();
  }, 120_000);

  afterAll(async () => {
    const left = [...(containerd ? await containerd.destroy() : []), ...(d ? await d.destroy() : [])];
    for (const p of made.reverse()) {
      if (p === BIN || p === CONF || p === '/opt/cni' || p === '/etc/cni') rmdirSync(p);
      else rmSync(p, { force: true });
    }
    // the cache entries of this test's network ("<network>-<container id>-<ifname>"), then the
    // directories if this test's ctr made them and nothing else (a parallel Podman test) uses them
    if (d && existsSync(CACHE[1]!)) {
      for (const f of readdirSync(CACHE[1]!).filter((f) => f.startsWith(`${d!.lab.prefix}-ctrd-`))) rmSync(join(CACHE[1]!, f));
    }
    for (const [i, p] of [...CACHE.entries()].reverse()) {
      try {
        if (!cacheExisted[i]) rmdirSync(p);
      } catch {
        // not there, or in use
      }
    }
    expect(left).toEqual([]);
    if (d && existsSync(CACHE[1]!)) expect(readdirSync(CACHE[1]!).filter((f) => f.startsWith(`${d!.lab.prefix}-`))).toEqual([]);
  }, 120_000);

  const rootfs = (name: string) => {
    // ctr applies no DNS from the CNI result: the root filesystem's resolv.conf points at the stub
    const fs = busyboxRootfs(join(c().dir, `rootfs-${name}`), { resolvConf: `nameserver ${gw}\n` });
    return fs;
  };
  const addressOf = (pid: number) => /inet (\S+)\//.exec(execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', '-4', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8' }))![1]!;
  const exec = (id: string, argv: string[]) => c().ctr('default', ['task', 'exec', '--exec-id', `x${Math.random().toString(16).slice(2, 8)}`, id, ...argv]);

  it('two containers get addresses in the subnet, reach each other, resolve each other and a forwarded name with musl\'s race', async () => {
    const web = `${lab().prefix}-web`;
    const api = `${lab().prefix}-api`;
    const webPid = await c().run('default', web, rootfs(web), ['/bin/sleep', '300'], { cni: true });
    const apiPid = await c().run('default', api, rootfs(api), ['/bin/sleep', '300'], { cni: true });
    const [webIp, apiIp] = [addressOf(webPid), addressOf(apiPid)];
    expect(webIp.startsWith(`${subnetPrefix}.`)).toBe(true);
    expect(apiIp.startsWith(`${subnetPrefix}.`)).toBe(true);
    const ping = await exec(web, ['/bin/busybox', 'ping', '-c', '1', '-W', '2', apiIp]);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    // ctr passes no K8S_POD_NAME: the attachment answers to its container id ("default-<id>")
    const name = await exec(web, ['/bin/busybox', 'nslookup', `default-${api}`]);
    expect(name.stdout, name.stderr).toContain(apiIp);
    const fwd = await exec(web, ['/bin/busybox', 'nslookup', '-type=A', 'db.example']);
    expect(fwd.stdout, fwd.stderr).toContain('192.0.2.10');
    // the stub's log is flushed every 200 ms (src/stub/querylog.ts): wait for the line
    const line = await waitFor('the stub\'s log line for db.example A', async () => {
      const r = await tsnet(['stub', 'logs', '--json']);
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine).find((l) => l.client === webIp && l.qname === 'db.example' && l.qtype === 'A');
    }, 5000);
    expect(line?.mode).toBe('musl');
    expect(line!.latency_ms).toBeLessThan(500);
    expect(new Set(line!.upstream.map((u) => u.server))).toEqual(new Set([d!.addr('blackhole'), d!.addr('answer')]));
    const diag = await tsnet(['diagnose', `containerd:${web}`, 'db.example', '--no-live', '--json', '--containerd-address', c().address]);
    expect(diag.code, diag.stderr).toBe(0);
    expect((JSON.parse(diag.stdout) as Report).target.nameservers).toEqual([gw]);
  }, 60_000);

  it('ctr never sends DEL (containerd 1.6: `task delete` leaves CNI alone): the namespace goes, and `tsnet prune` removes what is left', async () => {
    const ids = [`${lab().prefix}-web`, `${lab().prefix}-api`];
    for (const id of ids) {
      await c().ctr('default', ['task', 'kill', '-s', 'SIGKILL', id]);
      await c().ctr('default', ['task', 'delete', '-f', id]);
      await c().ctr('default', ['container', 'delete', id]);
    }
    const attached = () => JSON.parse(execFileSync(process.execPath, [CLI, '--root', lab().root, 'ls', '--json'], { encoding: 'utf8' })).filter((x: { cni?: object }) => x.cni);
    expect(attached().map((x: { cni: { containerId: string } }) => x.cni.containerId).sort()).toEqual(ids.map((i) => `default-${i}`).sort());
    const prune = await tsnet(['prune']);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toContain('record without a namespace');
    expect(attached()).toEqual([]);
    expect(existsSync(join(lab().root, 'networks', `${lab().prefix}-ctrd`))).toBe(false);
  }, 60_000);
});
