/**
 * The marker of an output folder (.m3vit-gen) is a manifest: every file m3vit-gen wrote
 * there with its sha256, and the build products (folders and files `make` creates) it may
 * throw away or keep. A folder is m3vit-gen's to replace only when everything in it is in
 * its manifest, unchanged, or a build product: a marker alone proves nothing (issue 13:
 * `golden --force` could plant one and a later run deleted the user's files).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export const OUTPUT_MARKER = '.m3vit-gen';
/** Marks a temporary folder of a run in progress, so that a later run may remove it after a crash. */
export const PARTIAL_MARKER = '.m3vit-gen-partial';
const FORMAT = 'm3vit-gen output manifest 1';

export interface OutputManifest {
  /** Relative path (forward slashes) -> sha256 hex of what m3vit-gen wrote. */
  files: Record<string, string>;
  /** Relative paths of build products: anything below them is not the user's work. */
  products: string[];
}

export function sha256(contents: string | Uint8Array): string {
  return createHash('sha256').update(contents).digest('hex');
}

/** The marker's text: stable (sorted) so that the same inputs give the same bytes. */
export function manifestText(m: OutputManifest): string {
  const files = Object.fromEntries(Object.keys(m.files).sort().map((k) => [k, m.files[k]]));
  const doc = {
    format: FORMAT,
    note: 'This folder was written by m3vit-gen. It replaces the folder when it regenerates only if every file is listed here unchanged (or below a build product); otherwise it asks for --force.',
    products: [...m.products].sort(),
    files,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The manifest of `dir`, or undefined when it has none (or one this version cannot read). */
export function readManifest(dir: string): OutputManifest | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(path.join(dir, OUTPUT_MARKER), 'utf8'));
  } catch {
    return undefined;
  }
  const d = doc as { format?: unknown; files?: unknown; products?: unknown };
  if (d?.format !== FORMAT || typeof d.files !== 'object' || d.files === null || !Array.isArray(d.products)) return undefined;
  const files = d.files as Record<string, unknown>;
  if (!Object.values(files).every((v) => typeof v === 'string') || !d.products.every((p) => typeof p === 'string')) return undefined;
  return { files: files as Record<string, string>, products: d.products as string[] };
}

/** What in `dir` its manifest does not account for: files not listed or changed since written. */
export function unaccountedFiles(dir: string, m: OutputManifest): { unlisted: string[]; changed: string[] } {
  const unlisted: string[] = [];
  const changed: string[] = [];
  const isProduct = (rel: string): boolean => m.products.some((p) => rel === p || rel.startsWith(`${p}/`));
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (r === OUTPUT_MARKER || isProduct(r)) continue;
      if (e.isDirectory()) walk(r);
      else if (!(r in m.files)) unlisted.push(r);
      else if (!e.isFile() || sha256(fs.readFileSync(path.join(dir, r))) !== m.files[r]) changed.push(r);
    }
  };
  walk('');
  return { unlisted: unlisted.sort(), changed: changed.sort() };
}
