/**
 * Writing a generated folder all at once: files go to a temporary sibling folder that is
 * renamed over the target only when every file has been written, so a failure leaves
 * either the previous output or nothing, never half a project (DESIGN.md invariant 6).
 *
 * Before any work, `prepareOutputFolder` checks the path, refuses a folder holding the
 * run's own inputs (config, model, weights) even with --force, takes the folder's lock,
 * cleans up after earlier killed runs, and refuses a folder whose manifest does not
 * account for everything in it (unless --force).
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from './errors';
import { lockOutput } from './output-lock';
import { manifestText, OUTPUT_MARKER, PARTIAL_MARKER, readManifest, sha256, unaccountedFiles } from './output-manifest';
import { cleanStale, discard, moveKept, siblingName } from './output-stale';
import { checkOutputFolder, fsUserError, onUserPath } from './paths';
import { withSignalsHeld } from './signals';

export { OUTPUT_MARKER } from './output-manifest';
export { checkOutputFile } from './paths';

export interface OutputFile {
  /** Path relative to the output folder, with forward slashes. */
  path: string;
  contents: string | Uint8Array;
  executable?: boolean;
}

export interface OutputGuardOptions {
  force: boolean;
  /** The run's inputs, with what they are ("the config"): never inside the folder replaced. */
  inputs: Array<{ file: string; what: string }>;
  /** Build products inside the folder (see OutputManifest.products). */
  products: string[];
  /** Folders an earlier killed run may have left behind to recover (build/, deploy/). */
  keep: string[];
  /** How to name the folder in messages. */
  shown: string;
}

export interface PreparedOutput {
  /** Absolute real path of the folder. */
  dir: string;
  /** What the folder was: absent or empty, m3vit-gen's (its manifest accounts for all),
   * written by an older m3vit-gen (a marker without a file list: checked against the files
   * this run writes, once they are known), or forced. */
  state: 'new' | 'ours' | 'legacy' | 'forced';
  release(): void;
}

/** Every check and the lock, before the work starts. Call `release()` when done. */
export function prepareOutputFolder(outDir: string, o: OutputGuardOptions): PreparedOutput {
  const dir = checkOutputFolder(outDir, o.shown);
  checkInputsOutside(dir, o);
  const created = onUserPath(path.dirname(dir), 'create the folder', () => fs.mkdirSync(path.dirname(dir), { recursive: true }));
  const lock = onUserPath(o.shown, 'take the lock beside it', () => lockOutput(dir, o.shown));
  const release = (): void => {
    lock.release();
    if (!fs.existsSync(dir) && created) removeEmptyUpTo(path.dirname(dir), created);
  };
  try {
    cleanStale(path.dirname(dir), path.basename(dir), dir, o.keep);
    if (fs.existsSync(dir)) cleanStale(dir, undefined, undefined, []);
    return { dir, state: replaceableState(dir, o), release };
  } catch (e) {
    release();
    throw fsUserError(e, o.shown, 'check the output folder');
  }
}

/** A run that wrote nothing leaves no folders behind: removes the empty folders it created, `from` up to `top`. */
function removeEmptyUpTo(from: string, top: string): void {
  for (let d = from; inside(top, d); d = path.dirname(d)) {
    try {
      fs.rmdirSync(d);
    } catch {
      return; // not empty (someone else's now) or gone
    }
    if (d === top) return;
  }
}

function inside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** --out at or above the config's folder (or holding the model or weights) would delete them. */
function checkInputsOutside(dir: string, o: OutputGuardOptions): void {
  for (const input of o.inputs) {
    const real = fs.existsSync(input.file) ? fs.realpathSync(input.file) : path.resolve(input.file);
    for (const p of new Set([real, path.resolve(input.file)])) {
      if (inside(dir, p) || inside(dir, path.dirname(p))) {
        throw new UserError(o.shown, [
          `would delete ${input.what} ${p} (${inside(dir, p) ? 'it is inside this folder' : 'its folder is this folder or inside it'}); choose an --out that does not contain it (--force does not change this)`,
        ]);
      }
    }
  }
}

function replaceableState(dir: string, o: OutputGuardOptions): PreparedOutput['state'] {
  if (!fs.existsSync(dir) || fs.readdirSync(dir).length === 0) return 'new';
  const m = readManifest(dir);
  if (!m) {
    if (o.force) return 'forced';
    if (fs.existsSync(path.join(dir, OUTPUT_MARKER))) return 'legacy';
    throw new UserError(o.shown, ['exists and was not written by m3vit-gen; refusing to replace it (use --force to replace it anyway, or choose another --out)']);
  }
  const { unlisted, changed } = unaccountedFiles(dir, m);
  if (unlisted.length + changed.length === 0) return 'ours';
  if (o.force) return 'forced';
  const parts = [
    unlisted.length > 0 ? `files m3vit-gen did not write (${few(unlisted)})` : '',
    changed.length > 0 ? `files changed since m3vit-gen wrote them (${few(changed)})` : '',
  ].filter((s) => s !== '');
  throw new UserError(o.shown, [
    `holds ${parts.join(' and ')}; refusing to replace it (move them out, use --force to replace the folder anyway, or choose another --out)`,
  ]);
}

/** A folder with an older version's bare marker is replaced only when everything in it (below
 * `under`, if given) is a file this run writes or a build product: a marker alone proves nothing. */
