/**
 * The integer operators of the datapath, exactly as the hardware computes them. The
 * reference model's `int` mode is a composition of these; the generated C++ mirrors each
 * one (same name in snake_case) and docs/numerics.md states them in prose.
 *
 * Conventions: activations are signed `abits`-bit integers with a per-site binary point;
 * probabilities and gate weights are unsigned with PROB_FRAC (16) fraction bits.
 */
import { divRound, floorDiv, isqrt, mulShiftRound, pow2, rshiftRound, sat, type SatCounter } from './fixed';
import {
  ATTN_SCALE_FRAC,
  EXP2_INDEX_BITS,
  EXP2_TABLE_FRAC,
  GELU_HI,
  GELU_LO,
  GELU_STEP_BITS,
  GELU_TABLE_FRAC,
  LN_NORM_FRAC,
  LN_RSQRT_FRAC,
  LOG2E_Q16,
  PROB_FRAC,
  PROB_ONE,
  exp2TableValues,
  geluTableValues,
  lnEpsQ,
  lnExtraBits,
  lnSqrtDimQ,
  probWordFrac,
} from './tables';

/** y = sat(round((x * 2^(F-fx) + y * 2^(F-fy)) / 2^(F-fo))) with F = max(fx, fy): residual adds, cls/pos. */
export function addAligned(x: number, fx: number, y: number, fy: number, fo: number, bits: number, counter?: SatCounter): number {
  const F = Math.max(fx, fy);
  const sum = x * pow2(F - fx) + y * pow2(F - fy);
  return sat(rshiftRound(sum, F - fo), bits, counter);
}

/**
 * GELU by table with linear interpolation. x has `f` fraction bits; the result has `fo`.
 * Below GELU_LO the result is 0 (|gelu| < 1e-14 there), at or above GELU_HI it is x.
 */
export function geluInt(x: number, f: number, fo: number, bits: number, counter?: SatCounter): number {
  const lo = GELU_LO * pow2(f);
  if (x < lo) return 0;
  if (x >= GELU_HI * pow2(f)) return sat(rshiftRound(x, f - fo), bits, counter);
  const T = geluTableValues();
  const t = x - lo;
  let y: number;
  if (f > GELU_STEP_BITS) {
    const fr = f - GELU_STEP_BITS;
    const j = Math.floor(t / pow2(fr));
    const rem = t - j * pow2(fr);
    y = T[j] + rshiftRound((T[j + 1] - T[j]) * rem, fr);
  } else {
    y = T[t * pow2(GELU_STEP_BITS - f)];
  }
  return sat(rshiftRound(y, GELU_TABLE_FRAC - fo), bits, counter);
}

/**
 * exp(-d) for d >= 0 with `fd` fraction bits, as an unsigned PROB_FRAC value in [0, 65536]:
 * u = d * log2(e) (16 fraction bits), 2^-frac(u) from the table with interpolation, then
 * shifted right by the integer part of u.
 */
export function expNeg(d: number, fd: number): number {
  const u = rshiftRound(d * LOG2E_Q16, fd);
  const ui = Math.floor(u / 65536);
  if (ui > 24) return 0;
  const uf = u - ui * 65536;
  const idxShift = 16 - EXP2_INDEX_BITS;
  const j = Math.floor(uf / pow2(idxShift));
  const rem = uf - j * pow2(idxShift);
  const E = exp2TableValues();
  const v = E[j] + rshiftRound((E[j + 1] - E[j]) * rem, idxShift);
  return rshiftRound(v, EXP2_TABLE_FRAC - PROB_FRAC + ui);
}

/** Constants of one LayerNorm, fixed at generation time. */
export interface LayerNormConsts {
  dim: number;
  inFrac: number;
  extraBits: number;
  epsQ: number;
  sqrtDimQ: number;
  gammaFrac: number;
  betaFrac: number;
  outFrac: number;
  bits: number;
}

export function layerNormConsts(dim: number, eps: number, inFrac: number, gammaFrac: number, betaFrac: number, outFrac: number, bits: number): LayerNormConsts {
  const extraBits = lnExtraBits(dim, bits);
  return { dim, inFrac, extraBits, epsQ: lnEpsQ(eps, dim, inFrac, extraBits), sqrtDimQ: lnSqrtDimQ(dim), gammaFrac, betaFrac, outFrac, bits };
}

