// The stub forwards to an IPv6 upstream given with --dns in a non-canonical spelling (upper case,
// uncompressed): the kernel reports the reply's source in RFC 5952 form, and the stub's
// anti-spoofing guard must recognise it as the server it asked. The upstream is `tsnet fake-dns`
// in a dns-mode direct container of this lab; its IPv6 address (a random ULA /64) exists only on
// that container's eth0 and on this lab's bridge, so every packet stays on the lab.
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot, run } from '../support/lab.js';
import { destroyStubLab, dig, lastLogLine, spawnCli, stopSpawned, stubStatusSettled, waitFor, type Spawned } from '../support/upstream.js';
import type { FakeDnsQuery } from '../support/upstream.js';

describe.skipIf(!isRoot)('stub: an IPv6 upstream written non-canonically (--dns FD..:0:0:0:0:0:0:53)', () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-stub6-test-'));
  // four hex digits without a leading zero, so that the /64 written here is already in RFC 5952 form
  const hex = () => (0x1000 + randomInt(0xf000)).toString(16);
  const prefix = `fd${randomBytes(1).toString('hex')}:${hex()}:${hex()}:${hex()}`; // a random ULA /64
  const serverV6 = `${prefix}::53`;
  const hostV6 = `${prefix}::1`;
  /** the same address as the user might type it: upper case, every group written out */
  const typed = `${prefix.toUpperCase()}:0:0:0:0053`;
  const upName = lab.name('up6');
  let server: Spawned | undefined;
  const logFile = join(dir, 'queries.jsonl');
  const serverLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeDnsQuery) : []);

  const sh = async (cmd: string, args: string[]) => {
    const r = await run(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };

  beforeAll(async () => {
    const created = await lab.create(upName, ['--ip', lab.ip(200)]);
    if (created.code !== 0) throw new Error(`create ${upName}: ${created.stderr}`);
    const bridge = (JSON.parse(readFileSync(lab.paths.networkRecord('tsnet'), 'utf8')) as { bridge: string }).bridge;
    // The host end of the /64 on the lab's bridge (it goes with the bridge), the server's inside.
    await sh('ip', ['-6', 'addr', 'add', `${hostV6}/64`, 'dev', bridge, 'nodad']);
    const inner = await lab.cli(['exec', upName, '--', 'ip', '-6', 'addr', 'add', `${serverV6}/64`, 'dev', 'eth0', 'nodad']);
    if (inner.code !== 0) throw new Error(`ip -6 addr add in ${upName}: ${inner.stderr}`);
    const netns = (JSON.parse((await lab.cli(['inspect', upName, '--json'])).stdout) as { namespaces: { net: string } }).namespaces.net;
    const ready = join(dir, 'ready');
    server = spawnCli(lab, [
      'fake-dns', '--netns', netns, '--listen', `[${serverV6}]=answer`,
      '--zone', 'db.example=A:192.0.2.10', '--zone', 'db.example=AAAA:2001:db8::10',
      '--log', logFile, '--ready-file', ready,
    ]);
    await waitFor(`fake-dns on [${serverV6}]`, () => {
      if (server!.child.exitCode !== null) throw new Error(`fake-dns exited ${server!.child.exitCode}: ${server!.stderr()}`);
      return existsSync(ready) && readFileSync(ready, 'utf8').trim() !== '';
    });
  });

  afterAll(async () => {
    if (server) await stopSpawned(server);
    const { leftovers, daemons } = await destroyStubLab(lab);
    rmSync(dir, { recursive: true, force: true });
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  it('a forwarded name resolves through the stub, the guard drops nothing, and the record and resolv.conf show the canonical address', async () => {
    const app = lab.name('app6');
    const created = await lab.create(app, ['--dns-mode', 'glibc', '--dns', typed, '--dns-option', 'timeout:1', '--dns-option', 'attempts:1']);
    expect(created.code, created.stderr).toBe(0);

    const gw = lab.ip(1);
    const r = await dig(lab, app, ['+short', `@${gw}`, 'db.example']);
    expect(r.stdout, r.stderr).toBe('192.0.2.10\n');
    const line = await lastLogLine(lab, app, 'db.example', 'A');
    expect(line).toMatchObject({ source: 'upstream', rcode: 'NOERROR', answers: 1 });
    expect(line.upstream.map((q) => `${q.server} ${q.outcome}`)).toEqual([`${serverV6} answer`]);
    expect(serverLog().filter((q) => q.qname === 'db.example').length).toBeGreaterThan(0);
    const status = await stubStatusSettled(lab);
    expect(status.stats?.spoofed).toBe(0);

    const inspect = JSON.parse((await lab.cli(['inspect', app, '--json'])).stdout) as { dns: { nameservers: Array<{ address: string }> } };
    expect(inspect.dns.nameservers.map((n) => n.address)).toEqual([serverV6]);
    expect((await lab.cli(['exec', app, '--', 'cat', '/etc/resolv.conf'])).stdout).toContain(`upstream ${serverV6} (from --dns)`);
    expect((await lab.cli(['rm', app])).code).toBe(0);
  });
});
