// Issue 12 acceptance on a real Podman 4.3 (Debian's, CNI backend, private config and storage):
// containers on tsnet CNI networks get addresses, reach each other, resolve each other's names and
// a forwarded name through the stub with the network's dns-mode timing, and `podman rm` leaves
// nothing. The upstreams are the project's fake servers in a tsnet container of this test; the
// plugin is installed into a directory of this test's own, the conflists into Podman's private
// network_config_dir: /opt/cni/bin, /etc/cni/net.d and /var/lib/cni gain nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, run } from '../support/lab.js';
import { DnsLab } from '../support/dns-lab.js';
import { waitFor } from '../support/upstream.js';
import { busyboxRootfs, missingEnginePackages, PodmanLab } from '../support/engines.js';
import type { Report } from '../../src/diagnose/diagnose.js';

/** What a directory holds, recursively (absent: nothing). */
const listing = (dir: string) => (existsSync(dir) ? execFileSync('find', [dir], { encoding: 'utf8' }).split('\n').filter(Boolean).sort() : []);
const HOST_CNI_DIRS = ['/opt/cni/bin', '/etc/cni/net.d', '/var/lib/cni'];

interface LogLine { container: string | null; client: string; qname: string; qtype: string; latency_ms: number; source: string; mode: string | null; upstream: Array<{ server: string }> }

