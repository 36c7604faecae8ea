// Where the built program's files are. The bundles in dist/ start other tsnet processes (the stub
// daemon, the demo's CLI) and `tsnet cni install` points a runtime at the plugin's bundle: each
// finds the file from where its own code runs — dist/ (a bundle) or src/ (the sources, under the
// test runner).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TsnetError } from './errors.js';

/** dist/tsnet.js: the CLI's loader (cli-loader.ts); dist/cni-plugin.cjs: the CNI plugin's own lean entry. */
export type BuiltEntry = 'tsnet.js' | 'cni-plugin.cjs';

export function builtEntry(file: BuiltEntry): string {
  for (const candidate of [`./${file}`, `../dist/${file}`]) {
    const p = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new TsnetError('TSNET_SYSTEM', `cannot find the built ${file}`, { hint: 'run `npm run build` in the tsnet checkout' });
}
