// Library entry: what other programs (and bench/) use instead of the CLI.
export { makeDeps, type Deps, type DepsOptions } from './deps.js';
export { createContainer } from './api/create.js';
export { removeContainer } from './api/remove.js';
export { listContainers, findContainer } from './state/lookup.js';
export { prune, type PruneReport } from './api/prune.js';
export { TsnetError, isTsnetError } from './errors.js';
export type { CreateRequest } from './config/validate.js';
export type { ContainerRecord, NetworkRecord } from './state/records.js';
