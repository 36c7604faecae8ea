// The CNI plugin's thin client and the stub daemon's control socket: ADD and CHECK go to a running
// daemon (counted in its status), DEL and everything else stay in the plugin's process; the
// socket takes nothing but a well-formed ADD or CHECK and outlives hostile connections; the client
// asks only a socket nobody but root can have made, and never runs a request twice. Oracles:
// iproute2, the records `tsnet ls` shows, dig against the stub, the daemon's status file.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, CNI_PLUGIN, Lab, isRoot, run } from '../support/lab.js';
import { placementOf } from '../../src/cli/cni-placement.js';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

describe.skipIf(!isRoot)('CNI plugin: the stub daemon takes ADD and CHECK', () => {
  const lab = new Lab();
  const nets: string[] = [];
  const fakeRoots: string[] = [];
  const servers: Server[] = [];
  const netns = (tag: string) => {
    const name = `${lab.prefix}-dm-${tag}`;
    ip('netns', 'add', name);
    nets.push(name);
    return `/run/netns/${name}`;
  };
  const conf = (over: Record<string, unknown> = {}) => ({
    cniVersion: '1.0.0', name: `${lab.prefix}-dm`, type: 'tsnet', subnet: lab.subnet, dnsMode: 'musl',
    dns: { nameservers: [lab.ip(250)] }, root: lab.root, ...over,
  });
  const plugin = (command: string, id: string, ns: string | undefined, over: Record<string, unknown> = {}) =>
    run(process.execPath, [CNI_PLUGIN], {
      env: { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', TSNET_LOG_LEVEL: 'warn', ...(ns ? { CNI_NETNS: ns } : {}) },
      input: JSON.stringify(conf(over)),
    });
  /** the daemon rewrites its status before it answers a request: exact as soon as the plugin exits */
  const served = () => (JSON.parse(execFileSync(process.execPath, [CLI, '--root', lab.root, 'stub', 'status', '--json'], { encoding: 'utf8' })) as { cni: { served: number } }).cni.served;

  /** a root tsnet would trust up to its stub directory, with a socket this test serves */
  const fakeRoot = (tag: string, answer: (c: import('node:net').Socket) => void) => {
    const root = join(lab.root, `fake-${tag}`);
    mkdirSync(join(root, 'stub'), { recursive: true, mode: 0o700 });
    chmodSync(root, 0o755);
    fakeRoots.push(root);
    const server = createServer({ allowHalfOpen: true }, answer).listen(join(root, 'stub', 'cni.sock'));
    servers.push(server);
    return root;
  };

  afterAll(async () => {
    for (const s of servers) s.close();
    for (const n of nets) {
      try {
        ip('netns', 'del', n);
      } catch {
        // deleted by a test
      }
    }
    for (const r of fakeRoots) rmSync(r, { recursive: true, force: true });
    expect(await lab.destroy()).toEqual([]);
  });

  it('ADD and CHECK run in the daemon once it runs, with the same results; DEL stays in the plugin', async () => {
    const first = await plugin('ADD', 'dm-1', netns('1'));
    expect(first.code, first.stderr + first.stdout).toBe(0); // no daemon yet: in the plugin's process, which starts it
    const base = served();
    expect(base).toBe(0);
    const ns = netns('2');
    const second = await plugin('ADD', 'dm-2', ns);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    const res = JSON.parse(second.stdout);
    expect(res.interfaces[1]).toMatchObject({ name: 'eth0', sandbox: ns });
    expect(res.dns.nameservers).toEqual([lab.ip(1)]);
    const inner = JSON.parse(ip('-n', ns.split('/').pop()!, '-j', 'addr', 'show', 'eth0'))[0].addr_info.find((a: { family: string }) => a.family === 'inet').local;
    expect(res.ips[0].address).toBe(`${inner}/24`);
    const check = await plugin('CHECK', 'dm-2', ns);
    expect([check.code, check.stdout]).toEqual([0, '']);
    expect(served()).toBe(base + 2);
    // the daemon's record of the attachment is the one `tsnet ls` shows, and the stub answers its name
    const ls = JSON.parse(execFileSync(process.execPath, [CLI, '--root', lab.root, 'ls', '--json'], { encoding: 'utf8' })) as Array<{ address: string; cni?: { containerId: string } }>;
    expect(ls.find((c) => c.cni?.containerId === 'dm-2')?.address).toBe(inner);
    ip('-n', ns.split('/').pop()!, 'link', 'set', 'lo', 'up');
    const dig = execFileSync('ip', ['netns', 'exec', ns.split('/').pop()!, 'dig', '+short', '+time=2', '+tries=1', `@${lab.ip(1)}`, 'dm-1', 'A'], { encoding: 'utf8' });
    expect(dig.trim()).toMatch(/^10\./);
    const again = await plugin('ADD', 'dm-2', ns); // the spec's error, through the daemon
    expect(JSON.parse(again.stdout).code).toBe(100);
    const del = await plugin('DEL', 'dm-2', ns);
    expect([del.code, del.stdout]).toEqual([0, '']);
    expect(served()).toBe(base + 3); // the failed ADD counted, the DEL not
  });

  it('the socket takes only a well-formed ADD or CHECK, and hostile connections leave the daemon serving', async () => {
    const socket = lab.paths.cniSocket;
    const exchange = (payload: string | Buffer, holdOpen = false) =>
      new Promise<string>((done) => {
        const c = connect(socket);
        let got = '';
        c.on('data', (d) => (got += d));
        c.on('error', () => done(got));
        c.on('close', () => done(got));
        c.on('connect', () => (holdOpen ? c.write(payload) : c.end(payload)));
        if (holdOpen) setTimeout(() => c.destroy(), 300);
      });
    const before = served();
    expect(await exchange('not json\n')).toBe('');
    expect(await exchange(`${JSON.stringify({ env: { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'dm-1', CNI_IFNAME: 'eth0' }, input: JSON.stringify(conf()) })}\n`)).toBe('');
    expect(await exchange(`${JSON.stringify({ env: 'ADD', input: 1 })}\n`)).toBe('');
    expect(await exchange(Buffer.alloc(2 << 20, 0x41))).toBe('');
    expect(await exchange('{"env":', true)).toBe(''); // never finished: dropped by the client here
    // placed elsewhere (another build): refused before anything runs, for the client to run itself
    const placement = placementOf(dirname(CNI_PLUGIN));
    const add = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'dm-x', CNI_NETNS: netns('x'), CNI_IFNAME: 'eth0' };
    const elsewhere = JSON.parse(await exchange(`${JSON.stringify({ env: add, input: JSON.stringify(conf()), placement: { ...placement, build: '1:2' } })}\n`));
    expect(elsewhere).toEqual({ refused: 'the daemon runs another build of tsnet' });
    expect(JSON.parse(await exchange(`${JSON.stringify({ env: add, input: JSON.stringify(conf()), placement: { ...placement, net: 'net:[1]' } })}\n`)).refused).toMatch(/network namespace/);
    // a request the plugin itself refuses is answered with the spec's error, as the plugin would
    const hostile = await exchange(`${JSON.stringify({ env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: '../../etc', CNI_NETNS: '/proc/1/ns/net', CNI_IFNAME: 'eth0', NODE_OPTIONS: '--inspect' }, input: JSON.stringify(conf()), placement })}\n`);
    const reply = JSON.parse(hostile) as { code: number; stdout: string };
    expect(reply.code).toBe(1);
    expect(JSON.parse(reply.stdout).code).toBeGreaterThanOrEqual(4);
    expect(existsSync(lab.paths.cniSocket)).toBe(true);
    // still serving: an ADD, and DNS
    const ns = netns('3');
    expect((await plugin('ADD', 'dm-3', ns)).code).toBe(0);
    expect(served()).toBe(before + 2);
    ip('-n', ns.split('/').pop()!, 'link', 'set', 'lo', 'up');
    const dig = execFileSync('ip', ['netns', 'exec', ns.split('/').pop()!, 'dig', '+short', '+time=2', '+tries=1', `@${lab.ip(1)}`, 'dm-3', 'A'], { encoding: 'utf8' });
    expect(dig.trim()).toMatch(/^10\./);
    expect((await plugin('DEL', 'dm-3', ns)).code).toBe(0);
  }, 60_000);

  it('a plugin run in other namespaces than the daemon\'s runs its request itself', async () => {
    const ns = netns('4');
    expect((await plugin('ADD', 'dm-4', ns)).code).toBe(0);
    const before = served();
    // `ip netns exec` puts the plugin in the container's network namespace and a mount namespace of
    // its own: the daemon's bridge is not there, so CHECK in that process finds no host end
    const r = await run('ip', ['netns', 'exec', ns.split('/').pop()!, process.execPath, CNI_PLUGIN], {
      env: { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'dm-4', CNI_NETNS: ns, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' },
      input: JSON.stringify(conf()),
    });
    expect(JSON.parse(r.stdout).code).toBe(101);
    expect(served()).toBe(before);
    expect((await plugin('CHECK', 'dm-4', ns)).code).toBe(0); // and from the daemon's namespaces, in it
    expect(served()).toBe(before + 1);
    expect((await plugin('DEL', 'dm-4', ns)).code).toBe(0);
  });

  it('a plugin from another build of tsnet runs its request itself', async () => {
    // a copy of the built plugin is another dist/ directory: another build to the daemon
    const other = mkdtempSync(join(lab.root, 'build-'));
    for (const f of ['cni-plugin.cjs', 'cni-plugin-body.cjs', 'tsnet.js', 'tsnet-body.cjs', 'package.json']) copyFileSync(join(dirname(CNI_PLUGIN), f), join(other, f));
    symlinkSync(join(dirname(CNI_PLUGIN), '../node_modules'), join(other, 'node_modules'));
    const ns = netns('5');
    const before = served();
    const r = await run(process.execPath, [join(other, 'cni-plugin.cjs')], {
      env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'dm-5', CNI_NETNS: ns, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' },
      input: JSON.stringify(conf()),
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).interfaces[1]).toMatchObject({ name: 'eth0', sandbox: ns });
    expect(served()).toBe(before);
    expect((await plugin('CHECK', 'dm-5', ns)).code).toBe(0); // this build's plugin: in the daemon
    expect(served()).toBe(before + 1);
    expect((await plugin('DEL', 'dm-5', ns)).code).toBe(0);
    rmSync(other, { recursive: true, force: true });
  });

  it('a daemon that takes an ADD and answers nothing is "try again later", and the ADD is not run again here', async () => {
    const root = fakeRoot('mute', (c) => c.resume().on('end', () => c.destroy()));
    const r = await plugin('ADD', 'dm-mute', netns('mute'), { root, dnsMode: 'direct', dns: { nameservers: ['127.0.0.1'] } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ cniVersion: '1.0.0', code: 11 });
    expect(existsSync(join(root, 'containers'))).toBe(false);
  });

  it('a socket someone else could have made is never asked: the plugin runs the ADD itself', async () => {
    const root = fakeRoot('planted', (c) => c.resume().on('end', () => c.end('{"code":0,"stdout":"{\\"planted\\":true}\\n","stderr":""}\n')));
    execFileSync('chown', ['65534', join(root, 'stub')]);
    const ns = netns('planted');
    // a subnet of its own: the lab's is the lab's network's, in another root
    const [, second, third] = lab.subnetBase.split('.');
    const over = { root, dnsMode: 'direct', dns: { nameservers: ['127.0.0.1'] }, name: `${lab.prefix}-pl`, subnet: `10.${Number(second) + 32}.${third}.0/24` };
    const r = await plugin('ADD', 'dm-planted', ns, over);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(JSON.parse(r.stdout)).not.toHaveProperty('planted');
    expect(JSON.parse(r.stdout).interfaces[1]).toMatchObject({ name: 'eth0', sandbox: ns });
    expect((await plugin('DEL', 'dm-planted', ns, over)).code).toBe(0);
    expect(readdirSync(join(root, 'containers'))).toEqual([]);
  });
});
