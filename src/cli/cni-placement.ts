// Where a CNI request may run: the stub daemon runs one only in the namespaces and from the build
// the plugin's thin client would have run it in. Its own module: the client loads only this of it.
import { readlinkSync, statSync } from 'node:fs';

export interface Placement {
  net: string;
  mnt: string;
  /** dev:inode of the dist/ directory the code runs from (a rebuild swaps the directory) */
  build: string;
}

/** This process's placement; `distDir` is the directory of the built code it runs. */
export function placementOf(distDir: string): Placement {
  const st = statSync(distDir);
  return { net: readlinkSync('/proc/self/ns/net'), mnt: readlinkSync('/proc/self/ns/mnt'), build: `${st.dev}:${st.ino}` };
}

/** Why a daemon placed as `ours` must not run a request placed as `theirs`, if it must not. */
export function misplaced(ours: Placement, theirs: Placement): string | undefined {
  if (theirs.build !== ours.build) return 'the daemon runs another build of tsnet';
  if (theirs.net !== ours.net) return 'the daemon is in another network namespace';
  if (theirs.mnt !== ours.mnt) return 'the daemon is in another mount namespace';
  return undefined;
}