/**
 * LayerNorm of one row x[off .. off+D) into y[yOff ..):
 *   mu = round(sum(x) * 2^E / D)            mean with E extra fraction bits
 *   c  = x * 2^E - mu
 *   s  = isqrt(sum(c^2) + epsQ)             sqrt(D * (var + eps)) in the units of c
 *   r  = floor(sqrtDimQ / s)                sqrt(D) / s with LN_RSQRT_FRAC fraction bits
 *   n  = round(c * r / 2^(LN_RSQRT_FRAC - LN_NORM_FRAC))   (x - mean) / sqrt(var + eps)
 *   y  = sat(round((n * gamma + beta * 2^(LN_NORM_FRAC + fg - fb)) / 2^(LN_NORM_FRAC + fg - fo)))
 * Every intermediate stays below 2^53 (see lnExtraBits); the C++ uses int64.
 */
export function layerNormRow(
  x: ArrayLike<number>, off: number, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  k: LayerNormConsts, y: { [i: number]: number }, yOff: number, counter?: SatCounter,
): void {
  const D = k.dim;
  let s1 = 0;
  for (let i = 0; i < D; i++) s1 += x[off + i];
  const scaleE = pow2(k.extraBits);
  const mu = divRound(s1 * scaleE, D);
  let v = k.epsQ;
  for (let i = 0; i < D; i++) {
    const c = x[off + i] * scaleE - mu;
    v += c * c;
  }
  const s = isqrt(v);
  const r = floorDiv(k.sqrtDimQ, s);
  const betaShift = LN_NORM_FRAC + k.gammaFrac - k.betaFrac;
  const outShift = LN_NORM_FRAC + k.gammaFrac - k.outFrac;
  for (let i = 0; i < D; i++) {
    const c = x[off + i] * scaleE - mu;
    const n = rshiftRound(c * r, LN_RSQRT_FRAC - LN_NORM_FRAC);
    const acc = n * gamma[i] + beta[i] * pow2(betaShift);
    y[yOff + i] = sat(rshiftRound(acc, outShift), k.bits, counter);
  }
}

/** round(q.k * head_dim^-0.5) into the score format: acc has 2*fqkv fraction bits. */
export function attnScore(acc: number, scaleQ: number, accFrac: number, scoreFrac: number, bits: number, counter?: SatCounter): number {
  return sat(mulShiftRound(acc, scaleQ, accFrac + ATTN_SCALE_FRAC - scoreFrac), bits, counter);
}

/**
 * One query row of attention with the online softmax over key tiles of `keyTile` keys
 * (flash-attention order: the scores of a tile, then its P.V), keys in order 0..N-1.
 * scores[j] (fs fraction bits), values v[j*stride + vOff + d] (fv fraction bits); the
 * output has fv fraction bits too: a convex combination of V rows cannot leave V's range.
 * Per tile T, with p_j = round(exp(s_j - M') to pf = probWordFrac(bits) fraction bits) <= 2^pf
 * (the P word the engine multiplies) and g = PROB_FRAC - pf:
 *   M' = max(M, max_{j in T} s_j)          (the first tile: M' = its maximum, l = o = 0)
 *   a  = exp(M - M')                        PROB_FRAC, one per tile (1.0 when M' = M)
 *   l  = round(l * a) + 2^g sum_{j in T} p_j
 *   o  = round(o * a) + 2^g sum_{j in T} p_j * v_j   (the sum exact: the engine's P.V)
 *   M  = M'
 *   out = sat(round(o / l))
 * l and o keep PROB_FRAC (and PROB_FRAC + fv) fraction bits, so l >= PROB_ONE once a key is
 * in (the key at the maximum adds exactly 2^pf) and the divide is defined. A rescale rounds o
 * and l separately, adding at most (1 + max|v|)/2 to o - max|v| * l while l grows by at least
 * PROB_ONE per tile, so o / l exceeds max |v| by at most about 1/4 LSB and the rounded division
 * stays in range. The output is saturated (and counted) all the same, in the C++ too, so the
 * word can never wrap. keyTile = n is the two-pass softmax with p at pf bits.
 */
