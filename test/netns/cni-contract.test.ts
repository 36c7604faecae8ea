// The CNI contract, by calling the plugin the way a runtime does (CNI_* variables, the
// configuration on stdin) against network namespaces this test makes as a runtime would (`ip
// netns add`). Oracles: iproute2's view of the namespaces and links, the spec's result and error
// shapes and codes (containernetworking/cni SPEC.md), dig against the stub. No packet leaves the
// test's namespaces and the lab's bridge; upstreams are addresses nothing answers.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, CNI_PLUGIN, Lab, isRoot, linkExists, run } from '../support/lab.js';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

describe.skipIf(!isRoot)('CNI plugin: the contract, called directly', () => {
  const lab = new Lab();
  const nets: string[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'tsnet-cni-test-'));
  /** a network namespace made as a runtime makes one */
  const netns = (tag: string) => {
    const name = `${lab.prefix}-rt-${tag}`;
    ip('netns', 'add', name);
    nets.push(name);
    return `/run/netns/${name}`;
  };
  const network = `${lab.prefix}-cni`;
  const conf = (over: Record<string, unknown> = {}) => ({
    cniVersion: '1.0.0', name: network, type: 'tsnet', subnet: lab.subnet, dnsMode: 'glibc',
    dns: { nameservers: [lab.ip(250)], search: ['corp.example'], options: ['ndots:2'] }, root: lab.root, ...over,
  });
  /** the plugin as a runtime runs it (the lean entry `cni install` points at) */
  const plugin = (command: string, env: Record<string, string>, input: unknown) =>
    run(process.execPath, [CNI_PLUGIN], {
      env: { CNI_COMMAND: command, CNI_PATH: '/opt/cni/bin', TSNET_LOG_LEVEL: 'warn', ...env },
      input: typeof input === 'string' ? input : JSON.stringify(input),
    });
  const attach = (id: string, ns: string, over: Record<string, unknown> = {}, ifname = 'eth0') =>
    plugin('ADD', { CNI_CONTAINERID: id, CNI_NETNS: ns, CNI_IFNAME: ifname, CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAME=${id}` }, conf(over));
  const detach = (id: string, ns: string | undefined, ifname = 'eth0') =>
    plugin('DEL', { CNI_CONTAINERID: id, ...(ns ? { CNI_NETNS: ns } : {}), CNI_IFNAME: ifname }, conf());
  const records = () => {
    const r = execFileSync(process.execPath, [CLI, '--root', lab.root, 'ls', '--json'], { encoding: 'utf8' });
    return JSON.parse(r) as Array<{ name: string; address: string; cni?: { containerId: string; ifname: string; podName: string | null } }>;
  };
  const errorOf = (r: { code: number | null; stdout: string }) => {
    expect(r.code, r.stdout).not.toBe(0);
    return JSON.parse(r.stdout) as { cniVersion: string; code: number; msg: string };
  };

  beforeAll(() => {
    expect(existsSync(CLI) && existsSync(CNI_PLUGIN), 'build first: npm run build').toBe(true);
  });

  afterAll(async () => {
    for (const n of nets) {
      try {
        ip('netns', 'del', n);
      } catch {
        // deleted by a test
      }
    }
    rmSync(tmp, { recursive: true, force: true });
    expect(await lab.destroy()).toEqual([]);
  });

  it('VERSION lists 0.4.0, 1.0.0 and 1.1.0 and echoes the version asked', async () => {
    const r = await plugin('VERSION', {}, { cniVersion: '1.0.0' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  });

  it('ADD: a veth into the runtime\'s namespace with an address, a default route and the stub as its nameserver', async () => {
    const ns = netns('a');
    const r = await attach('web-a', ns);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const res = JSON.parse(r.stdout);
    const shown = JSON.parse(ip('-n', ns.split('/').pop()!, '-j', 'addr', 'show', 'eth0'))[0];
    const inner = shown.addr_info.find((a: { family: string }) => a.family === 'inet');
    expect(res.cniVersion).toBe('1.0.0');
    expect(res.interfaces[1]).toEqual({ name: 'eth0', mac: shown.address, sandbox: ns });
    expect(linkExists(res.interfaces[0].name)).toBe(true);
    expect(res.ips).toEqual([{ address: `${inner.local}/24`, gateway: lab.ip(1), interface: 1 }]);
    expect(inner.local.startsWith(lab.subnetBase)).toBe(true);
    expect(res.routes).toEqual([{ dst: '0.0.0.0/0', gw: lab.ip(1) }]);
    expect(ip('-n', ns.split('/').pop()!, 'route', 'show', 'default')).toContain(`via ${lab.ip(1)} dev eth0`);
    // stub mode: the gateway is the only nameserver; the client waits out the stub's glibc failover
    expect(res.dns.nameservers).toEqual([lab.ip(1)]);
    expect(res.dns.search).toEqual(['corp.example']);
    expect(res.dns.options).toEqual(expect.arrayContaining(['ndots:2', 'attempts:1']));
    const rec = records().find((c) => c.cni?.containerId === 'web-a')!;
    expect(rec.cni).toMatchObject({ ifname: 'eth0', podName: 'web-a' });
    // the stub answers the container's name (K8S_POD_NAME) with its address, from inside the namespace
    ip('-n', ns.split('/').pop()!, 'link', 'set', 'lo', 'up');
    const dig = execFileSync('ip', ['netns', 'exec', ns.split('/').pop()!, 'dig', '+short', '+time=2', '+tries=1', `@${lab.ip(1)}`, 'web-a', 'A'], { encoding: 'utf8' });
    expect(dig.trim()).toBe(inner.local);
  });

  it('ADD with cniVersion 0.4.0 gives each IP its "version"', async () => {
    const r = await attach('web-b', netns('b'), { cniVersion: '0.4.0' });
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).ips[0]).toMatchObject({ version: '4', interface: 1, gateway: lab.ip(1) });
  });

  it('ADD twice with one (container, ifname) fails and changes nothing', async () => {
    const before = records();
    const again = errorOf(await attach('web-a', `/run/netns/${lab.prefix}-rt-a`));
    expect(again.code).toBe(100);
    expect(again.msg).toContain('already attached');
    expect(records()).toEqual(before);
  });

  it('CHECK passes after ADD and fails once the interface lost its address', async () => {
    const ns = netns('c');
    expect((await attach('web-c', ns)).code).toBe(0);
    const env = { CNI_CONTAINERID: 'web-c', CNI_NETNS: ns, CNI_IFNAME: 'eth0' };
    const ok = await plugin('CHECK', env, conf());
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toBe('');
    ip('-n', ns.split('/').pop()!, 'addr', 'flush', 'dev', 'eth0');
    const bad = errorOf(await plugin('CHECK', env, conf()));
    expect(bad.code).toBe(101);
    expect(bad.msg).toContain('lacks its address');
  });

  it('DEL without ADD succeeds with no output; DEL twice succeeds', async () => {
    const none = await detach('never-added', `/run/netns/${lab.prefix}-rt-none`);
    expect([none.code, none.stdout]).toEqual([0, '']);
    expect((await detach('web-c', `/run/netns/${lab.prefix}-rt-c`)).code).toBe(0);
    expect((await detach('web-c', `/run/netns/${lab.prefix}-rt-c`)).code).toBe(0);
    expect(records().some((c) => c.cni?.containerId === 'web-c')).toBe(false);
  });

  it('DEL after the namespace vanished frees the address and removes the record and host link', async () => {
    const ns = netns('d');
    const res = JSON.parse((await attach('web-d', ns)).stdout);
    ip('netns', 'del', ns.split('/').pop()!);
    const r = await detach('web-d', undefined);
    expect(r.code, r.stdout).toBe(0);
    expect(linkExists(res.interfaces[0].name)).toBe(false);
    expect(records().some((c) => c.cni?.containerId === 'web-d')).toBe(false);
    expect(existsSync(join(lab.root, 'networks', network, 'ips', res.ips[0].address.split('/')[0]))).toBe(false);
  });

  it('GC removes this network\'s attachments missing from the valid list, and nothing of another network', async () => {
    const other = `${lab.prefix}-cni2`;
    const otherSubnet = `${lab.subnetBase.split('.').slice(0, 2).join('.')}.${(Number(lab.subnetBase.split('.')[2]) + 128) % 256}.0/28`;
    expect((await attach('gc-keep', netns('g1'))).code).toBe(0);
    expect((await attach('gc-drop', netns('g2'))).code).toBe(0);
    const o = await attach('gc-other', netns('g3'), { name: other, subnet: otherSubnet });
    expect(o.code, o.stdout).toBe(0);
    const valid = [{ containerID: 'gc-keep', ifname: 'eth0' }, { containerID: 'web-a', ifname: 'eth0' }, { containerID: 'web-b', ifname: 'eth0' }];
    const gc = await plugin('GC', {}, { ...conf(), cniVersion: '1.1.0', 'cni.dev/valid-attachments': valid });
    expect([gc.code, gc.stdout]).toEqual([0, '']);
    const ids = records().map((c) => c.cni?.containerId).sort();
    expect(ids).toEqual(['gc-keep', 'gc-other', 'web-a', 'web-b']);
    expect((await detach('gc-other', `/run/netns/${lab.prefix}-rt-g3`)).code).toBe(0);
  });

  it('STATUS: ready, and code 50 once the network has no free address', async () => {
    const small = { name: `${lab.prefix}-cni3`, subnet: `${lab.subnetBase.split('.').slice(0, 2).join('.')}.${(Number(lab.subnetBase.split('.')[2]) + 64) % 256}.0/30` };
    const ready = await plugin('STATUS', {}, { ...conf(small), cniVersion: '1.1.0' });
    expect([ready.code, ready.stdout]).toEqual([0, '']);
    expect((await attach('full', netns('s'), small)).code).toBe(0);
    expect(errorOf(await plugin('STATUS', {}, { ...conf(small), cniVersion: '1.1.0' })).code).toBe(50);
    expect((await detach('full', `/run/netns/${lab.prefix}-rt-s`)).code).toBe(0);
  });

  it('bad input gets the spec\'s error codes and leaves nothing', async () => {
    const ns = netns('h');
    const before = records();
    const kernelBefore = lab.leftovers();
    const env = { CNI_CONTAINERID: 'x1', CNI_NETNS: ns, CNI_IFNAME: 'eth0' };
    expect(errorOf(await plugin('ADD', env, '{not json')).code).toBe(6);
    expect(errorOf(await plugin('ADD', env, { ...conf(), cniVersion: '9.9.9' })).code).toBe(1);
    expect(errorOf(await plugin('ADD', env, { ...conf(), type: 'bridge' })).code).toBe(7);
    expect(errorOf(await plugin('ADD', env, { ...conf(), subnet: '10.0.0.0/33' })).code).toBe(7);
    expect(errorOf(await plugin('ADD', env, { ...conf(), dns: { nameservers: ['not-an-ip'] } })).code).toBe(7);
    expect(errorOf(await plugin('NUKE', env, conf())).code).toBe(4);
    for (const id of ['', '../../etc', 'a;rm -rf /', '-x', 'a'.repeat(600), 'a\nb']) {
      expect(errorOf(await plugin('ADD', { ...env, CNI_CONTAINERID: id }, conf())).code, JSON.stringify(id)).toBe(4);
    }
    for (const ifname of ['', 'eth0/../x', 'a'.repeat(16), '..', 'e th0']) {
      expect(errorOf(await plugin('ADD', { ...env, CNI_IFNAME: ifname }, conf())).code, JSON.stringify(ifname)).toBe(4);
    }
    for (const path of ['relative/ns', '/run/netns/../../etc/passwd', '/run/netns/x\u001b[31mred', '/run/netns/a b']) {
      expect(errorOf(await plugin('ADD', { ...env, CNI_NETNS: path }, conf())).code, path).toBe(4);
    }
    // a path that is no namespace: a regular file, a FIFO (open() would block on it), a missing one
    const file = join(tmp, 'not-a-netns');
    writeFileSync(file, 'x');
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const path of [file, fifo, join(tmp, 'missing')]) {
      const e = errorOf(await plugin('ADD', { ...env, CNI_NETNS: path }, conf()));
      expect([3, 7, 102], `${path}: ${e.msg}`).toContain(e.code);
    }
    expect(records()).toEqual(before);
    expect(lab.leftovers()).toEqual(kernelBefore);
  });

  // through `tsnet cni plugin`, the CLI's way to the same entry point
  it('a configuration that never ends on stdin is an I/O error after the deadline, not a hang', async () => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, 'cni', 'plugin'], {
      env: { ...process.env, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'slow', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    child.stdin.write('{"cniVersion":'); // and never more, never closed
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    child.stdin.destroy();
    expect(errorOf({ code, stdout }).code).toBe(5);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 40_000);

  it('cni install writes a working "tsnet" plugin, never replaces another file, and uninstall removes only its own', async () => {
    const bin = join(tmp, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    const inst = await run(process.execPath, [CLI, 'cni', 'install', '--bin-dir', bin]);
    expect(inst.code, inst.stderr).toBe(0);
    const exe = join(bin, 'tsnet');
    const v = await run(exe, [], { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"0.4.0"}' });
    expect(JSON.parse(v.stdout).cniVersion).toBe('0.4.0');
    expect(readFileSync(exe, 'utf8')).toContain(`'${CNI_PLUGIN}'`); // the lean entry, not the CLI
    expect((await run(process.execPath, [CLI, 'cni', 'install', '--bin-dir', bin])).code).toBe(0); // its own: updated
    expect((await run(process.execPath, [CLI, 'cni', 'uninstall', '--bin-dir', bin])).code).toBe(0);
    expect(existsSync(exe)).toBe(false);
    writeFileSync(exe, '#!/bin/sh\necho another plugin\n');
    chmodSync(exe, 0o755);
    const refused = await run(process.execPath, [CLI, 'cni', 'install', '--bin-dir', bin]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('not written by tsnet');
    expect((await run(process.execPath, [CLI, 'cni', 'uninstall', '--bin-dir', bin])).code).toBe(2);
    expect(readFileSync(exe, 'utf8')).toBe('#!/bin/sh\necho another plugin\n');
  });

  it('cni conflist prints a configuration list the plugin takes, and refuses bad values', async () => {
    const r = await run(process.execPath, [CLI, 'cni', 'conflist', '--network', 'dbnet', '--subnet', '10.77.0.0/24', '--dns-mode', 'musl', '--dns', '10.77.9.9', '--dns-search', 'corp.example']);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list).toMatchObject({ cniVersion: '1.0.0', name: 'dbnet', plugins: [{ type: 'tsnet', subnet: '10.77.0.0/24', dnsMode: 'musl', dns: { nameservers: ['10.77.9.9'], search: ['corp.example'] } }] });
    const bad = await run(process.execPath, [CLI, 'cni', 'conflist', '--network', 'dbnet', '--subnet', '10.77.0.0/40']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});
