/**
 * Speed and memory of the TS reference model on m3vit-tiny (the default config): seconds
 * per image and MAC/s of the int mode (and the float mode) for one task, the preparation
 * (seeded weights, calibration, quantization) once, and the peak resident memory.
 * A measurement, not a test: nothing is asserted.
 *
 * Run from the package folder:
 *   npx tsc --outDir dist/bench --target ES2022 --module commonjs --esModuleInterop --skipLibCheck --resolveJsonModule bench/reference.ts
 *   node dist/bench/bench/reference.js [runs] [task]
 */
import * as path from 'path';
import { loadProject } from '../generator/project';
import { heldOutImageIndex } from '../generator/reference/calibrate';
import { runFloat } from '../generator/reference/float';
import { quantizeImage, runInt } from '../generator/reference/int';
import { prepareModel } from '../generator/reference/prepare';
import { randomImage } from '../generator/weights/random';

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function main(): void {
  const runs = Number(process.argv[2] ?? 3);
  const project = loadProject(path.join(process.cwd(), 'zcu104.json'));
  const task = process.argv[3] ?? project.ir.tasks[0].name;
  const macs = project.ir.totals.perTask[task].macs;
  console.log(`model ${project.ir.dims.name}, task ${task}: ${(macs / 1e9).toFixed(2)} GMAC per image (backbone + gate + head)`);

  let t0 = process.hrtime.bigint();
  const prep = prepareModel(project);
  const nCal = project.config.numerics.calibrationImages * project.ir.tasks.length;
  console.log(`prepare (seeded weights, ${nCal} float calibration runs, quantization): ${seconds(t0).toFixed(1)} s`);

  const img = randomImage(project.ir.dims, project.config.seed, heldOutImageIndex(project.config.numerics.calibrationImages));
  const q = quantizeImage(prep.plan, img);
  const intTimes: number[] = [];
  const floatTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    t0 = process.hrtime.bigint();
    runInt(project.ir, prep.plan, prep.quant, task, q);
    intTimes.push(seconds(t0));
    t0 = process.hrtime.bigint();
    runFloat(project.ir, prep.weights, task, img);
    floatTimes.push(seconds(t0));
  }
  const best = (a: number[]): number => Math.min(...a);
  const show = (name: string, a: number[]): void =>
    console.log(`${name}: ${a.map((s) => s.toFixed(2)).join(', ')} s per image; best ${best(a).toFixed(2)} s = ${(macs / best(a) / 1e9).toFixed(2)} GMAC/s`);
  show('int mode  ', intTimes);
  show('float mode', floatTimes);
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

main();
