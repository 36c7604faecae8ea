// Bundles the CLI and the library into dist/ with esbuild: one parse instead of hundreds of module
// loads keeps start-up close to bare Node. Commands stay in their own chunks (lazy imports).
import { build } from 'esbuild';

await build({
  entryPoints: { tsnet: 'src/cli/main.ts', lib: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  chunkNames: 'chunks/[name]-[hash]',
  // Bundled CommonJS dependencies (pino) still call require() for node builtins.
  banner: { js: "import { createRequire as __tsnetCreateRequire } from 'node:module'; const require = __tsnetCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
