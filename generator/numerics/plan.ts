/**
 * The quantization plan: the binary point of every weight tensor (from its data) and of
 * every activation site (from a calibration run of the float reference). Word widths come
 * from the config. The int reference, the weight image and the C++ constants all read the
 * plan, so a format is decided exactly once.
 */
import type { NumericsConfig } from '../config/types';
import { isMoeBlock } from '../ir/build';
import type { ModelIR } from '../ir/types';
import { UserError } from '../util/errors';
import type { QuantTensor, QuantWeights, WeightSet } from '../weights/types';
import { chooseFrac, pow2, quantize, SatCounter } from './fixed';
import { LN_NORM_FRAC } from './tables';

export type SiteKind =
  | 'input' | 'patch_embed' | 'tokens' | 'norm' | 'qkv' | 'scores' | 'proj' | 'residual'
  | 'fc1' | 'gelu' | 'fc2' | 'gate' | 'expert_fc1' | 'expert_gelu' | 'expert_fc2' | 'moe'
  | 'head_conv' | 'head_out';

/** A tensor of activations whose binary point is calibrated. */
export interface ActivationSite {
  name: string;
  kind: SiteKind;
  block?: number;
  task?: string;
}

/**
 * Every calibrated activation site, in execution order. Attention outputs have no site of
 * their own: they are convex combinations of V rows and keep the qkv format.
 */
export function activationSites(ir: ModelIR): ActivationSite[] {
  const sites: ActivationSite[] = [
    { name: 'input', kind: 'input' },
    { name: 'patch_embed', kind: 'patch_embed' },
    { name: 'tokens', kind: 'tokens' },
  ];
  for (let b = 0; b < ir.dims.depth; b++) {
    const s = (n: string, kind: SiteKind): void => void sites.push({ name: `blocks.${b}.${n}`, kind, block: b });
    s('norm1', 'norm');
    s('qkv', 'qkv');
    s('scores', 'scores');
    s('proj', 'proj');
    s('res1', 'residual');
    s('norm2', 'norm');
    if (isMoeBlock(ir.dims, b)) {
      s('gate', 'gate');
      s('expert_fc1', 'expert_fc1');
      s('expert_gelu', 'expert_gelu');
      s('expert_fc2', 'expert_fc2');
      s('moe', 'moe');
    } else {
      s('fc1', 'fc1');
      s('gelu', 'gelu');
      s('fc2', 'fc2');
    }
    s('res2', 'residual');
  }
  for (const t of ir.tasks) {
    sites.push({ name: `head.${t.name}.norm`, kind: 'norm', task: t.name });
    if (t.head.kind === 'uphead') {
      for (let i = 0; i < t.head.stages; i++) sites.push({ name: `head.${t.name}.conv_${i}`, kind: 'head_conv', task: t.name });
    }
    sites.push({ name: `head.${t.name}.out`, kind: 'head_out', task: t.name });
  }
  return sites;
}

export interface TensorFormat {
  bits: number;
  frac: number;
}

export interface QuantPlan {
  bits: { weight: number; bias: number; activation: number; accumulator: number };
  /** Fraction bits of each activation site. */
  act: Record<string, number>;
  /** Word width and fraction bits of each weight tensor, by checkpoint name. */
  tensors: Record<string, TensorFormat>;
  /** Keys per tile of the attention's online softmax (attentionRow): the order in which
   * the hardware's engine computes scores and P.V, so the rounding follows it. */
  attention: { keyTile: number };
}

/** Fewest keys in an attention tile: the softmax's per-tile work (one exp for the rescale,
 * a rescale of the row's output) is shared by at least this many keys. */
export const MIN_KEY_TILE = 8;
/** Keys per tile aimed at on long sequences: every (head, tile) pays a load-only job and a
 * pipeline fill per product, about 570 cycles at PE 32 x SIMD 32; at 64 keys that is under
 * a tenth of the tile's 2 x N x 64 / SIMD steps for N in the hundreds (at 32 keys, ViT-S's
 * N = 1025 spent 24% of the attention in them). S holds a bank per key of the tile. */
export const KEY_TILE_TARGET = 64;

/** Keys per attention tile for a PE x SIMD engine over `keys` keys: the scores of a tile are
 * engine output rows (a multiple of PE) and its P.V runs over the tile's keys as SIMD
 * columns (a multiple of SIMD), so a multiple of lcm(PE, SIMD): the largest up to
 * KEY_TILE_TARGET and a third of the keys (a sequence keeps several tiles, so the online
 * softmax's rescale runs), but at least MIN_KEY_TILE keys. */
