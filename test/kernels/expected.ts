/**
 * Expected outputs of the kernel families, from the TypeScript operators only
 * (generator/numerics/ops.ts, generator/reference/kernels.ts, generator/reference/int.ts): each
 * function is a thin adapter that puts a family's inputs into the operator's shapes and its
 * results into the buffer layout the driver prints. Nothing here reads a value the C++ produced.
 */
import { addAligned, attentionRow, attnScore, geluInt, layerNormConsts, layerNormRow, linearOut } from '../../generator/numerics/ops';
import { attnScaleQ } from '../../generator/numerics/tables';
import { runInt } from '../../generator/reference/int';
import { dot, matmulRows } from '../../generator/reference/kernels';
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

/**
 * A linear layer as the reference runs it (int.ts `linear`): exact sums (matmulRows), then
 * linearOut with the bias at the accumulator's binary point into the format of `site`. Rows
 * wOff / bOff on pick one expert's slice of an [E][out][in] tensor.
 */
export function linearLayer(
  p: FamilyProject, x: ArrayLike<number>, rows: number, inDim: number, fx: number,
  wName: string, bName: string, outDim: number, site: string, wOff = 0, bOff = 0,
): Float64Array {
  const w = Float64Array.from(tensor(p, wName).subarray(wOff, wOff + outDim * inDim));
  const bias = tensor(p, bName);
  const sums = new Float64Array(rows * outDim);
  matmulRows(Float64Array.from(x), 0, rows, inDim, w, outDim, sums);
  const fAcc = fx + wfrac(p, wName);
  const fo = afrac(p, site);
  return sums.map((a, i) => linearOut(a, bias[bOff + (i % outDim)], wfrac(p, bName), fAcc, fo, p.plan.bits.activation, false));
}

/** Which LayerNorm of the model: norm1 / norm2 of a block, or a task's head norm. */
export type NormSite = { block: number; norm: 1 | 2 } | { task: string };

/** layerNormRow over rows first .. first + rows - 1 of x (N x D), with the plan's formats. */
export function layerNorm(p: FamilyProject, site: NormSite, x: ArrayLike<number>, first: number, rows: number): Float64Array {
  const { D } = p.sched;
  const d = p.ir.dims;
  let fIn: number;
  let pre: string;
  let out: string;
  if ('task' in site) {
    fIn = afrac(p, `blocks.${d.depth - 1}.res2`);
    pre = `decoders.${site.task}.norm`;
    out = `head.${site.task}.norm`;
  } else {
    const b = site.block;
    fIn = site.norm === 2 ? afrac(p, `blocks.${b}.res1`) : b === 0 ? afrac(p, 'tokens') : afrac(p, `blocks.${b - 1}.res2`);
    pre = `backbone.blocks.${b}.norm${site.norm}`;
    out = `blocks.${b}.norm${site.norm}`;
  }
  const k = layerNormConsts(D, d.layerNormEps, fIn, wfrac(p, `${pre}.weight`), wfrac(p, `${pre}.bias`), afrac(p, out), p.plan.bits.activation);
  const y = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) layerNormRow(x, (first + r) * D, tensor(p, `${pre}.weight`), tensor(p, `${pre}.bias`), k, y, r * D);
  return y;
}

/** The int reference's tokens (patch embedding, class token, positional embedding) for an image. */
export function tokens(p: FamilyProject, image: ArrayLike<number>): Float64Array {
  const run = runInt(p.ir, p.plan, p.quant, p.ir.tasks[0].name, image, { record: true });
  const t = run.checkpoints.find((c) => c.name === 'tokens');
  if (!t) throw new Error('the int reference recorded no tokens');
  return t.data;
}

/**
 * The attention core exactly as the int reference calls it (int.ts): per head and query row,
 * the scores of every key (attnScore of the q.k dot product) and attentionRow over them, from
 * qkv rows [N][3D] (q, k, v in checkpoint order) into [N][D]. When the reference's attention
 * operator changes, this adapter changes with it.
 */
export function attentionCore(qkv: Float64Array, N: number, D: number, heads: number, hd: number, fq: number, fs: number, bits: number): Float64Array {
  const att = new Float64Array(N * D);
  const scores = new Float64Array(N);
  const o = new Float64Array(hd);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) scores[j] = attnScore(dot(qkv, i * 3 * D + h * hd, qkv, j * 3 * D + D + h * hd, hd), attnScaleQ(hd), 2 * fq, fs, bits);
      attentionRow(scores, N, fs, qkv, 3 * D, 2 * D + h * hd, hd, o, att, i * D + h * hd, bits);
    }
  }
  return att;
}

/** Block b's attention from the norm1 output y: qkv (linearLayer), then attentionCore. */
export function attention(p: FamilyProject, b: number, y: ArrayLike<number>): { qkv: Float64Array; a: Float64Array } {
  const { N, D, heads, hd } = p.sched;
  const pre = `backbone.blocks.${b}.attn.qkv`;
  const fq = afrac(p, `blocks.${b}.qkv`);
  const qkv = linearLayer(p, y, N, D, afrac(p, `blocks.${b}.norm1`), `${pre}.weight`, `${pre}.bias`, 3 * D, `blocks.${b}.qkv`);
  return { qkv, a: attentionCore(qkv, N, D, heads, hd, fq, afrac(p, `blocks.${b}.scores`), p.plan.bits.activation) };
}

/** Dense block b from the norm2 output y and the first residual x: fc1, geluInt, fc2, addAligned. */
export function denseMlp(p: FamilyProject, b: number, y: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const { N, D } = p.sched;
  const Hd = p.sched.dense!.hidden;
  const pre = `backbone.blocks.${b}.mlp`;
  const s = (n: string): number => afrac(p, `blocks.${b}.${n}`);
  const A = p.plan.bits.activation;
  const h = linearLayer(p, y, N, D, s('norm2'), `${pre}.fc1.weight`, `${pre}.fc1.bias`, Hd, `blocks.${b}.fc1`).map((v) => geluInt(v, s('fc1'), s('gelu'), A));
  const f = linearLayer(p, h, N, Hd, s('gelu'), `${pre}.fc2.weight`, `${pre}.fc2.bias`, D, `blocks.${b}.fc2`);
  return f.map((v, i) => addAligned(x[i], s('res1'), v, s('fc2'), s('res2'), A));
}
