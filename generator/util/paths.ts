/**
 * Output paths checked before any work starts (a bad --out used to surface as a stack
 * trace after minutes of computation), and file-system errors on user paths turned into
 * messages that say which path and what to do (exit 2).
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from './errors';

/** Virtual file systems: writing there replaces a device or fails halfway. */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

function under(root: string, p: string): boolean {
  return p === root || p.startsWith(`${root}/`);
}

/** The path with its existing symlinks resolved (as far as it exists), so that writes
 * happen beside the real target, on its file system. */
export function realOutputPath(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realOutputPath(parent), path.basename(abs));
  }
}

/** The nearest existing folder at or above `p`; throws when that is a file. */
function existingAncestor(p: string, shown: string): string {
  let cur = p;
  while (!fs.existsSync(cur)) cur = path.dirname(cur);
  if (!fs.statSync(cur).isDirectory()) {
    throw new UserError(shown, [`cannot be created: ${cur} is a file, not a folder; choose another path`]);
  }
  return cur;
}

function checkCommon(abs: string, shown: string): void {
  const root = under('/dev/shm', abs) ? undefined : VIRTUAL_ROOTS.find((r) => under(r, abs));
  if (root) throw new UserError(shown, [`is under ${root}, a virtual file system m3vit-gen does not write to; choose a path elsewhere`]);
  const parent = existingAncestor(path.dirname(abs), shown);
  try {
    fs.accessSync(parent, fs.constants.W_OK);
  } catch {
    throw new UserError(shown, [`cannot be written: no write permission in ${parent}; choose another path or fix the folder's permissions`]);
  }
}

/** A file m3vit-gen will write (atomically, beside it): not a folder, not a device, its folder writable. */
export function checkOutputFile(file: string, shown = file): string {
  const abs = realOutputPath(file);
  checkCommon(abs, shown);
  if (fs.existsSync(abs)) {
    const st = fs.statSync(abs);
    if (st.isDirectory()) throw new UserError(shown, ['is a folder; give the name of the file to write']);
    if (!st.isFile()) throw new UserError(shown, ['exists and is not a regular file (a device, FIFO or socket); give the name of a file to write']);
  }
  return abs;
}

/** A folder m3vit-gen will write (by creating a sibling and renaming it): not a file, its parent writable. */
export function checkOutputFolder(dir: string, shown = dir): string {
  const abs = realOutputPath(dir);
  if (path.dirname(abs) === abs) throw new UserError(shown, ['is the root folder; choose an output folder below it']);
  checkCommon(abs, shown);
  if (!fs.existsSync(abs)) return abs;
  const st = fs.statSync(abs);
  if (!st.isDirectory()) throw new UserError(shown, ['exists and is not a folder; choose another output folder with --out']);
  if (st.dev !== fs.statSync(path.dirname(abs)).dev) {
    throw new UserError(shown, [
      'is a mount point: m3vit-gen replaces its output folder by renaming a new one over it, which a mount point does not allow; choose a folder inside it with --out',
    ]);
  }
  return abs;
}

const HINTS: Record<string, string> = {
  EACCES: 'permission denied: fix the permissions or choose another path',
  EPERM: 'operation not permitted: fix the permissions or choose another path',
  EROFS: 'the file system is read-only: choose another path',
  ENOSPC: 'the disk is full: free some space or choose another path',
  EDQUOT: 'the disk quota is exceeded: free some space or choose another path',
  EBUSY: 'the folder is busy or a mount point (it cannot be renamed): choose a folder inside it with --out',
  EXDEV: 'it is on another file system than its temporary sibling: choose a folder on one file system',
  ENOTDIR: 'a part of the path is a file, not a folder: choose another path',
  EISDIR: 'it is a folder: give a file name',
  ENAMETOOLONG: 'the path is too long: choose a shorter one',
  EMFILE: 'too many open files: close some programs and try again',
};

/** Runs a file-system step on a user path; its errors become a UserError naming the path. */
export function onUserPath<T>(shown: string, doing: string, step: () => T): T {
  try {
    return step();
  } catch (e) {
    throw fsUserError(e, shown, doing);
  }
}

export function fsUserError(e: unknown, shown: string, doing: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !/^E[A-Z]+$/.test(code)) return e; // not a file-system error: a bug, keep its trace
  const where = (e as NodeJS.ErrnoException).path;
  const at = where && path.resolve(where) !== path.resolve(shown) ? ` (at ${where})` : '';
  return new UserError(shown, [`cannot ${doing}${at}: ${code}, ${HINTS[code] ?? (e as Error).message}`]);
}

/**
 * How every message and summary names a path: relative to the working folder when it is
 * below it, else absolute (so a path is shown the same way whichever stage reports it).
 */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}