export function attentionKeyTile(pe: number, simd: number, keys: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const lcm = (pe / gcd(pe, simd)) * simd;
  const want = Math.min(KEY_TILE_TARGET, Math.floor(keys / 3));
  return lcm * Math.max(Math.ceil(MIN_KEY_TILE / lcm), Math.floor(want / lcm));
}

/** The input site of the layer that adds a bias tensor: the bias is aligned to input frac + weight frac. */
function biasInputSite(biasName: string): { inSite: string; weight: string } | undefined {
  let m: RegExpExecArray | null;
  if (biasName === 'backbone.patch_embed.proj.bias') return { inSite: 'input', weight: 'backbone.patch_embed.proj.weight' };
  if ((m = /^backbone\.blocks\.(\d+)\.(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2|mlp\.experts\.htoh4|mlp\.experts\.h4toh)\.bias$/.exec(biasName))) {
    const b = m[1];
    const inSite = {
      'attn.qkv': `blocks.${b}.norm1`,
      'attn.proj': `blocks.${b}.qkv`,
      'mlp.fc1': `blocks.${b}.norm2`,
      'mlp.fc2': `blocks.${b}.gelu`,
      'mlp.experts.htoh4': `blocks.${b}.norm2`,
      'mlp.experts.h4toh': `blocks.${b}.expert_gelu`,
    }[m[2]]!;
    return { inSite, weight: `backbone.blocks.${b}.${m[2]}.weight` };
  }
  if ((m = /^decoders\.([^.]+)\.(conv_(\d+)|linear)\.bias$/.exec(biasName))) {
    const task = m[1];
    if (m[2] === 'linear') return { inSite: `head.${task}.norm`, weight: `decoders.${task}.linear.weight` };
    const i = Number(m[3]);
    return { inSite: i === 0 ? `head.${task}.norm` : `head.${task}.conv_${i - 1}`, weight: `decoders.${task}.${m[2]}.weight` };
  }
  return undefined;
}

function maxAbs(data: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]);
    if (a > m) m = a;
  }
  return m;
}

/** Bits of a stored MoE combine term sum: token-tiled designs keep each token's as int32 lanes in DDR (ES). */
export const COMBINE_TERM_BITS = 32;

/**
 * A combine term of an MoE block, round(g * y / 2^(PROB_FRAC + f_fc2 - f_moe)) with the gate
 * weight g <= PROB_ONE and y an expert_fc2 word (|y| <= 2^(act - 1)), is at most
 * 2^(act - 1 + f_moe - f_fc2) in magnitude. Token-tiled designs keep a token's running sum of
 * its terms in COMBINE_TERM_BITS (ES): the k gate weights sum to PROB_ONE (within their
 * rounding) and each term rounds by 1/2, so any partial sum is at most about
 * 2^(act - 1 + f_moe - f_fc2) + k / 2, which fits while f_moe - f_fc2 <= COMBINE_TERM_BITS -
 * act - 1 (a bit of room for the rounding). The MoE output is a convex combination of the
 * experts' outputs, so calibration puts f_moe near f_fc2, and this cap binds only for a
 * degenerate calibration (outputs that cancel); it holds for every placement, so the
 * numerics do not depend on it.
 */
export function capCombineTerms(ir: ModelIR, act: Record<string, number>, activationBits: number): void {
  for (let b = 0; b < ir.dims.depth; b++) {
    if (!isMoeBlock(ir.dims, b)) continue;
    const cap = act[`blocks.${b}.expert_fc2`] + (COMBINE_TERM_BITS - activationBits - 1);
    if (act[`blocks.${b}.moe`] > cap) act[`blocks.${b}.moe`] = cap;
  }
}

/**
 * Chooses every format. `actMaxAbs` holds the largest magnitude each activation site took
 * in the calibration run (all tasks, all calibration images).
 */
