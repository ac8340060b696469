/**
 * The model front end: TypeScript model descriptions written to temporary folders, loaded
 * with ts-morph (type check, static evaluation, semantic checks). Positions in expected
 * messages are found by searching the test's own source text (lines and columns from 1),
 * never taken from the loader.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadModel, type LoadedModel } from '../generator/model/load';
import { UserError } from '../generator/util/errors';

const ROOT = path.resolve(__dirname, '..');

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-model-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

/** "line:col" (1-based) of the `nth` occurrence of `needle` in `text`. */
function pos(text: string, needle: string, nth = 0): string {
  let at = -1;
  for (let k = 0; k <= nth; k++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`test bug: "${needle}" (#${nth}) not in the source`);
  }
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const col = at - before.lastIndexOf('\n');
  return `${line}:${col}`;
}

/** Loads a description that must be rejected; returns the UserError. */
function rejected(file: string): UserError {
  try {
    loadModel(file);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error(`${file} was accepted`);
}

/** A valid model: each field on its own line, so that tests can replace one line. */
const GOOD_LINES = [
  `import { defineModel } from 'm3vit-gen';`,
  ``,
  `export default defineModel({`,
  `  name: 'unit',`,
  `  image: { height: 64, width: 96 },`,
  `  patch: 16,`,
  `  embedDim: 48,`,
  `  depth: 4,`,
  `  heads: 3,`,
  `  mlpRatio: 4,`,
  `  moe: { experts: 8, topK: 2, hidden: 24 },`,
  `  tasks: [`,
  `    { name: 'semseg', channels: 21 },`,
  `    { name: 'depth', channels: 1 },`,
  `  ],`,
  `});`,
  ``,
];

/** The good model with some lines replaced (keys are the lines' starts, e.g. "  heads:"). */
function variant(replace: Record<string, string>): string {
  return GOOD_LINES.map((l) => {
    for (const [start, by] of Object.entries(replace)) if (l.startsWith(start)) return by;
    return l;
  }).join('\n');
}

describe('model descriptions that load', () => {
  it('loads a plain description', () => {
    const m = loadModel(write('good.ts', GOOD_LINES.join('\n')));
    expect(m.spec).toEqual({
      name: 'unit',
      image: { height: 64, width: 96 },
      patch: 16,
      embedDim: 48,
      depth: 4,
      heads: 3,
      mlpRatio: 4,
      moe: { experts: 8, topK: 2, hidden: 24 },
      tasks: [
        { name: 'semseg', channels: 21 },
        { name: 'depth', channels: 1 },
      ],
    });
  });

  it('evaluates consts, arithmetic, template strings, property access, spreads and shorthands', () => {
    const text = [
      `import { defineModel } from 'm3vit-gen';`,
      `const D = 16 * 4;`,
      `const half = D / 2;`,
      `const grid = { rows: 2 ** 2, cols: (7 - 1) % 4 + 1 };`,
      `const base = { patch: 8, depth: 2 + 2, mlpRatio: 1.5 } as const;`,
      `const more = [{ name: 'normals', channels: 3 }, { name: 'edge', channels: -(-1) }];`,
      `const tasks = [{ name: 'se' + 'mseg', channels: 21 }, ...more];`,
      `export default defineModel({`,
      '  name: `tiny-${D}x${grid.rows}`,',
      `  image: { height: grid.rows * base.patch, width: grid.cols * 8, channels: +3 },`,
      `  ...base,`,
      `  embedDim: D,`,
      `  heads: (half / 8),`,
      `  moe: ({ experts: 4, topK: 1, hidden: half, blocks: [0, 3], gate: 'shared' }),`,
      `  layerNormEps: 1e-5 satisfies number,`,
      `  tasks,`,
      `});`,
    ].join('\n');
    const m = loadModel(write('consts.ts', text));
    expect(m.spec).toEqual({
      name: 'tiny-64x4',
      image: { height: 32, width: 24, channels: 3 },
      patch: 8,
      depth: 4,
      mlpRatio: 1.5,
      embedDim: 64,
      heads: 4,
      moe: { experts: 4, topK: 1, hidden: 32, blocks: [0, 3], gate: 'shared' },
      layerNormEps: 1e-5,
      tasks: [
        { name: 'semseg', channels: 21 },
        { name: 'normals', channels: 3 },
        { name: 'edge', channels: 1 },
      ],
    });
  });

  it('spreads a const imported from another file', () => {
    write(
      'backbone.ts',
      [
        `export const backbone = {`,
        `  patch: 16,`,
        `  embedDim: 384,`,
        `  depth: 12,`,
        `  heads: 12,`,
        `  mlpRatio: 4,`,
        `  moe: { experts: 16, topK: 4, hidden: 384, blocks: 'odd', gate: 'multi' },`,
        `} as const;`,
      ].join('\n'),
    );
    const text = [
      `import { defineModel } from 'm3vit-gen';`,
      `import { backbone } from './backbone';`,
      `export default defineModel({`,
      `  name: 'imported',`,
      `  image: { height: 480, width: 640 },`,
      `  ...backbone,`,
      `  heads: 6,`,
      `  tasks: [{ name: 'depth', channels: 1 }],`,
      `});`,
    ].join('\n');
    const m = loadModel(write('model.ts', text));
    expect(m.spec).toEqual({
      name: 'imported',
      image: { height: 480, width: 640 },
      patch: 16,
      embedDim: 384,
      depth: 12,
      heads: 6, // the later key wins, as in JavaScript
      mlpRatio: 4,
      moe: { experts: 16, topK: 4, hidden: 384, blocks: 'odd', gate: 'multi' },
      tasks: [{ name: 'depth', channels: 1 }],
    });
  });

  it('loads the shipped ViT-S model that spreads models/vit-small-backbone.ts', () => {
    const m = loadModel(path.join(ROOT, 'models', 'm3vit-small-pascal.ts'));
    expect(m.spec).toMatchObject({
      image: { height: 512, width: 512 },
      patch: 16,
      embedDim: 384,
      depth: 12,
      heads: 12,
      mlpRatio: 4,
      moe: { experts: 16, topK: 4, hidden: 384, blocks: 'odd', gate: 'multi' },
    });
    expect(m.spec.tasks.map((t) => t.name)).toEqual(['semseg', 'human_parts', 'saliency', 'normals', 'edge']);
  });

  it('records where each field was written', () => {
    const text = GOOD_LINES.join('\n');
    const m: LoadedModel = loadModel(write('good.ts', text));
    const at = (field: string): string => {
      const p = m.positions.get(field)!;
      return `${p.line}:${p.col}`;
    };
    expect(at('/heads')).toBe(pos(text, '3,'));
    expect(at('/moe/topK')).toBe(pos(text, '2, hidden'));
    expect(at('/tasks/1/name')).toBe(pos(text, `'depth'`));
  });
});

describe('type errors are reported as file:line:col: message', () => {
  it('reports a field of the wrong type', () => {
    const text = variant({ '  embedDim:': `  embedDim: '48',` });
    const file = write('m.ts', text);
    const e = rejected(file);
    expect(e.problems).toEqual([`${file}:${pos(text, 'embedDim')}: Type 'string' is not assignable to type 'number'.`]);
    expect(e.message.split('\n')[0]).toBe(`${file}: type errors in the model description (1)`);
  });

  it('reports a misspelt field as an excess property', () => {
    const text = variant({ '  depth:': `  depht: 4,` });
    const file = write('m.ts', text);
    const e = rejected(file);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toBe(
      `${file}:${pos(text, 'depht')}: Object literal may only specify known properties, but 'depht' does not exist in type 'ModelSpec'. Did you mean to write 'depth'?`,
    );
  });

  it('reports a missing required field at the object', () => {
    const text = variant({ '  depth:': `` });
    const file = write('m.ts', text);
    const e = rejected(file);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0].startsWith(`${file}:${pos(text, "{\n  name: 'unit'")}: `)).toBe(true);
    expect(e.problems[0]).toMatch(/Property 'depth' is missing in type .* but required in type 'ModelSpec'\./);
  });

  it('reports a value outside a union (moe.gate)', () => {
    const text = variant({ '  moe:': `  moe: { experts: 8, topK: 2, hidden: 24, gate: 'single' },` });
    const file = write('m.ts', text);
    const e = rejected(file);
    expect(e.problems).toEqual([`${file}:${pos(text, 'gate')}: Type '"single"' is not assignable to type '"multi" | "shared" | undefined'.`]);
  });

  it('reports several type errors, one per line', () => {
    const text = [
      `import { defineModel } from 'm3vit-gen';`,
      `const a: number = 'x';`,
      `const b: string = 1;`,
      `export default defineModel({ name: 'n', image: { height: 32, width: 32 }, patch: 16, embedDim: 8, depth: 1, heads: 1, mlpRatio: 1, tasks: [{ name: 't', channels: 1 }] });`,
    ].join('\n');
    const file = write('m.ts', text);
    const e = rejected(file);
    expect(e.problems).toEqual([
      `${file}:2:7: Type 'string' is not assignable to type 'number'.`,
      `${file}:3:7: Type 'number' is not assignable to type 'string'.`,
    ]);
  });

  it('reports a type error inside an imported file under that file\'s name', () => {
    const other = write('bb.ts', `export const bb = { patch: 16 };\nexport const oops: number = 'no';\n`);
    const text = variant({ '  patch:': `  ...bb,` }).replace(`import { defineModel } from 'm3vit-gen';`, `import { defineModel } from 'm3vit-gen';\nimport { bb } from './bb';`);
    const file = write('m.ts', text);
    const e = rejected(file);
    expect(e.problems).toEqual([`${other}:2:14: Type 'string' is not assignable to type 'number'.`]);
  });
});

