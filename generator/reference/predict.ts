/**
 * `m3vit-gen predict`: one image through the reference model for one task. Every input is
 * checked (task, .npy dtype/shape/values) before the expensive preparation, and the output
 * file is written only when everything succeeded.
 */
import * as path from 'path';
import type { ModelIR, TaskIR } from '../ir/types';
import { readModelInput } from '../io/input';
import { formatNpyFloat32 } from '../io/npy';
import { displayPath, loadProject, projectInputs, type LoadedProject } from '../project';
import { UserError } from '../util/errors';
import { checkOutputFile, prepareOutputFolder, writeOutputFolder, writeUserFile, type PreparedOutput } from '../util/output';
import { progress, type Progress } from '../util/progress';
import { cliWeightsFile, setMissingHeads } from '../weights/source';
import { compareRuns, errorOf, formatErrorTable, type LayerError } from './compare';
import { runFloat } from './float';
import { runIntOnImage } from './int';
import { prepareModel } from './prepare';
import { TRACE_INDEX, TRACE_REPORT, traceFiles } from './trace';
import type { Checkpoint, IntRun } from './types';

export type PredictMode = 'int' | 'float';

export interface PredictOptions {
  task: string;
  inputFile: string;
  weightsFile?: string;
  mode: PredictMode;
  /** Also run the other mode and compare int against float layer by layer. */
  report: boolean;
  /** Keep every checkpoint of the `mode` run (predict --trace). */
  trace?: boolean;
  progress?: Progress;
}

export interface PredictResult {
  task: TaskIR;
  /** Real values (int mode: dequantized) in the task's output shape. */
  output: { shape: number[]; data: Float64Array };
  /** The int run, when one was made (int mode, or --report): its saturation counts. */
  int?: IntRun;
  /** With `report`: per-layer errors of int against float, and the int run's counts. */
  report?: { layers: LayerError[]; int: IntRun; output: { maxAbs: number; relL2: number } };
  /** With `trace`: every checkpoint of the `mode` run, in execution order. */
  trace?: Checkpoint[];
}

export function checkTask(ir: ModelIR, task: string): TaskIR {
  const t = ir.tasks.find((x) => x.name === task);
  if (!t) throw new UserError('--task', [`unknown task "${task}"; the model ${ir.dims.name} has: ${ir.tasks.map((x) => x.name).join(', ')}`]);
  return t;
}

export function predict(project: LoadedProject, opts: PredictOptions): PredictResult {
  const { ir } = project;
  const task = checkTask(ir, opts.task);
  const image = readModelInput(opts.inputFile, ir.dims, project.config.preprocess);
  const prepared = prepareModel(project, { weightsFile: opts.weightsFile, progress: opts.progress });
  const needInt = opts.mode === 'int' || opts.report;
  const needFloat = opts.mode === 'float' || opts.report;
  const record = (mode: PredictMode): boolean => opts.report || (opts.trace === true && opts.mode === mode);
  opts.progress?.step(`${task.name}: int reference`);
  const q = needInt ? runIntOnImage(ir, prepared.plan, prepared.quant, task.name, image, { record: record('int') }) : undefined;
  opts.progress?.step(`${task.name}: float reference`);
  const f = needFloat ? runFloat(ir, prepared.weights, task.name, image, { record: record('float') }) : undefined;
  opts.progress?.done();
  let output: PredictResult['output'];
  if (opts.mode === 'int') {
    const scale = 2 ** -q!.output.frac;
    output = { shape: q!.output.shape, data: q!.output.data.map((v) => v * scale) };
  } else {
    output = f!.output;
  }
  const result: PredictResult = { task, output, int: q };
  if (opts.trace) result.trace = opts.mode === 'int' ? q!.checkpoints : f!.checkpoints;
  if (opts.report) {
    result.report = { layers: compareRuns(f!, q!), int: q!, output: errorOf(q!.output.data, q!.output.frac, f!.output.data) };
  }
  return result;
}

/** The layers of an int run that clipped values, in execution order, and their total. */
function saturatedSites(run: IntRun): { sites: Array<[string, number]>; total: number } {
  const sites = Object.entries(run.counts).filter(([, c]) => c.saturated > 0).map(([n, c]): [string, number] => [n, c.saturated]);
  return { sites, total: sites.reduce((s, [, n]) => s + n, 0) };
}

/** How many of the first saturating layers the warning names. */
const WARN_SITES = 5;

