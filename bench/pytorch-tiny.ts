/**
 * m3vit-gen against PyTorch at the m3vit-tiny size (models/m3vit-tiny.ts: 128x256 images,
 * D 192, 12 blocks, 16 experts of hidden 384 in the odd blocks, top-2, two UpHead tasks).
 *
 * A random model of that shape is built in PyTorch (test/pytorch/m3vit_small.py: M³ViT's
 * module names and semantics, BatchNorm with non-trivial running statistics), exported with
 * tools/export_m3vit.py, imported, and run by the TS reference in float and int mode on
 * seeded images. Reports, per task, the error of each against PyTorch (float32 and float64).
 *
 * Needs a python with torch and numpy (Debian's /usr/bin/python3 with python3-torch).
 * Run from the package folder (takes minutes: calibration and the heads at full resolution):
 *   npx tsc --outDir dist/bench --target ES2022 --module commonjs --esModuleInterop --skipLibCheck --resolveJsonModule bench/pytorch-tiny.ts
 *   node dist/bench/bench/pytorch-tiny.js [images]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatNpyFloat32, readNpy } from '../generator/io/npy';
import { loadProject } from '../generator/project';
import { runFloat } from '../generator/reference/float';
import { quantizeImage, runInt } from '../generator/reference/int';
import { prepareModel } from '../generator/reference/prepare';
import { randomImage } from '../generator/weights/random';

function torchPython(): string {
  for (const py of [process.env.M3VIT_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c)) {
    if (spawnSync(py, ['-c', 'import torch, numpy']).status === 0) return py;
  }
  throw new Error('no python with torch and numpy (Debian: apt install python3-torch python3-numpy)');
}

function run(py: string, args: string[], cwd: string): void {
  const r = spawnSync(py, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed`);
}

interface Err {
  maxAbs: number;
  relL2: number;
  refMax: number;
}

function error(got: ArrayLike<number>, ref: ArrayLike<number>): Err {
  let maxAbs = 0;
  let num = 0;
  let den = 0;
  let refMax = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = got[i] - ref[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
    refMax = Math.max(refMax, Math.abs(ref[i]));
    num += d * d;
    den += ref[i] * ref[i];
  }
  return { maxAbs, relL2: Math.sqrt(num / den), refMax };
}

const fmt = (e: Err): string => `max |err| ${e.maxAbs.toExponential(2)} (max |ref| ${e.refMax.toPrecision(3)}), rel L2 ${e.relL2.toExponential(2)}`;

function main(): void {
  const images = Number(process.argv[2] ?? 1);
  const root = process.cwd();
  const py = torchPython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-bench-torch-'));
  const cfg = JSON.parse(fs.readFileSync(path.join(root, 'zcu104.json'), 'utf8'));
  cfg.model = path.join(root, 'models', 'm3vit-tiny.ts');
  cfg.weights = path.join(dir, 'tiny.safetensors');
  delete cfg.$schema;
  fs.writeFileSync(path.join(dir, 'cfg.json'), JSON.stringify(cfg));
  const project = loadProject(path.join(dir, 'cfg.json'));
  const { dims } = project.ir;
  const spec = {
    image: [dims.imageH, dims.imageW],
    patch: dims.patch,
    dim: dims.embedDim,
    depth: dims.depth,
    heads: dims.heads,
    mlp_ratio: dims.mlpHidden / dims.embedDim,
    experts: dims.moe!.experts,
    top_k: dims.moe!.topK,
    expert_hidden: dims.moe!.hidden,
    tasks: project.ir.tasks.map((t) => ({ name: t.name, channels: t.channels, head: t.head.kind, head_channels: t.head.kind === 'uphead' ? t.head.channels : undefined })),
  };
  fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
  const script = path.join(root, 'test', 'pytorch', 'm3vit_small.py');
  let t = Date.now();
  run(py, [script, 'build', 'spec.json', '--seed', '1', '--out', 'tiny.pth'], dir);
  run(py, [path.join(root, 'tools', 'export_m3vit.py'), 'tiny.pth', '--out', 'tiny.safetensors'], dir);
  // Seeded images, rounded to float32 as PyTorch and predict see them.
  const imgs = Array.from({ length: images }, (_, i) => Float64Array.from(randomImage(dims, 77, i).data, Math.fround));
  const stacked = new Float64Array(images * imgs[0].length);
  imgs.forEach((im, i) => stacked.set(im, i * im.length));
  fs.writeFileSync(path.join(dir, 'images.npy'), formatNpyFloat32([images, dims.inChannels, dims.imageH, dims.imageW], stacked));
  run(py, [script, 'run', 'spec.json', '--weights', 'tiny.pth', '--images', 'images.npy', '--out-dir', 'f32'], dir);
  run(py, [script, 'run', 'spec.json', '--weights', 'tiny.pth', '--images', 'images.npy', '--out-dir', 'f64', '--double'], dir);
  console.log(`PyTorch: build, export and ${images} image(s) x ${spec.tasks.length} tasks in float32 and float64: ${((Date.now() - t) / 1000).toFixed(1)} s`);

  t = Date.now();
  const prepared = prepareModel(project);
  console.log(`m3vit-gen: import + calibration (${cfg.numerics.calibration?.images ?? 2} images) + quantization: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  for (const task of project.ir.tasks) {
    const ref32 = readNpy(path.join(dir, 'f32', `${task.name}.npy`)).data;
    const ref64 = readNpy(path.join(dir, 'f64', `${task.name}.npy`)).data;
    const per = ref64.length / images;
    for (let i = 0; i < images; i++) {
      const image = { shape: [dims.inChannels, dims.imageH, dims.imageW], data: imgs[i] };
      t = Date.now();
      const f = runFloat(project.ir, prepared.weights, task.name, image);
      const tf = (Date.now() - t) / 1000;
      t = Date.now();
      const q = runInt(project.ir, prepared.plan, prepared.quant, task.name, quantizeImage(prepared.plan, image));
      const ti = (Date.now() - t) / 1000;
      const deq = Float64Array.from(q.output.data, (v) => v * 2 ** -q.output.frac);
      const r64 = ref64.subarray(i * per, (i + 1) * per);
      const r32 = ref32.subarray(i * per, (i + 1) * per);
      console.log(`${task.name} image ${i} (${task.outputShape.join('x')}; float ${tf.toFixed(1)} s, int ${ti.toFixed(1)} s):`);
      console.log(`  float vs PyTorch float64: ${fmt(error(f.output.data, r64))}`);
      console.log(`  float vs PyTorch float32: ${fmt(error(f.output.data, r32))}`);
      console.log(`  PyTorch float32 vs float64: ${fmt(error(r32, r64))}`);
      console.log(`  int   vs PyTorch float64: ${fmt(error(deq, r64))}`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main();