describe('unsupported constructs are reported with line:col', () => {
  const unsupported = (file: string, at: string, what: string): string =>
    `${file}:${at}: unsupported construct: ${what}. Model descriptions are evaluated without running them: use literals, arithmetic, const references, spreads and defineModel(...).`;

  it('rejects function calls other than defineModel', () => {
    const text = variant({ '  embedDim:': `  embedDim: Math.max(48, 16),` });
    const file = write('m.ts', text);
    expect(rejected(file).message).toBe(unsupported(file, pos(text, 'Math.max'), 'function calls (only defineModel(...) is evaluated)'));
  });

  it('rejects Array.from', () => {
    const text = variant({ '  tasks: [': `  tasks: Array.from({ length: 2 }, (_, i) => ({ name: 't' + i, channels: 1 })), /*`, '  ],': `  */` });
    const file = write('m.ts', text);
    expect(rejected(file).message).toBe(unsupported(file, pos(text, 'Array.from'), 'function calls (only defineModel(...) is evaluated)'));
  });

  it('rejects a let variable', () => {
    const text = variant({ '  heads:': '  heads,' }).replace(`export default`, `let heads = 3;\nexport default`);
    const file = write('m.ts', text);
    expect(rejected(file).message).toBe(unsupported(file, pos(text, 'heads,'), '"heads" is not a const with a value'));
  });

  it('rejects a let variable referenced by name', () => {
    const text = variant({ '  embedDim:': '  embedDim: d,' }).replace(`export default`, `let d = 48;\nexport default`);
    const file = write('m.ts', text);
    expect(rejected(file).message).toBe(unsupported(file, pos(text, 'd,'), '"d" is not a const with a value'));
  });

  it('rejects computed keys', () => {
    const text = variant({ '  depth:': `  [key]: 4,` }).replace(`export default`, `const key = 'depth';\nexport default`);
    const file = write('m.ts', text);
    expect(rejected(file).message).toBe(unsupported(file, pos(text, `[key]`), 'computed property names'));
  });

  it('rejects element access', () => {
    const text = variant({ '  depth:': `  depth: [4, 8][0],` });
    const file = write('m.ts', text);
    expect(rejected(file).message).toBe(unsupported(file, pos(text, '[4, 8][0]'), 'ElementAccessExpression'));
  });

  it('reports a description without a default export', () => {
    const file = write('m.ts', `import { defineModel } from 'm3vit-gen';\nexport const m = defineModel({ name: 'n', image: { height: 32, width: 32 }, patch: 16, embedDim: 8, depth: 1, heads: 1, mlpRatio: 1, tasks: [{ name: 't', channels: 1 }] });\n`);
    expect(rejected(file).message).toBe(
      `${file}:1:1: no default export; write \`export default defineModel({ ... })\` (import { defineModel } from "m3vit-gen")`,
    );
  });

  it('reports a folder given as the model', () => {
    const dir = path.join(tmp, 'dir.ts');
    fs.mkdirSync(dir);
    expect(rejected(dir).message).toBe(`${dir}: is a folder; expected a TypeScript model description`);
  });

  it('reports a missing file', () => {
    const file = path.join(tmp, 'absent.ts');
    expect(rejected(file).message).toBe(`${file}: model description not found`);
  });
});

