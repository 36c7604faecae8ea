// Finding containers by name or id prefix.
import { TsnetError } from '../errors.js';
import { validateName } from '../config/validate.js';
import * as store from './store.js';
import type { ContainerRecord } from './records.js';
import type { Paths } from './paths.js';

export interface ListedContainer {
  name: string;
  /** undefined when the record is missing or unreadable (prune cleans those) */
  record: ContainerRecord | undefined;
  problem?: string;
}

export function listContainers(paths: Paths): ListedContainer[] {
  return store.listContainerNames(paths).map((name) => {
    try {
      const record = store.readContainer(paths, name);
      return record ? { name, record } : { name, record: undefined, problem: 'no record' };
    } catch (err) {
      return { name, record: undefined, problem: (err as Error).message };
    }
  });
}

/** A container by exact name, else by unique id prefix. */
export function findContainer(paths: Paths, ref: string): ContainerRecord {
  validateName(ref); // before the disk: a name or an id prefix, never a path
  const byName = store.readContainer(paths, ref);
  if (byName) return byName;
  const matches = listContainers(paths).filter((c) => c.record?.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!.record!;
  if (matches.length > 1) {
    throw new TsnetError('TSNET_USAGE', `"${ref}" matches ${matches.length} containers`, { hint: 'use the full name' });
  }
  throw new TsnetError('TSNET_NOT_FOUND', `no such container "${ref}"`, { hint: 'see `tsnet ls` for the containers' });
}
