/**
 * From the user's checkpoint and images to a verified project, through the CLI (dist/): a
 * small model's seeded weights saved as an Edge-MoE-style backbone-only .safetensors file (no
 * heads, the class token folded into the position embedding, so absent), first with a gate
 * stored [E, D] (refused with the transpose hint), then right (its missing heads filled by
 * --heads random), a folder of PNG images made here, calibration
 * on that folder, `predict --trace`, then the main job with --weights and --input one of the
 * PNGs, and its csim bit-exact on that image. The expected values are computed here from the
 * pixels (normalisation, quantization of the input) or come from the csim's C++ kernels.
 */
import { createHash } from 'crypto';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { GoldenManifest } from '../generator/golden/vectors';
import { parseNpy } from '../generator/io/npy';
import { decodeTensor, encodeSafetensors, readSafetensorsFile, type TensorToWrite } from '../generator/weights/safetensors';
import type { TraceIndex } from '../generator/reference/trace';
import { type CliRun, ensureBuilt, runCli } from './helpers/cli';
import { tempDir } from './helpers/cpp';
import { encodePng, naturalish, type Pixels } from './helpers/images';
import { smallSpec, writeProject } from './helpers/project';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

let dir: string;
let config: string;
let scenes: Pixels[];
const out = (): string => path.join(dir, 'out', 'realimg');
const png = (i: number): string => path.join(dir, 'calib', `scene${i}.png`);

/** (v / 255 - mean) / std of every pixel, [C, H, W]: the preprocessing as the README states it. */
function normalised(p: Pixels): Float64Array {
  const n = p.width * p.height;
  const x = new Float64Array(3 * n);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) x[c * n + i] = (p.rgba[4 * i + c] / 255 - MEAN[c]) / STD[c];
  return x;
}

function readWords(file: string, dtype: 'int16' | 'int32'): number[] {
  const b = fs.readFileSync(file);
  const n = b.length / (dtype === 'int16' ? 2 : 4);
  return Array.from({ length: n }, (_, i) => (dtype === 'int16' ? b.readInt16LE(2 * i) : b.readInt32LE(4 * i)));
}