describe('semantic errors are reported at the field, file:line:col', () => {
  /** The single problem of a rejected variant, and where it must point. */
  const single = (replace: Record<string, string>): { file: string; text: string; problem: string } => {
    const text = variant(replace);
    const file = write('m.ts', text);
    const e = rejected(file);
    expect(e.message.split('\n')[0]).toBe(`${file}: invalid model description (1 problem)`);
    expect(e.problems).toHaveLength(1);
    return { file, text, problem: e.problems[0] };
  };

  it('D not divisible by heads, listing the divisors of D', () => {
    const { file, text, problem } = single({ '  heads:': `  heads: 5,` });
    // divisors of 48: 1 2 3 4 6 8 12 16 24 48
    expect(problem).toBe(`${file}:${pos(text, '5,')}: heads: embedDim 48 is not divisible by 5 heads; divisors of 48: 1, 2, 3, 4, 6, 8, 12, 16, 24, 48`);
  });

  it('image height not divisible by the patch', () => {
    const { file, text, problem } = single({ '  image:': `  image: { height: 72, width: 96 },` });
    expect(problem).toBe(`${file}:${pos(text, '72')}: image.height: 72 is not divisible by the patch size 16`);
  });

  it('image width not divisible by the patch', () => {
    const { file, text, problem } = single({ '  image:': `  image: { height: 64, width: 100 },` });
    expect(problem).toBe(`${file}:${pos(text, '100')}: image.width: 100 is not divisible by the patch size 16`);
  });

  it('top-k larger than the number of experts', () => {
    const { file, text, problem } = single({ '  moe:': `  moe: { experts: 8, topK: 9, hidden: 24 },` });
    expect(problem).toBe(`${file}:${pos(text, '9,')}: moe.topK: top-k 9 exceeds the 8 experts; allowed: 1 to 8`);
  });

  it('no task', () => {
    const { file, text, problem } = single({ '  tasks: [': `  tasks: [`, "    { name: 'semseg'": ``, "    { name: 'depth'": `` });
    expect(problem).toBe(`${file}:${pos(text, '[\n')}: tasks: at least one task is needed`);
  });

  it('a task name used twice', () => {
    const { file, text, problem } = single({ "    { name: 'depth'": `    { name: 'semseg', channels: 1 },` });
    expect(problem).toBe(`${file}:${pos(text, `'semseg'`, 1)}: tasks.1.name: task "semseg" is defined twice`);
  });

  it('a task name that cannot name C++ symbols', () => {
    const { file, text, problem } = single({ "    { name: 'depth'": `    { name: 'depth-map', channels: 1 },` });
    expect(problem).toBe(
      `${file}:${pos(text, `'depth-map'`)}: tasks.1.name: "depth-map" is not a usable task name: a letter, then letters, digits or underscores (it names C++ symbols and checkpoint keys)`,
    );
  });

  it('an UpHead with a patch that is not a power of two (at the head when written)', () => {
    const { file, text, problem } = single({
      '  image:': `  image: { height: 48, width: 96 },`,
      '  patch:': `  patch: 12,`,
      "    { name: 'semseg'": `    { name: 'semseg', channels: 21, head: { kind: 'linear' } },`,
      "    { name: 'depth'": `    { name: 'depth', channels: 1, head: { kind: 'uphead', channels: 64 } },`,
    });
    expect(problem).toBe(
      `${file}:${pos(text, `{ kind: 'uphead'`)}: tasks.1.head: the UpHead upsamples by 2 until the patch grid is back at image size, so the patch (12) must be a power of two >= 2; use { kind: "linear" } otherwise`,
    );
  });

  it('an UpHead with a patch that is not a power of two (at the task when the head is the default)', () => {
    const { file, text, problem } = single({
      '  image:': `  image: { height: 48, width: 96 },`,
      '  patch:': `  patch: 12,`,
      "    { name: 'semseg'": `    { name: 'semseg', channels: 21, head: { kind: 'linear' } },`,
    });
    expect(problem).toBe(
      `${file}:${pos(text, `{ name: 'depth'`)}: tasks.1.head: the UpHead upsamples by 2 until the patch grid is back at image size, so the patch (12) must be a power of two >= 2; use { kind: "linear" } otherwise`,
    );
  });

  it('moe.blocks naming a block that does not exist', () => {
    const { file, text, problem } = single({ '  moe:': `  moe: { experts: 8, topK: 2, hidden: 24, blocks: [1, 4] },` });
    expect(problem).toBe(`${file}:${pos(text, '4]')}: moe.blocks.1: block 4 does not exist; blocks are 0 to 3`);
  });

  it('moe.blocks listing a block twice', () => {
    const { file, text, problem } = single({ '  moe:': `  moe: { experts: 8, topK: 2, hidden: 24, blocks: [3, 1, 3] },` });
    expect(problem).toBe(`${file}:${pos(text, '3]')}: moe.blocks.2: block 3 is listed twice`);
  });

  it('moe.blocks selecting no block (empty list)', () => {
    const { file, text, problem } = single({ '  moe:': `  moe: { experts: 8, topK: 2, hidden: 24, blocks: [] },` });
    expect(problem).toBe(`${file}:${pos(text, '[]')}: moe.blocks: selects no block of a 4-block model; remove "moe" for a dense ViT`);
  });

  it('moe.blocks selecting no block ("odd" in a 1-block model, at moe when blocks is the default)', () => {
    const { file, text, problem } = single({ '  depth:': `  depth: 1,` });
    expect(problem).toBe(`${file}:${pos(text, '{ experts')}: moe.blocks: selects no block of a 1-block model; remove "moe" for a dense ViT`);
  });

  it('non-positive or fractional counts', () => {
    const { file, text, problem } = single({ '  depth:': `  depth: 2.5,` });
    expect(problem).toBe(`${file}:${pos(text, '2.5')}: depth: must be a whole number from 1 to 256 (got 2.5)`);
  });

  it('reports several problems at once, in field order', () => {
    const text = variant({
      '  image:': `  image: { height: 60, width: 96 },`,
      '  heads:': `  heads: 7,`,
      '  moe:': `  moe: { experts: 2, topK: 3, hidden: 24, blocks: [9] },`,
      "    { name: 'depth'": `    { name: '2d', channels: 0 },`,
    });
    const file = write('m.ts', text);
    const e = rejected(file);
    expect(e.message.split('\n')[0]).toBe(`${file}: invalid model description (6 problems)`);
    expect(e.problems).toEqual([
      `${file}:${pos(text, '60')}: image.height: 60 is not divisible by the patch size 16`,
      `${file}:${pos(text, '7,')}: heads: embedDim 48 is not divisible by 7 heads; divisors of 48: 1, 2, 3, 4, 6, 8, 12, 16, 24, 48`,
      `${file}:${pos(text, '3,')}: moe.topK: top-k 3 exceeds the 2 experts; allowed: 1 to 2`,
      `${file}:${pos(text, '9]')}: moe.blocks.0: block 9 does not exist; blocks are 0 to 3`,
      `${file}:${pos(text, `'2d'`)}: tasks.1.name: "2d" is not a usable task name: a letter, then letters, digits or underscores (it names C++ symbols and checkpoint keys)`,
      `${file}:${pos(text, '0 }')}: tasks.1.channels: must be a whole number from 1 to 4096 (got 0)`,
    ]);
  });

  it('points into the imported file when the bad value was written there', () => {
    const bbText = [`export const bb = {`, `  embedDim: 40,`, `  heads: 3,`, `} as const;`].join('\n');
    const other = write('bb.ts', bbText);
    const text = variant({ '  embedDim:': `  ...bb,`, '  heads:': `` }).replace(
      `import { defineModel } from 'm3vit-gen';`,
      `import { defineModel } from 'm3vit-gen';\nimport { bb } from './bb';`,
    );
    const file = write('m.ts', text);
    const e = rejected(file);
    expect(e.problems).toEqual([`${other}:${pos(bbText, '3,')}: heads: embedDim 40 is not divisible by 3 heads; divisors of 40: 1, 2, 4, 5, 8, 10, 20, 40`]);
  });

  it('points at the right element when tasks come from a spread after other tasks', () => {
    const text = [
      `import { defineModel } from 'm3vit-gen';`,
      `const extra = [{ name: 'normals', channels: 3 }, { name: 'bad name', channels: 1 }];`,
      `export default defineModel({`,
      `  name: 'unit', image: { height: 64, width: 96 }, patch: 16, embedDim: 48, depth: 4, heads: 3, mlpRatio: 4,`,
      `  tasks: [{ name: 'semseg', channels: 21 }, ...extra],`,
      `});`,
    ].join('\n');
    const file = write('m.ts', text);
    expect(rejected(file).problems).toEqual([
      `${file}:${pos(text, `'bad name'`)}: tasks.2.name: "bad name" is not a usable task name: a letter, then letters, digits or underscores (it names C++ symbols and checkpoint keys)`,
    ]);
  });

  it('points at the value a property access reads', () => {
    const text = [
      `import { defineModel } from 'm3vit-gen';`,
      `const dims = { D: 48, H: 5 };`,
      `export default defineModel({`,
      `  name: 'unit', image: { height: 64, width: 96 }, patch: 16, embedDim: dims.D, depth: 4, heads: dims.H, mlpRatio: 4,`,
      `  tasks: [{ name: 'semseg', channels: 21 }],`,
      `});`,
    ].join('\n');
    const file = write('m.ts', text);
    expect(rejected(file).problems).toEqual([
      `${file}:${pos(text, '5 }')}: heads: embedDim 48 is not divisible by 5 heads; divisors of 48: 1, 2, 3, 4, 6, 8, 12, 16, 24, 48`,
    ]);
  });
});

describe('descriptions that grow exponentially are refused fast (issue 13)', () => {
  /** `n` consts after `c0`, each built from the previous one by `step`, the last used at `use`. */
  function chain(n: number, first: string, step: (prev: string) => string, use: string): string {
    const consts = [`const c0 = ${first};`, ...Array.from({ length: n }, (_, i) => `const c${i + 1} = ${step(`c${i}`)};`)];
    return variant({ [use.split(':')[0] + ':']: use.replace('LAST', `c${n}`) }).replace('export default', `${consts.join('\n')}\nexport default`);
  }

  /** Milliseconds to load (type-check and evaluate) the good description: the machine's pace now. */
  function baselineMs(): number {
    const file = write('good.ts', variant({}));
    const t0 = Date.now();
    loadModel(file);
    return Date.now() - t0;
  }

  /**
   * Loads a description that must be refused as too large, in about the time a good one
   * takes (the old evaluator took 265 s at 16 lines and never finished at 60). Relative to
   * a baseline measured now, so that a loaded machine does not fail it.
   */
  function refusedFast(text: string): string {
    const limit = 4 * baselineMs() + 1000;
    const file = write('m.ts', text);
    const t0 = Date.now();
    const message = rejected(file).message;
    expect(Date.now() - t0).toBeLessThan(limit);
    expect(message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: expression too large \\(.*(steps|at most \\d+).*\\)$`));
    return message;
  }

  it.each([16, 60])('a const chain using the previous one three times (%i lines)', (n) => {
    const text = chain(n, '1', (p) => `${p} + ${p} + ${p}`, '  depth: LAST,');
    expect(refusedFast(text)).toContain('more than 20000 steps');
  });

  it('array doubling by spread (16 lines: 65536 elements)', () => {
    const text = chain(16, '[1]', (p) => `[...${p}, ...${p}]`, '  moe: { experts: 8, topK: 2, hidden: 24, blocks: LAST },');
    expect(refusedFast(text)).toMatch(/an array of \d+ elements; at most 10000 are allowed|more than 20000 steps/);
  });

  it('array doubling by spread (60 lines)', () => {
    refusedFast(chain(60, '[1]', (p) => `[...${p}, ...${p}]`, '  moe: { experts: 8, topK: 2, hidden: 24, blocks: LAST },'));
  });

  it('string doubling by concatenation (20 and 60 lines)', () => {
    expect(refusedFast(chain(20, `'abcdefgh'`, (p) => `${p} + ${p}`, `  name: LAST,`))).toMatch(/a string of \d+ characters; at most 100000 are allowed|more than 20000 steps/);
    refusedFast(chain(60, `'abcdefgh'`, (p) => `${p} + ${p}`, `  name: LAST,`));
  });

  it('points at the expression that went over the size budget', () => {
    const text = chain(7, `'${'x'.repeat(1000)}'`, (p) => `${p} + ${p}`, `  name: LAST,`);
    // 1000 * 2^7 = 128000 characters: c7's initializer is the first string over 100000.
    const file = write('m.ts', text);
    expect(rejected(file).message).toBe(`${file}:${pos(text, 'c6 + c6')}: expression too large (a string of 128000 characters; at most 100000 are allowed)`);
  });

  it('the shipped models stay well inside the budgets', () => {
    for (const m of ['m3vit-tiny.ts', 'm3vit-small-nyud.ts', 'm3vit-small-pascal.ts']) {
      expect(loadModel(path.join(ROOT, 'models', m)).spec.name).toBeTruthy();
    }
  });
});
