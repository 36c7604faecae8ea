#!/usr/bin/env node
// CommonJS (bin/package.json): loading the CLI from an ES module cost 12 ms of every run (measured
// on `tsnet ls`: 140 ms against 128 for dist/tsnet.js itself, node -e 0 at 99).
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'tsnet.js');
// the body: a dist/ built before the CLI was one (an ES-module tsnet.js) needs a build too
if (!existsSync(join(__dirname, '..', 'dist', 'tsnet-body.cjs'))) {
  process.stderr.write('tsnet: not built yet: run `npm run build` in the tsnet checkout\n');
  process.exit(2);
}
require(entry);
