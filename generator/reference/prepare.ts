/**
 * Everything that turns a loaded project into a quantized model: weights (file or seeded
 * random), the accumulator check, calibration, the quantization plan and the quantized
 * weights. predict, golden vectors, the kernel emitter and the importer all start here, and
 * a project is prepared once per process (the result is cached on the project object).
 */
import * as path from 'path';
import { displayPath, type LoadedProject } from '../project';
import { UserError } from '../util/errors';
import { attentionKeyTile, buildQuantPlan, checkAccumulator, quantizeWeights, type QuantPlan, type QuantStats } from '../numerics/plan';
import type { Progress } from '../util/progress';
import { resolveWeights, weightsOrigin, type WeightsOrigin } from '../weights/source';
import type { QuantWeights, WeightSet } from '../weights/types';
import { calibrateSet, statisticValues, type Calibration, type CalibrationSource } from './calibrate';
import { calibrationFiles, readModelInput } from '../io/input';
import { generationId } from './generation';

export interface PreparedModel {
  weights: WeightSet;
  origin: WeightsOrigin;
  /** What each activation site's format holds: its calibration statistic (max |x| or a percentile). */
  actMaxAbs: Record<string, number>;
  calibration: Calibration;
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
  // Before the weights: a bad calibration image fails in a second, not after an import.
  const source = calibrationSource(project);
  opts.progress?.step('weights');
  const weights = resolveWeights(project, opts.weightsFile);
  const origin = weightsOrigin(project, opts.weightsFile);
  const calibration = calibrateSet(ir, weights, { source, statistic: config.numerics.calibrationStatistic, progress: opts.progress });
  const actMaxAbs = statisticValues(calibration);
  opts.progress?.step('quantizing weights');
  const plan = buildQuantPlan(ir, config.numerics, weights, actMaxAbs, attentionKeyTile(config.parallelism.pe, config.parallelism.simd, ir.dims.tokens));
  const { quant, stats } = quantizeWeights(weights, plan);
  const generation = generationId(config, project.model.spec, weights, origin);
  const prepared: PreparedModel = { weights, origin, actMaxAbs, calibration, plan, quant, quantStats: stats, generation };
  byKey.set(key, prepared);
  return prepared;
}

/** The config's calibration data (every file read and checked now), or seeded images. */
function calibrationSource(project: LoadedProject): CalibrationSource {
  const { config, ir } = project;
  const data = config.numerics.calibrationData;
  if (data === undefined) return { kind: 'seeded', images: config.numerics.calibrationImages, seed: config.seed };
  const inputs = calibrationFiles(data, config.configFile).map(({ file, field }) => {
    try {
      return { label: path.basename(file), image: readModelInput(file, ir.dims, config.preprocess) };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      // Named from the config: the user finds the file through the field that brought it in.
      const shown = path.relative(path.dirname(config.configFile), file);
      throw new UserError(displayPath(config.configFile), e.problems.map((p) => `${field}: ${shown}: ${p}`));
    }
  });
  return { kind: 'data', inputs };
}
