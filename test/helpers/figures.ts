/**
 * Figures that tests measure (error bounds reached, counts, chart sizes): collected into one
 * summary that `make test` prints once at the end (test/helpers/figures-summary.js), instead
 * of console.log blocks that jest shows with a source location, like stack traces.
 * Each jest worker appends to a file in the folder the global setup named.
 */
import * as fs from 'fs';
import * as path from 'path';

export const FIGURES_DIR_ENV = 'M3VIT_FIGURES_DIR';

export function figure(text: string): void {
  const dir = process.env[FIGURES_DIR_ENV];
  if (!dir) return; // a run without the global setup (e.g. another runner): figures are dropped
  const file = path.basename(expect.getState().testPath ?? 'unknown', '.test.ts');
  fs.appendFileSync(path.join(dir, `${file}.txt`), `${text}\n`);
}
