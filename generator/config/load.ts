/**
 * Reads a board/build config: JSON syntax, then the JSON Schema (ajv, draft 2020-12, all
 * violations at once), then defaults and absolute paths. Every problem becomes one line
 * "<JSON path>: <what is wrong> (<what is allowed>)" in a single UserError.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import { UserError } from '../util/errors';
import { readJsonFile } from '../util/json';
import { packageFile } from '../util/package';
import type { ActivationPlacement, BuildConfig, CalibrationStatistic, HpPort, PreprocessConfig, RandomInit, Scheduler } from './types';

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

/** Loads, validates and resolves a config file. `overrides.outDir` replaces the configured output. */
export function loadConfig(configPath: string, overrides: { outDir?: string } = {}): BuildConfig {
  const configFile = path.resolve(configPath);
  const data = readJsonFile(configFile, 'config', configPath);
  const validate = validator();
  if (!validate(data)) {
    const problems = describeSchemaErrors(validate.errors ?? [], data);
    throw new UserError(configPath, problems, `invalid config (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
  const semantic = semanticProblems(data as Record<string, any>);
  if (semantic.length > 0) throw new UserError(configPath, semantic, `invalid config (${semantic.length} problem${semantic.length === 1 ? '' : 's'})`);
  return resolveConfig(configFile, data as Record<string, any>, overrides);
}

/** Combinations the schema cannot say: fields that only mean something together. */
function semanticProblems(c: Record<string, any>): string[] {
  const problems: string[] = [];
  const cal = c.numerics?.calibration ?? {};
  if (cal.data !== undefined && cal.images !== undefined) {
    problems.push('/numerics/calibration/images: seeded calibration images and calibration "data" exclude each other; give one of them');
  }
  const p = c.preprocess ?? {};
  const normalize = p.normalize ?? 'imagenet';
  for (const field of ['mean', 'std']) {
    if (normalize === 'mean-std' && p[field] === undefined) problems.push(`/preprocess/${field}: required when "normalize" is "mean-std"`);
    if (normalize !== 'mean-std' && p[field] !== undefined) problems.push(`/preprocess/${field}: used only with "normalize": "mean-std" (got "normalize": "${normalize}")`);
  }
  if (normalize === 'mean-std' && p.mean && p.std && p.mean.length !== p.std.length) {
    problems.push(`/preprocess/std: ${p.std.length} number(s) but "mean" has ${p.mean.length}; give one of each per input channel`);
  }
  return problems;
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
      calibrationData: n.calibration?.data?.map((f: string) => path.resolve(dir, f)),
      calibrationStatistic: parseStatistic(n.calibration?.statistic ?? 'max'),
    },
    parallelism: { pe: c.parallelism.pe, simd: c.parallelism.simd },
    tasks: c.tasks ? [...c.tasks] : undefined,
    moe: {
      scheduler: (c.moe?.scheduler ?? 'expert-major') as Scheduler,
      expertCacheSlots: c.moe?.expertCacheSlots ?? 2,
    },
    activations: {
      placement: (c.activations?.placement ?? 'auto') as ActivationPlacement,
      ...(c.activations?.tokenTile !== undefined ? { tokenTile: c.activations.tokenTile as number } : {}),
      ...(c.activations?.queryTile !== undefined ? { queryTile: c.activations.queryTile as number } : {}),
    },
    weightsFile: c.weights !== undefined ? path.resolve(dir, c.weights) : undefined,
    preprocess: resolvePreprocess(c.preprocess ?? {}),
    seed: c.seed ?? 1,
    randomInit: (c.randomInit ?? 'm3vit') as RandomInit,
  };
}

/** "max" or "pNN.NN" (the schema has checked the form). */
function parseStatistic(s: string): CalibrationStatistic {
  return s === 'max' ? { kind: 'max' } : { kind: 'percentile', percent: Number(s.slice(1)) };
}

/** ImageNet statistics, as M³ViT's training (and torchvision's pretrained models) normalise. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

function resolvePreprocess(p: Record<string, any>): PreprocessConfig {
  const normalize = p.normalize ?? 'imagenet';
  const given = { mean: p.mean as number[] | undefined, std: p.std as number[] | undefined };
  const byMode = {
    imagenet: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
    none: { mean: [0], std: [1] },
    'mean-std': { mean: given.mean ?? [], std: given.std ?? [] },
  }[normalize as PreprocessConfig['normalize']];
  return { resize: p.resize ?? 'refuse', normalize, mean: [...byMode.mean], std: [...byMode.std] };
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