/** Exit 0 (stderr may carry notes, e.g. the importer's BatchNorm-folding note). */
function succeeded(r: CliRun): void {
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.stderr}`);
}

beforeAll(() => {
  ensureBuilt();
  dir = tempDir('realimg');
  config = writeProject(dir, smallSpec(), { name: 'realimg', pe: 4, simd: 4 });
  const c = JSON.parse(fs.readFileSync(config, 'utf8'));
  c.numerics.calibration = { headroomBits: 1, data: ['calib'], statistic: 'max' };
  c.preprocess = { resize: 'refuse', normalize: 'imagenet' };
  fs.writeFileSync(config, JSON.stringify(c, null, 2));
  fs.mkdirSync(path.join(dir, 'calib'));
  scenes = [0, 1, 2, 3].map((i) => naturalish(16, 16, 100 + i));
  scenes.forEach((s, i) => fs.writeFileSync(png(i), encodePng(s)));
  fs.writeFileSync(path.join(dir, 'calib', 'notes.txt'), 'not an image: ignored by the folder listing\n');
  const w = runCli(['export-weights', '--config', config, '--out', path.join(dir, 'full.safetensors')]);
  if (w.code !== 0) throw new Error(w.stderr);
  fs.writeFileSync(path.join(dir, 'w.safetensors'), backboneOnly(path.join(dir, 'full.safetensors'), false));
  fs.writeFileSync(path.join(dir, 'w-transposed.safetensors'), backboneOnly(path.join(dir, 'full.safetensors'), true));
});

/** The backbone of an exported file as Edge-MoE publishes it: keys without "backbone.", no
 * decoders.*, no cls_token; `transposed` stores block 1's first gate [E, D] as nn.Linear would. */
function backboneOnly(file: string, transposed: boolean): Uint8Array {
  const f = readSafetensorsFile(file);
  const out: TensorToWrite[] = [];
  for (const e of f.entries) {
    if (e.name.startsWith('decoders.') || e.name === 'backbone.cls_token') continue;
    const name = e.name.replace(/^backbone\./, '');
    let data = Array.from(decodeTensor(f, e));
    let shape = e.shape;
    if (transposed && name === 'blocks.1.mlp.gate.0.w_gate') {
      const [r, c] = shape;
      data = Array.from({ length: r * c }, (_, i) => data[(i % r) * c + Math.floor(i / r)]);
      shape = [c, r];
    }
    out.push({ name, shape, data, dtype: 'F64' });
  }
  return encodeSafetensors(out, f.metadata);
}
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('real images end to end', () => {
  it('refuses the backbone-only file with a [E, D] gate, saying it looks transposed, and names --heads', () => {
    const r = runCli(['predict', '--config', config, '--weights', path.join(dir, 'w-transposed.safetensors'), '--task', 'seg', '--input', png(1), '--out', path.join(dir, 'x.npy')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/blocks\.1\.mlp\.gate\.0\.w_gate: expected shape \[16, 4\], found \[4, 16\] \(looks transposed/);
    expect(r.stderr).toMatch(/--heads random/);
    expect(fs.existsSync(path.join(dir, 'x.npy'))).toBe(false);
  });

  it('traces every checkpointed layer of an int run on a PNG, with the error table', () => {
    const trace = path.join(dir, 'trace');
    const r = runCli(['predict', '--config', config, '--weights', path.join(dir, 'w.safetensors'), '--heads', 'random', '--task', 'seg', '--input', png(1), '--out', path.join(dir, 'seg.npy'), '--trace', trace, '--report']);
    succeeded(r);
    const index = JSON.parse(fs.readFileSync(path.join(trace, 'trace.json'), 'utf8')) as TraceIndex;
    expect([index.mode, index.task, index.input]).toEqual(['int', 'seg', 'scene1.png']);
    const names = index.layers.map((l) => l.name);
    for (const n of ['input', 'patch_embed', 'tokens', 'blocks.0.res2', 'blocks.1.gate.experts', 'blocks.1.moe', 'blocks.1.res2', 'head.seg.norm', 'head.seg.out']) expect(names).toContain(n);
    // The traced input is the normalised PNG quantized: within half an LSB of the hand-normalised pixels.
    const input = index.layers.find((l) => l.name === 'input')!;
    const x = parseNpy(fs.readFileSync(path.join(trace, input.file)), input.file);
    expect(x.shape).toEqual([3, 16, 16]);
    const expected = normalised(scenes[1]);
    x.data.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(2 ** -(input.frac! + 1)));
    // The traced output is what --out holds (float32 of the same dequantized words).
    const outNpy = parseNpy(fs.readFileSync(path.join(dir, 'seg.npy')), 'seg.npy');
    const last = index.layers.find((l) => l.name === 'head.seg.out')!;
    const traced = parseNpy(fs.readFileSync(path.join(trace, last.file)), last.file);
    expect(Array.from(traced.data, Math.fround)).toEqual(Array.from(outNpy.data));
    const table = fs.readFileSync(path.join(trace, 'report.txt'), 'utf8');
    expect(table).toMatch(/^blocks\.1\.moe +\d/m);
    expect(r.stdout).toContain(table.trim());
  });

  it('calibrates on the PNG folder and runs csim bit-exactly on one of those images', () => {
    const r = runCli(['--config', config, '--weights', path.join(dir, 'w.safetensors'), '--heads', 'random', '--input', png(2)]);
    succeeded(r);
    const plan = JSON.parse(fs.readFileSync(path.join(out(), 'model/quant-plan.json'), 'utf8'));
    expect(plan.calibration.inputs).toEqual(['scene0.png', 'scene1.png', 'scene2.png', 'scene3.png']);
    // The input site is calibrated on exactly these pixels: its max |x| is theirs.
    const inputMax = Math.max(...scenes.flatMap((s) => Array.from(normalised(s), Math.abs)));
    expect(plan.activations.find((a: { site: string }) => a.site === 'input').calibratedMaxAbs).toBeCloseTo(inputMax, 12);
    const report = fs.readFileSync(path.join(out(), 'model/calibration.md'), 'utf8');
    expect(report).toContain('scene0.png, scene1.png, scene2.png, scene3.png');
    expect(report).toMatch(/^\| blocks\.1\.moe \| moe \| .* \| frac -?\d+ \| .* \| [\d.]+x \|$/m);

    const manifest = JSON.parse(fs.readFileSync(path.join(out(), 'golden/manifest.json'), 'utf8')) as GoldenManifest;
    const sha = createHash('sha256').update(fs.readFileSync(png(2))).digest('hex');
    expect(manifest.image).toEqual({ kind: 'file', file: 'scene2.png', sha256: sha, shape: [3, 16, 16], preprocess: { resize: 'refuse', normalize: 'imagenet', mean: MEAN, std: STD } });
    expect(manifest.weights).toMatchObject({ kind: 'file', file: 'w.safetensors' });
    expect(JSON.stringify(manifest.weights)).toMatch(/random/); // the heads it filled in are recorded
    // The golden input words are the PNG's pixels, normalised and rounded half up at the input site's binary point.
    const frac = manifest.input.frac!;
    expect(readWords(path.join(out(), 'golden', manifest.input.file), 'int16')).toEqual(Array.from(normalised(scenes[2]), (v) => Math.floor(v * 2 ** frac + 0.5)));

    const csim = spawnSync('make', ['-s', '-C', out(), 'csim'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (csim.status !== 0) throw new Error(`make csim failed (${csim.status}):\n${csim.stdout}\n${csim.stderr}`);
    expect(csim.stdout).toMatch(/csim: PASS/);
    const result = JSON.parse(fs.readFileSync(path.join(out(), 'csim_result.json'), 'utf8'));
    for (const run of result.runs) expect([run.mismatches, run.layer_mismatches]).toEqual([0, 0]);
  });

  it('the trace of the int run holds the words the csim checked', () => {
    // Same weights, calibration and image as the csim's golden vectors: trace scene2 and compare every layer.
    const trace = path.join(dir, 'trace2');
    const r = runCli(['predict', '--config', config, '--weights', path.join(dir, 'w.safetensors'), '--heads', 'random', '--task', 'cls', '--input', png(2), '--out', path.join(dir, 'cls.npy'), '--trace', trace]);
    succeeded(r);
    const index = JSON.parse(fs.readFileSync(path.join(trace, 'trace.json'), 'utf8')) as TraceIndex;
    const manifest = JSON.parse(fs.readFileSync(path.join(out(), 'golden/manifest.json'), 'utf8')) as GoldenManifest;
    const task = manifest.tasks.find((t) => t.name === 'cls')!;
    let compared = 0;
    for (const g of task.tensors) {
      const l = index.layers.find((x) => x.name === g.name);
      if (!l || g.frac === null) continue;
      const traced = parseNpy(fs.readFileSync(path.join(trace, l.file)), l.file).data;
      expect(Array.from(traced, (v) => v * 2 ** g.frac!)).toEqual(readWords(path.join(out(), 'golden', g.file), g.dtype));
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
  });
});
