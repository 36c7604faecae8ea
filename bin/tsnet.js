#!/usr/bin/env node
import { existsSync } from 'node:fs';
const entry = new URL('../dist/tsnet.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('tsnet: not built yet: run `npm run build` in the tsnet checkout\n');
  process.exit(2);
}
await import(entry.href);
