/**
 * `#pragma HLS ...` lines (clang drops unknown pragmas from its AST). They are read from the
 * preprocessed text (`clang++ -E`), so a pragma in an `#if` branch that is not compiled does
 * not count and one a macro expands to does; its file and line come from the line markers.
 * Both spellings Vitis accepts are read: `array_partition variable=x type=cyclic factor=4` and
 * the older `array_partition variable=x cyclic factor=4`.
 */
import * as path from 'path';

export interface HlsPragma {
  file: string;
  line: number;
  /** Lower case: `pipeline`, `unroll`, `inline`, `array_partition`, ... */
  directive: string;
  /** `key=value` options, keys lower case. */
  options: Record<string, string>;
  /** Bare words after the directive, lower case: `off`, `complete`, `function`, ... */
  flags: string[];
  text: string;
}

const PRAGMA_LINE = /^[ \t]*#[ \t]*pragma[ \t]+HLS[ \t]+(.*?)[ \t]*$/i;
const LINE_MARKER = /^# (\d+) "((?:[^"\\]|\\.)*)"/;

/** The pragmas of `preprocessed` (clang++ -E output; relative names resolved from `cwd`). */
export function readPragmas(preprocessed: string, cwd: string): HlsPragma[] {
  const out: HlsPragma[] = [];
  let file = '';
  let line = 1;
  for (const raw of preprocessed.split('\n')) {
    const text = raw.replace(/\r$/, '');
    const marker = LINE_MARKER.exec(text);
    if (marker) {
      file = path.resolve(cwd, marker[2].replace(/\\(.)/g, '$1'));
      line = Number(marker[1]);
      continue;
    }
    const m = PRAGMA_LINE.exec(text);
    if (m) out.push(parsePragma(file, line, m[1]));
    line++;
  }
  return out;
}

function parsePragma(file: string, line: number, body: string): HlsPragma {
  const words = body.replace(/\/\/.*$/, '').trim().split(/\s+/);
  const options: Record<string, string> = {};
  const flags: string[] = [];
  for (const w of words.slice(1)) {
    const eq = w.indexOf('=');
    if (eq > 0) options[w.slice(0, eq).toLowerCase()] = w.slice(eq + 1);
    else flags.push(w.toLowerCase());
  }
  return { file, line, directive: words[0].toLowerCase(), options, flags, text: `#pragma HLS ${body}` };
}

/** The partition / reshape type: `type=` or the bare word. */
export function partitionType(p: HlsPragma): 'complete' | 'cyclic' | 'block' | null {
  const t = (p.options.type ?? p.flags.find((f) => f === 'complete' || f === 'cyclic' || f === 'block'))?.toLowerCase();
  return t === 'complete' || t === 'cyclic' || t === 'block' ? t : null;
}

/** `pipeline` (not `pipeline off`) */
export function isPipelinePragma(p: HlsPragma): boolean {
  return p.directive === 'pipeline' && !p.flags.includes('off') && p.options.off !== 'true';
}

/** A non-negative integer option, or null when absent or not a number. */
export function intOption(p: HlsPragma, key: string): number | null {
  const v = p.options[key];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}
