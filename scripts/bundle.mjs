// Bundles the CLI and the library into dist/ with esbuild: one parse instead of hundreds of module
// loads keeps start-up close to bare Node. Commands stay in their own chunks (lazy imports).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { tsnet: 'src/cli/main.ts', lib: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native (koffi) or loaded lazily on first use (pino): resolved from node_modules at run time.
  external: ['koffi', 'pino'],
  chunkNames: 'chunks/[name]-[hash]',
  // Bundled CommonJS dependencies (pino) still call require() for node builtins.
  banner: { js: "import { createRequire as __tsnetCreateRequire } from 'node:module'; const require = __tsnetCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
