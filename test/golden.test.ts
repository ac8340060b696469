/**
 * Golden vectors (generator/golden) on a small model, in process: the files hold what
 * docs/golden-format.md says (sizes, types, hashes, formats), decode to values that agree
 * with independent computations (the quantized seeded image, the float reference, the gate
 * choices behind `expertsUsed`), and are byte-identical from one generation to the next.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LAYOUT } from '../generator/emit/layout';
import { goldenCommand } from '../generator/golden/stage';
import { goldenFiles, GOLDEN_NAMES, type GoldenManifest } from '../generator/golden/vectors';
import { loadProject, type LoadedProject } from '../generator/project';
import { errorOf } from '../generator/reference/compare';
import { runFloat } from '../generator/reference/float';
import { prepareModel } from '../generator/reference/prepare';
import { isUserError } from '../generator/util/errors';
import type { OutputFile } from '../generator/util/output';
import { randomImage } from '../generator/weights/random';
import { zcu104Board } from './helpers/cli';
import { figure } from './helpers/figures';

const MODEL = `import { defineModel } from 'm3vit-gen';
export default defineModel({
  name: 'golden-small',
  image: { height: 32, width: 64 },
  patch: 16,
  embedDim: 16,
  depth: 2,
  heads: 2,
  mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 8 },
  tasks: [
    { name: 'semseg', channels: 5, head: { kind: 'uphead', channels: 8 } },
    { name: 'depth', channels: 1, head: { kind: 'linear' } },
    { name: 'edge', channels: 1, head: { kind: 'linear' } },
  ],
});
`;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-golden-'));
  fs.writeFileSync(path.join(tmp, 'model.ts'), MODEL);
  fs.writeFileSync(
    path.join(tmp, 'cfg.json'),
    JSON.stringify({
      name: 'golden_small',
      model: 'model.ts',
      board: zcu104Board(),
      clockMHz: 300,
      numerics: { weights: { bits: 16 }, activations: { bits: 16 } },
      parallelism: { pe: 8, simd: 8 },
      tasks: ['semseg', 'edge'], // a subset: taskId (built index) differs from the model index for edge
      randomInit: 'exercise',
      seed: 3,
    }),
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const load = (): LoadedProject => loadProject(path.join(tmp, 'cfg.json'), { outDir: path.join(tmp, 'out') });

function decode(bytes: Uint8Array, dtype: string): number[] {
  const b = Buffer.from(bytes);
  const n = b.length / (dtype === 'int16' ? 2 : 4);
  return Array.from({ length: n }, (_, i) => (dtype === 'int16' ? b.readInt16LE(2 * i) : b.readInt32LE(4 * i)));
}

describe('golden vectors of a small model', () => {
  let project: LoadedProject;
  let files: OutputFile[];
  let manifest: GoldenManifest;
  const file = (p: string): Uint8Array => files.find((f) => f.path === p)!.contents as Uint8Array;

  beforeAll(() => {
    project = load();
    ({ files, manifest } = goldenFiles(project, prepareModel(project)));
  });

  it('lists the built tasks with their run-time ids and model indices', () => {
    expect(manifest.format).toBe('m3vit-golden');
    expect(manifest.tasks.map((t) => [t.name, t.taskId, t.modelIndex])).toEqual([['semseg', 0, 0], ['edge', 1, 2]]);
    expect(manifest.image).toEqual({ kind: 'seeded', seed: 3, index: 2, shape: [3, 32, 64] });
    expect(manifest.weights).toEqual({ kind: 'random', seed: 3, init: 'exercise' });
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining([LAYOUT.goldenManifest, LAYOUT.quantPlanJson, `${LAYOUT.goldenDir}/input.bin`]));
  });

  it('every tensor file has the listed size, type and sha256, and the required checkpoints exist', () => {
    for (const t of [manifest.input, ...manifest.tasks.flatMap((x) => x.tensors)]) {
      const bytes = file(`${LAYOUT.goldenDir}/${t.file}`);
      const count = t.shape.reduce((a, c) => a * c, 1);
      expect(bytes.length).toBe(count * (t.dtype === 'int16' ? 2 : 4));
      expect(t.bytes).toBe(bytes.length);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(t.sha256);
    }
    const semseg = manifest.tasks[0].tensors.map((t) => t.name);
    for (const n of ['patch_embed', 'tokens', 'blocks.0.norm1', 'blocks.0.qkv', 'blocks.0.attn', 'blocks.0.proj', 'blocks.0.res1', 'blocks.0.norm2',
      'blocks.0.fc1', 'blocks.0.gelu', 'blocks.0.fc2', 'blocks.0.res2', 'blocks.1.gate', 'blocks.1.gate.experts', 'blocks.1.gate.weights', 'blocks.1.moe',
      'blocks.1.res2', 'head.semseg.norm', 'head.semseg.conv_0', 'head.semseg.up_0', 'head.semseg.conv_3', 'head.semseg.conv1x1', 'head.semseg.out']) {
      expect(semseg).toContain(n);
    }
    expect(manifest.tasks[0].tensors.find((t) => t.name === 'head.semseg.out')!.file).toBe(GOLDEN_NAMES.output('semseg'));
    expect(manifest.tasks[0].tensors.find((t) => t.name === 'blocks.1.gate.experts')).toMatchObject({ dtype: 'int32', frac: null, shape: [9, 2] });
    expect(manifest.tasks[0].tensors.find((t) => t.name === 'blocks.1.gate.weights')).toMatchObject({ dtype: 'int32', frac: 16 });
  });

  it('the input is the seeded image quantized with the plan\'s input format', () => {
    const plan = JSON.parse(Buffer.from(file(LAYOUT.quantPlanJson)).toString()) as { activations: Array<{ site: string; frac: number }> };
    const f = plan.activations.find((a) => a.site === 'input')!.frac;
    expect(manifest.input.frac).toBe(f);
    const img = randomImage(project.ir.dims, 3, 2);
    const want = Array.from(img.data, (v) => Math.max(-32768, Math.min(32767, Math.floor(v * 2 ** f + 0.5))));
    expect(decode(file(`${LAYOUT.goldenDir}/input.bin`), 'int16')).toEqual(want);
  });

  it('each task output dequantizes to the float reference within 1e-2 relative L2', () => {
    const prep = prepareModel(project);
    const img = randomImage(project.ir.dims, 3, 2);
    for (const t of manifest.tasks) {
      const out = t.tensors.find((x) => x.name === t.output)!;
      const q = decode(file(`${LAYOUT.goldenDir}/${out.file}`), out.dtype);
      const f = runFloat(project.ir, prep.weights, t.name, img);
      expect(out.shape).toEqual(f.output.shape);
      const e = errorOf(q, out.frac!, f.output.data);
      figure(`golden-small/${t.name}: golden output vs float rel L2 ${e.relL2.toExponential(2)}`);
      expect(e.relL2).toBeLessThan(1e-2);
    }
  });

  it('expertsUsed and tokensPerExpert are what the recorded gate choices say', () => {
    for (const t of manifest.tasks) {
      for (const m of t.moe) {
        const ex = t.tensors.find((x) => x.name === `blocks.${m.block}.gate.experts`)!;
        const chosen = decode(file(`${LAYOUT.goldenDir}/${ex.file}`), 'int32');
        const count = new Array(4).fill(0);
        for (const e of chosen) count[e]++;
        expect(m.tokensPerExpert).toEqual(count);
        expect(m.expertsUsed).toEqual(count.map((c, e) => (c > 0 ? e : -1)).filter((e) => e >= 0));
      }
      expect(t.saturatedTotal).toBe(0);
      expect(t.accumulatorOverflow).toBe(0);
      expect(Object.keys(t.saturation)).toEqual(expect.arrayContaining(['input', 'patch_embed', 'blocks.0.scores', 'blocks.1.moe']));
    }
  });

  it('is byte-identical when generated again (new project object, new preparation)', () => {
    const again = goldenFiles(load(), prepareModel(load()));
    expect(again.files.map((f) => f.path)).toEqual(files.map((f) => f.path));
    again.files.forEach((f, i) => expect(Buffer.from(f.contents).equals(Buffer.from(files[i].contents))).toBe(true));
  });
});

describe('m3vit-gen golden (command, in process)', () => {
  it('writes golden/ and the quant plan into the output folder, keeps other files, refuses a foreign folder', () => {
    const out = path.join(tmp, 'out');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'mine.txt'), 'not written by m3vit-gen');
    try {
      goldenCommand(load(), { force: false });
      throw new Error('expected a UserError');
    } catch (e) {
      expect(isUserError(e)).toBe(true);
    }
    expect(fs.existsSync(path.join(out, LAYOUT.goldenDir))).toBe(false);
    const summary = goldenCommand(load(), { force: true });
    expect(summary).toMatch(/golden\/: 2 task\(s\)/);
    expect(fs.readFileSync(path.join(out, 'mine.txt'), 'utf8')).toBe('not written by m3vit-gen');
    const m = JSON.parse(fs.readFileSync(path.join(out, LAYOUT.goldenManifest), 'utf8')) as GoldenManifest;
    for (const t of m.tasks) for (const x of t.tensors) expect(fs.statSync(path.join(out, LAYOUT.goldenDir, x.file)).size).toBe(x.bytes);
    expect(fs.existsSync(path.join(out, LAYOUT.quantPlanJson))).toBe(true);
    // --force into a foreign folder plants no marker: the folder does not become replaceable (issue 13)
    expect(fs.existsSync(path.join(out, '.m3vit-gen'))).toBe(false);
    expect(() => goldenCommand(load(), { force: false })).toThrow(/was not written by m3vit-gen/);
    expect(fs.readFileSync(path.join(out, 'mine.txt'), 'utf8')).toBe('not written by m3vit-gen');
  });

  it('in a folder of its own, records what it wrote; a file added to golden/ stops a later run', () => {
    const out = path.join(tmp, 'out');
    fs.rmSync(out, { recursive: true, force: true });
    goldenCommand(load(), { force: false });
    const marker = JSON.parse(fs.readFileSync(path.join(out, '.m3vit-gen'), 'utf8'));
    expect(Object.keys(marker.files)).toEqual(expect.arrayContaining([LAYOUT.goldenManifest, LAYOUT.quantPlanJson]));
    goldenCommand(load(), { force: false }); // its own files, unchanged: replaced without --force
    fs.writeFileSync(path.join(out, LAYOUT.goldenDir, 'stale.bin'), 'x');
    expect(() => goldenCommand(load(), { force: false })).toThrow(/files m3vit-gen did not write \(golden\/stale\.bin\)/);
    expect(fs.readFileSync(path.join(out, LAYOUT.goldenDir, 'stale.bin'), 'utf8')).toBe('x');
  });
});
