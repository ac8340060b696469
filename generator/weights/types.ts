/**
 * Weights as every stage sees them: float tensors under their checkpoint names (see
 * ModelIR.tensors), BatchNorm already folded into the convolutions before them. Random
 * weights, imported checkpoints and safetensors files all become a WeightSet.
 */
export interface FloatTensor {
  shape: number[];
  /** C order. Values are float32-representable (checkpoints are float32). */
  data: Float64Array;
}

export type WeightSet = Map<string, FloatTensor>;

/** A tensor after quantization: integers with one binary point for the whole tensor. */
export interface QuantTensor {
  shape: number[];
  bits: number;
  frac: number;
  /** C order, integer values. */
  data: Int32Array;
}

export type QuantWeights = Map<string, QuantTensor>;

export function tensorSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
