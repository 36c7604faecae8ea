// End-to-end: the acceptance path on real namespaces, through the built CLI.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, Lab, isRoot, run } from '../support/lab.js';

const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe.skipIf(!isRoot)('containers on real namespaces', () => {
  const lab = new Lab();
  afterEach(async () => {
    // Every test removes what it made; anything left here is a leak in the test or in tsnet.
    expect(lab.leftovers()).toEqual([]);
  });
  afterAll(async () => {
    expect(await lab.destroy()).toEqual([]);
  });

  it('create + exec: hostname, resolv.conf, getent through the container files; the host is untouched', async () => {
    const web1 = lab.name('web1');
    const hostFiles = ['/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/etc/nsswitch.conf'].filter(existsSync);
    const before = Object.fromEntries(hostFiles.map((f) => [f, hash(f)]));
    const hostHostname = hostname();

    const created = await lab.cli([
      'create', web1, '--subnet', lab.subnet, '--hostname', 'web1.example', '--dns', lab.ip(250),
      '--dns-search', 'corp.example', '--dns-option', 'ndots:2', '--add-host', `db:${lab.ip(77)}`, '--json',
    ]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const record = JSON.parse(created.stdout);
    expect(record).toMatchObject({ name: web1, status: 'running', address: lab.ip(2), gateway: lab.ip(1) });

    const h = await lab.cli(['exec', web1, '--', 'hostname']);
    expect(h).toMatchObject({ code: 0, stdout: 'web1.example\n' });

    // dns-mode glibc (the default): the stub on the gateway is the nameserver; the upstream is
    // named with its provenance; the user's search and ndots are kept.
    const rc = await lab.cli(['exec', web1, '--', 'cat', '/etc/resolv.conf']);
    expect(rc.stdout).toMatch(new RegExp(`^nameserver ${lab.ip(1).replace(/\./g, '\\.')}$`, 'm'));
    expect(rc.stdout).toMatch(new RegExp(`^#   upstream ${lab.ip(250).replace(/\./g, '\\.')} \\(from --dns\\)$`, 'm'));
    expect(rc.stdout).toMatch(/^search corp\.example$/m);
    expect(rc.stdout).toMatch(/^options ndots:2 timeout:\d+ attempts:1$/m);

    const db = await lab.cli(['exec', web1, '--', 'getent', 'hosts', 'db']);
    expect(db.code).toBe(0);
    expect(db.stdout.split(/\s+/)).toEqual([lab.ip(77), 'db', '']);

    const own = await lab.cli(['exec', web1, '--', 'getent', 'hosts', 'web1.example']);
    expect(own.stdout.split(/\s+/)[0]).toBe(lab.ip(2));

    const addr = await lab.cli(['exec', web1, '--', 'ip', '-j', 'addr', 'show', 'eth0']);
    const eth0 = JSON.parse(addr.stdout)[0];
    expect(eth0.operstate).toBe('UP');
    expect(eth0.addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`)).toContain(`${lab.ip(2)}/24`);
    const route = await lab.cli(['exec', web1, '--', 'ip', '-j', 'route', 'show', 'default']);
    expect(JSON.parse(route.stdout)[0]).toMatchObject({ dst: 'default', gateway: lab.ip(1), dev: 'eth0' });
    const lo = await lab.cli(['exec', web1, '--', 'ip', '-j', 'link', 'show', 'lo']);
    expect(JSON.parse(lo.stdout)[0].flags).toContain('UP');

    // Standard tools see the namespace too.
    const ipns = await run('ip', ['netns', 'exec', `tsnet-${web1}`, 'ip', '-br', 'addr', 'show', 'eth0']);
    expect(ipns.stdout).toContain(`${lab.ip(2)}/24`);

    expect(hostname()).toBe(hostHostname);
    for (const f of hostFiles) expect(hash(f), f).toBe(before[f]);

    const rm = await lab.cli(['rm', web1]);
    expect(rm).toMatchObject({ code: 0, stdout: `${web1}\n` });
  }, 180_000); // ≈ 30 s quiet (a dozen exec round trips); sized for a loaded 2-core machine

  it('two containers exchange UDP both ways through the bridge', async () => {
    const [a, b] = [lab.name('udpa'), lab.name('udpb')];
    expect((await lab.create(a)).code).toBe(0);
    expect((await lab.create(b)).code).toBe(0);
    // A tiny echo server in each container, and a client in the other one.
    const echo = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>{s.send('echo:'+m,r.port,r.address,()=>s.close())});s.bind(9999,()=>process.stdout.write('ready\\n'))`;
    const client = (to: string) =>
      `const s=require('dgram').createSocket('udp4');s.on('message',m=>{process.stdout.write(m.toString());s.close()});s.send('hi from '+process.argv[1],9999,'${to}');setTimeout(()=>process.exit(3),3000).unref()`;
    for (const [server, clientName, serverIp] of [[a, b, lab.ip(2)], [b, a, lab.ip(3)]] as const) {
      const srv = lab.cli(['exec', server, '--', process.execPath, '-e', echo]);
      await new Promise((r) => setTimeout(r, 300));
      const res = await lab.cli(['exec', clientName, '--', process.execPath, '-e', client(serverIp), clientName]);
      expect(res.stdout).toBe(`echo:hi from ${clientName}`);
      expect((await srv).stdout).toBe('ready\n');
    }
    expect((await lab.cli(['rm', a, b])).code).toBe(0);
  });

  it('ls, inspect and --json describe the containers; rm of the last one removes the bridge', async () => {
    const [a, b] = [lab.name('ls-a'), lab.name('ls-b')];
    await lab.create(a, ['--dns-mode', 'musl', '--dns', lab.ip(250)]);
    await lab.create(b, ['--hostname', 'bee']);
    const ls = await lab.cli(['ls']);
    const lines = ls.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ID\s+ADDRESS\s+HOSTNAME\s+DNS-MODE\s+NETWORK\s+STATUS\s+CREATED$/);
    expect(lines.find((l) => l.startsWith(a))).toMatch(new RegExp(`${lab.ip(2).replace(/\./g, '\\.')}\\s+${a}\\s+musl\\s+tsnet\\s+running`));
    const json = JSON.parse((await lab.cli(['ls', '--json'])).stdout);
    expect(json.map((c: { name: string }) => c.name).sort()).toEqual([a, b]);
    const inspect = JSON.parse((await lab.cli(['inspect', b, '--json'])).stdout);
    expect(inspect).toMatchObject({ name: b, hostname: 'bee', network: 'tsnet', dns: { mode: 'direct', stubActive: false } });
    const byId = await lab.cli(['inspect', inspect.id.slice(0, 8)]);
    expect(byId.stdout).toMatch(new RegExp(`^name: +${b}$`, 'm'));
    const bridge = JSON.parse(readFileSync(lab.paths.networkRecord('tsnet'), 'utf8')).bridge as string;
    expect((await run('ip', ['link', 'show', bridge])).code).toBe(0);
    expect((await lab.cli(['rm', a])).code).toBe(0);
    expect((await run('ip', ['link', 'show', bridge])).code).toBe(0); // b still uses it
    expect((await lab.cli(['rm', b])).code).toBe(0);
    expect((await run('ip', ['link', 'show', bridge])).code).not.toBe(0);
  });

  it('exec passes exit status and signals through; a missing command is 127', async () => {
    const c = lab.name('exec');
    await lab.create(c);
    expect((await lab.cli(['exec', c, '--', 'sh', '-c', 'exit 7'])).code).toBe(7);
    const killed = await lab.cli(['exec', c, '--', 'sh', '-c', 'kill -TERM $$']);
    expect(killed.signal).toBe('SIGTERM');
    const missing = await lab.cli(['exec', c, '--', 'no-such-command-xyz']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/no-such-command-xyz: command not found/);
    // A signal sent to tsnet reaches the command.
    const child = lab.cli(['exec', c, '--', 'sh', '-c', 'trap "echo got-term; exit 0" TERM; echo up; while :; do sleep 0.05; done']);
    await new Promise((r) => setTimeout(r, 500));
    const pids = (await run('pgrep', ['-f', `tsnet.js --root ${lab.root} exec ${c}`])).stdout.trim().split('\n');
    for (const pid of pids) process.kill(Number(pid), 'SIGTERM');
    const res = await child;
    expect(res.stdout).toBe('up\ngot-term\n');
    expect(res.code).toBe(0);
    await lab.cli(['rm', c]);
  });

  it('a handle made before `ip netns add` first mounts /run/netns stays reachable: rm unmounts it', async () => {
    // On a fresh machine /run/netns is a plain directory until `ip netns add` bind-mounts it over
    // itself; a handle made before that is hidden under the new mount and can never be unmounted.
    // A private mount namespace gives this test a fresh machine's /run/netns without touching the host's.
    const c = lab.name('early');
    const peer = `tsnet-${lab.name('iproute')}`;
    const tsnet = `${process.execPath} ${CLI} --root ${lab.root}`;
    // Every step runs whatever the one before did, so a failure still removes what was made.
    const script = [
      'while umount -l /run/netns 2>/dev/null; do :; done',
      `${tsnet} create ${c} --subnet ${lab.subnet} --dns-mode direct --dns 127.0.0.1 >/dev/null`,
      `ip netns add ${peer}`,
      `${tsnet} rm ${c} >/dev/null`,
      `ip netns del ${peer}`,
      `grep -c 'netns/tsnet-${c} ' /proc/self/mountinfo`,
    ].join('; ');
    const r = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0\n');
  });

  it('stdin reaches the command', async () => {
    const c = lab.name('stdin');
    await lab.create(c);
    const r = await lab.cli(['exec', c, '--', 'cat'], { input: 'through the namespace\n' });
    expect(r.stdout).toBe('through the namespace\n');
    await lab.cli(['rm', c]);
  });
});
