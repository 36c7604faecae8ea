// Reading a file of another process's filesystem as that process sees it now lives in
// src/ns/in-root.ts, where src/api (resolve --in) and src/engines can use it too; diagnose's
// modules may keep importing it from here.
export { MAX_FILE_BYTES, MAX_SYMLINKS, readFileInRoot, resolveInRoot } from '../ns/in-root.js';
