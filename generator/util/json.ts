/**
 * The one JSON reader of every JSON input (config, safetensors header, report inputs):
 * UTF-8 checked (a Latin-1 file would otherwise put U+FFFD into generated files), syntax
 * checked by an iterative scan (no recursion, so 200,000 unclosed `[` is one message, not a
 * stack overflow), nesting bounded, duplicate keys refused (JSON.parse silently keeps the
 * last). Problems name file:line:col and what is allowed.
 */
import { UserError } from './errors';
import { decodeUtf8, readUserFile, type InputKind } from './read-file';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Far deeper than any input of ours (a config nests 4 levels); bounds the scan's stack. */
export const MAX_JSON_DEPTH = 64;

/** A problem at a character offset of the text. */
export interface JsonProblem {
  offset: number;
  message: string;
}

/** Reads and parses a JSON file of the given kind (size limit and regular-file check included). */
export function readJsonFile(file: string, kind: InputKind, shown = file): Json {
  return parseJsonBytes(readUserFile(file, kind, shown), shown);
}

/** Decodes UTF-8 bytes and parses them as JSON; problems are UserErrors naming `file:line:col`. */
export function parseJsonBytes(bytes: Uint8Array, file: string): Json {
  return parseJsonText(file, decodeUtf8(bytes, file));
}

/** Parses JSON text; syntax errors, too deep nesting and duplicate keys name `file:line:col`. */
export function parseJsonText(file: string, text: string): Json {
  // Editors on Windows may start a UTF-8 file with a byte-order mark, which JSON.parse rejects.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const problem = findJsonProblem(text);
  if (problem) {
    const { line, col } = lineCol(text, problem.offset);
    throw new UserError(`${file}:${line}:${col}`, [problem.message]);
  }
  return JSON.parse(text) as Json;
}

interface Container {
  isObject: boolean;
  /** JSON pointer of the container. */
  path: string;
  /** Keys seen so far and the offset of each. */
  keys: Map<string, number>;
  key?: string;
  index: number;
}

/**
 * The first problem in `text` (RFC 8259 syntax, nesting beyond `maxDepth`, a key repeated in
 * one object), or undefined when JSON.parse will read it as written. Iterative: the
 * containers being read are on an explicit stack.
 */
export function findJsonProblem(text: string, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const n = text.length;
  let i = 0;
  const stack: Container[] = [];
  const found = (at: number): string => (at >= n ? 'the end of the file' : text[at] < ' ' ? JSON.stringify(text[at]) : `'${text[at]}'`);
  const problem = (message: string, at = i): JsonProblem => ({ offset: at, message: `invalid JSON: ${message}` });
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  let state: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    ws();
    const top = stack[stack.length - 1];
    if (state === 'value') {
      const c = text[i];
      if (c === '{' || c === '[') {
        if (stack.length >= maxDepth) return problem(`nested deeper than ${maxDepth} arrays and objects`);
        i++;
        ws();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          state = 'after';
          continue;
        }
        stack.push({ isObject: c === '{', path: top ? childPath(top) : '', keys: new Map(), index: 0 });
        state = c === '{' ? 'key' : 'value';
        continue;
      }
      const bad = scalar(text, i, found);
      if (typeof bad !== 'number') return bad;
      i = bad;
      state = 'after';
      continue;
    }
    if (state === 'key') {
      if (text[i] !== '"') return problem(`expected a double-quoted property name, found ${found(i)}`);
      const start = i;
      const end = stringEnd(text, i);
      if (typeof end !== 'number') return end;
      i = end;
      const key = JSON.parse(text.slice(start, end)) as string;
      const first = top.keys.get(key);
      if (first !== undefined) {
        return { offset: start, message: `${childPath({ ...top, key })}: duplicate key ${JSON.stringify(key)} (first written at line ${lineCol(text, first).line}); each key may appear once in an object` };
      }
      top.keys.set(key, start);
      top.key = key;
      ws();
      if (text[i] !== ':') return problem(`expected ':' after the property name, found ${found(i)}`);
      i++;
      state = 'value';
      continue;
    }
    if (!top) return i < n ? problem(`unexpected ${found(i)} after the end of the JSON value`) : undefined;
    if (text[i] === ',') {
      i++;
      top.index++;
      state = top.isObject ? 'key' : 'value';
    } else if (text[i] === (top.isObject ? '}' : ']')) {
      i++;
      stack.pop();
    } else {
      return problem(top.isObject ? `expected ',' or '}' after a property value, found ${found(i)}` : `expected ',' or ']' after an array element, found ${found(i)}`);
    }
  }
}

/** The JSON pointer of the value being read in `c`. */
function childPath(c: Pick<Container, 'isObject' | 'path' | 'key' | 'index'>): string {
  return `${c.path}/${c.isObject ? c.key!.replace(/~/g, '~0').replace(/\//g, '~1') : c.index}`;
}

/** Reads a string, number or literal at `i`: the offset after it, or the problem. */
function scalar(text: string, i: number, found: (at: number) => string): number | JsonProblem {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
    const m = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r || r[0] === '-') return { offset: i, message: 'invalid JSON: invalid number' };
    return i + r[0].length;
  }
  for (const lit of ['true', 'false', 'null']) if (text.startsWith(lit, i)) return i + lit.length;
  return { offset: i, message: `invalid JSON: expected a value, found ${found(i)}` };
}

/** The offset after the string that starts at `i` (its opening quote), or the problem. */
function stringEnd(text: string, i: number): number | JsonProblem {
  const bad = (message: string, at: number): JsonProblem => ({ offset: at, message: `invalid JSON: ${message}` });
  i++;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return i + 1;
    if (c === '\\') {
      const e = text[i + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return bad('\\u must be followed by 4 hex digits', i);
        i += 6;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
        i += 2;
      } else {
        return bad(`invalid escape \\${e ?? ''} in a string`, i);
      }
    } else if (c < ' ') {
      return bad(c === '\n' ? 'string not closed before the end of the line' : 'control character in a string', i);
    } else {
      i++;
    }
  }
  return bad('string not closed before the end of the file', i);
}

export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return { line, col: offset - lineStart + 1 };
}
