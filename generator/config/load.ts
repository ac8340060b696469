/**
 * Reads a board/build config: JSON syntax, then the JSON Schema (ajv, draft 2020-12, all
 * violations at once), then defaults and absolute paths. Every problem becomes one line
 * "<JSON path>: <what is wrong> (<what is allowed>)" in a single UserError.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import { UserError } from '../util/errors';
import { packageFile } from '../util/package';
import type { BuildConfig, HpPort, RandomInit, Scheduler } from './types';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type SchemaNode = { [k: string]: unknown };

let cachedSchema: SchemaNode | undefined;
export function configSchema(): SchemaNode {
  cachedSchema ??= JSON.parse(fs.readFileSync(packageFile('schema/m3vit-gen.schema.json'), 'utf8')) as SchemaNode;
  return cachedSchema;
}

let cachedValidator: ReturnType<Ajv2020['compile']> | undefined;
function validator(): ReturnType<Ajv2020['compile']> {
  if (!cachedValidator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    cachedValidator = ajv.compile(configSchema());
  }
  return cachedValidator;
}

/** Parses JSON text, reporting syntax errors with line and column. */
export function parseJsonText(file: string, text: string): Json {
  // Editors on Windows may start a UTF-8 file with a byte-order mark, which JSON.parse rejects.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    // Node's messages carry a position for some errors only ("Unexpected token ..." has
    // none), so the position and wording come from a scan of our own.
    const found = findJsonSyntaxError(text);
    if (found) {
      const { line, col } = lineCol(text, found.offset);
      throw new UserError(`${file}:${line}:${col}`, [`invalid JSON: ${found.message}`]);
    }
    throw new UserError(file, [`invalid JSON: ${(e as Error).message}`]);
  }
}

