/**
 * The files a model description is made of: the entry file and every file it imports by
 * a relative path, transitively. The output-folder guard never lets a generation replace a
 * folder holding one of them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ts } from 'ts-morph';

export function modelSourceFiles(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return; // loading the model has already reported anything unreadable
    }
    for (const imp of ts.preProcessFile(text, true, true).importedFiles) {
      if (!imp.fileName.startsWith('.')) continue; // packages (m3vit-gen) are not the user's files
      const resolved = resolveRelative(path.dirname(file), imp.fileName);
      if (resolved) visit(resolved);
    }
  };
  visit(path.resolve(entry));
  return [...seen];
}

/** How NodeNext finds a relative import: as written, .js written for .ts, or with an extension or index added. */
function resolveRelative(dir: string, spec: string): string | undefined {
  const base = path.resolve(dir, spec);
  const candidates = [base, base.replace(/\.(m|c)?js$/, '.$1ts'), `${base}.ts`, `${base}.d.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
}
