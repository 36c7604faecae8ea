// Finding containers by name or id prefix.
import { TsnetError } from '../errors.js';
import * as store from '../state/store.js';
import type { ContainerRecord } from '../state/records.js';
import type { Deps } from '../deps.js';

export interface ListedContainer {
  name: string;
  /** undefined when the record is missing or unreadable (prune cleans those) */
  record: ContainerRecord | undefined;
  problem?: string;
}

export function listContainers(deps: Deps): ListedContainer[] {
  return store.listContainerNames(deps.paths).map((name) => {
    try {
      const record = store.readContainer(deps.paths, name);
      return record ? { name, record } : { name, record: undefined, problem: 'no record' };
    } catch (err) {
      return { name, record: undefined, problem: (err as Error).message };
    }
  });
}

/** A container by exact name, else by unique id prefix. */
export function findContainer(deps: Deps, ref: string): ContainerRecord {
  if (ref !== '' && !ref.includes('/') && ref !== '.' && ref !== '..') {
    const byName = store.readContainer(deps.paths, ref);
    if (byName) return byName;
  }
  const matches = ref.length === 0 ? [] : listContainers(deps).filter((c) => c.record?.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!.record!;
  if (matches.length > 1) {
    throw new TsnetError('TSNET_USAGE', `"${ref}" matches ${matches.length} containers`, { hint: 'use the full name' });
  }
  throw new TsnetError('TSNET_NOT_FOUND', `no such container "${ref}"`, { hint: 'see `tsnet ls` for the containers' });
}
