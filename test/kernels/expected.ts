/**
 * Expected outputs of the kernel families, from the TypeScript operators only
 * (generator/numerics/ops.ts, generator/reference/kernels.ts, generator/reference/int.ts): each
 * function is a thin adapter that puts a family's inputs into the operator's shapes and its
 * results into the buffer layout the driver prints. Nothing here reads a value the C++ produced.
 */
import { matmulRows } from '../../generator/reference/kernels';
import type { FamilyProject } from './harness';

type Rng = { next(): number; int(lo: number, hi: number): number };

/** n signed values of up to `bits` bits with mixed magnitudes (small ones common) and, now
 * and then, the extremes of the word. */
export function randomInts(R: Rng, n: number, bits: number): Float64Array {
  const lo = -(2 ** (bits - 1));
  const hi = 2 ** (bits - 1) - 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = R.next();
    if (u < 0.03) out[i] = hi;
    else if (u < 0.06) out[i] = lo;
    else {
      const b = R.int(0, bits - 1);
      const m = R.int(0, 2 ** b - 1);
      out[i] = R.next() < 0.5 ? -m : m;
    }
  }
  return out;
}

/** The quantized checkpoint tensor `name` of the project (C order). */
export function tensor(p: FamilyProject, name: string): Int32Array {
  const t = p.quant.get(name);
  if (!t) throw new Error(`no quantized tensor ${name}`);
  return t.data;
}

/** Fraction bits of a weight tensor and of an activation site in the project's plan. */
export function wfrac(p: FamilyProject, name: string): number {
  const t = p.plan.tensors[name];
  if (!t) throw new Error(`no tensor ${name} in the plan`);
  return t.frac;
}
export function afrac(p: FamilyProject, site: string): number {
  const f = p.plan.act[site];
  if (f === undefined) throw new Error(`no site ${site} in the plan`);
  return f;
}

/** A matrix as the kernel multiplies it: element (row, column) of its rows in the image's order. */
export type Matrix = (r: number, c: number) => number;

/** Words of `rows` rows of a K-column matrix in PE x SIMD blocks (where row `rows` starts). */
export function blockRows(p: FamilyProject, rows: number, K: number): number {
  return (rows / p.sched.pe) * (K / p.sched.simd) * p.sched.blockWords;
}

/**
 * linear_engine's contract: dst[n][o] (+)= sum_i x[n][i] * W(o, i) (matmulRows, the reference's
 * exact sums) for the tokens n0 .. n0 + nRows - 1 and the rows o < rows; every other element of
 * dst keeps its value.
 */
export function linearEngine(
  x: ArrayLike<number>, xCols: number, n0: number, nRows: number, W: Matrix, rows: number, K: number,
  before: ArrayLike<number>, cols: number, accumulate: boolean,
): Float64Array {
  const xs = new Float64Array(nRows * K);
  for (let n = 0; n < nRows; n++) for (let i = 0; i < K; i++) xs[n * K + i] = x[(n0 + n) * xCols + i];
  const w = new Float64Array(rows * K);
  for (let o = 0; o < rows; o++) for (let i = 0; i < K; i++) w[o * K + i] = W(o, i);
  const sums = new Float64Array(nRows * rows);
  matmulRows(xs, 0, nRows, K, w, rows, sums);
  const out = Float64Array.from(before);
  for (let n = 0; n < nRows; n++) {
    for (let o = 0; o < rows; o++) {
      const at = (n0 + n) * cols + o;
      out[at] = (accumulate ? out[at] : 0) + sums[n * rows + o];
    }
  }
  return out;
}
