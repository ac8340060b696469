/**
 * Operand widths of every product the kernels compute outside the MAC array, in signed bits:
 * what the multiplier HLS builds is sized from. Each width is a bound the numerics prove (a
 * word's declared width, a table's largest step, a sum's largest value), never a measured
 * one, so a narrow product is exact for every input. The emitters write them into numerics.h
 * (model-independent ones) and model_config.h; the estimator counts the multipliers from the
 * same figures, and the structural check reads the widths back from the generated C++.
 */
import { FRAC_MAX } from './fixed';
import * as T from './tables';

/** Signed bits holding every integer in [-m, m]. */
export function signedBitsFor(maxAbs: number): number {
  let bits = 1;
  while (2 ** (bits - 1) - 1 < maxAbs) bits++;
  return bits;
}

function largestStep(table: Int32Array): number {
  let m = 0;
  for (let j = 0; j + 1 < table.length; j++) m = Math.max(m, Math.abs(table[j + 1] - table[j]));
  return m;
}

/** Widths that depend only on the numerics tables (numerics.h). */
export interface TableWidths {
  log2eBits: number;
  attnScaleBits: number;
  /** A probability, softmax factor or gate weight: 0..PROB_ONE. */
  probBits: number;
  geluDiffBits: number;
  exp2DiffBits: number;
  /** Remainder below a GELU step of an activation with at most FRAC_MAX fraction bits. */
  geluRemBits: number;
  /** Remainder below an exp2 step of the Q16 exponent. */
  exp2RemBits: number;
}

export function tableWidths(): TableWidths {
  return {
    log2eBits: signedBitsFor(T.LOG2E_Q16),
    attnScaleBits: signedBitsFor(2 ** T.ATTN_SCALE_FRAC),
    probBits: signedBitsFor(T.PROB_ONE),
    geluDiffBits: signedBitsFor(largestStep(T.geluTableValues())),
    exp2DiffBits: signedBitsFor(largestStep(T.exp2TableValues())),
    geluRemBits: signedBitsFor(2 ** (FRAC_MAX - T.GELU_STEP_BITS) - 1),
    exp2RemBits: signedBitsFor(2 ** (16 - T.EXP2_INDEX_BITS) - 1),
  };
}

/** Widths that depend on the model and the word widths (model_config.h). */
export interface ModelWidths {
  /** A score or gate-logit difference: two activation words apart. */
  diffBits: number;
  /** The online softmax sum l <= keys * PROB_ONE (plus one PROB_ONE of rounding slack). */
  softmaxSumBits: number;
  /** The P.V accumulator o: |o| <= l * 2^(act - 1), plus a rounding unit per key. */
  softmaxOutBits: number;
  /** LayerNorm's centred value c = x * 2^E - mu, |c| < 2^(act + E). */
  lnCenterBits: number;
  /** LayerNorm's reciprocal square root r <= sqrt(D) * 2^LN_RSQRT_FRAC (isqrt >= 1). */
  lnRsqrtBits: number;
  /** The normalised value n = c * r / 2^(LN_RSQRT_FRAC - LN_NORM_FRAC): |c * r| <= sqrt(D) * 2^LN_RSQRT_FRAC
   * (c^2 <= sum c^2 < s^2, r <= sqrt(D) * 2^LN_RSQRT_FRAC / s), so |n| <= sqrt(D) * 2^LN_NORM_FRAC + 1. */
  lnNormBits: number;
  /** LayerNorm's variance sum eps_q + sum c^2 <= eps_q + D * 2^(2 * (act + E)), eps_q at its
   * largest (input format FRAC_MAX): known before calibration, so the estimator has it too. */
  lnVarBits: number;
}

export function modelWidths(m: { keys: number; dim: number; actBits: number; eps: number }): ModelWidths {
  const extra = T.lnExtraBits(m.dim, m.actBits);
  const sqrtDimQ = T.lnSqrtDimQ(m.dim);
  const sumMax = (m.keys + 1) * T.PROB_ONE;
  return {
    diffBits: m.actBits + 1,
    softmaxSumBits: signedBitsFor(sumMax),
    softmaxOutBits: signedBitsFor(sumMax * 2 ** (m.actBits - 1) + m.keys),
    lnCenterBits: m.actBits + extra + 1,
    lnRsqrtBits: signedBitsFor(sqrtDimQ),
    lnNormBits: signedBitsFor(Math.ceil(sqrtDimQ / 2 ** (T.LN_RSQRT_FRAC - T.LN_NORM_FRAC)) + 1),
    lnVarBits: signedBitsFor(T.lnEpsQ(m.eps, m.dim, FRAC_MAX, extra) + m.dim * 2 ** (2 * (m.actBits + extra))),
  };
}

/** Widths of the MoE gate's routing (moe.h ROUTE_SCAN, numerics.h gate_weight). */
export interface GateWidths {
  /** The exp sum of a token: E terms, each <= PROB_ONE. */
  gateSumBits: number;
  /** A weight's numerator p * PROB_ONE, p <= PROB_ONE. */
  gateNumBits: number;
}

export function gateWidths(experts: number): GateWidths {
  return { gateSumBits: signedBitsFor(experts * T.PROB_ONE), gateNumBits: signedBitsFor(T.PROB_ONE * T.PROB_ONE) };
}

/** A divider of a pipelined loop: dividend and divisor in signed bits. */
export interface DividerShape {
  dividend: number;
  divisor: number;
}

/** The gate weight's divide (ROUTE_SCAN, div_round adds a bit to both). */
export function gateDivider(g: GateWidths): DividerShape {
  return { dividend: g.gateNumBits + 2, divisor: g.gateSumBits + 1 };
}

/** The two run-time divides of the kernels, each in a loop pipelined at II = 1 and so a
 * pipelined divider: softmax_output's round(o / l) (div_round adds a bit to both) and
 * ln_rsqrt's sqrt_dim_q / isqrt(v). */
export function dividerShapes(w: ModelWidths): { softmaxOut: DividerShape; lnRsqrt: DividerShape } {
  return {
    softmaxOut: { dividend: w.softmaxOutBits + 2, divisor: w.softmaxSumBits + 1 },
    lnRsqrt: { dividend: w.lnRsqrtBits + 1, divisor: Math.floor(w.lnVarBits / 2) + 1 },
  };
}
