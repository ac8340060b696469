/**
 * Calibration: float runs over `numerics.calibrationImages` seeded images x every task of
 * the model (not only the built ones: the plan must serve any task a later build or
 * `predict` asks for), recording the largest magnitude each activation site takes.
 * buildQuantPlan turns these into binary points.
 */
import type { ModelIR } from '../ir/types';
import { activationSites } from '../numerics/plan';
import type { Progress } from '../util/progress';
import { randomImage } from '../weights/random';
import type { WeightSet } from '../weights/types';
import { runFloat } from './float';

export interface CalibrationOptions {
  images: number;
  seed: number;
  progress?: Progress;
}

export function calibrate(ir: ModelIR, weights: WeightSet, opts: CalibrationOptions): Record<string, number> {
  const maxAbs: Record<string, number> = {};
  for (const s of activationSites(ir)) maxAbs[s.name] = 0;
  const observe = (site: string, data: Float64Array, length: number): void => {
    if (!(site in maxAbs)) throw new Error(`float reference observed unknown activation site ${site}`);
    let m = maxAbs[site];
    for (let i = 0; i < length; i++) {
      const a = Math.abs(data[i]);
      if (a > m) m = a;
    }
    maxAbs[site] = m;
  };
  for (let i = 0; i < opts.images; i++) {
    const image = randomImage(ir.dims, opts.seed, i);
    for (const t of ir.tasks) {
      opts.progress?.step(`calibrating: image ${i + 1}/${opts.images}, task ${t.name} (float)`);
      runFloat(ir, weights, t.name, image, { observe });
    }
  }
  return maxAbs;
}

/** Index of the seeded image used for golden vectors and the error report: the first one calibration did not see. */
export function heldOutImageIndex(calibrationImages: number): number {
  return calibrationImages;
}
