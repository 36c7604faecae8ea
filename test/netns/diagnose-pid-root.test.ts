// diagnose --pid reads the target's /etc/* inside the target's own root. A process in a mount
// namespace of its own, chrooted into a directory of this test, has symlinked files there: an
// absolute link must be followed from the target's root (not the host's), and `..` must stop at
// that root, the way the target's own libc sees the files. Every case also has a decoy outside
// the target's root, at the path the host would follow the link to, so reading the wrong file
// shows as the decoy's nameserver. Nothing is sent anywhere: --no-live, and the target has a
// network namespace of its own with nothing in it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot, run } from '../support/lab.js';
import { spawnCli, stopSpawned, waitFor } from '../support/upstream.js';
import type { Report } from '../../src/diagnose/diagnose.js';

describe.skipIf(!isRoot)('diagnose --pid: the target\'s files are read inside its own root', () => {
  const lab = new Lab();
  const base = mkdtempSync(join(tmpdir(), 'tsnet-inroot-'));
  /** the target's / */
  const root = join(base, 'root');
  let target: ChildProcess | undefined;
  let pid = 0;

  /** Writes `text` at `path` inside the target's root (`/x` → root/x). */
  const inside = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  /** Replaces `path` inside the target's root with a symlink to `to` (taken as written). */
  const link = (path: string, to: string) => {
    rmSync(join(root, path), { force: true });
    symlinkSync(to, join(root, path));
  };

  beforeAll(async () => {
    for (const d of ['etc', 'usr', 'tmp']) mkdirSync(join(root, d), { recursive: true });
    for (const d of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${d}`, join(root, d)); // Debian's merged /usr
    inside('/etc/hostname', 'inroot\n');
    // /usr is bind-mounted in the target's private mount namespace only: it goes with the process.
    target = spawn('unshare', ['--mount', '--net', '--propagation', 'private', 'sh', '-c', 'mount --rbind /usr "$0/usr" && exec chroot "$0" /usr/bin/sleep 600', root], { stdio: 'ignore' });
    pid = target.pid!;
    await waitFor('the chrooted sleeper', () => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n' && readlinkSync(`/proc/${pid}/root`) === root;
      } catch {
        return false;
      }
    });
  });

  afterAll(async () => {
    if (target && target.exitCode === null && target.signalCode === null) {
      target.kill('SIGKILL');
      await new Promise((r) => target!.once('exit', r));
    }
    rmSync(base, { recursive: true, force: true });
    expect(existsSync(base)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(base);
    expect(await lab.destroy()).toEqual([]);
  });

  /** `tsnet diagnose --pid PID --no-live --json db.example`, killed if it is still running after `ms`. */
  async function diagnose(ms = 30_000): Promise<{ code: number | null; stderr: string; report: Report | undefined; timedOut: boolean }> {
    const s = spawnCli(lab, ['diagnose', '--pid', String(pid), '--no-live', '--json', 'db.example']);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void stopSpawned(s, 1000);
    }, ms);
    const res = await s.done;
    clearTimeout(timer);
    let report: Report | undefined;
    try {
      report = JSON.parse(res.stdout) as Report;
    } catch {
      report = undefined;
    }
    return { code: res.code, stderr: res.stderr, report, timedOut };
  }

  const nameservers = async () => {
    const r = await diagnose();
    expect(r.report, `exit ${r.code}: ${r.stderr}`).toBeDefined();
    return r.report!.target;
  };

  it('an absolute link (/etc/resolv.conf → /run/systemd/resolve/stub-resolv.conf, as systemd-resolved sets it up) is followed inside the target\'s root', async () => {
    inside('/run/systemd/resolve/stub-resolv.conf', 'nameserver 192.0.2.53\nsearch inside.example\n');
    link('/etc/resolv.conf', '/run/systemd/resolve/stub-resolv.conf');
    expect(await nameservers()).toMatchObject({ nameservers: ['192.0.2.53'], search: ['inside.example'] });
  });

  it('an absolute link whose path also exists on the host reads the target\'s file, not the host\'s', async () => {
    // The decoy: the same absolute path on the host, outside the target's root.
    mkdirSync(join(base, 'decoy'), { recursive: true });
    writeFileSync(join(base, 'decoy', 'resolv.conf'), 'nameserver 198.51.100.66\nsearch outside.example\n');
    inside(join(base, 'decoy', 'resolv.conf'), 'nameserver 192.0.2.54\nsearch inside.example\n');
    link('/etc/resolv.conf', join(base, 'decoy', 'resolv.conf'));
    expect(await nameservers()).toMatchObject({ nameservers: ['192.0.2.54'], search: ['inside.example'] });
  });

  it('".." stops at the target\'s root: ../../decoy/resolv.conf from /etc is /decoy/resolv.conf of the target', async () => {
    // From the host, root/etc/../../decoy is base/decoy: the decoy of the test above.
    writeFileSync(join(base, 'decoy', 'resolv.conf'), 'nameserver 198.51.100.66\nsearch outside.example\n');
    inside('/decoy/resolv.conf', 'nameserver 192.0.2.55\n');
    link('/etc/resolv.conf', '../../decoy/resolv.conf');
    expect(await nameservers()).toMatchObject({ nameservers: ['192.0.2.55'] });
  });

  it('a link far outside (../../../../../../etc/passwd) stays inside: the target\'s /etc/passwd', async () => {
    inside('/etc/passwd', 'nameserver 192.0.2.56\n');
    link('/etc/resolv.conf', '../../../../../../etc/passwd');
    expect(await nameservers()).toMatchObject({ nameservers: ['192.0.2.56'] });
  });

  it('a link in a directory on the way (/etc/resolv → /run/resolv) and a relative link after it resolve inside', async () => {
    inside('/run/resolv/real.conf', 'nameserver 192.0.2.57\n');
    inside('/run/resolv/ignored', '');
    mkdirSync(join(root, 'etc', 'resolv.d'), { recursive: true });
    link('/etc/resolv.d/conf', '/run/resolv');
    link('/etc/resolv.conf', 'resolv.d/conf/../resolv/real.conf');
    // resolv.d/conf is /run/resolv, its .. is /run: /run/resolv/real.conf
    expect(await nameservers()).toMatchObject({ nameservers: ['192.0.2.57'] });
  });

  it('nsswitch.conf is read the same way (an absolute link into the target\'s /run)', async () => {
    inside('/etc/resolv.conf.real', 'nameserver 192.0.2.58\n');
    link('/etc/resolv.conf', 'resolv.conf.real');
    inside('/run/nss/nsswitch.conf', 'hosts: dns files\n');
    link('/etc/nsswitch.conf', '/run/nss/nsswitch.conf');
    expect(await nameservers()).toMatchObject({ nameservers: ['192.0.2.58'], nsswitch: 'dns files' });
    unlinkSync(join(root, 'etc', 'nsswitch.conf'));
  });

  it('a symlink loop is refused (exit 3) instead of followed forever', async () => {
    link('/etc/resolv.conf', '/etc/loop-a');
    link('/etc/loop-a', '/etc/loop-b');
    link('/etc/loop-b', 'resolv.conf');
    const r = await diagnose();
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/resolv\.conf.*ELOOP/);
  });

  it('a resolv.conf that is not a regular file (a FIFO nobody writes) is refused at once (exit 3), not waited on', async () => {
    rmSync(join(root, 'etc', 'resolv.conf'), { force: true });
    const mk = await run('mkfifo', [join(root, 'etc', 'resolv.conf')]);
    expect(mk.code, mk.stderr).toBe(0);
    const r = await diagnose(15_000);
    expect(r.timedOut, 'diagnose was still reading the FIFO after 15 s').toBe(false);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/resolv\.conf.*not a regular file/);
  });
});
