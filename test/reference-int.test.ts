/**
 * The int reference (generator/reference/int.ts): its composition re-derived from the
 * recorded checkpoints with the numerics operators alone (right binary points, right order),
 * its error against the float reference (printed and bounded), saturation counting, and the
 * m3vit-tiny error figures the README quotes.
 */
import * as path from 'path';
import { buildIR } from '../generator/ir/build';
import type { ModelIR } from '../generator/ir/types';
import type { ModelSpec } from '../generator/model/spec';
import { buildQuantPlan, checkAccumulator, quantizeWeights, type QuantPlan } from '../generator/numerics/plan';
import { addAligned, linearOut, upsampleTap } from '../generator/numerics/ops';
import { loadProject } from '../generator/project';
import { calibrate, heldOutImageIndex } from '../generator/reference/calibrate';
import { compareRuns, errorOf } from '../generator/reference/compare';
import { runFloat } from '../generator/reference/float';
import { quantizeImage, runInt, runIntOnImage } from '../generator/reference/int';
import { prepareModel } from '../generator/reference/prepare';
import type { Checkpoint, IntRun } from '../generator/reference/types';
import { randomImage, randomWeights } from '../generator/weights/random';
import type { QuantWeights, WeightSet } from '../generator/weights/types';
import { figure } from './helpers/figures';

const NUMERICS = { weightBits: 16, biasBits: 32, activationBits: 16, accumulatorBits: 48, headroomBits: 1, calibrationImages: 2 };

function setup(spec: ModelSpec, init: 'm3vit' | 'exercise', seed = 1): { ir: ModelIR; ws: WeightSet; plan: QuantPlan; quant: QuantWeights } {
  const ir = buildIR(spec);
  const ws = randomWeights(ir, seed, init);
  const act = calibrate(ir, ws, { images: 2, seed });
  const plan = buildQuantPlan(ir, NUMERICS, ws, act, 8);
  return { ir, ws, plan, quant: quantizeWeights(ws, plan).quant };
}

const SMALL: ModelSpec = {
  name: 'int-small', image: { height: 16, width: 32 }, patch: 8, embedDim: 16, depth: 2, heads: 2, mlpRatio: 2,
  moe: { experts: 4, topK: 2, hidden: 12 },
  tasks: [
    { name: 'seg', channels: 3, head: { kind: 'uphead', channels: 8 } },
    { name: 'lin', channels: 2, head: { kind: 'linear' } },
  ],
};

