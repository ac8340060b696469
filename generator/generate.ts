/**
 * The main job: every generation stage that exists, writing one output folder at once
 * (nothing is written unless every stage succeeded).
 */
import { runKernelStage } from './emit/stage';
import { runEstimateStage } from './estimate/stage';
import { flowStage } from './flow/stage';
import { runGoldenStage } from './golden/stage';
import { inspectJson } from './inspect/format';
import { KEEP_ON_REGENERATE } from './emit/layout';
import { outputGuard, type LoadedProject } from './project';
import { prepareOutputFolder, writeOutputFolder, type OutputFile } from './util/output';
import { NO_PROGRESS, type Progress } from './util/progress';

export interface StageResult {
  files: OutputFile[];
  /** One line for the summary. */
  summary: string;
}

export interface Stage {
  name: string;
  run(project: LoadedProject, p: Progress, opts: GenerateOptions): StageResult;
}

/** Parts of the product that later work adds; listed so that users see what is missing. */
export const NOT_YET_GENERATED: string[] = [];

/** Quantization plan and golden vectors of every built task (the int reference model). */
const goldenStage: Stage = {
  name: 'golden vectors',
  run: (project, p) => runGoldenStage(project, p),
};

/** Schedule (parallelism check first), weight image, HLS sources, testbench, Makefile. */
const kernelStage: Stage = {
  name: 'HLS kernels',
  run: (project, p) => runKernelStage(project, p),
};

const irStage: Stage = {
  name: 'model IR',
  run(project) {
    const json = inspectJson(project.ir, project.tasks);
    return {
      files: [{ path: 'model/ir.json', contents: `${JSON.stringify(json, null, 2)}\n` }],
      summary: `model/ir.json: ${project.ir.layers.length} layers, ${project.tasks.length} task(s)`,
    };
  },
};

/** Resources, latency, traffic, energy (report/) and the fit check (refuses unless --allow-overfit). */
const estimateStage: Stage = {
  name: 'estimate',
  run: (project, _p, opts) => runEstimateStage(project, opts.allowOverfit ?? false),
};

// The fit check (estimate) needs only the IR and the config, so it runs before the stages
// that generate and calibrate the weights (minutes on a large model): a design that does
// not fit is refused in seconds.
export const STAGES: Stage[] = [irStage, estimateStage, kernelStage, goldenStage, flowStage];

export interface GenerateOptions {
  force: boolean;
  /** Generate even when the estimate says the design does not fit the board budget. */
  allowOverfit?: boolean;
  progress?: Progress;
}

export function generate(project: LoadedProject, opts: GenerateOptions): string[] {
  const p = opts.progress ?? NO_PROGRESS;
  const guard = outputGuard(project, opts.force);
  const out = prepareOutputFolder(project.config.outDir, guard);
  const summary: string[] = [];
  try {
    const files: OutputFile[] = [];
    for (const stage of STAGES) {
      p.step(stage.name);
      const r = stage.run(project, p, opts);
      files.push(...r.files);
      summary.push(r.summary);
    }
    p.step('writing output');
    writeOutputFolder(out, files, guard);
  } finally {
    out.release();
  }
  p.done();
  return summary;
}

export { KEEP_ON_REGENERATE };
