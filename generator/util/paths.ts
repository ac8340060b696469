import * as path from 'path';

/**
 * How every message and summary names a path: relative to the working folder when it is
 * below it, else absolute (so a path is shown the same way whichever stage reports it).
 */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}
