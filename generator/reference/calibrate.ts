/**
 * Calibration: float runs over a calibration set x every task of the model (not only the
 * built ones: the plan must serve any task a later build or `predict` asks for), recording
 * each activation site's range. The set is the config's calibration data (images or .npy,
 * read and checked before the first run) or, without it, `numerics.calibrationImages` seeded N(0,1) images.
 * buildQuantPlan turns each site's statistic (max |x| or a percentile) into a binary point.
 */
import type { CalibrationStatistic } from '../config/types';
import type { ModelIR } from '../ir/types';
import { activationSites } from '../numerics/plan';
import type { Progress } from '../util/progress';
import { randomImage } from '../weights/random';
import type { WeightSet } from '../weights/types';
import { runFloat } from './float';
import { SiteAccumulator, type SiteStats } from './site-stats';
import type { Image } from './types';

/** Where the calibration inputs come from. */
export type CalibrationSource = { kind: 'seeded'; images: number; seed: number } | { kind: 'data'; inputs: Array<{ label: string; image: Image }> };

export interface CalibrationOptions {
  source: CalibrationSource;
  statistic?: CalibrationStatistic;
  progress?: Progress;
}

export interface Calibration {
  statistic: CalibrationStatistic;
  /** Inputs calibrated on: "seeded image i" or file names (without folders: they go into generated files). */
  inputs: string[];
  sites: Record<string, SiteStats>;
}

function inputsOf(source: CalibrationSource, dims: ModelIR['dims']): Array<{ label: string; load: () => Image }> {
  if (source.kind === 'data') return source.inputs.map((x) => ({ label: x.label, load: () => x.image }));
  return Array.from({ length: source.images }, (_, i) => ({ label: `seeded image ${i}`, load: () => randomImage(dims, source.seed, i) }));
}

/** The statistics of every site over the calibration set. */
export function calibrateSet(ir: ModelIR, weights: WeightSet, opts: CalibrationOptions): Calibration {
  const statistic = opts.statistic ?? { kind: 'max' };
  const acc: Record<string, SiteAccumulator> = {};
  for (const s of activationSites(ir)) acc[s.name] = new SiteAccumulator(statistic.kind === 'percentile');
  const observe = (site: string, data: Float64Array, length: number): void => {
    if (!(site in acc)) throw new Error(`float reference observed unknown activation site ${site}`);
    acc[site].observe(data, length);
  };
  const inputs = inputsOf(opts.source, ir.dims);
  inputs.forEach((input, i) => {
    const image = input.load();
    for (const t of ir.tasks) {
      opts.progress?.step(`calibrating: input ${i + 1}/${inputs.length}, task ${t.name} (float)`);
      runFloat(ir, weights, t.name, image, { observe });
    }
  });
  const sites: Record<string, SiteStats> = {};
  for (const [name, a] of Object.entries(acc)) sites[name] = a.stats(statistic);
  return { statistic, inputs: inputs.map((x) => x.label), sites };
}

/** Largest |x| of every site over `images` seeded images (the default calibration). */
export function calibrate(ir: ModelIR, weights: WeightSet, opts: { images: number; seed: number; progress?: Progress }): Record<string, number> {
  return statisticValues(calibrateSet(ir, weights, { source: { kind: 'seeded', images: opts.images, seed: opts.seed }, progress: opts.progress }));
}

/** What each site's format is chosen from (buildQuantPlan's input). */
export function statisticValues(c: Calibration): Record<string, number> {
  return Object.fromEntries(Object.entries(c.sites).map(([name, s]) => [name, s.value]));
}

/** Index of the seeded image used for golden vectors and the error report: the first one calibration did not see. */
export function heldOutImageIndex(calibrationImages: number): number {
  return calibrationImages;
}
