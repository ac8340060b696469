/**
 * Statistics of one activation site over a calibration set: signed min and max, the
 * largest |x|, and (for a percentile statistic) a histogram of |x| on a log scale, 128 bins
 * per octave from 2^-64 to 2^64. A percentile is read from the histogram by nearest rank and
 * returned as the upper edge of the bin that holds it (at most 0.55% above the exact value,
 * never below it), capped at the largest |x|: the memory stays fixed however large the set.
 */
import type { CalibrationStatistic } from '../config/types';

const BINS_PER_OCTAVE = 128;
const MIN_OCTAVE = -64;
const OCTAVES = 128;
const BINS = BINS_PER_OCTAVE * OCTAVES;

export interface SiteStats {
  min: number;
  max: number;
  maxAbs: number;
  /** Values observed (all tasks, all calibration inputs). */
  count: number;
  /** What the statistic says the format must hold. */
  value: number;
}

export class SiteAccumulator {
  private min = Infinity;
  private max = -Infinity;
  private count = 0;
  private zeros = 0;
  private readonly bins?: Float64Array;

  constructor(withHistogram: boolean) {
    if (withHistogram) this.bins = new Float64Array(BINS);
  }

  observe(data: ArrayLike<number>, length: number): void {
    let { min, max } = this;
    for (let i = 0; i < length; i++) {
      const v = data[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.min = min;
    this.max = max;
    this.count += length;
    if (this.bins) this.histogram(data, length, this.bins);
  }

  private histogram(data: ArrayLike<number>, length: number, bins: Float64Array): void {
    for (let i = 0; i < length; i++) {
      const a = Math.abs(data[i]);
      if (a === 0) {
        this.zeros++;
        continue;
      }
      const k = Math.floor(Math.log2(a) * BINS_PER_OCTAVE) - MIN_OCTAVE * BINS_PER_OCTAVE;
      bins[Math.min(BINS - 1, Math.max(0, k))]++;
    }
  }

  stats(statistic: CalibrationStatistic): SiteStats {
    const seen = this.count > 0;
    const maxAbs = seen ? Math.max(Math.abs(this.min), Math.abs(this.max)) : 0;
    const base = { min: seen ? this.min : 0, max: seen ? this.max : 0, maxAbs, count: this.count };
    if (statistic.kind === 'max' || !seen) return { ...base, value: maxAbs };
    return { ...base, value: Math.min(maxAbs, this.percentile(statistic.percent)) };
  }

  private percentile(percent: number): number {
    const bins = this.bins!;
    const rank = Math.ceil((percent / 100) * this.count);
    let cum = this.zeros;
    if (cum >= rank) return 0;
    for (let k = 0; k < BINS; k++) {
      cum += bins[k];
      if (cum >= rank) return 2 ** ((k + 1) / BINS_PER_OCTAVE + MIN_OCTAVE);
    }
    return Infinity;
  }
}
