/**
 * Import time of a ViT-S PASCAL-Context sized checkpoint (models/m3vit-small-pascal.ts:
 * 512x512, D 384, 12 blocks, 16 experts of hidden 384 in the 6 odd blocks, 5 UpHead tasks).
 *
 * A random checkpoint in M³ViT's own layout (data-parallel "module." prefix, BatchNorm
 * unfolded with running statistics and num_batches_tracked) is written with the safetensors
 * writer, then imported (read, validate, map names, fold BatchNorm) several times.
 *
 * Run from the package folder:
 *   npx tsc --outDir dist/bench --target ES2022 --module commonjs --esModuleInterop --skipLibCheck bench/import.ts
 *   node dist/bench/bench/import.js [runs]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildIR } from '../generator/ir/build';
import { loadModel } from '../generator/model/load';
import { importWeights } from '../generator/weights/import';
import { encodeSafetensors, type TensorToWrite } from '../generator/weights/safetensors';

function modelFile(): string {
  const f = path.join(process.cwd(), 'models', 'm3vit-small-pascal.ts');
  if (!fs.existsSync(f)) throw new Error('run from the m3vit-gen folder (models/m3vit-small-pascal.ts not found)');
  return f;
}

function random(n: number, seed: number, scale: number, offset = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = offset + ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

function main(): void {
  const runs = Number(process.argv[2] ?? 3);
  const t0 = Date.now();
  const ir = buildIR(loadModel(modelFile(), 'models/m3vit-small-pascal.ts').spec);
  const tensors: TensorToWrite[] = [];
  ir.tensors.forEach((t, i) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    tensors.push({ name: `module.${t.name}`, shape: t.shape, data: random(n, i + 1, 0.05) });
    const conv = /^(decoders\.[^.]+)\.conv_(\d+)\.bias$/.exec(t.name);
    if (conv && Number(conv[2]) < 4) {
      const bn = `module.${conv[1]}.syncbn_fc_${conv[2]}`;
      const c = t.shape[0];
      tensors.push(
        { name: `${bn}.weight`, shape: [c], data: random(c, 7 * i, 0.2, 1) },
        { name: `${bn}.bias`, shape: [c], data: random(c, 7 * i + 1, 0.1) },
        { name: `${bn}.running_mean`, shape: [c], data: random(c, 7 * i + 2, 0.3) },
        { name: `${bn}.running_var`, shape: [c], data: random(c, 7 * i + 3, 0.5, 1) },
        { name: `${bn}.num_batches_tracked`, shape: [], data: [1000] },
      );
    }
  });
  const bytes = encodeSafetensors(tensors, { 'm3vit.tasks': ir.tasks.map((t) => t.name).join(',') });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-bench-import-')), 'pascal.safetensors');
  fs.writeFileSync(file, bytes);
  const params = ir.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  console.log(`${ir.dims.name}: ${ir.tensors.length} IR tensors, ${(params / 1e6).toFixed(2)} M parameters; checkpoint ${tensors.length} tensors, ${(bytes.length / 2 ** 20).toFixed(1)} MiB (written in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const times: number[] = [];
  let rss = 0;
  for (let r = 0; r < runs; r++) {
    const t = process.hrtime.bigint();
    const { weights, notes } = importWeights(file, ir, { displayName: 'pascal.safetensors' });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    times.push(ms);
    rss = Math.max(rss, process.memoryUsage().rss);
    if (r === 0) {
      console.log(`imported ${weights.size} tensors; notes:`);
      for (const n of notes) console.log(`  ${n}`);
    }
  }
  times.sort((a, b) => a - b);
  console.log(`import time over ${runs} runs: min ${(times[0] / 1000).toFixed(2)} s, median ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s; peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

main();
