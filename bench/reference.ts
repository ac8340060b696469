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
import * as os from 'os';
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

/** CPU seconds (user + system) of this process since `c0`: on a shared machine the wall
 * clock also counts other processes' time slices, the CPU time does not. */
function cpuSeconds(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

function main(): void {
  const runs = Number(process.argv[2] ?? 3);
  const project = loadProject(path.join(process.cwd(), 'zcu104.json'));
  const task = process.argv[3] ?? project.ir.tasks[0].name;
  const macs = project.ir.totals.perTask[task].macs;
  console.log(`model ${project.ir.dims.name}, task ${task}: ${(macs / 1e9).toFixed(2)} GMAC per image (backbone + gate + head)`);

  let t0 = process.hrtime.bigint();
  let c0 = process.cpuUsage();
  const prep = prepareModel(project);
  const nCal = project.config.numerics.calibrationImages * project.ir.tasks.length;
  console.log(`prepare (seeded weights, ${nCal} float calibration runs, quantization): ${seconds(t0).toFixed(1)} s wall, ${cpuSeconds(c0).toFixed(1)} s CPU`);

  const img = randomImage(project.ir.dims, project.config.seed, heldOutImageIndex(project.config.numerics.calibrationImages));
  const q = quantizeImage(prep.plan, img);
  const intTimes: number[] = [];
  const floatTimes: number[] = [];
  const intCpu: number[] = [];
  const floatCpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    t0 = process.hrtime.bigint();
    c0 = process.cpuUsage();
    runInt(project.ir, prep.plan, prep.quant, task, q);
    intTimes.push(seconds(t0));
    intCpu.push(cpuSeconds(c0));
    t0 = process.hrtime.bigint();
    c0 = process.cpuUsage();
    runFloat(project.ir, prep.weights, task, img);
    floatTimes.push(seconds(t0));
    floatCpu.push(cpuSeconds(c0));
  }
  const best = (a: number[]): number => Math.min(...a);
  const show = (name: string, wall: number[], cpu: number[]): void =>
    console.log(
      `${name}: ${wall.map((s) => s.toFixed(2)).join(', ')} s wall per image (CPU ${cpu.map((s) => s.toFixed(2)).join(', ')} s); ` +
        `best ${best(wall).toFixed(2)} s wall = ${(macs / best(wall) / 1e9).toFixed(2)} GMAC/s, ${(macs / best(cpu) / 1e9).toFixed(2)} GMAC/s per CPU second`,
    );
  show('int mode  ', intTimes, intCpu);
  show('float mode', floatTimes, floatCpu);
  console.log(`load average during the run: ${os.loadavg()[0].toFixed(1)} (2 cores: above 2 means other processes took turns)`);
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

main();
