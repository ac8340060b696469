/**
 * Everything that turns a loaded project into a quantized model: weights (file or seeded
 * random), the accumulator check, calibration, the quantization plan and the quantized
 * weights. predict, golden vectors, the kernel emitter and the importer all start here, and
 * a project is prepared once per process (the result is cached on the project object).
 */
import type { LoadedProject } from '../project';
import { buildQuantPlan, checkAccumulator, quantizeWeights, type QuantPlan, type QuantStats } from '../numerics/plan';
import type { Progress } from '../util/progress';
import { resolveWeights, weightsOrigin, type WeightsOrigin } from '../weights/source';
import type { QuantWeights, WeightSet } from '../weights/types';
import { calibrate } from './calibrate';
import { generationId } from './generation';

export interface PreparedModel {
  weights: WeightSet;
  origin: WeightsOrigin;
  /** Largest |x| of each activation site over the calibration runs. */
  actMaxAbs: Record<string, number>;
  plan: QuantPlan;
  quant: QuantWeights;
  quantStats: QuantStats[];
  /** Identity of the generation (generation.ts): golden vectors, weight image and testbench carry it. */
  generation: string;
}

export interface PrepareOptions {
  /** A weights file that overrides the config's (predict --weights). */
  weightsFile?: string;
  progress?: Progress;
}

const cache = new WeakMap<LoadedProject, Map<string, PreparedModel>>();

export function prepareModel(project: LoadedProject, opts: PrepareOptions = {}): PreparedModel {
  const key = opts.weightsFile ?? '';
  let byKey = cache.get(project);
  if (!byKey) cache.set(project, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit) return hit;

  const { ir, config } = project;
  // Before any work: a too-narrow accumulator is a config error, not a numeric surprise.
  checkAccumulator(ir, config.numerics, config.configFile);
  opts.progress?.step('weights');
  const weights = resolveWeights(project, opts.weightsFile);
  const origin = weightsOrigin(project, opts.weightsFile);
  const actMaxAbs = calibrate(ir, weights, { images: config.numerics.calibrationImages, seed: config.seed, progress: opts.progress });
  opts.progress?.step('quantizing weights');
  const plan = buildQuantPlan(ir, config.numerics, weights, actMaxAbs);
  const { quant, stats } = quantizeWeights(weights, plan);
  const generation = generationId(config, project.model.spec, weights, origin);
  const prepared: PreparedModel = { weights, origin, actMaxAbs, plan, quant, quantStats: stats, generation };
  byKey.set(key, prepared);
  return prepared;
}
