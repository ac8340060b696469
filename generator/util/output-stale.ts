/**
 * What killed runs leave beside an output folder (and inside it, for golden/), and how
 * m3vit-gen finds and clears it: temporary folders are named `.NAME.tmp-<pid>-<hex>` (being
 * written) and `.NAME.old-<pid>-<hex>` (the previous output being replaced), and carry a
 * marker while they may be thrown away.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { pidAlive } from './output-lock';
import { OUTPUT_MARKER, PARTIAL_MARKER, readManifest, unaccountedFiles } from './output-manifest';

/** `.NAME.tmp-<pid>-<hex>` (being written) and `.NAME.old-<pid>-<hex>` (the previous output being replaced). */
export function siblingName(dir: string, kind: 'tmp' | 'old'): string {
  return path.join(path.dirname(dir), `.${path.basename(dir)}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
}
const STALE_RE = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]+$/;
/** Temporary folders of versions before the lock: `.NAME.tmp-XXXXXX` and `.NAME.tmp-XXXXXX.old`. */
const LEGACY_RE = /^\.(.+)\.tmp-[A-Za-z0-9]{6}(\.old)?$/;

/**
 * Removes what killed runs left in `parent` for the folder `base` (any folder when undefined):
 * temporary folders carrying m3vit-gen's marker; previous outputs (`.old`) are renamed back
 * when the folder is missing, else their kept build products are moved back into it and they
 * are removed if their manifest accounts for everything in them. Anything else is left, with a note.
 */
export function cleanStale(parent: string, base: string | undefined, dir: string | undefined, keep: string[]): void {
  for (const name of fs.readdirSync(parent)) {
    const m = STALE_RE.exec(name);
    const legacy = m ? undefined : LEGACY_RE.exec(name);
    if (!m && !legacy) continue;
    if ((m?.[1] ?? legacy![1]) !== (base ?? m?.[1] ?? legacy![1])) continue;
    if (m && Number(m[3]) !== process.pid && pidAlive(Number(m[3]))) continue;
    const stale = path.join(parent, name);
    if (!fs.statSync(stale).isDirectory()) continue;
    const isOld = m ? m[2] === 'old' : legacy![2] !== undefined;
    if (dir && isOld && !fs.existsSync(dir)) {
      fs.renameSync(stale, dir); // a run died between its two renames: the previous output comes back
      continue;
    }
    if (dir) moveKept(stale, dir, keep);
    if (removable(stale, isOld)) fs.rmSync(stale, { recursive: true, force: true });
    else process.stderr.write(`note: left ${stale}: an earlier run's folder holding files m3vit-gen cannot account for; remove it yourself once you have checked it\n`);
  }
}

/** A folder being discarded or written carries the partial marker; a temporary folder of
 * an older version its marker; a previous output must be proven by its manifest. */
function removable(stale: string, isOld: boolean): boolean {
  if (fs.existsSync(path.join(stale, PARTIAL_MARKER))) return true;
  if (!isOld) return fs.existsSync(path.join(stale, OUTPUT_MARKER));
  const mf = readManifest(stale);
  if (!mf) return false;
  const u = unaccountedFiles(stale, mf);
  return u.unlisted.length + u.changed.length === 0;
}

/** Moves `keep` entries from `from` into `to` where `to` has none. */
export function moveKept(from: string, to: string, keep: string[]): void {
  for (const k of keep) {
    const src = path.join(from, k);
    const dest = path.join(to, k);
    if (fs.existsSync(src) && !fs.existsSync(dest)) {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.renameSync(src, dest);
    }
  }
}

/** Removes a replaced folder, marked first so that a crash halfway lets the next run finish the job. */
export function discard(old: string): void {
  fs.writeFileSync(path.join(old, PARTIAL_MARKER), '');
  fs.rmSync(old, { recursive: true, force: true });
}
