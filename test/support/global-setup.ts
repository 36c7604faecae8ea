// The CLI tests run the built binary: bundle it once before any test file starts.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IP_NETNS_DIR } from '../../src/state/paths.js';
import { prepareHandleDir } from '../../src/ns/handles.js';

export default function setup(): () => void {
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { stdio: 'inherit' });
  if (process.getuid?.() !== 0) return () => {};
  // Tests run `ip netns add` beside tsnet in parallel files. Both make /run/netns a shared mount
  // point before their first handle; doing it once here, before any file starts, leaves no window
  // in which one of them could mount the directory over the other's handles.
  prepareHandleDir(IP_NETNS_DIR);
  // Tests that run tsnet as another user (setpriv) need a CLI that user can read, wherever the
  // checkout is (a clone into `mktemp -d` sits below a directory only root may enter). The
  // unprivileged runs are refused before tsnet loads koffi or pino from node_modules.
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-unpriv-'));
  chmodSync(dir, 0o755);
  cpSync('dist', join(dir, 'dist'), { recursive: true });
  process.env.TSNET_TEST_READABLE_CLI = join(dir, 'dist', 'tsnet.js');
  const forwarding = readForwarding();
  return () => {
    rmSync(dir, { recursive: true, force: true });
    // Network safety: no test may turn on forwarding in the host's namespace (the engines and
    // CNI plugins the tests run could: the bridge plugin's isGateway does, where it runs).
    const after = readForwarding();
    if (after !== forwarding) {
      for (const [path, value] of Object.entries(JSON.parse(forwarding) as Record<string, string>)) writeFileSync(path, value);
      throw new Error(`the test run changed the host's IP forwarding: ${forwarding} -> ${after} (restored)`);
    }
  };
}

/** The host namespace's forwarding switches, as one comparable text. */
function readForwarding(): string {
  const paths = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding'];
  return JSON.stringify(Object.fromEntries(paths.map((p) => [p, readFileSync(p, 'utf8').trim()])));
}
