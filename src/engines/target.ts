// What a target argument names (diagnose's first argument, resolve --in): a Podman, containerd or
// Docker container reached through its engine, else a tsnet container by name or id prefix. The
// one place of the rule for "target not found": a target that is well formed but not there or not
// reachable (no such tsnet container, one that is not running, the engine not installed or not
// answering, no such runtime container, one that is not running) is a TargetError, exit 3; a
// malformed one (a bad name, a name starting with "-", an unknown engine, an option for another
// engine) is bad input, exit 2.
import { isTsnetError, TargetError } from '../errors.js';
import { findContainer } from '../state/lookup.js';
import { validateName } from '../config/validate.js';
import { findRuntimeContainer, runtimeRef, type RuntimeContainer } from './lookup.js';
import type { ContainerRecord } from '../state/records.js';
import type { Deps } from '../deps.js';

export type FoundTarget = { kind: 'tsnet'; record: ContainerRecord } | { kind: 'runtime'; container: RuntimeContainer };

/** Checks a target argument (and the engine options given with it) without looking it up: TSNET_USAGE, exit 2. */
export function checkTarget(deps: Deps, ref: string): void {
  if (runtimeRef(ref, deps.engines) === undefined) validateName(ref);
}

/** What `ref` names, found: TSNET_USAGE (exit 2) when malformed, TargetError (exit 3) when not there or not reachable. */
export function findTarget(deps: Deps, ref: string): FoundTarget {
  const container = findRuntimeContainer(ref, deps.engines);
  if (container !== undefined) return { kind: 'runtime', container };
  let record: ContainerRecord;
  try {
    record = findContainer(deps.paths, ref);
  } catch (err) {
    if (isTsnetError(err) && err.code === 'TSNET_NOT_FOUND') throw new TargetError(err.code, err.message, err.hint === undefined ? {} : { hint: err.hint });
    throw err;
  }
  if (record.status !== 'running') {
    throw new TargetError('TSNET_NOT_FOUND', `container "${record.name}" is ${record.status}, not running`, { hint: 'see `tsnet ls`' });
  }
  return { kind: 'tsnet', record };
}