describe.skipIf(!isRoot)('CNI plugin on a real Podman', () => {
  let d: DnsLab | undefined;
  let podman: PodmanLab | undefined;
  const p = () => podman!;
  const lab = () => d!.lab;
  const before = new Map<string, string[]>();
  const third = (n: number) => `${lab().subnetBase.split('.').slice(0, 2).join('.')}.${(Number(lab().subnetBase.split('.')[2]) + n) % 256}`;
  const nets = { musl: '', glibc: '' };
  const gw = { musl: '', glibc: '' };
  const tsnet = (args: string[]) => lab().cli(args, { env: p().env });

  beforeAll(async () => {
    expect(missingEnginePackages(['podman', 'runc', 'busybox']), 'install them: bash scripts/setup.sh').toEqual([]);
    for (const dir of HOST_CNI_DIRS) before.set(dir, listing(dir));
    d = await DnsLab.start({ 50: 'blackhole', 51: 'answer' }, ['db.example=A:192.0.2.10']);
    // the plugin directory: the test's own, beside the lab's state root
    const bin = `${lab().root}-cni-bin`;
    execFileSync('mkdir', ['-p', bin]);
    podman = new PodmanLab({ cniPluginDirs: [bin] });
    const inst = await run(process.execPath, [join(import.meta.dirname, '../../dist/tsnet.js'), 'cni', 'install', '--bin-dir', bin]);
    expect(inst.code, inst.stderr).toBe(0);
    // two networks, one per stub strategy, the dead upstream first in both
    for (const [mode, n] of [['musl', 101], ['glibc', 102]] as const) {
      nets[mode] = `${p().prefix}-${mode}`;
      gw[mode] = `${third(n)}.1`;
      const list = await tsnet(['cni', 'conflist', '--network', nets[mode], '--subnet', `${third(n)}.0/24`, '--dns-mode', mode,
        '--dns', d!.addr('blackhole'), '--dns', d!.addr('answer'), '--dns-option', 'timeout:1', '--state-root', lab().root]);
      expect(list.code, list.stderr).toBe(0);
      writeFileSync(join(p().dir, 'net.d', `${nets[mode]}.conflist`), list.stdout);
    }
  }, 120_000);

  afterAll(async () => {
    const left = [...(podman ? await podman.destroy() : []), ...(d ? await d.destroy() : [])];
    if (d) execFileSync('rm', ['-rf', `${d.lab.root}-cni-bin`]);
    expect(left).toEqual([]);
    // Nothing of this test's networks or plugin on the host's CNI paths (a parallel containerd test
    // may be using them for its own, so other entries are not compared).
    const mine = [podman?.prefix, d?.lab.prefix].filter((x): x is string => x !== undefined);
    for (const dir of HOST_CNI_DIRS) {
      const added = listing(dir).filter((f) => !before.get(dir)!.includes(f));
      expect(added.filter((f) => mine.some((m) => f.includes(m))), dir).toEqual([]);
    }
  }, 120_000);

  const rootfs = (name: string) => {
    const fs = busyboxRootfs(join(p().dir, `rootfs-${name}`), { resolvConf: 'nameserver 127.0.0.1\n' });
    for (const applet of ['nslookup', 'ping', 'ip']) symlinkSync('busybox', join(fs, 'bin', applet));
    return fs;
  };
  /** podman run on a tsnet network; --dns GW: Podman 4.3 otherwise appends the host's nameservers (docs/runtimes.md) */
  const start = async (name: string, mode: 'musl' | 'glibc') => {
    const r = await p().podman(['run', '-d', '--name', name, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--cap-add', 'NET_RAW',
      '--network', nets[mode], '--dns', gw[mode], '--rootfs', rootfs(name), '/bin/sleep', '300']);
    expect(r.code, r.stderr).toBe(0);
    return p().pid(name);
  };
  const exec = (name: string, argv: string[]) => p().podman(['exec', name, ...argv]);
  const addressOf = (pid: number) => {
    const out = execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', '-4', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8' });
    return /inet (\S+)\//.exec(out)![1]!;
  };
  /** The stub's log line for this query: the log is flushed every 200 ms (src/stub/querylog.ts), so wait for it. */
  const logLine = (client: string, qname: string, qtype: string) =>
    waitFor(`the stub's log line for ${qname} ${qtype} from ${client}`, async () => {
      const r = await tsnet(['stub', 'logs', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine).find((l) => l.client === client && l.qname === qname && l.qtype === qtype);
    }, 5000);

  it('two containers on a musl-mode network: addresses in its subnet, reach each other, resolve each other and a forwarded name past a dead upstream', async () => {
    const web = p().name('web');
    const api = p().name('api');
    const webPid = await start(web, 'musl');
    const apiPid = await start(api, 'musl');
    const [webIp, apiIp] = [addressOf(webPid), addressOf(apiPid)];
    expect(webIp.startsWith(`${third(101)}.`)).toBe(true);
    expect(apiIp.startsWith(`${third(101)}.`)).toBe(true);
    // resolv.conf lists only the stub
    expect(readFileSync(`/proc/${webPid}/root/etc/resolv.conf`, 'utf8').split('\n').filter((l) => l.startsWith('nameserver'))).toEqual([`nameserver ${gw.musl}`]);
    const ping = await exec(web, ['/bin/busybox', 'ping', '-c', '1', '-W', '2', apiIp]);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    // each other's names (Podman passes the container name as K8S_POD_NAME)
    const name = await exec(web, ['/bin/busybox', 'nslookup', api]);
    expect(name.stdout, name.stderr).toContain(apiIp);
    const fwd = await exec(web, ['/bin/busybox', 'nslookup', '-type=A', 'db.example']);
    expect(fwd.stdout, fwd.stderr).toContain('192.0.2.10');
    const line = await logLine(webIp, 'db.example', 'A');
    expect(line, 'the stub logged the forwarded query').toBeDefined();
    // musl's strategy: both upstreams at once, the live one answers: no wait for the dead one
    expect(line!.mode).toBe('musl');
    expect(line!.latency_ms).toBeLessThan(500);
    expect(new Set(line!.upstream.map((u) => u.server))).toEqual(new Set([d!.addr('blackhole'), d!.addr('answer')]));
  }, 60_000);

  it('a glibc-mode network waits on the dead first upstream (timeout:1) before the second answers', async () => {
    const slow = p().name('slow');
    const pid = await start(slow, 'glibc');
    const ip = addressOf(pid);
    const fwd = await exec(slow, ['/bin/busybox', 'nslookup', '-type=A', 'db.example']);
    expect(fwd.stdout, fwd.stderr).toContain('192.0.2.10');
    const line = await logLine(ip, 'db.example', 'A');
    expect(line?.mode).toBe('glibc');
    expect(line!.latency_ms).toBeGreaterThanOrEqual(1000);
    expect(line!.upstream.map((u) => u.server)).toEqual([d!.addr('blackhole'), d!.addr('answer')]);
  }, 60_000);

  it('tsnet ls shows the attachments with their runtime container; diagnose podman:NAME reports on one', async () => {
    const web = p().name('web');
    const ls = JSON.parse((await tsnet(['ls', '--json'])).stdout) as Array<{ cni?: { podName: string; containerId: string } }>;
    expect(ls.map((c) => c.cni?.podName).filter(Boolean).sort()).toEqual([p().name('api'), p().name('slow'), web].sort());
    const r = await tsnet(['diagnose', `podman:${web}`, 'db.example', '--no-live', '--json', ...p().tsnetOptions]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.target.runtime).toMatchObject({ engine: 'podman', name: web });
    expect(report.target.nameservers).toEqual([gw.musl]);
  }, 60_000);

  it('podman rm leaves nothing: no veth, no record, no address, no bridge', async () => {
    const rm = await p().podman(['rm', '-f', '-t', '0', p().name('web'), p().name('api'), p().name('slow')]);
    expect(rm.code, rm.stderr).toBe(0);
    const ls = JSON.parse((await tsnet(['ls', '--json'])).stdout) as Array<{ cni?: object }>;
    expect(ls.filter((c) => c.cni)).toEqual([]);
    for (const mode of ['musl', 'glibc'] as const) {
      expect(existsSync(join(lab().root, 'networks', nets[mode])), nets[mode]).toBe(false);
    }
    expect(lab().leftovers().filter((l) => l.startsWith('link tsv')).length).toBe(1); // the upstream's own
  }, 60_000);
});
