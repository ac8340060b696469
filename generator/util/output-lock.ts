/**
 * One run at a time per output folder: an exclusively created lock file `.NAME.lock` beside
 * the folder holds the pid of the run writing it. Two runs on the same --out used to race
 * (the loser crashed mid-rename and deleted build/); now the second one is told the folder
 * is busy. A lock whose pid is no longer running (a killed run) is removed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from './errors';

export interface OutputLock {
  release(): void;
}

export function lockFileOf(outDir: string): string {
  return path.join(path.dirname(outDir), `.${path.basename(outDir)}.lock`);
}

/** True when a process with this pid exists (EPERM: it exists but is someone else's). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `outDir` (its parent must exist), or throws a UserError naming the busy run. */
export function lockOutput(outDir: string, shown: string): OutputLock {
  const file = lockFileOf(outDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return { release: () => releaseIfOurs(file) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number.parseInt(readOrEmpty(file), 10);
    if (pidAlive(holder) && holder !== process.pid) {
      throw new UserError(shown, [
        `is being written by another m3vit-gen run (pid ${holder}, lock ${path.basename(file)}); wait for it to finish, or choose another --out`,
      ]);
    }
    fs.rmSync(file, { force: true }); // the run that held it is gone
  }
  throw new UserError(shown, [`cannot take the lock ${file}: another run keeps taking it; try again`]);
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function releaseIfOurs(file: string): void {
  if (Number.parseInt(readOrEmpty(file), 10) === process.pid) fs.rmSync(file, { force: true });
}
