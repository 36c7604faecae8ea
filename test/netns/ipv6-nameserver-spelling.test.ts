// An IPv6 nameserver written non-canonically in a resolv.conf (upper case, every group written
// out: FD..:0:0:0:0053). The kernel reports a reply's source in RFC 5952 form, and real musl,
// glibc and dnspython compare addresses by value, so they accept the reply; the emulators run by
// the real driver (`tsnet resolve`) must too, and their traces must show the answer.
// The server is `tsnet fake-dns` in a dns-mode direct container of this lab, on a random ULA /64
// that exists only on that container's eth0, on a client container's eth0 and on this lab's
// bridge: every packet stays on the lab. The same server inherited from a host resolv.conf (no
// --dns; TSNET_HOST_RESOLV_CONF names a file of this test) is a stub-mode container's upstream.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressText, ipv6Bytes } from '../../resolvers/core/address.js';
import { Lab, isRoot, run } from '../support/lab.js';
import { destroyStubLab, dig, lastLogLine, spawnCli, stopSpawned, stubStatusSettled, waitFor, type Spawned } from '../support/upstream.js';

interface TraceJson {
  mode: string;
  result: { addresses: string[]; error: string | null };
  queries: Array<{ server: string; qname: string; qtype: string; outcome: string }>;
}

describe.skipIf(!isRoot)('an IPv6 nameserver written non-canonically in resolv.conf (FD..:0:0:0:0053)', () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-ns6-test-'));
  const hex = () => randomBytes(2).toString('hex');
  const prefix = `fd${randomBytes(1).toString('hex')}:${hex()}:${hex()}:${hex()}`; // a random ULA /64
  /** RFC 5952 text, as the kernel reports addresses (a random group may start with 0) */
  const canonical = (text: string) => addressText(ipv6Bytes(text)!);
  const serverV6 = canonical(`${prefix}::53`);
  const clientV6 = canonical(`${prefix}::2`);
  const hostV6 = canonical(`${prefix}::1`);
  /** the server as someone might write it: upper case, every group written out */
  const typed = `${prefix.toUpperCase()}:0:0:0:0053`;
  const upName = lab.name('up6');
  const client = lab.name('cli6');
  const resolvConf = join(dir, 'resolv.conf');
  let server: Spawned | undefined;

  const sh = async (cmd: string, args: string[]) => {
    const r = await run(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const addInside = async (name: string, address: string) => {
    const r = await lab.cli(['exec', name, '--', 'ip', '-6', 'addr', 'add', `${address}/64`, 'dev', 'eth0', 'nodad']);
    if (r.code !== 0) throw new Error(`ip -6 addr add in ${name}: ${r.stderr}`);
  };

  beforeAll(async () => {
    for (const [name, host] of [[upName, 200], [client, 201]] as const) {
      const created = await lab.create(name, ['--ip', lab.ip(host)]);
      if (created.code !== 0) throw new Error(`create ${name}: ${created.stderr}`);
    }
    const bridge = (JSON.parse(readFileSync(lab.paths.networkRecord('tsnet'), 'utf8')) as { bridge: string }).bridge;
    // The host end of the /64 on the lab's bridge (it goes with the bridge): the stub's side.
    await sh('ip', ['-6', 'addr', 'add', `${hostV6}/64`, 'dev', bridge, 'nodad']);
    await addInside(upName, serverV6);
    await addInside(client, clientV6);
    const netns = (JSON.parse((await lab.cli(['inspect', upName, '--json'])).stdout) as { namespaces: { net: string } }).namespaces.net;
    const ready = join(dir, 'ready');
    server = spawnCli(lab, [
      'fake-dns', '--netns', netns, '--listen', `[${serverV6}]=answer`,
      '--zone', 'db.example=A:192.0.2.10', '--zone', 'db.example=AAAA:2001:db8::10',
      '--log', join(dir, 'queries.jsonl'), '--ready-file', ready,
    ]);
    await waitFor(`fake-dns on [${serverV6}]`, () => {
      if (server!.child.exitCode !== null) throw new Error(`fake-dns exited ${server!.child.exitCode}: ${server!.stderr()}`);
      return existsSync(ready) && readFileSync(ready, 'utf8').trim() !== '';
    });
    writeFileSync(resolvConf, `nameserver ${typed}\noptions timeout:2 attempts:1\n`);
  });

  afterAll(async () => {
    if (server) await stopSpawned(server);
    const { leftovers, daemons } = await destroyStubLab(lab);
    rmSync(dir, { recursive: true, force: true });
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  it.each(['musl', 'glibc', 'eventlet', 'go'])('tsnet resolve --mode %s: the lookup succeeds and its trace shows every query answered by the canonical address', async (mode) => {
    const r = await lab.cli(['resolve', '--mode', mode, '--in', client, '--resolv-conf', resolvConf, '--json', 'db.example']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const trace = JSON.parse(r.stdout) as TraceJson;
    expect(trace.result.error).toBeNull();
    expect(trace.result.addresses).toContain('192.0.2.10');
    expect(trace.queries.length).toBeGreaterThan(0);
    expect(trace.queries.map((q) => `${q.server} ${q.qtype} ${q.outcome}`)).toEqual(trace.queries.map((q) => `${serverV6} ${q.qtype} answer`));
  });

  it('a stub-mode container inheriting the server from the host (no --dns): canonical in its record and resolv.conf, and lookups through the stub work', async () => {
    const hostRc = join(dir, 'host-resolv.conf');
    writeFileSync(hostRc, `nameserver ${typed}\noptions timeout:1 attempts:1\n`);
    const app = lab.name('app6');
    const created = await lab.create(app, ['--dns-mode', 'glibc'], { env: { TSNET_HOST_RESOLV_CONF: hostRc } });
    expect(created.code, created.stderr).toBe(0);
    const inspect = JSON.parse((await lab.cli(['inspect', app, '--json'])).stdout) as { dns: { nameservers: Array<{ address: string; source: string }> } };
    expect(inspect.dns.nameservers).toEqual([{ address: serverV6, source: `from the host's ${hostRc}` }]);
    expect((await lab.cli(['exec', app, '--', 'cat', '/etc/resolv.conf'])).stdout).toContain(`upstream ${serverV6} (from the host's ${hostRc})`);

    const r = await dig(lab, app, ['+short', `@${lab.ip(1)}`, 'db.example']);
    expect(r.stdout, r.stderr).toBe('192.0.2.10\n');
    const line = await lastLogLine(lab, app, 'db.example', 'A');
    expect(line).toMatchObject({ source: 'upstream', rcode: 'NOERROR', answers: 1 });
    expect(line.upstream.map((q) => `${q.server} ${q.outcome}`)).toEqual([`${serverV6} answer`]);
    expect((await stubStatusSettled(lab)).stats?.spoofed).toBe(0);
    expect((await lab.cli(['rm', app])).code).toBe(0);
  });
});
