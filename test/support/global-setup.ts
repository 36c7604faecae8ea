// The CLI tests run the built binary: bundle it once before any test file starts.
import { execFileSync } from 'node:child_process';
import { IP_NETNS_DIR } from '../../src/state/paths.js';
import { prepareHandleDir } from '../../src/ns/handles.js';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { stdio: 'inherit' });
  // Tests run `ip netns add` beside tsnet in parallel files. Both make /run/netns a shared mount
  // point before their first handle; doing it once here, before any file starts, leaves no window
  // in which one of them could mount the directory over the other's handles.
  if (process.getuid?.() === 0) prepareHandleDir(IP_NETNS_DIR);
}
