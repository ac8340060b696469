/**
 * Loading what every command starts from: the config (schema-checked), the model
 * description (type-checked, evaluated), their cross-checks, and the model IR.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig } from './config/load';
import type { BuildConfig } from './config/types';
import { buildIR } from './ir/build';
import type { ModelIR, TaskIR } from './ir/types';
import { loadModel, type LoadedModel } from './model/load';
import { UserError } from './util/errors';
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
