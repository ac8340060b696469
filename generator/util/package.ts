/** Locating files that ship with the package (schema, templates, testbench support), from
 * the TypeScript sources (tests) and from the compiled dist/ alike. */
import * as fs from 'fs';
import * as path from 'path';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'm3vit-gen') {
      root = dir;
      return dir;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`m3vit-gen package root not found above ${__dirname}`);
    dir = up;
  }
}

export function packageFile(rel: string): string {
  return path.join(packageRoot(), rel);
}

export function packageVersion(): string {
  return JSON.parse(fs.readFileSync(packageFile('package.json'), 'utf8')).version as string;
}
