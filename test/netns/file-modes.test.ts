// Every directory and file tsnet makes has an explicit mode, whatever the caller's umask: nothing
// writable by group or others; the stub's query log (which names every container's lookups) and
// its output readable by root only; a container's /etc files readable by its non-root processes.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, Lab, isRoot, run } from '../support/lab.js';
import { destroyStubLab, dig, waitFor } from '../support/upstream.js';

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(4, '0');

describe.skipIf(!isRoot)('file modes', () => {
  const lab = new Lab();
  afterAll(async () => {
    const { leftovers, daemons } = await destroyStubLab(lab);
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  it.each(['000', '077'])('with umask %s', async (umask) => {
    const name = lab.name(`u${umask}`);
    const r = await run('sh', ['-c', `umask ${umask}; exec "$@"`, 'sh', process.execPath, CLI, '--root', lab.root,
      'create', name, '--subnet', lab.subnet, '--dns-mode', 'glibc', '--dns', lab.ip(250), '--json'], {
      env: { TSNET_LOG_LEVEL: 'warn' },
    });
    expect(r.code, r.stderr).toBe(0);
    const { gateway, address } = JSON.parse(r.stdout) as { gateway: string; address: string };
    expect((await dig(lab, name, ['+short', `@${gateway}`, name])).stdout).toBe(`${address}\n`);
    const p = lab.paths;
    await waitFor('the query log', () => { try { return statSync(p.stubLog).size > 0; } catch { return false; } });
    const etc = p.etcDir(name);
    expect({
      root: mode(p.root), containers: mode(p.containersDir), networks: mode(p.networksDir), container: mode(p.containerDir(name)),
      record: mode(p.record(name)), etc: mode(etc), resolvConf: mode(join(etc, 'resolv.conf')), hosts: mode(join(etc, 'hosts')),
      lock: mode(p.lockFile), stub: mode(p.stubDir), queryLog: mode(p.stubLog), daemonLog: mode(p.stubOutput), ready: mode(p.stubReady),
    }).toEqual({
      root: '0755', containers: '0755', networks: '0755', container: '0755',
      record: '0644', etc: '0755', resolvConf: '0644', hosts: '0644',
      lock: '0600', stub: '0700', queryLog: '0600', daemonLog: '0600', ready: '0644',
    });
    expect((await lab.cli(['rm', name])).code).toBe(0);
  }, 60_000);
});
