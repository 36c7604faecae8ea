// Finding containers by name or id prefix.
import { statSync } from 'node:fs';
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
  return store.listContainerNames(paths).map((name) => listOne(paths, name));
}

function listOne(paths: Paths, name: string): ListedContainer {
  try {
    const record = store.readContainer(paths, name);
    return record ? { name, record } : { name, record: undefined, problem: 'no record' };
  } catch (err) {
    return { name, record: undefined, problem: (err as Error).message };
  }
}

/**
 * listContainers for a process that lists again and again (the stub re-reads the state on every
 * create and rm): a record is read and checked again only when its file changed. tsnet replaces a
 * record by renaming a new file over it, so a new inode tells; size and mtime catch an edit in
 * place. Measured with 101 stub-mode containers, SIGHUP to the daemon's ready file: 8-17 ms
 * reading every record, 2-7 ms through this cache (and every ADD and rm waits for one).
 */
export class ContainerRecordCache {
  private readonly known = new Map<string, { file: string; record: ContainerRecord }>();

  list(paths: Paths): ListedContainer[] {
    const names = store.listContainerNames(paths);
    const present = new Set(names);
    for (const name of this.known.keys()) if (!present.has(name)) this.known.delete(name);
    return names.map((name) => this.one(paths, name));
  }

  private one(paths: Paths, name: string): ListedContainer {
    let file: string;
    try {
      const st = statSync(paths.record(name), { bigint: true });
      file = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      file = 'unreadable'; // read below, which names the problem
    }
    const hit = this.known.get(name);
    if (hit && hit.file === file && file !== 'unreadable') return { name, record: hit.record };
    this.known.delete(name);
    const listed = listOne(paths, name);
    // stat before read: a record replaced in between is cached under the older identity, so the
    // next listing reads it again (never the reverse)
    if (listed.record) this.known.set(name, { file, record: listed.record });
    return listed;
  }
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
