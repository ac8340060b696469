/**
 * User-facing messages of issue 14 ("The first minutes"): each is one clear line that says
 * what is allowed, in-process where the message comes from a library function, through
 * the CLI where it comes from the command line.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../generator/config/load';
import { parseNpy } from '../generator/io/npy';
import { buildIR } from '../generator/ir/build';
import { loadModel } from '../generator/model/load';
import { loadProject } from '../generator/project';
import { UserError } from '../generator/util/errors';
import { exportWeightSet } from '../generator/weights/export';
import { importWeights } from '../generator/weights/import';
import { randomWeights } from '../generator/weights/random';
import { decodeTensor, encodeSafetensors, parseSafetensors } from '../generator/weights/safetensors';
import { resolveWeights } from '../generator/weights/source';
import { ensureBuilt, runCli } from './helpers/cli';
import { smallSpec, writeProject } from './helpers/project';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-msg-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

const MODEL = `import { defineModel } from 'm3vit-gen';

export default defineModel({
  name: 'msg',
  image: { height: 32, width: 32 },
  patch: 16,
  embedDim: 16,
  depth: 1,
  heads: 2,
  mlpRatio: 2,
  tasks: [{ name: 'depth', channels: 1, head: { kind: 'linear' } }],
});
`;

function model(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('model descriptions', () => {
  it('`import fs`: the loader says imports are not allowed (not tsc\'s advice to install @types/node)', () => {
    const file = model('fs.ts', `import * as fs from 'fs';\n${MODEL}`);
    const msg = messageOf(() => loadModel(file, 'fs.ts'));
    expect(msg).toBe(
      'fs.ts:1:1: imports from "fs" are not allowed: a model description is evaluated, never run, and may import only from "m3vit-gen" and other model files (relative paths)',
    );
    expect(msg).not.toMatch(/@types\/node/);
  });

  it('syntax errors are headed "syntax errors", not "type errors"', () => {
    const file = model('syntax.ts', MODEL.replace('patch: 16,', 'patch: 16,,'));
    const msg = messageOf(() => loadModel(file, 'syntax.ts'));
    // "patch: 16,," is on line 6; the second comma at column 13.
    expect(msg).toBe('syntax.ts: syntax errors in the model description (1)\n  syntax.ts:6:13: Property assignment expected.');
  });

  it('`export default 42` is one line saying what the default export must be', () => {
    const file = model('num.ts', 'export default 42;\n');
    expect(messageOf(() => loadModel(file, 'num.ts'))).toBe('num.ts:1:16: the default export must be defineModel({ ... }), an object describing the model; found a number');
  });

  it('a .js model in the config: .ts is required', () => {
    const cfg = path.join(tmp, 'cfg.json');
    const c = JSON.parse(fs.readFileSync(writeProject(tmp, smallSpec(), { name: 'msg', pe: 4, simd: 4 }), 'utf8'));
    fs.writeFileSync(cfg, JSON.stringify({ ...c, model: 'model.js' }));
    expect(messageOf(() => loadConfig(cfg))).toContain(
      '/model: "model.js" is not allowed: the model description must be a TypeScript file ending in .ts (it is type-checked and evaluated, never run)',
    );
  });
});

describe('weights files', () => {
  const ir = buildIR(smallSpec());

  it('a file of another model: one line with the model its metadata names', () => {
    const other = buildIR({ ...smallSpec(), name: 'other-model', embedDim: 8 });
    const file = path.join(tmp, 'other.safetensors');
    fs.writeFileSync(file, exportWeightSet(randomWeights(other, 1, 'm3vit'), other));
    const msg = messageOf(() => importWeights(file, ir, { displayName: 'other.safetensors' }));
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(
      new RegExp(`^other\\.safetensors: holds the weights of model "other-model" \\(metadata m3vit\\.model\\), but the config's model description is "${ir.dims.name}" \\(\\d+ tensor problems\\); nothing was written\\.`),
    );
  });

  it('re-importing an exported (BatchNorm-folded) file gives no folding note; an unfolded checkpoint still does', () => {
    const file = path.join(tmp, 'exported.safetensors');
    fs.writeFileSync(file, exportWeightSet(randomWeights(ir, 1, 'exercise'), ir));
    expect(importWeights(file, ir, { displayName: 'x' }).notes.filter((n) => /BatchNorm/.test(n))).toEqual([]);
    // The same file without the metadata that says it is folded: the fold is reported.
    const unmarked = path.join(tmp, 'unmarked.safetensors');
    const st = parseSafetensors(fs.readFileSync(file), 'x');
    fs.writeFileSync(unmarked, encodeSafetensors(st.entries.map((e) => ({ name: e.name, shape: e.shape, data: decodeTensor(st, e) })), {}));
    expect(importWeights(unmarked, ir, { displayName: 'x' }).notes.some((n) => n.startsWith('folded BatchNorm (eval mode, eps 0.00001) into'))).toBe(true);
  });

  it('a missing weights file of the config names the config and the field', () => {
    const cfg = writeProject(tmp, smallSpec(), { name: 'msg', pe: 4, simd: 4 });
    const c = JSON.parse(fs.readFileSync(cfg, 'utf8'));
    fs.writeFileSync(cfg, JSON.stringify({ ...c, weights: 'none.safetensors' }));
    const project = loadProject(cfg);
    expect(messageOf(() => resolveWeights(project))).toBe(
      `${cfg}: /weights: weights file not found: ${path.join(tmp, 'none.safetensors')} (paths in the config are relative to its folder)`,
    );
  });
});

describe('paths in messages', () => {
  it('an absolute path below the working folder is shown relative to it, as displayPath does everywhere', () => {
    expect(new UserError(path.join(process.cwd(), 'sub', 'cfg.json'), ['/x: bad']).message).toBe(`${path.join('sub', 'cfg.json')}: /x: bad`);
    expect(new UserError(path.join(process.cwd(), 'm.ts'), [`${path.join(process.cwd(), 'm.ts')}:1:2: bad`]).message).toBe('m.ts:1:2: bad');
    // Outside the working folder: absolute, as given.
    expect(new UserError('/elsewhere/cfg.json', ['p', 'q'], 'head').message).toBe('/elsewhere/cfg.json: head\n  p\n  q');
  });
});

describe('.npy inputs', () => {
  it('lists only the dtypes the caller accepts', () => {
    const header = "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const h = Buffer.from(`${header}${' '.repeat(pad)}\n`, 'latin1');
    const bytes = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]), h, Buffer.alloc(4)]);
    const msg = messageOf(() => parseNpy(bytes, 'x.npy', ['float32', 'float64']));
    expect(msg).toMatch(/; allowed: float32 or float64, little-endian, C order$/);
    expect(messageOf(() => parseNpy(bytes, 'x.npy'))).toMatch(/; allowed: float32, float64, int8, int16, int32, int64 or uint8, little-endian, C order$/);
  });
});

describe('the command line', () => {
  beforeAll(ensureBuilt);

  it('a mistyped subcommand gets a suggestion and exit 2', () => {
    const r = runCli(['inpsect', '--config', 'zcu104.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(
      'm3vit-gen: unknown command "inpsect"; did you mean "inspect"? (commands: inspect, estimate, report, predict, golden, export-weights, quant-report, check-structure; without a command: the main job)',
    );
    expect(runCli(['frobnicate']).stderr).toMatch(/^m3vit-gen: unknown command "frobnicate" \(commands: /);
  });

  it('--weights that does not exist names the option', () => {
    const cfg = writeProject(tmp, smallSpec(), { name: 'msg', pe: 4, simd: 4 });
    const r = runCli(['export-weights', '--config', cfg, '--weights', 'none.safetensors', '--out', 'o.safetensors'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('--weights: none.safetensors: weights file not found\n');
  });
});
