import { requireRoot } from './privileges.js';
import { crashPoint } from './crash-points.js';
import { notifyStub } from '../stub/control.js';
import { findContainer } from '../state/lookup.js';
import { teardownContainer } from './teardown.js';
import { existsSync } from 'node:fs';
import * as store from '../state/store.js';
import type { Deps } from '../deps.js';
import { TsnetError } from '../errors.js';
import { validateName } from '../config/validate.js';

/** tsnet rm: marks the record as being removed (so a crash mid-way is visible to prune), then tears down. */
export async function removeContainer(ref: string, deps: Deps): Promise<string> {
  requireRoot('rm');
  validateName(ref);
  const unusable = unusableRecord(deps, ref);
  if (unusable !== undefined) {
    // A create that died before writing its record, or a record edited or damaged by hand: what
    // belongs to the name is found from the name alone.
    deps.log.warn({ container: ref, record: unusable }, 'removing by name');
    teardownContainer(deps, { name: ref, record: undefined });
    return ref;
  }
  const record = findContainer(deps.paths, ref);
  if (record.status === 'creating' && store.isOwnerAlive(record.owner)) {
    throw new TsnetError('TSNET_CONFLICT', `container "${record.name}" is being created by process ${record.owner!.pid}`, {
      hint: 'wait for that create to finish, then remove it',
    });
  }
  record.status = 'removing';
  record.owner = { pid: process.pid, start: store.processStart(process.pid) ?? '' };
  store.writeContainer(deps.paths, record);
  crashPoint(deps, 'rm:marked');
  teardownContainer(deps, { name: record.name, record });
  if (record.dns.stubActive) await notifyStub(deps);
  deps.log.info({ container: record.name }, 'container removed');
  return record.name;
}

/** Why the named container's directory has no usable record (undefined: it has one, or no directory). */
function unusableRecord(deps: Deps, name: string): string | undefined {
  if (!existsSync(deps.paths.containerDir(name))) return undefined;
  try {
    return store.readContainer(deps.paths, name) ? undefined : 'no record';
  } catch (err) {
    return (err as Error).message;
  }
}