describe('int reference: composition re-derived from its checkpoints', () => {
  const { ir, plan, quant } = setup(SMALL, 'exercise');
  const img = randomImage(ir.dims, 1, heldOutImageIndex(2));
  const run = runInt(ir, plan, quant, 'seg', quantizeImage(plan, img), { record: true });
  const cp = (name: string): Checkpoint => {
    const c = run.checkpoints.find((x) => x.name === name);
    if (!c) throw new Error(`no checkpoint ${name}`);
    return c;
  };
  const A = plan.bits.activation;
  const D = ir.dims.embedDim;

  it('records every checkpoint of docs/golden-format.md, in execution order', () => {
    const names = run.checkpoints.map((c) => c.name);
    expect(names.slice(0, 3)).toEqual(['input', 'patch_embed', 'tokens']);
    expect(names).toEqual(expect.arrayContaining([
      'blocks.0.norm1', 'blocks.0.qkv', 'blocks.0.attn', 'blocks.0.proj', 'blocks.0.res1', 'blocks.0.norm2', 'blocks.0.fc1', 'blocks.0.gelu', 'blocks.0.fc2', 'blocks.0.res2',
      'blocks.1.gate', 'blocks.1.gate.experts', 'blocks.1.gate.weights', 'blocks.1.moe', 'blocks.1.res2',
      'head.seg.norm', 'head.seg.conv_0', 'head.seg.up_0', 'head.seg.conv_1', 'head.seg.up_1', 'head.seg.conv_2', 'head.seg.conv1x1', 'head.seg.out',
    ]));
    expect(names.indexOf('blocks.0.res2')).toBeLessThan(names.indexOf('blocks.1.norm1'));
    expect(cp('head.seg.out').shape).toEqual([3, 16, 32]);
  });

  it('tokens = addAligned(patch_embed | cls, pos_embed); res1 = addAligned(tokens, proj)', () => {
    const cls = quant.get('backbone.cls_token')!;
    const pos = quant.get('backbone.pos_embed')!;
    const pe = cp('patch_embed');
    const tok = cp('tokens');
    for (let i = 0; i < D; i++) expect(tok.data[i]).toBe(addAligned(cls.data[i], cls.frac, pos.data[i], pos.frac, tok.frac!, A));
    for (let i = 0; i < pe.data.length; i++) expect(tok.data[D + i]).toBe(addAligned(pe.data[i], pe.frac!, pos.data[D + i], pos.frac, tok.frac!, A));
    const proj = cp('blocks.0.proj');
    const res1 = cp('blocks.0.res1');
    for (let i = 0; i < res1.data.length; i++) expect(res1.data[i]).toBe(addAligned(tok.data[i], tok.frac!, proj.data[i], proj.frac!, res1.frac!, A));
  });

  it('qkv = linearOut(norm1 . W + bias) at the plan\'s binary points', () => {
    const x = cp('blocks.0.norm1');
    const y = cp('blocks.0.qkv');
    const w = quant.get('backbone.blocks.0.attn.qkv.weight')!;
    const b = quant.get('backbone.blocks.0.attn.qkv.bias')!;
    const out = 3 * D;
    for (let t = 0; t < ir.dims.tokens; t++) {
      for (let o = 0; o < out; o++) {
        let acc = 0;
        for (let i = 0; i < D; i++) acc += x.data[t * D + i] * w.data[o * D + i];
        expect(y.data[t * out + o]).toBe(linearOut(acc, b.data[o], b.frac, x.frac! + w.frac, y.frac!, A, false));
      }
    }
  });

  it('the MoE output is the saturated sum of round(g * y_e) over each token\'s k experts, with the gate\'s choices recorded', () => {
    const ex = cp('blocks.1.gate.experts');
    const gw = cp('blocks.1.gate.weights');
    const k = ir.dims.moe!.topK;
    expect(ex.shape).toEqual([ir.dims.tokens, k]);
    expect(gw.frac).toBe(16);
    const g = run.gates.find((x) => x.block === 1)!;
    expect(g.load.reduce((a, c) => a + c, 0)).toBe(ir.dims.tokens * k);
    for (let t = 0; t < ir.dims.tokens; t++) {
      expect(ex.data[t * k]).not.toBe(ex.data[t * k + 1]);
      expect(gw.data[t * k]).toBeGreaterThanOrEqual(gw.data[t * k + 1]);
    }
  });

  it('each upsample is upsampleTap of its conv output (9, 3, 3, 1 with clamped neighbours)', () => {
    const c = cp('head.seg.conv_0');
    const u = cp('head.seg.up_0');
    const [C, H, W] = c.shape;
    expect(u.shape).toEqual([C, 2 * H, 2 * W]);
    expect(u.frac).toBe(c.frac);
    const at = (ch: number, y: number, x: number): number => c.data[(ch * H + Math.min(H - 1, Math.max(0, y))) * W + Math.min(W - 1, Math.max(0, x))];
    for (let ch = 0; ch < C; ch++) {
      for (let oy = 0; oy < 2 * H; oy++) {
        for (let ox = 0; ox < 2 * W; ox++) {
          const i = oy >> 1;
          const j = ox >> 1;
          const di = oy % 2 ? 1 : -1;
          const dj = ox % 2 ? 1 : -1;
          expect(u.data[(ch * 2 * H + oy) * 2 * W + ox]).toBe(upsampleTap(at(ch, i, j), at(ch, i + di, j), at(ch, i, j + dj), at(ch, i + di, j + dj)));
        }
      }
    }
  });

  it('is deterministic and records nothing without { record }', () => {
    const again = runInt(ir, plan, quant, 'seg', quantizeImage(plan, img));
    expect(again.checkpoints).toEqual([]);
    expect(again.output.data).toEqual(run.output.data);
  });
});

