/**
 * What a reference run returns. Both modes record the same checkpoint names, in execution
 * order, so that a float run and an int run compare layer by layer and the golden vectors
 * name the first layer where the hardware differs.
 *
 * Checkpoint names (B = block index, t = task name, s = head stage):
 *   input, patch_embed, tokens,
 *   blocks.B.{norm1, qkv, attn, proj, res1, norm2},
 *   dense block: blocks.B.{fc1, gelu, fc2};  MoE block: blocks.B.{gate, gate.experts, gate.weights, moe},
 *   blocks.B.res2,
 *   head.t.norm, UpHead: head.t.conv_s (after ReLU), head.t.up_s (s < stages-1), head.t.conv1x1,
 *   head.t.out (the task output: UpHead after its final upsample, linear head [patches, C]).
 */

export interface Checkpoint {
  name: string;
  shape: number[];
  /** float mode: real values; int mode: integers (value = data * 2^-frac). */
  data: Float64Array;
  /** int mode: fraction bits (undefined for expert indices). */
  frac?: number;
  /** int mode: storage width in the golden vectors. */
  dtype?: 'int16' | 'int32';
}

/** A gate's decision for every token of one MoE layer. */
export interface GateRecord {
  block: number;
  /** [tokens][k] expert indices, ordered larger logit first. */
  experts: Int32Array;
  /** [tokens][k] weights: float mode probabilities, int mode PROB_FRAC integers. */
  weights: Float64Array;
  k: number;
  /** Tokens routed to each expert (the expert-major queue lengths). */
  load: number[];
}

export interface RunOptions {
  /** Keep every checkpoint (memory: ~30 MB for m3vit-tiny with an UpHead). */
  record?: boolean;
}

export interface FloatRun {
  output: { shape: number[]; data: Float64Array };
  checkpoints: Checkpoint[];
  gates: GateRecord[];
}

/** Per-layer saturation and accumulator-overflow counts of an int run. */
export interface LayerCounts {
  saturated: number;
  /** Sums that left the configured accumulator width (must be 0: the check at generation proves it). */
  accOverflow: number;
}

export interface IntRun {
  output: { shape: number[]; data: Float64Array; frac: number };
  checkpoints: Checkpoint[];
  gates: GateRecord[];
  /** By site/checkpoint name, in execution order; every layer that can saturate has an entry. */
  counts: Record<string, LayerCounts>;
}

/** A raw input image [C, H, W] of real values (a normalised image). */
export interface Image {
  shape: number[];
  data: ArrayLike<number>;
}
