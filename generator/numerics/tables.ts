/**
 * Lookup tables and constants of the integer nonlinearities, computed here once and emitted
 * verbatim into the generated C++ (numerics header), so the two sides cannot drift.
 */
import { gelu } from './special';
import { pow2 } from './fixed';

/** GELU table: samples of gelu(x) on [-8, 8] every 2^-GELU_STEP_BITS, stored with GELU_TABLE_FRAC fraction bits. */
export const GELU_LO = -8;
export const GELU_HI = 8;
export const GELU_STEP_BITS = 6;
export const GELU_TABLE_FRAC = 16;
export const GELU_SEGMENTS = (GELU_HI - GELU_LO) * 2 ** GELU_STEP_BITS; // 1024

/** Base-2 exponential table: 2^(-j/2^EXP2_INDEX_BITS) for j = 0..2^EXP2_INDEX_BITS, with EXP2_TABLE_FRAC fraction bits. */
export const EXP2_INDEX_BITS = 8;
export const EXP2_TABLE_FRAC = 20;
/** log2(e) with 16 fraction bits: exp(-d) = 2^(-d * log2 e). */
export const LOG2E_Q16 = Math.floor(Math.LOG2E * 65536 + 0.5); // 94548
/** Probabilities and gate weights are unsigned with 16 fraction bits: 1.0 = 65536. */
export const PROB_FRAC = 16;
export const PROB_ONE = 65536;

/** Attention scale head_dim^-0.5 with ATTN_SCALE_FRAC fraction bits. */
export const ATTN_SCALE_FRAC = 15;

/** LayerNorm: fraction bits of the reciprocal-square-root factor and of the normalised value. */
export const LN_RSQRT_FRAC = 40;
export const LN_NORM_FRAC = 16;

const round = (x: number): number => Math.floor(x + 0.5);

let geluTable: Int32Array | undefined;
export function geluTableValues(): Int32Array {
  if (!geluTable) {
    geluTable = new Int32Array(GELU_SEGMENTS + 1);
    for (let j = 0; j <= GELU_SEGMENTS; j++) {
      geluTable[j] = round(gelu(GELU_LO + j * pow2(-GELU_STEP_BITS)) * pow2(GELU_TABLE_FRAC));
    }
  }
  return geluTable;
}

let exp2Table: Int32Array | undefined;
export function exp2TableValues(): Int32Array {
  if (!exp2Table) {
    const n = 2 ** EXP2_INDEX_BITS;
    exp2Table = new Int32Array(n + 1);
    for (let j = 0; j <= n; j++) exp2Table[j] = round(2 ** (-j / n) * pow2(EXP2_TABLE_FRAC));
  }
  return exp2Table;
}

export function attnScaleQ(headDim: number): number {
  return round(pow2(ATTN_SCALE_FRAC) / Math.sqrt(headDim));
}

/** Extra fraction bits the LayerNorm keeps on (x - mean), as many as keep sum((x-mean)^2) below 2^52. */
export function lnExtraBits(dim: number, activationBits: number): number {
  const e = Math.floor((52 - 2 * activationBits - Math.ceil(Math.log2(dim))) / 2);
  return Math.max(0, Math.min(8, e));
}

/** round(sqrt(D) * 2^LN_RSQRT_FRAC): the LayerNorm divides it by isqrt(sum (x-mean)^2). */
export function lnSqrtDimQ(dim: number): number {
  return round(Math.sqrt(dim) * pow2(LN_RSQRT_FRAC));
}

/** max(1, round(eps * D * 2^(2*(frac + extra)))): eps in the units of sum((x-mean)^2). */
export function lnEpsQ(eps: number, dim: number, inFrac: number, extraBits: number): number {
  return Math.max(1, round(eps * dim * pow2(2 * (inFrac + extraBits))));
}

/** Fraction bits of a softmax probability as the MAC engine multiplies it (P of P.V, an
 * activation word): p <= 1.0 must fit a signed `bits`-bit word, so 2^f <= 2^(bits-1) - 1. */
export function probWordFrac(bits: number): number {
  return bits - 2;
}
