// The CNI plugin's own entry (dist/cni-plugin-body.cjs, which the loader a runtime runs compiles):
// the plugin alone, without the CLI's argument parser and command table. A runtime runs it once
// per ADD and DEL, so its start-up is the plugin's cost (bench/create.mjs, docs/benchmarks.md).
import { runPlugin } from './cni-plugin.js';

void runPlugin((text) => process.stdout.write(text)).then((code) => {
  process.exitCode = code;
});
