// tsnet chained after Debian's `bridge` + `host-local` plugins, DNS only: no new interface, the
// stub on the previous result's gateway. The bridge plugin with isGateway turns IP forwarding on in
// the namespace it runs in, so the whole test runs in a namespace of its own standing in for the
// host ("H"): the bridge, the stub daemon and its sysctl all live and die there. host-local keeps
// its leases in a directory of the test's own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { CNI_PLUGIN, Lab, isRoot, run } from '../support/lab.js';
import { sleep } from '../support/upstream.js';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

describe.skipIf(!isRoot)('CNI plugin chained after bridge + host-local (DNS only)', () => {
  const lab = new Lab();
  const host = `${lab.prefix}-chain-h`;
  const ctr = `${lab.prefix}-chain-c`;
  const tmp = mkdtempSync(join(tmpdir(), 'tsnet-cni-chain-'));
  const network = `${lab.prefix}-chain`;
  const bridgeConf = {
    cniVersion: '1.0.0', name: network, type: 'bridge', bridge: `${lab.prefix}br`, isGateway: true, ipMasq: false,
    ipam: { type: 'host-local', subnet: lab.subnet, dataDir: join(tmp, 'leases') },
  };
  const tsnetConf = (prevResult: unknown) => ({
    cniVersion: '1.0.0', name: network, type: 'tsnet', dnsMode: 'musl', dns: { nameservers: [lab.ip(250)] }, root: lab.root, ...(prevResult ? { prevResult } : {}),
  });
  const env = (command: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: 'chained-1', CNI_NETNS: `/run/netns/${ctr}`, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=chained-web' });
  /** a plugin run inside H, as a runtime there would */
  const inHost = (exe: string[], command: string, conf: unknown) =>
    run('ip', ['netns', 'exec', host, ...exe], { env: { ...env(command), TSNET_LOG_LEVEL: 'warn' }, input: JSON.stringify(conf) });
  const bridge = (command: string, conf: unknown) => inHost(['/usr/lib/cni/bridge'], command, conf);
  const tsnet = (command: string, conf: unknown) => inHost([process.execPath, CNI_PLUGIN], command, conf);
  let prev: Record<string, unknown> | undefined;

  afterAll(async () => {
    await bridge('DEL', bridgeConf).catch(() => undefined);
    // the stub daemon started inside H exits with its last client; H goes after it
    for (let i = 0; i < 100 && (await run('pgrep', ['-f', `--root ${lab.root} stub daemon`])).code === 0; i++) await sleep(50);
    for (const n of [ctr, host]) {
      try {
        ip('netns', 'del', n);
      } catch {
        // gone
      }
    }
    rmSync(tmp, { recursive: true, force: true });
    expect(await lab.destroy()).toEqual([]);
  });

  it('ADD passes the previous result through with the stub as nameserver; the stub answers the container\'s name on the gateway', async () => {
    ip('netns', 'add', host);
    ip('netns', 'add', ctr);
    ip('-n', host, 'link', 'set', 'lo', 'up');
    const b = await bridge('ADD', bridgeConf);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    prev = JSON.parse(b.stdout) as Record<string, unknown>;
    const t = await tsnet('ADD', tsnetConf(prev));
    expect(t.code, t.stdout + t.stderr).toBe(0);
    const res = JSON.parse(t.stdout);
    // the same interfaces, addresses and routes as the bridge plugin's; DNS: the stub on its gateway
    expect(res.interfaces).toEqual(prev.interfaces);
    expect(res.ips).toEqual(prev.ips);
    const ips = prev.ips as Array<{ address: string; gateway: string }>;
    expect(res.dns.nameservers).toEqual([ips[0]!.gateway]);
    // no new link in the container: still lo and the bridge plugin's eth0
    expect(ip('-n', ctr, '-o', 'link').trim().split('\n').map((l) => l.split(': ')[1]!.split('@')[0])).toEqual(['lo', 'eth0']);
    const dig = execFileSync('ip', ['netns', 'exec', ctr, 'dig', '+short', '+time=2', '+tries=1', `@${ips[0]!.gateway}`, 'chained-web', 'A'], { encoding: 'utf8' });
    expect(dig.trim()).toBe(ips[0]!.address.split('/')[0]);
  }, 60_000);

  it('CHECK passes; DEL removes tsnet\'s record and leaves the bridge plugin\'s network alone', async () => {
    const check = await tsnet('CHECK', tsnetConf(prev));
    expect(check.code, check.stdout).toBe(0);
    const del = await tsnet('DEL', tsnetConf(prev));
    expect(del.code, del.stdout).toBe(0);
    const ls = JSON.parse((await lab.cli(['ls', '--json'])).stdout) as unknown[];
    expect(ls).toEqual([]);
    expect(ip('-n', host, '-o', 'link', 'show', `${lab.prefix}br`)).toContain(`${lab.prefix}br`);
    expect(ip('-n', ctr, '-o', '-4', 'addr', 'show', 'eth0')).toContain((prev!.ips as Array<{ address: string }>)[0]!.address);
  }, 60_000);

  it('chained with dnsMode direct, or without a gateway in the previous result, is refused (code 7)', async () => {
    const direct = await tsnet('ADD', { ...tsnetConf(prev), dnsMode: 'direct' });
    expect(JSON.parse(direct.stdout).code).toBe(7);
    const noGw = { ...prev, ips: (prev!.ips as Array<Record<string, unknown>>).map(({ gateway: _g, ...rest }) => rest) };
    const r = await tsnet('ADD', tsnetConf(noGw));
    expect(JSON.parse(r.stdout).code).toBe(7);
    expect(JSON.parse(r.stdout).msg).toContain('no IPv4 gateway');
  }, 60_000);
});
