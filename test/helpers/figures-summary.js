/**
 * Jest global setup and teardown for test/helpers/figures.ts: setup makes an empty folder
 * and names it in the environment (workers inherit it); teardown prints every file's
 * figures once, sorted by test file, and removes the folder.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ENV = 'M3VIT_FIGURES_DIR';

module.exports.setup = async () => {
  process.env[ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-figures-'));
};

module.exports.teardown = async () => {
  const dir = process.env[ENV];
  if (!dir || !fs.existsSync(dir)) return;
  const files = fs.readdirSync(dir).sort();
  const blocks = files.map((f) => `${path.basename(f, '.txt')}:\n${fs.readFileSync(path.join(dir, f), 'utf8').replace(/^/gm, '  ').trimEnd()}`);
  if (blocks.length > 0) process.stdout.write(`\nFigures measured by the tests (not checked against these values; the tests assert bounds):\n${blocks.join('\n')}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
};