/** The first JSON syntax error in `text` (RFC 8259), or undefined when the text is valid JSON. */
export function findJsonSyntaxError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  const n = text.length;
  class Bad {
    constructor(
      readonly offset: number,
      readonly message: string,
    ) {}
  }
  const found = (at: number): string => (at >= n ? 'the end of the file' : text[at] < ' ' ? JSON.stringify(text[at]) : `'${text[at]}'`);
  const fail = (msg: string, at = i): never => {
    throw new Bad(at, msg);
  };
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('\\u must be followed by 4 hex digits');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          fail(`invalid escape \\${e ?? ''} in a string`);
        }
      } else if (c < ' ') {
        fail(c === '\n' ? 'string not closed before the end of the line' : 'control character in a string');
      } else {
        i++;
      }
    }
    fail('string not closed before the end of the file');
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a double-quoted property name, found ${found(i)}`);
        str();
        ws();
        if (text[i] !== ':') fail(`expected ':' after the property name, found ${found(i)}`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' after a property value, found ${found(i)}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' after an array element, found ${found(i)}`);
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const m = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
      m.lastIndex = i;
      const r = m.exec(text);
      if (!r || r[0] === '-') fail('invalid number');
      i += r![0].length;
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    fail(`expected a value, found ${found(i)}`);
  };
  try {
    value();
    ws();
    if (i < n) fail(`unexpected ${found(i)} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof Bad) return { offset: e.offset, message: e.message };
    throw e;
  }
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return { line, col };
}

/** Loads, validates and resolves a config file. `overrides.outDir` replaces the configured output. */
export function loadConfig(configPath: string, overrides: { outDir?: string } = {}): BuildConfig {
  const configFile = path.resolve(configPath);
  if (!fs.existsSync(configFile)) throw new UserError(configPath, ['config file not found']);
  if (fs.statSync(configFile).isDirectory()) throw new UserError(configPath, ['is a folder; expected a JSON config file']);
  let text: string;
  try {
    text = fs.readFileSync(configFile, 'utf8');
  } catch (e) {
    throw new UserError(configPath, [`cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  const data = parseJsonText(configPath, text);
  const validate = validator();
  if (!validate(data)) {
    const problems = describeSchemaErrors(validate.errors ?? [], data);
    throw new UserError(configPath, problems, `invalid config (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
  return resolveConfig(configFile, data as Record<string, any>, overrides);
}

function resolveConfig(configFile: string, c: Record<string, any>, overrides: { outDir?: string }): BuildConfig {
  const dir = path.dirname(configFile);
  const n = c.numerics;
  const outDir = overrides.outDir
    ? path.resolve(overrides.outDir)
    : path.resolve(dir, c.output ?? path.join('hls-out', c.name));
  return {
    configFile,
    name: c.name,
    modelFile: path.resolve(dir, c.model),
    outDir,
    board: {
      name: c.board.name,
      part: c.board.part,
      boardPart: c.board.boardPart,
      resources: { ...c.board.resources },
      ddr: { bandwidthGBps: c.board.ddr.bandwidthGBps, sizeMiB: c.board.ddr.sizeMiB ?? 2048 },
      hpPorts: [...c.board.hpPorts] as HpPort[],
      hpPortWidthBits: c.board.hpPortWidthBits ?? 128,
      powerW: c.board.powerW ?? 10,
    },
    clockMHz: c.clockMHz,
    numerics: {
      weightBits: n.weights.bits,
      biasBits: n.biases?.bits ?? 32,
      activationBits: n.activations.bits,
      accumulatorBits: n.accumulator?.bits ?? 48,
      headroomBits: n.calibration?.headroomBits ?? 1,
      calibrationImages: n.calibration?.images ?? 2,
    },
    parallelism: { pe: c.parallelism.pe, simd: c.parallelism.simd },
    tasks: c.tasks ? [...c.tasks] : undefined,
    moe: {
      scheduler: (c.moe?.scheduler ?? 'expert-major') as Scheduler,
      expertCacheSlots: c.moe?.expertCacheSlots ?? 2,
    },
    weightsFile: c.weights !== undefined ? path.resolve(dir, c.weights) : undefined,
    seed: c.seed ?? 1,
    randomInit: (c.randomInit ?? 'm3vit') as RandomInit,
  };
}

/** Turns ajv's errors into one readable line each: path, what is wrong, what is allowed. */
export function describeSchemaErrors(errors: ErrorObject[], data: unknown): string[] {
  const lines: string[] = [];
  for (const e of errors) {
    const at = e.instancePath === '' ? '/' : e.instancePath;
    const got = describeValue(valueAt(data, e.instancePath));
    const node = schemaAt(e.schemaPath.replace(/\/[^/]+$/, '')); // the schema of the field, not of the keyword
    const hint = typeof node?.description === 'string' ? ` (${node.description})` : '';
    const p = e.params as Record<string, any>;
    switch (e.keyword) {
      case 'required': {
        const field = `${e.instancePath}/${p.missingProperty}`;
        const sub = schemaAt(`${e.schemaPath.replace(/\/required$/, '')}/properties/${p.missingProperty}`);
        const what = typeof sub?.description === 'string' ? ` (${sub.description})` : '';
        lines.push(`${field}: required field is missing${what}`);
        break;
      }
      case 'additionalProperties': {
        const parent = schemaAt(e.schemaPath.replace(/\/additionalProperties$/, ''));
        const allowed = Object.keys((parent?.properties as object) ?? {}).join(', ');
        lines.push(`${e.instancePath}/${p.additionalProperty}: unknown field; allowed here: ${allowed}`);
        break;
      }
      case 'enum':
        lines.push(`${at}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${got})`);
        break;
      case 'type':
        lines.push(`${at}: must be ${/^[aeiou]/.test(String(p.type)) ? 'an' : 'a'} ${p.type} (got ${got})`);
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        lines.push(`${at}: must be ${p.comparison} ${p.limit} (got ${got})`);
        break;
      case 'pattern':
        // A model as .js: say what is required, not only that this is refused.
        if (p.pattern === '\\.ts$') lines.push(`${at}: ${got} is not allowed: the model description must be a TypeScript file ending in .ts (it is type-checked and evaluated, never run)`);
        else lines.push(`${at}: ${got} is not allowed${hint || ` (must match ${p.pattern})`}`);
        break;
      case 'minItems':
        lines.push(`${at}: needs at least ${p.limit} item${p.limit === 1 ? '' : 's'}`);
        break;
      case 'uniqueItems':
        lines.push(
          `${at}: items ${Math.min(p.i, p.j)} and ${Math.max(p.i, p.j)} are the same (${describeValue(valueAt(data, `${e.instancePath}/${p.i}`))}); each may appear once`,
        );
        break;
      case 'minLength':
        lines.push(`${at}: must not be empty`);
        break;
      default:
        lines.push(`${at}: ${e.message ?? 'invalid'}`);
    }
  }
  return [...new Set(lines)];
}

function valueAt(data: unknown, pointer: string): unknown {
  if (pointer === '') return data;
  let cur: any = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = cur?.[key];
  }
  return cur;
}

function schemaAt(schemaPath: string): SchemaNode | undefined {
  let cur: any = configSchema();
  for (const raw of schemaPath.replace(/^#/, '').split('/').slice(1)) {
    cur = cur?.[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur && typeof cur === 'object' ? (cur as SchemaNode) : undefined;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}