/**
 * The stderr warning of an int-mode run that clipped values (README: saturation is never
 * silent), or undefined when nothing was clipped. Printed with or without --report.
 */
export function saturationWarning(run: IntRun, input: string): string | undefined {
  const { sites, total } = saturatedSites(run);
  if (total === 0) return undefined;
  const first = sites.slice(0, WARN_SITES).map(([n, c]) => `${n} ${c}`).join(', ');
  const more = sites.length > WARN_SITES ? ` and ${sites.length - WARN_SITES} more layer(s)` : '';
  const hint = run.counts.input?.saturated ? `; ${input} has values outside the input format: is the image normalised (mean/std), not 0..255?` : '';
  return `warning: int mode clipped ${total} value(s) to the fixed-point formats, so the output is not what the model computes: ${first}${more}${hint} (--report shows every layer and the error against float)`;
}

/** The text `predict --report` prints. */
export function formatPredictReport(r: PredictResult): string {
  const rep = r.report!;
  const overflow = Object.entries(rep.int.counts).filter(([, c]) => c.accOverflow > 0);
  const { sites: sat, total: totalSat } = saturatedSites(rep.int);
  return [
    `task ${r.task.name}: int against float, per layer (errors in real units after dequantizing)`,
    formatErrorTable(rep.layers),
    `output: max abs error ${rep.output.maxAbs.toExponential(3)}, relative L2 ${rep.output.relL2.toExponential(3)}`,
    totalSat === 0
      ? 'saturation: none in any layer'
      : `saturation: ${totalSat} value(s) clipped: ${sat.map(([n, c]) => `${n} ${c}`).join(', ')}`,
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
  trace?: string;
  force?: boolean;
  quiet?: boolean;
  heads?: string;
}

/** `m3vit-gen predict`: writes the output .npy (float32) and prints a summary (and the report). */
export function predictCommand(
  args: PredictCommandArgs,
  log: (s: string) => void = (s) => console.log(s),
  warn: (s: string) => void = (s) => process.stderr.write(`${s}\n`),
): void {
  const outFile = checkOutputFile(args.out);
  const project = loadProject(args.config);
  // Before the expensive part: a trace folder that is not ours is refused now (and locked).
  const traceGuard = { force: args.force ?? false, inputs: projectInputs(project), products: [], keep: [], shown: args.trace ?? '' };
  const traceOut: PreparedOutput | undefined = args.trace !== undefined ? prepareOutputFolder(path.resolve(args.trace), traceGuard) : undefined;
  try {
    predictAndWrite(project, args, outFile, traceOut, traceGuard, log, warn);
  } finally {
    traceOut?.release();
  }
}

function predictAndWrite(
  project: LoadedProject,
  args: PredictCommandArgs,
  outFile: string,
  traceOut: PreparedOutput | undefined,
  traceGuard: { keep: string[]; products: string[]; shown: string },
  log: (s: string) => void,
  warn: (s: string) => void,
): void {
  const weightsFile = cliWeightsFile(args.weights);
  setMissingHeads(project, args.heads, weightsFile);
  const r = predict(project, {
    task: args.task,
    inputFile: args.input,
    weightsFile,
    mode: args.mode,
    report: args.report,
    trace: args.trace !== undefined,
    progress: progress({ quiet: args.quiet }),
  });
  writeUserFile(outFile, formatNpyFloat32(r.output.shape, r.output.data), args.out);
  const warning = args.mode === 'int' && r.int ? saturationWarning(r.int, args.input) : undefined;
  if (warning) warn(warning);
  log(`wrote ${displayPath(path.resolve(args.out))}: task ${r.task.name}, ${args.mode} mode, float32 [${r.output.shape.join(', ')}]`);
  const reportText = r.report ? formatPredictReport(r) : undefined;
  if (args.trace !== undefined) {
    const ctx = { model: project.ir.dims.name, task: r.task.name, mode: args.mode, inputFile: args.input };
    writeOutputFolder(traceOut!, traceFiles(r.trace!, ctx, reportText), traceGuard);
    log(`wrote ${displayPath(path.resolve(args.trace))}/: ${r.trace!.length} checkpointed layers (${args.mode} mode, .npy float64; index ${TRACE_INDEX}${reportText ? `, error table ${TRACE_REPORT}` : ''})`);
  }
  if (reportText) log(reportText);
}
