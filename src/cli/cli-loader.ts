// What `tsnet` runs (dist/tsnet.js): the CLI's bundle (dist/tsnet-body.cjs, CommonJS, one file)
// compiled with a V8 code cache of the command being run (code-cache.ts). Measured on `tsnet
// create`: against the CLI as chunked ES modules, no ES-module linking and no compiling of the
// functions that run, ~30 ms less of a ~185 ms run (docs/benchmarks.md).
import { join } from 'node:path';
import { cacheNameOf } from './cached-commands.js';
import { runCachedBundle } from './code-cache.js';

runCachedBundle(join(__dirname, 'tsnet-body.cjs'), cacheNameOf(process.argv.slice(2), process.execArgv));
