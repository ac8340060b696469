#!/usr/bin/env node
// Entry point of `npx m3vit-gen`: runs the compiled CLI (npm ci builds dist/ via "prepare").
'use strict';
let cli;
try {
  cli = require('../dist/generator/cli.js');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('dist/generator/cli')) {
    process.stderr.write('m3vit-gen: not built yet; run `npm ci` (or `npm run build`) in the package folder first.\n');
    process.exit(2);
  }
  throw e;
}
cli.main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { console.error(e); process.exitCode = 1; },
);
