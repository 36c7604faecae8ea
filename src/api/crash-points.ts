// Named points where the crash-safety tests kill tsnet with SIGKILL (TSNET_CRASH_AT=<point>), to
// prove that `tsnet prune` cleans up whatever a dying create or rm leaves at that step.
import type { Deps } from '../deps.js';

export const CRASH_POINTS = [
  'create:claimed', 'create:recorded', 'create:reserved', 'create:files', 'create:namespaces',
  'create:ipnetns', 'create:veth', 'create:configured', 'rm:marked', 'rm:veth',
] as const;

export function crashPoint(deps: Pick<Deps, 'crashAt'>, name: (typeof CRASH_POINTS)[number]): void {
  if (deps.crashAt === name) process.kill(process.pid, 'SIGKILL');
}