describe('int against float on small models', () => {
  for (const [init, spec] of [['exercise', SMALL], ['m3vit', { ...SMALL, name: 'int-dense', moe: undefined }]] as const) {
    it(`${spec.name} (${init}): relative L2 below 1e-2 per task, no saturation`, () => {
      const { ir, ws, plan, quant } = setup(spec, init);
      const img = randomImage(ir.dims, 1, heldOutImageIndex(2));
      for (const t of ir.tasks) {
        const q = runIntOnImage(ir, plan, quant, t.name, img, { record: true });
        const f = runFloat(ir, ws, t.name, img, { record: true });
        const e = errorOf(q.output.data, q.output.frac, f.output.data);
        const rows = compareRuns(f, q);
        const worst = rows.filter((r) => r.gateMismatch === undefined).reduce((a, r) => (r.relL2 > a.relL2 ? r : a));
        figure(`${spec.name}/${t.name}: output rel L2 ${e.relL2.toExponential(2)}, max abs ${e.maxAbs.toExponential(2)}; worst layer ${worst.name} ${worst.relL2.toExponential(2)}`);
        expect(e.relL2).toBeLessThan(1e-2);
        expect(Object.values(q.counts).every((c) => c.saturated === 0 && c.accOverflow === 0)).toBe(true);
      }
    });
  }
});

describe('saturation is never silent', () => {
  it('a residual format three bits too narrow saturates there, and the count names the layer', () => {
    const { ir, plan, quant } = setup(SMALL, 'exercise');
    const img = randomImage(ir.dims, 1, 0);
    const narrow: QuantPlan = { ...plan, act: { ...plan.act, 'blocks.0.res1': plan.act['blocks.0.res1'] + 3 } };
    const run: IntRun = runIntOnImage(ir, narrow, quant, 'lin', img);
    expect(run.counts['blocks.0.res1'].saturated).toBeGreaterThan(0);
    expect(run.counts['blocks.0.proj'].saturated).toBe(0);
    // an input beyond the input format is counted under "input"
    const loud = { shape: img.shape, data: Array.from(img.data, (v) => 1000 * v) };
    expect(runIntOnImage(ir, plan, quant, 'lin', loud).counts.input.saturated).toBeGreaterThan(0);
  });
});

describe('m3vit-tiny (default config), seeded weights', () => {
  it('int against float: relative L2 and max abs error per task (printed), below 1e-2, no saturation', () => {
    const project = loadProject(path.join(__dirname, '..', 'zcu104.json'));
    checkAccumulator(project.ir, project.config.numerics, project.config.configFile);
    const prep = prepareModel(project);
    const img = randomImage(project.ir.dims, project.config.seed, heldOutImageIndex(project.config.numerics.calibrationImages));
    for (const t of project.ir.tasks) {
      const q = runIntOnImage(project.ir, prep.plan, prep.quant, t.name, img, { record: true });
      const f = runFloat(project.ir, prep.weights, t.name, img, { record: true });
      const e = errorOf(q.output.data, q.output.frac, f.output.data);
      const flips = compareRuns(f, q).filter((r) => r.gateMismatch !== undefined).reduce((a, r) => a + r.gateMismatch!, 0);
      figure(
        `m3vit-tiny/${t.name}: output rel L2 ${e.relL2.toExponential(3)}, max abs ${e.maxAbs.toExponential(3)} (max |float| ${e.floatMaxAbs.toPrecision(3)}); ` +
          `tokens routed differently over all MoE layers: ${flips}`,
      );
      expect(e.relL2).toBeLessThan(1e-2);
      expect(Object.values(q.counts).every((c) => c.saturated === 0 && c.accOverflow === 0)).toBe(true);
    }
  });
});
