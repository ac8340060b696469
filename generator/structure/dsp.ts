/**
 * DSP48E2 slices of one integer product: the estimator's rule (generator/estimate/formulas.ts
 * dspsPerMultiplier, UG579: a 27 x 18 signed multiplier per slice, wider products tiled), so
 * the structural count and the estimate price a multiplier shape the same way; what the check
 * compares is the shapes and their counts.
 */
import { dspsPerMultiplier } from '../estimate/formulas';

/** `a` and `b` in signed bits. */
export function dspPerProduct(a: number, b: number): number {
  return dspsPerMultiplier(a, b);
}
