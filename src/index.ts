// Library entry: what other programs (and bench/) use instead of the CLI.
import * as lookup from './state/lookup.js';
import type { Deps } from './deps.js';

export { makeDeps, type Deps, type DepsOptions } from './deps.js';
export { createContainer } from './api/create.js';
export { removeContainer } from './api/remove.js';
export { prune, type PruneReport } from './api/prune.js';
export { TsnetError, isTsnetError } from './errors.js';
export type { CreateRequest } from './config/validate.js';
export type { ContainerRecord, NetworkRecord } from './state/records.js';

/** Every container of the root, with what is wrong with the unreadable ones. */
export const listContainers = (deps: Deps) => lookup.listContainers(deps.paths);
/** A container by exact name, else by unique id prefix. */
export const findContainer = (deps: Deps, ref: string) => lookup.findContainer(deps.paths, ref);
