/**
 * Handlebars rendering for every emitted text artifact. Templates live under templates/
 * (shipped with the package) and hold no logic beyond loops and ifs over view-models that
 * TypeScript prepared; strict mode makes a field missing from a view-model an error rather
 * than an empty string in the generated C++.
 */
import * as fs from 'fs';
import Handlebars from 'handlebars';
import { packageFile } from '../util/package';

const env = Handlebars.create();
const compiled = new Map<string, HandlebarsTemplateDelegate>();

/** Renders templates/<rel> (e.g. "hls/numerics.h.hbs") with `view`. */
export function renderTemplate(rel: string, view: object): string {
  let t = compiled.get(rel);
  if (!t) {
    const src = fs.readFileSync(packageFile(`templates/${rel}`), 'utf8');
    t = env.compile(src, { noEscape: true, strict: true });
    compiled.set(rel, t);
  }
  return t(view);
}

/** A file shipped verbatim (hand-written support code under testbench/ or templates/). */
export function packageText(rel: string): string {
  return fs.readFileSync(packageFile(rel), 'utf8');
}

/** Integers as C initialiser lines, `perLine` values per line, each line ending with a comma. */
export function cIntRows(values: ArrayLike<number>, perLine = 12): string[] {
  const rows: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const chunk: string[] = [];
    for (let j = i; j < Math.min(values.length, i + perLine); j++) chunk.push(cInt(values[j]));
    rows.push(`${chunk.join(', ')},`);
  }
  return rows;
}

/** An integer literal C++ reads with the right type: LL suffix beyond 32 bits. */
export function cInt(v: number): string {
  if (!Number.isSafeInteger(v)) throw new Error(`not an exact integer: ${v}`);
  if (v > 2147483647 || v < -2147483648) return `${v}LL`;
  return String(v);
}

/** A C/C++ string literal holding `s` exactly: printable ASCII as is (with \\ and " escaped),
 * every other byte of its UTF-8 form as a three-digit octal escape, so no input can end the
 * literal, start a comment or a preprocessor line. */
export function cString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (byte >= 0x20 && byte < 0x7f && ch !== '?') out += ch; // '?' too: no trigraphs
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}
