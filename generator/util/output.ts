/**
 * Writing a generated folder all at once: files go to a temporary sibling folder that is
 * renamed over the target only when every file has been written, so a failure leaves
 * either the previous output or nothing, never half a project (DESIGN.md invariant 6).
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from './errors';

/** Marker file that says a folder was written by m3vit-gen (and may be replaced by it). */
export const OUTPUT_MARKER = '.m3vit-gen';

export interface OutputFile {
  /** Path relative to the output folder, with forward slashes. */
  path: string;
  contents: string | Uint8Array;
  executable?: boolean;
}

/** Refuses to replace a folder that m3vit-gen did not write, unless forced; `option` names the flag that chose the folder. */
export function checkReplaceable(outDir: string, force: boolean, option = '--out'): void {
  if (!fs.existsSync(outDir)) return;
  const stat = fs.statSync(outDir);
  if (!stat.isDirectory()) {
    throw new UserError(outDir, [`exists and is not a folder; choose another output folder with ${option}`]);
  }
  const empty = fs.readdirSync(outDir).length === 0;
  if (!empty && !fs.existsSync(path.join(outDir, OUTPUT_MARKER)) && !force) {
    throw new UserError(outDir, [
      `exists and was not written by m3vit-gen; refusing to replace it (use --force to replace it anyway, or choose another ${option})`,
    ]);
  }
}

/**
 * Writes all files into `outDir`, replacing it. Files that the previous generation wrote
 * but that are build products (listed in `keep`, e.g. csim binaries or HLS runs) are
 * carried over so that regenerating does not throw away hours of synthesis.
 */
export function writeOutputFolder(outDir: string, files: OutputFile[], keep: string[] = []): void {
  const parent = path.dirname(path.resolve(outDir));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(outDir)}.tmp-`));
  try {
    for (const f of files) {
      const dest = path.join(tmp, f.path);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, f.contents);
      if (f.executable) fs.chmodSync(dest, 0o755);
    }
    fs.writeFileSync(path.join(tmp, OUTPUT_MARKER), 'This folder was written by m3vit-gen and is replaced when it regenerates.\n');
    if (fs.existsSync(outDir)) {
      for (const k of keep) {
        const from = path.join(outDir, k);
        if (fs.existsSync(from) && !fs.existsSync(path.join(tmp, k))) {
          fs.mkdirSync(path.dirname(path.join(tmp, k)), { recursive: true });
          fs.renameSync(from, path.join(tmp, k));
        }
      }
      const old = `${tmp}.old`;
      fs.renameSync(outDir, old);
      fs.renameSync(tmp, outDir);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, outDir);
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Writes one file atomically (temporary name in the same folder, then rename). */
export function writeFileAtomic(file: string, contents: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, contents);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