export function buildQuantPlan(ir: ModelIR, numerics: NumericsConfig, weights: WeightSet, actMaxAbs: Record<string, number>, keyTile: number): QuantPlan {
  const bits = {
    weight: numerics.weightBits,
    bias: numerics.biasBits,
    activation: numerics.activationBits,
    accumulator: numerics.accumulatorBits,
  };
  const act: Record<string, number> = {};
  for (const site of activationSites(ir)) {
    const m = actMaxAbs[site.name];
    if (m === undefined) throw new Error(`calibration has no statistics for activation site ${site.name}`);
    act[site.name] = chooseFrac(m, bits.activation, numerics.headroomBits);
  }
  capCombineTerms(ir, act, bits.activation);
  const tensors: Record<string, TensorFormat> = {};
  const get = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`weights have no tensor ${name}`);
    return t;
  };
  // Weights first: biases are aligned to (input frac + weight frac).
  for (const t of ir.tensors) {
    if (t.role === 'bias' || t.role === 'norm_bias') continue;
    const wordBits = t.role === 'embedding' ? bits.activation : bits.weight;
    tensors[t.name] = { bits: wordBits, frac: chooseFrac(maxAbs(get(t.name).data), wordBits) };
  }
  for (const t of ir.tensors) {
    if (t.role === 'norm_bias') {
      const gamma = tensors[t.name.replace(/\.bias$/, '.weight')];
      tensors[t.name] = { bits: bits.bias, frac: Math.min(chooseFrac(maxAbs(get(t.name).data), bits.bias), LN_NORM_FRAC + gamma.frac) };
    } else if (t.role === 'bias') {
      const ctx = biasInputSite(t.name);
      if (!ctx) throw new Error(`no input site known for bias ${t.name}`);
      const accFrac = act[ctx.inSite] + tensors[ctx.weight].frac;
      tensors[t.name] = { bits: bits.bias, frac: Math.min(chooseFrac(maxAbs(get(t.name).data), bits.bias), accFrac) };
    }
  }
  return { bits, act, tensors, attention: { keyTile } };
}

export interface QuantStats {
  name: string;
  shape: number[];
  min: number;
  max: number;
  bits: number;
  frac: number;
  /** Largest |w - dequantized(q)|. */
  maxError: number;
  saturated: number;
}

/** Quantizes every tensor of the plan; returns the integers and a statistics row per tensor. */
export function quantizeWeights(weights: WeightSet, plan: QuantPlan): { quant: QuantWeights; stats: QuantStats[] } {
  const quant: QuantWeights = new Map();
  const stats: QuantStats[] = [];
  for (const [name, fmt] of Object.entries(plan.tensors)) {
    const t = weights.get(name);
    if (!t) throw new Error(`weights have no tensor ${name}`);
    const data = new Int32Array(t.data.length);
    const counter = new SatCounter();
    let min = Infinity;
    let max = -Infinity;
    let maxError = 0;
    const scale = pow2(-fmt.frac);
    for (let i = 0; i < data.length; i++) {
      const w = t.data[i];
      const q = quantize(w, fmt.frac, fmt.bits, counter);
      data[i] = q;
      if (w < min) min = w;
      if (w > max) max = w;
      const err = Math.abs(w - q * scale);
      if (err > maxError) maxError = err;
    }
    const qt: QuantTensor = { shape: [...t.shape], bits: fmt.bits, frac: fmt.frac, data };
    quant.set(name, qt);
    stats.push({ name, shape: [...t.shape], min, max, bits: fmt.bits, frac: fmt.frac, maxError, saturated: counter.count });
  }
  return { quant, stats };
}

/**
 * The accumulator must hold the longest dot product of full-scale words without overflow,
 * so that the accumulation order (expert-major or token-major, PE x SIMD tiling) cannot
 * change a result. Returns the bits needed.
 */
export function requiredAccumulatorBits(ir: ModelIR, activationBits: number, weightBits: number): { bits: number; layer: string; fanIn: number } {
  let worst = { bits: 0, layer: '', fanIn: 0 };
  for (const t of ir.tensors) {
    if (t.fanIn === undefined) continue;
    // |sum| <= fanIn * 2^(a-1) * 2^(w-1), plus a bias of at most the same size: one more bit.
    const need = activationBits - 1 + weightBits - 1 + Math.ceil(Math.log2(t.fanIn)) + 1 + 1;
    if (need > worst.bits) worst = { bits: need, layer: t.name, fanIn: t.fanIn };
  }
  return worst;
}

export function checkAccumulator(ir: ModelIR, numerics: NumericsConfig, configFile: string): void {
  const need = requiredAccumulatorBits(ir, numerics.activationBits, numerics.weightBits);
  if (need.bits > numerics.accumulatorBits) {
    throw new UserError(configFile, [
      `/numerics/accumulator/bits: ${numerics.accumulatorBits} bits can overflow in ${need.layer} (${need.fanIn} products of ${numerics.activationBits}-bit x ${numerics.weightBits}-bit words); allowed: ${need.bits} to 64`,
    ]);
  }
}
