// The CNI plugin's body (dist/cni-plugin-body.cjs): the plugin alone, without the CLI's argument
// parser and command table, for the loader a runtime runs (cni-loader.ts) to call in-process when
// no stub daemon takes the request.
export { runPluginRequest } from './cni-plugin.js';
