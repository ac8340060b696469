/**
 * The quantization plan (generator/numerics/plan.ts): the accumulator check against a
 * hand-derived bound, and the properties every chosen format must have.
 */
import { buildIR } from '../generator/ir/build';
import type { ModelSpec } from '../generator/model/spec';
import { maxOf } from '../generator/numerics/fixed';
import { activationSites, buildQuantPlan, checkAccumulator, quantizeWeights, requiredAccumulatorBits } from '../generator/numerics/plan';
import { combineTerm } from '../generator/numerics/ops';
import { LN_NORM_FRAC, PROB_ONE } from '../generator/numerics/tables';
import { calibrate } from '../generator/reference/calibrate';
import { isUserError } from '../generator/util/errors';
import { randomWeights } from '../generator/weights/random';

const spec: ModelSpec = {
  name: 'plan-small', image: { height: 16, width: 32 }, patch: 8, embedDim: 16, depth: 2, heads: 2, mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 12 },
  tasks: [{ name: 'seg', channels: 3, head: { kind: 'uphead', channels: 8 } }, { name: 'lin', channels: 2, head: { kind: 'linear' } }],
};
const NUMERICS = { weightBits: 16, biasBits: 32, activationBits: 16, accumulatorBits: 48, headroomBits: 1, calibrationImages: 2 };

describe('accumulator check', () => {
  const ir = buildIR(spec);
  it('needs (a-1) + (w-1) + ceil(log2 fanIn) + 2 bits for the widest dot product (hand-derived)', () => {
    // widest fan-in: patch embedding 3*8*8 = 192 -> ceil(log2 192) = 8; UpHead conv3x3 8*9 = 72; qkv 16
    const need = requiredAccumulatorBits(ir, 16, 16);
    expect(need).toEqual({ bits: 15 + 15 + 8 + 2, layer: 'backbone.patch_embed.proj.weight', fanIn: 192 });
    expect(requiredAccumulatorBits(ir, 8, 8).bits).toBe(7 + 7 + 8 + 2);
  });

  it('refuses a narrower accumulator with a config error naming the field, the layer and the bound', () => {
    expect(() => checkAccumulator(ir, NUMERICS, 'cfg.json')).not.toThrow();
    try {
      checkAccumulator(ir, { ...NUMERICS, accumulatorBits: 32 }, 'cfg.json');
      throw new Error('expected a UserError');
    } catch (e) {
      expect(isUserError(e)).toBe(true);
      expect((e as Error).message).toBe(
        'cfg.json: /numerics/accumulator/bits: 32 bits can overflow in backbone.patch_embed.proj.weight (192 products of 16-bit x 16-bit words); allowed: 40 to 64',
      );
    }
  });
});

describe('buildQuantPlan and quantizeWeights', () => {
  const ir = buildIR(spec);
  const ws = randomWeights(ir, 2, 'exercise');
  const act = calibrate(ir, ws, { images: 2, seed: 2 });
  const plan = buildQuantPlan(ir, NUMERICS, ws, act, 8);
  const { stats } = quantizeWeights(ws, plan);

  it('every activation site holds its calibrated maximum times 2^headroom, and one more fraction bit would not', () => {
    for (const s of activationSites(ir)) {
      const f = plan.act[s.name];
      const m = act[s.name] * 2;
      expect(m).toBeGreaterThan(0);
      expect(Math.floor(m * 2 ** f + 0.5)).toBeLessThanOrEqual(maxOf(16));
      expect(Math.floor(m * 2 ** (f + 1) + 0.5)).toBeGreaterThan(maxOf(16));
    }
  });

  it('biases have at most the fraction bits of the accumulator they join; LayerNorm beta at most 16 + gamma\'s', () => {
    const qkvAcc = plan.act['blocks.0.norm1'] + plan.tensors['backbone.blocks.0.attn.qkv.weight'].frac;
    expect(plan.tensors['backbone.blocks.0.attn.qkv.bias'].frac).toBeLessThanOrEqual(qkvAcc);
    const conv1 = plan.act['head.seg.conv_0'] + plan.tensors['decoders.seg.conv_1.weight'].frac;
    expect(plan.tensors['decoders.seg.conv_1.bias'].frac).toBeLessThanOrEqual(conv1);
    const e2 = plan.act['blocks.1.expert_gelu'] + plan.tensors['backbone.blocks.1.mlp.experts.h4toh.weight'].frac;
    expect(plan.tensors['backbone.blocks.1.mlp.experts.h4toh.bias'].frac).toBeLessThanOrEqual(e2);
    expect(plan.tensors['backbone.blocks.0.norm1.bias'].frac).toBeLessThanOrEqual(LN_NORM_FRAC + plan.tensors['backbone.blocks.0.norm1.weight'].frac);
  });

  it('caps the MoE output\'s fraction bits at 15 above the experts\' (act 16), so every running sum of combine terms fits the int32 ES lanes', () => {
    // The calibrated plan is not capped: its MoE output is near the expert outputs' range.
    expect(plan.act['blocks.1.moe'] - plan.act['blocks.1.expert_fc2']).toBeLessThanOrEqual(15);
    // A degenerate calibration: expert outputs up to 2^9 that cancel to 2^-11 combined would
    // ask for 20 more fraction bits than the experts' (4 and 24, both within FRAC_MAX); the
    // plan takes 15 (32 - act 16 - 1 bit for the sum's rounding).
    const cancelled = buildQuantPlan(ir, NUMERICS, ws, { ...act, 'blocks.1.expert_fc2': 2 ** 9, 'blocks.1.moe': 2 ** -11 }, 8);
    const fy = cancelled.act['blocks.1.expert_fc2'];
    expect(fy).toBe(4); // 2^9 x 2^(headroom 1) x 2^4 = 2^14 <= 32767 < 2^15
    const fm = cancelled.act['blocks.1.moe'];
    expect(fm - fy).toBe(15);
    // Its largest term (gate weight PROB_ONE, the extreme expert word) is half the int32 range:
    // -2^15 x 2^15 = -2^30.
    expect(combineTerm(PROB_ONE, -(2 ** 15), fy, fm)).toBe(-(2 ** 30));
    expect(combineTerm(PROB_ONE, 2 ** 15 - 1, fy, fm)).toBe(2 ** 30 - 2 ** 15);
    // A token's running sum of two extreme terms whose gate weights round up past PROB_ONE
    // (PROB_ONE/2 + 1 each): (2^15 + 1) x -2^15 / 2 each, -2^30 - 2^15 in all, well inside int32.
    const half = PROB_ONE / 2 + 1;
    const sum = combineTerm(half, -(2 ** 15), fy, fm) + combineTerm(half, -(2 ** 15), fy, fm);
    expect(sum).toBe(-(2 ** 30) - 2 ** 15);
    expect(sum).toBeGreaterThanOrEqual(-(2 ** 31));
    // At 16 bits (the cap before running sums) the same sum would leave int32: -2^31 - 2^16.
    expect(combineTerm(half, -(2 ** 15), fy, fm + 1) * 2).toBe(-(2 ** 31) - 2 ** 16);
  });

  it('weights quantize within half an LSB, without saturation', () => {
    for (const s of stats) {
      expect(s.saturated).toBe(0);
      expect(s.maxError).toBeLessThanOrEqual(2 ** -(s.frac + 1));
    }
  });
});
