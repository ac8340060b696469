/**
 * Loading what every command starts from: the config (schema-checked), the model
 * description (type-checked, evaluated), their cross-checks, and the model IR.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig } from './config/load';
import { BUILD_PRODUCTS, KEEP_ON_REGENERATE } from './emit/layout';
import type { BuildConfig } from './config/types';
import { buildIR } from './ir/build';
import type { ModelIR, TaskIR } from './ir/types';
import { modelSourceFiles } from './model/imports';
import { loadModel, type LoadedModel } from './model/load';
import { UserError } from './util/errors';
import type { OutputGuardOptions } from './util/output';
import { displayPath } from './util/paths';

export interface LoadedProject {
  config: BuildConfig;
  model: LoadedModel;
  ir: ModelIR;
  /** The tasks to build (config.tasks, or all), in model order. */
  tasks: TaskIR[];
}

export { displayPath } from './util/paths';

export function loadProject(configPath: string, overrides: { outDir?: string } = {}): LoadedProject {
  const config = loadConfig(configPath, overrides);
  const modelName = displayPath(config.modelFile);
  if (!fs.existsSync(config.modelFile)) {
    throw new UserError(configPath, [`/model: model description not found: ${modelName}`]);
  }
  if (!fs.statSync(config.modelFile).isFile()) {
    throw new UserError(configPath, [`/model: ${modelName} is not a file; expected a TypeScript model description`]);
  }
  const model = loadModel(config.modelFile, modelName);
  const ir = buildIR(model.spec);
  const tasks = selectTasks(configPath, config, ir);
  checkPreprocess(configPath, config, ir);
  return { config, model, ir, tasks };
}

function selectTasks(configPath: string, config: BuildConfig, ir: ModelIR): TaskIR[] {
  if (!config.tasks) return ir.tasks;
  const known = ir.tasks.map((t) => t.name);
  const problems = config.tasks
    .map((name, i) => (known.includes(name) ? undefined : `/tasks/${i}: unknown task "${name}"; the model has: ${known.join(', ')}`))
    .filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new UserError(configPath, problems, 'invalid config');
  return ir.tasks.filter((t) => config.tasks!.includes(t.name));
}

/** The files a run reads: a generation must never delete them, --force or not. */
export function projectInputs(project: LoadedProject): OutputGuardOptions['inputs'] {
  const { config } = project;
  const [model, ...imported] = modelSourceFiles(config.modelFile);
  return [
    { file: config.configFile, what: 'the config' },
    { file: model, what: 'the model description' },
    ...imported.map((file) => ({ file, what: 'a file the model description imports' })),
    ...(config.weightsFile ? [{ file: config.weightsFile, what: 'the weights file' }] : []),
  ];
}

/** How the main job and `golden` guard their output folder. */
export function outputGuard(project: LoadedProject, force: boolean): OutputGuardOptions {
  return { force, inputs: projectInputs(project), products: BUILD_PRODUCTS, keep: KEEP_ON_REGENERATE, shown: displayPath(project.config.outDir) };
}

/** The normalisation must have one mean and std per input channel of the model. */
function checkPreprocess(configPath: string, config: BuildConfig, ir: ModelIR): void {
  const { normalize, mean } = config.preprocess;
  const C = ir.dims.inChannels;
  if (normalize === 'imagenet' && C !== 3) {
    throw new UserError(configPath, [`/preprocess/normalize: "imagenet" needs 3 input channels; the model ${ir.dims.name} has ${C}; use "none" or "mean-std"`]);
  }
  if (normalize === 'mean-std' && mean.length !== C) {
    throw new UserError(configPath, [`/preprocess/mean: ${mean.length} number(s); the model ${ir.dims.name} has ${C} input channel(s): give one mean and one std per channel`]);
  }
}
