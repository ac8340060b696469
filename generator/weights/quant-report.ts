/**
 * The quantization report of the weights: per tensor its range, the format the plan chose
 * (word width and binary point, a power-of-two scale chosen from the data within the
 * config's word widths), the largest quantization error and how many values saturated.
 * Printed by `m3vit-gen quant-report` and written by the main job as report/quantization.md.
 */
import type { QuantStats } from '../numerics/plan';

export interface QuantReportContext {
  model: string;
  /** Where the weights came from, e.g. "weights.safetensors" or "seeded random (seed 1, init m3vit)". */
  weights: string;
  bits: { weight: number; bias: number; activation: number; accumulator: number };
}

/** Shortest exact-enough number for a table cell. */
function num(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? v.toPrecision(4) : v.toExponential(2);
}

export function formatQuantReport(stats: QuantStats[], ctx: QuantReportContext): string {
  const saturated = stats.reduce((s, r) => s + r.saturated, 0);
  const values = stats.reduce((s, r) => s + r.shape.reduce((a, b) => a * b, 1), 0);
  // Relative to the tensor's range, the error an ideal rounding to the format would give is at most half a step.
  const worst = stats.reduce<QuantStats | undefined>((w, r) => {
    const rel = r.maxError / Math.max(Math.abs(r.min), Math.abs(r.max), Number.MIN_VALUE);
    const wr = w ? w.maxError / Math.max(Math.abs(w.min), Math.abs(w.max), Number.MIN_VALUE) : -1;
    return rel > wr ? r : w;
  }, undefined);
  const lines = [
    `# Weight quantization: ${ctx.model}`,
    '',
    `Weights: ${ctx.weights}. Word widths (config): weights ${ctx.bits.weight} bits, biases ${ctx.bits.bias} bits, ` +
      `activations ${ctx.bits.activation} bits, accumulators ${ctx.bits.accumulator} bits.`,
    'Each tensor has one power-of-two scale: value = integer x 2^-frac, the largest frac at which the largest |value| still fits the word',
    '(biases: at most the frac of the accumulator they are added to; LayerNorm biases: at most the frac of the normalised output).',
    '',
    `${stats.length} tensors, ${values} values, ${saturated} saturated.` +
      (worst ? ` Largest error relative to a tensor's range: ${num(worst.maxError / Math.max(Math.abs(worst.min), Math.abs(worst.max)))} (${worst.name}).` : ''),
    '',
    '| tensor | shape | min | max | format | step | max error | saturated |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of stats) {
    lines.push(
      `| ${r.name} | ${r.shape.join('x')} | ${num(r.min)} | ${num(r.max)} | int${r.bits} frac ${r.frac} | 2^${-r.frac} | ${num(r.maxError)} | ${r.saturated} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
