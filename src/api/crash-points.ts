// Named points where the crash-safety tests kill tsnet with SIGKILL (TSNET_CRASH_AT=<point>), to
// prove that `tsnet prune` cleans up whatever a dying create or rm leaves at that step; and where
// the race tests hold a command still (TSNET_STALL_AT=<point>:<ms>) while another one runs.
import type { Deps } from '../deps.js';

export const CRASH_POINTS = [
  'create:claimed', 'create:recorded', 'create:reserved', 'create:files', 'create:namespaces',
  'create:ipnetns', 'create:veth', 'create:configured', 'rm:marked', 'rm:veth',
] as const;

export function crashPoint(deps: Pick<Deps, 'crashAt'>, name: (typeof CRASH_POINTS)[number]): void {
  if (deps.crashAt === name) process.kill(process.pid, 'SIGKILL');
}

export const STALL_POINTS = ['prune:listed'] as const;

export function stallPoint(deps: Pick<Deps, 'stallAt'>, name: (typeof STALL_POINTS)[number]): void {
  if (deps.stallAt?.point !== name) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, deps.stallAt.ms);
}