export function attentionRow(
  scores: ArrayLike<number>, n: number, fs: number,
  v: ArrayLike<number>, vStride: number, vOff: number, headDim: number, keyTile: number,
  o: Float64Array, out: { [i: number]: number }, outOff: number, bits: number, counter?: SatCounter,
): void {
  const pf = probWordFrac(bits);
  const up = pow2(PROB_FRAC - pf);
  let m = 0;
  let l = 0;
  o.fill(0, 0, headDim);
  for (let t0 = 0; t0 < n; t0 += keyTile) {
    const t1 = Math.min(n, t0 + keyTile);
    let mt = scores[t0];
    for (let j = t0 + 1; j < t1; j++) if (scores[j] > mt) mt = scores[j];
    const mNew = t0 === 0 || mt > m ? mt : m;
    const a = expNeg(t0 === 0 ? 0 : mNew - m, fs);
    l = mulShiftRound(l, a, PROB_FRAC);
    for (let d = 0; d < headDim; d++) o[d] = mulShiftRound(o[d], a, PROB_FRAC);
    m = mNew;
    for (let j = t0; j < t1; j++) {
      const p = softmaxP(m - scores[j], fs, pf);
      l += p * up;
      const base = j * vStride + vOff;
      for (let d = 0; d < headDim; d++) o[d] += p * v[base + d] * up;
    }
  }
  for (let d = 0; d < headDim; d++) out[outOff + d] = sat(divRound(o[d], l), bits, counter);
}

/** p = exp(-d) with pf fraction bits (d >= 0, fs fraction bits): the P word of P.V. */
export function softmaxP(d: number, fs: number, pf: number): number {
  return rshiftRound(expNeg(d, fs), PROB_FRAC - pf);
}

/** The gate's choice for one token: the kept experts and their weights (PROB_FRAC). */
export interface GateChoice {
  experts: number[];
  weights: number[];
}

/**
 * Top-k of the gate logits z (fz fraction bits) and the full-softmax probability of each
 * kept expert, not renormalised over the k (M³ViT). Order: larger logit first; equal
 * logits go to the lower expert index. Probability: round(2^16 * p_e / sum_e' p_e') with
 * p_e = expNeg(max z - z_e).
 */
export function gateTopK(z: ArrayLike<number>, numExperts: number, k: number, fz: number): GateChoice {
  let m = z[0];
  for (let e = 1; e < numExperts; e++) if (z[e] > m) m = z[e];
  let sum = 0;
  const p = new Array<number>(numExperts);
  for (let e = 0; e < numExperts; e++) {
    p[e] = expNeg(m - z[e], fz);
    sum += p[e];
  }
  const experts: number[] = [];
  const taken = new Uint8Array(numExperts);
  for (let r = 0; r < k; r++) {
    let best = -1;
    for (let e = 0; e < numExperts; e++) {
      if (!taken[e] && (best < 0 || z[e] > z[best])) best = e;
    }
    taken[best] = 1;
    experts.push(best);
  }
  return { experts, weights: experts.map((e) => divRound(p[e] * PROB_ONE, sum)) };
}

/** One expert's contribution to a token: round(g * y / 2^(PROB_FRAC + fy - fm)), added to a wide accumulator. */
export function combineTerm(g: number, y: number, fy: number, fm: number): number {
  return rshiftRound(g * y, PROB_FRAC + fy - fm);
}

/** 2x bilinear upsampling (align_corners=false) of one output pixel: weights 9,3,3,1 / 16, clamped at the borders. */
export function upsampleTap(x00: number, xRow: number, xCol: number, xDiag: number): number {
  return rshiftRound(9 * x00 + 3 * xRow + 3 * xCol + xDiag, 4);
}

/** Neighbour index for 2x upsampling: output 2i uses i-1, output 2i+1 uses i+1, clamped. */
export function upsampleNeighbour(i: number, odd: boolean, n: number): number {
  return odd ? Math.min(i + 1, n - 1) : Math.max(i - 1, 0);
}

/**
 * The bias of a linear layer or convolution in the units of its accumulator: the
 * accumulator of x (fx fraction bits) times w (fw) has fAcc = fx + fw fraction bits, and
 * the plan gives the bias fb <= fAcc, so the alignment is an exact left shift.
 */
export function alignBias(b: number, fb: number, fAcc: number): number {
  if (fb > fAcc) throw new RangeError(`bias fraction bits ${fb} exceed the accumulator's ${fAcc}`);
  return b * pow2(fAcc - fb);
}

/**
 * Output of a linear layer or convolution: requant(acc + alignBias(b), fAcc -> fo), with
 * ReLU (for the head convs) applied to the wide sum before rounding, so that a negative
 * value below the word's range is a 0 and not a counted saturation. (ReLU commutes with the
 * round-half-up shift: both are monotone and map 0 to 0.)
 */
export function linearOut(acc: number, b: number, fb: number, fAcc: number, fo: number, bits: number, relu: boolean, counter?: SatCounter): number {
  let v = acc + alignBias(b, fb, fAcc);
  if (relu && v < 0) v = 0;
  return sat(rshiftRound(v, fAcc - fo), bits, counter);
}