function checkLegacyFolder(dir: string, files: OutputFile[], o: Pick<OutputGuardOptions, 'products' | 'shown'>, under?: string[]): void {
  const { unlisted } = unaccountedFiles(dir, { files: Object.fromEntries(files.map((f) => [f.path, ''])), products: o.products });
  const mine = unlisted.filter((f) => !under || under.some((u) => f.startsWith(`${u}/`)));
  if (mine.length === 0) return;
  throw new UserError(o.shown, [
    `has a ${OUTPUT_MARKER} marker without a file list (an older m3vit-gen, or not m3vit-gen) and files this generation does not write (${few(mine)}); refusing to replace it (move them out, use --force to replace it anyway, or choose another --out)`,
  ]);
}

function few(xs: string[]): string {
  return xs.slice(0, 5).join(', ') + (xs.length > 5 ? ` and ${xs.length - 5} more` : '');
}

/** A new folder with the umask's mode (mkdtemp would make it 0700), its name unique. */
function makeFolder(p: string): void {
  fs.mkdirSync(p, { mode: 0o777 });
}

function writeFiles(root: string, files: OutputFile[]): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const f of files) {
    const dest = path.join(root, f.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, f.contents);
    if (f.executable) fs.chmodSync(dest, 0o755);
    hashes[f.path] = sha256(f.contents);
  }
  return hashes;
}

/**
 * Writes all files into the prepared folder, replacing it. Build products of the previous
 * generation listed in `keep` (HLS runs, bitstreams) are moved into the new folder after
 * the swap: a crash at any point leaves them in the folder or in the `.old` sibling that
 * the next run moves them back from.
 */
export function writeOutputFolder(out: PreparedOutput, files: OutputFile[], o: Pick<OutputGuardOptions, 'keep' | 'products' | 'shown'>): void {
  const dir = out.dir;
  if (out.state === 'legacy') checkLegacyFolder(dir, files, o);
  withSignalsHeld(() => {
    const tmp = siblingName(dir, 'tmp');
    try {
      makeFolder(tmp);
      fs.writeFileSync(path.join(tmp, PARTIAL_MARKER), '');
      const hashes = writeFiles(tmp, files);
      fs.writeFileSync(path.join(tmp, OUTPUT_MARKER), manifestText({ files: hashes, products: o.products }));
      fs.rmSync(path.join(tmp, PARTIAL_MARKER));
      if (!fs.existsSync(dir)) {
        fs.renameSync(tmp, dir);
        return;
      }
      const old = siblingName(dir, 'old');
      fs.renameSync(dir, old);
      try {
        fs.renameSync(tmp, dir);
      } catch (e) {
        fs.renameSync(old, dir);
        throw e;
      }
      moveKept(old, dir, o.keep);
      discard(old);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw fsUserError(e, o.shown, 'write the output folder');
    }
  });
}

/**
 * Writes `files` into the prepared folder without replacing it: each folder in `replaceDirs`
 * (e.g. golden/) is swapped in whole, other files atomically one by one. The manifest
 * records them when the folder is m3vit-gen's or was empty; a folder forced open keeps no
 * manifest, so that it never becomes replaceable by this.
 */
export function writeIntoOutputFolder(out: PreparedOutput, files: OutputFile[], replaceDirs: string[], o: Pick<OutputGuardOptions, 'products' | 'shown'>): void {
  const dir = out.dir;
  if (out.state === 'legacy') checkLegacyFolder(dir, files, o, replaceDirs);
  withSignalsHeld(() => {
    try {
      if (!fs.existsSync(dir)) makeFolder(dir);
      const manifest = out.state === 'ours' ? readManifest(dir) : out.state === 'new' ? { files: {}, products: o.products } : undefined;
      for (const sub of replaceDirs) {
        const prefix = `${sub}/`;
        const mine = files.filter((f) => f.path.startsWith(prefix));
        const hashes = replaceSubfolder(path.join(dir, sub), mine.map((f) => ({ ...f, path: f.path.slice(prefix.length) })));
        if (!manifest) continue;
        for (const k of Object.keys(manifest.files)) if (k.startsWith(prefix)) delete manifest.files[k];
        for (const [k, h] of Object.entries(hashes)) manifest.files[`${prefix}${k}`] = h;
      }
      for (const f of files.filter((x) => !replaceDirs.some((s) => x.path.startsWith(`${s}/`)))) {
        writeFileAtomic(path.join(dir, f.path), f.contents);
        if (manifest) manifest.files[f.path] = sha256(f.contents);
      }
      if (manifest) writeFileAtomic(path.join(dir, OUTPUT_MARKER), manifestText(manifest));
    } catch (e) {
      throw fsUserError(e, o.shown, 'write into the output folder');
    }
  });
}

function replaceSubfolder(sub: string, files: OutputFile[]): Record<string, string> {
  const tmp = siblingName(sub, 'tmp');
  try {
    makeFolder(tmp);
    fs.writeFileSync(path.join(tmp, PARTIAL_MARKER), '');
    const hashes = writeFiles(tmp, files);
    fs.rmSync(path.join(tmp, PARTIAL_MARKER));
    const old = siblingName(sub, 'old');
    const had = fs.existsSync(sub);
    if (had) fs.renameSync(sub, old);
    fs.renameSync(tmp, sub);
    if (had) discard(old);
    return hashes;
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

/** Writes a file the user named (checked beforehand with checkOutputFile): file-system
 * errors become a message naming it. */
export function writeUserFile(file: string, contents: string | Uint8Array, shown = file): void {
  onUserPath(shown, 'write the file', () => writeFileAtomic(file, contents));
}
