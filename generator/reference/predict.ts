/**
 * `m3vit-gen predict`: one image through the reference model for one task. Every input is
 * checked (task, .npy dtype/shape/values) before the expensive preparation, and the output
 * file is written only when everything succeeded.
 */
import * as path from 'path';
import type { ModelIR, TaskIR } from '../ir/types';
import { formatNpyFloat32, readNpy } from '../io/npy';
import { displayPath, loadProject, type LoadedProject } from '../project';
import { UserError } from '../util/errors';
import { writeFileAtomic } from '../util/output';
import { progress, type Progress } from '../util/progress';
import { cliWeightsFile, setMissingHeads } from '../weights/source';
import { compareRuns, errorOf, formatErrorTable, type LayerError } from './compare';
import { runFloat } from './float';
import { runIntOnImage } from './int';
import { prepareModel } from './prepare';
import type { Image, IntRun } from './types';

export type PredictMode = 'int' | 'float';

export interface PredictOptions {
  task: string;
  inputFile: string;
  weightsFile?: string;
  mode: PredictMode;
  /** Also run the other mode and compare int against float layer by layer. */
  report: boolean;
  progress?: Progress;
}

export interface PredictResult {
  task: TaskIR;
  /** Real values (int mode: dequantized) in the task's output shape. */
  output: { shape: number[]; data: Float64Array };
  /** With `report`: per-layer errors of int against float, and the int run's counts. */
  report?: { layers: LayerError[]; int: IntRun; output: { maxAbs: number; relL2: number } };
}

export function checkTask(ir: ModelIR, task: string): TaskIR {
  const t = ir.tasks.find((x) => x.name === task);
  if (!t) throw new UserError('--task', [`unknown task "${task}"; the model ${ir.dims.name} has: ${ir.tasks.map((x) => x.name).join(', ')}`]);
  return t;
}

/** Reads a normalised image [C, H, W] (or [1, C, H, W]) of float32/float64 values. */
export function readInputImage(ir: ModelIR, file: string): Image {
  const a = readNpy(file, ['float32', 'float64']);
  const { inChannels: C, imageH: H, imageW: W } = ir.dims;
  if (a.dtype !== 'float32' && a.dtype !== 'float64') {
    throw new UserError(file, [`dtype ${a.dtype}: the input must be a normalised image of float32 or float64 values, shape [${C}, ${H}, ${W}]`]);
  }
  const shape = a.shape.length === 4 && a.shape[0] === 1 ? a.shape.slice(1) : a.shape;
  if (shape.length !== 3 || shape[0] !== C || shape[1] !== H || shape[2] !== W) {
    throw new UserError(file, [`shape (${a.shape.join(', ')}) does not match the model ${ir.dims.name}: expected [${C}, ${H}, ${W}] (channels, height, width) or [1, ${C}, ${H}, ${W}]`]);
  }
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i])) throw new UserError(file, [`element ${i} is ${a.data[i]}; the input must be finite`]);
  }
  return { shape, data: a.data };
}

export function predict(project: LoadedProject, opts: PredictOptions): PredictResult {
  const { ir } = project;
  const task = checkTask(ir, opts.task);
  const image = readInputImage(ir, opts.inputFile);
  const prepared = prepareModel(project, { weightsFile: opts.weightsFile, progress: opts.progress });
  const needInt = opts.mode === 'int' || opts.report;
  const needFloat = opts.mode === 'float' || opts.report;
  opts.progress?.step(`${task.name}: int reference`);
  const q = needInt ? runIntOnImage(ir, prepared.plan, prepared.quant, task.name, image, { record: opts.report }) : undefined;
  opts.progress?.step(`${task.name}: float reference`);
  const f = needFloat ? runFloat(ir, prepared.weights, task.name, image, { record: opts.report }) : undefined;
  opts.progress?.done();
  let output: PredictResult['output'];
  if (opts.mode === 'int') {
    const scale = 2 ** -q!.output.frac;
    output = { shape: q!.output.shape, data: q!.output.data.map((v) => v * scale) };
  } else {
    output = f!.output;
  }
  const result: PredictResult = { task, output };
  if (opts.report) {
    result.report = { layers: compareRuns(f!, q!), int: q!, output: errorOf(q!.output.data, q!.output.frac, f!.output.data) };
  }
  return result;
}

/** The text `predict --report` prints. */
export function formatPredictReport(r: PredictResult): string {
  const rep = r.report!;
  const sat = Object.entries(rep.int.counts).filter(([, c]) => c.saturated > 0);
  const overflow = Object.entries(rep.int.counts).filter(([, c]) => c.accOverflow > 0);
  const totalSat = sat.reduce((s, [, c]) => s + c.saturated, 0);
  return [
    `task ${r.task.name}: int against float, per layer (errors in real units after dequantizing)`,
    formatErrorTable(rep.layers),
    `output: max abs error ${rep.output.maxAbs.toExponential(3)}, relative L2 ${rep.output.relL2.toExponential(3)}`,
    totalSat === 0
      ? 'saturation: none in any layer'
      : `saturation: ${totalSat} value(s) clipped: ${sat.map(([n, c]) => `${n} ${c.saturated}`).join(', ')}`,
    overflow.length === 0
      ? 'accumulator: no sum exceeded the configured width'
      : `ACCUMULATOR OVERFLOW (the hardware would wrap): ${overflow.map(([n, c]) => `${n} ${c.accOverflow}`).join(', ')}`,
  ].join('\n');
}

export interface PredictCommandArgs {
  config: string;
  task: string;
  input: string;
  out: string;
  weights?: string;
  mode: PredictMode;
  report: boolean;
  quiet?: boolean;
  heads?: string;
}

/** `m3vit-gen predict`: writes the output .npy (float32) and prints a summary (and the report). */
export function predictCommand(args: PredictCommandArgs, log: (s: string) => void = (s) => console.log(s)): void {
  const project = loadProject(args.config);
  const weightsFile = cliWeightsFile(args.weights);
  setMissingHeads(project, args.heads, weightsFile);
  const r = predict(project, {
    task: args.task,
    inputFile: args.input,
    weightsFile,
    mode: args.mode,
    report: args.report,
    progress: progress({ quiet: args.quiet }),
  });
  writeFileAtomic(args.out, formatNpyFloat32(r.output.shape, r.output.data));
  log(`wrote ${displayPath(path.resolve(args.out))}: task ${r.task.name}, ${args.mode} mode, float32 [${r.output.shape.join(', ')}]`);
  if (r.report) log(formatPredictReport(r));
}
