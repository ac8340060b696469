/**
 * The int reference: bit for bit what the hardware computes. It is nothing but a
 * composition of generator/numerics (ops.ts, fixed.ts) with the binary points of the
 * QuantPlan; this file decides only the order of operations, which docs/numerics.md and
 * docs/architecture.md state for the C++ kernels:
 *   linear/conv   acc = sum x*w (exact) -> linearOut(acc, bias, ...) at the layer's site
 *   tokens        addAligned(patch_embed | cls_token, pos_embed)
 *   attention     attnScore per key, attentionRow (online softmax over key tiles of plan.attention.keyTile), output keeps the qkv format
 *   residuals     addAligned
 *   dense MLP     fc1 -> geluInt -> fc2
 *   MoE           gate logits -> gateTopK -> per expert (ascending) over its queue (ascending
 *                 tokens): fc1 -> geluInt -> fc2 -> combineTerm into a wide sum per token;
 *                 the sum is saturated once into the moe format
 *   UpHead        LN, conv3x3 + folded BN + ReLU, upsampleTap 2x (keeps the format), conv1x1, upsample
 * Every saturation is counted per layer; sums are checked against the accumulator width.
 */
import { isMoeBlock, gateTensorName } from '../ir/build';
import type { ModelIR } from '../ir/types';
import { pow2, quantize, sat, SatCounter } from '../numerics/fixed';
import {
  addAligned, attentionRow, attnScore, combineTerm, gateTopK, geluInt, layerNormConsts, layerNormRow, linearOut,
  upsampleNeighbour, upsampleTap,
} from '../numerics/ops';
import type { QuantPlan } from '../numerics/plan';
import { attnScaleQ } from '../numerics/tables';
import type { QuantWeights } from '../weights/types';
import { findTask } from './float';
import { conv1x1Channel, CONV_CHANNELS_PER_PASS, conv3x3Channels, dot, gatherPatches, matmulRows, padPlanes, tokensToPlanes, transpose, upsample2x } from './kernels';
import type { Checkpoint, GateRecord, Image, IntRun, LayerCounts, RunOptions } from './types';

/** Quantized weights as Float64Arrays (the inner loops' type), gates transposed, cached per QuantWeights. */
class IntWeights {
  private cache = new Map<string, Float64Array>();
  constructor(private quant: QuantWeights) {}

  frac(name: string): number {
    return this.get(name).frac;
  }

  private get(name: string) {
    const t = this.quant.get(name);
    if (!t) throw new Error(`quantized weights have no tensor ${name}`);
    return t;
  }

  data(name: string): Float64Array {
    let d = this.cache.get(name);
    if (!d) this.cache.set(name, (d = Float64Array.from(this.get(name).data)));
    return d;
  }

  /** [D][E] -> [E][D]. */
  gateRows(name: string): Float64Array {
    const key = `${name}#T`;
    let d = this.cache.get(key);
    if (!d) {
      const t = this.get(name);
      this.cache.set(key, (d = transpose(t.data, t.shape[0], t.shape[1])));
    }
    return d;
  }
}

const intWeightsCache = new WeakMap<QuantWeights, IntWeights>();
function intWeights(quant: QuantWeights): IntWeights {
  let w = intWeightsCache.get(quant);
  if (!w) intWeightsCache.set(quant, (w = new IntWeights(quant)));
  return w;
}

/** Quantizes a real image [C, H, W] into the plan's input format; saturations are counted. */
export function quantizeImage(plan: QuantPlan, image: Image, counter?: SatCounter): Float64Array {
  const f = plan.act.input;
  const out = new Float64Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = quantize(image.data[i], f, plan.bits.activation, counter);
  return out;
}

export function runInt(ir: ModelIR, plan: QuantPlan, quant: QuantWeights, taskName: string, inputQ: ArrayLike<number>, opts: RunOptions = {}): IntRun {
  const task = findTask(ir, taskName);
  const d = ir.dims;
  const { embedDim: D, tokens: N, patches: Np, heads, headDim: hd } = d;
  const A = plan.bits.activation;
  const accLimit = pow2(plan.bits.accumulator - 1);
  const act = (site: string): number => {
    const f = plan.act[site];
    if (f === undefined) throw new Error(`quantization plan has no activation site ${site}`);
    return f;
  };
  const wq = intWeights(quant);
  const checkpoints: Checkpoint[] = [];
  const gates: GateRecord[] = [];
  const counts: Record<string, LayerCounts> = {};
  const sats = new Map<string, SatCounter>();
  const counter = (name: string): SatCounter => {
    let c = sats.get(name);
    if (!c) {
      sats.set(name, (c = new SatCounter()));
      counts[name] = { saturated: 0, accOverflow: 0 };
    }
    return c;
  };
  /** The saturation counters, copied into the per-layer counts of the result. */
  const finalCounts = (): Record<string, LayerCounts> => {
    for (const [name, c] of sats) counts[name].saturated = c.count;
    return counts;
  };
  const rec = (name: string, shape: number[], data: Float64Array, frac: number | undefined, dtype: 'int16' | 'int32' = A <= 16 ? 'int16' : 'int32'): void => {
    if (opts.record) checkpoints.push({ name, shape, data: data.slice(), frac, dtype });
  };

  /** Bias and requantization of raw sums acc[rows][outDim] into y, counted under `site`. */
  const finish = (acc: Float64Array, rows: number, outDim: number, biasName: string | undefined, biasOff: number, fAcc: number, site: string, y: Float64Array): void => {
    const c = counter(site);
    const fo = act(site);
    const bias = biasName ? wq.data(biasName) : undefined;
    const fb = biasName ? wq.frac(biasName) : fAcc;
    const shift = pow2(fAcc - fb);
    let overflow = 0;
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outDim; o++) {
        const a = acc[r * outDim + o];
        const bv = bias ? bias[biasOff + o] : 0;
        if (Math.abs(a + bv * shift) >= accLimit) overflow++;
        y[r * outDim + o] = linearOut(a, bv, fb, fAcc, fo, A, false, c);
      }
    }
    counts[site].accOverflow += overflow;
  };
  /** A conv output plane: one bias value for all n sums of channel `co`. */
  const finishPlane = (acc: Float64Array, n: number, bName: string, co: number, fAcc: number, site: string, y: Float64Array, yOff: number, relu: boolean): void => {
    const c = counter(site);
    const fo = act(site);
    const bv = wq.data(bName)[co];
    const fb = wq.frac(bName);
    const aligned = bv * pow2(fAcc - fb);
    let overflow = 0;
    for (let p = 0; p < n; p++) {
      const a = acc[p];
      if (Math.abs(a + aligned) >= accLimit) overflow++;
      y[yOff + p] = linearOut(a, bv, fb, fAcc, fo, A, relu, c);
    }
    counts[site].accOverflow += overflow;
  };
  const linear = (x: Float64Array, rows: number, inDim: number, fx: number, wName: string, bName: string | undefined, outDim: number, site: string, wOff = 0, bOff = 0): Float64Array => {
    const w = wq.data(wName).subarray(wOff, wOff + outDim * inDim);
    const acc = new Float64Array(rows * outDim);
    matmulRows(x, 0, rows, inDim, w, outDim, acc);
    const y = new Float64Array(rows * outDim);
    finish(acc, rows, outDim, bName, bOff, fx + wq.frac(wName), site, y);
    return y;
  };

  // Input: already quantized by the caller (quantizeImage), recorded as given.
  const img = Float64Array.from(inputQ);
  if (img.length !== d.inChannels * d.imageH * d.imageW) throw new Error(`input has ${img.length} values, the model expects ${d.inChannels}x${d.imageH}x${d.imageW}`);
  counter('input');
  rec('input', [d.inChannels, d.imageH, d.imageW], img, act('input'));

  const patches = gatherPatches(img, d.inChannels, d.imageH, d.imageW, d.patch);
  const pe = linear(patches, Np, d.inChannels * d.patch * d.patch, act('input'), 'backbone.patch_embed.proj.weight', 'backbone.patch_embed.proj.bias', D, 'patch_embed');
  rec('patch_embed', [Np, D], pe, act('patch_embed'));

  let x = new Float64Array(N * D);
  {
    const cls = wq.data('backbone.cls_token');
    const pos = wq.data('backbone.pos_embed');
    const fc = wq.frac('backbone.cls_token');
    const fp = wq.frac('backbone.pos_embed');
    const fpe = act('patch_embed');
    const ft = act('tokens');
    const c = counter('tokens');
    for (let i = 0; i < D; i++) x[i] = addAligned(cls[i], fc, pos[i], fp, ft, A, c);
    for (let p = 0; p < Np; p++) for (let i = 0; i < D; i++) x[(p + 1) * D + i] = addAligned(pe[p * D + i], fpe, pos[(p + 1) * D + i], fp, ft, A, c);
  }
  rec('tokens', [N, D], x, act('tokens'));
  let xFrac = act('tokens');

  const layerNorm = (src: Float64Array, first: number, rows: number, fx: number, gName: string, bName: string, site: string): Float64Array => {
    const k = layerNormConsts(D, d.layerNormEps, fx, wq.frac(gName), wq.frac(bName), act(site), A);
    const g = wq.data(gName);
    const be = wq.data(bName);
    const c = counter(site);
    const y = new Float64Array(rows * D);
    for (let r = 0; r < rows; r++) layerNormRow(src, (first + r) * D, g, be, k, y, r * D, c);
    return y;
  };

  const scores = new Float64Array(N);
  const oAcc = new Float64Array(hd);
  for (let b = 0; b < d.depth; b++) {
    const pre = `backbone.blocks.${b}`;
    const site = (n: string): string => `blocks.${b}.${n}`;
    const y1 = layerNorm(x, 0, N, xFrac, `${pre}.norm1.weight`, `${pre}.norm1.bias`, site('norm1'));
    rec(site('norm1'), [N, D], y1, act(site('norm1')));
    const qkv = linear(y1, N, D, act(site('norm1')), `${pre}.attn.qkv.weight`, `${pre}.attn.qkv.bias`, 3 * D, site('qkv'));
    const fq = act(site('qkv'));
    rec(site('qkv'), [N, 3 * D], qkv, fq);

    const att = new Float64Array(N * D);
    const scaleQ = attnScaleQ(hd);
    const fs = act(site('scores'));
    const cs = counter(site('scores'));
    const ca = counter(site('attn'));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < N; j++) {
          scores[j] = attnScore(dot(qkv, i * 3 * D + h * hd, qkv, j * 3 * D + D + h * hd, hd), scaleQ, 2 * fq, fs, A, cs);
        }
        attentionRow(scores, N, fs, qkv, 3 * D, 2 * D + h * hd, hd, plan.attention.keyTile, oAcc, att, i * D + h * hd, A, ca);
      }
    }
    rec(site('attn'), [N, D], att, fq);
    const proj = linear(att, N, D, fq, `${pre}.attn.proj.weight`, `${pre}.attn.proj.bias`, D, site('proj'));
    rec(site('proj'), [N, D], proj, act(site('proj')));
    const res1 = new Float64Array(N * D);
    {
      const c = counter(site('res1'));
      const fp = act(site('proj'));
      const fr = act(site('res1'));
      for (let i = 0; i < N * D; i++) res1[i] = addAligned(x[i], xFrac, proj[i], fp, fr, A, c);
    }
    rec(site('res1'), [N, D], res1, act(site('res1')));

    const y2 = layerNorm(res1, 0, N, act(site('res1')), `${pre}.norm2.weight`, `${pre}.norm2.bias`, site('norm2'));
    const fn = act(site('norm2'));
    rec(site('norm2'), [N, D], y2, fn);

    let mlp: Float64Array;
    let fm: number;
    if (isMoeBlock(d, b)) {
      mlp = moeInt(b, y2, fn);
      fm = act(site('moe'));
    } else {
      const Hd = d.mlpHidden;
      const h1 = linear(y2, N, D, fn, `${pre}.mlp.fc1.weight`, `${pre}.mlp.fc1.bias`, Hd, site('fc1'));
      rec(site('fc1'), [N, Hd], h1, act(site('fc1')));
      geluAll(h1, act(site('fc1')), site('gelu'));
      rec(site('gelu'), [N, Hd], h1, act(site('gelu')));
      mlp = linear(h1, N, Hd, act(site('gelu')), `${pre}.mlp.fc2.weight`, `${pre}.mlp.fc2.bias`, D, site('fc2'));
      fm = act(site('fc2'));
      rec(site('fc2'), [N, D], mlp, fm);
    }
    const res2 = new Float64Array(N * D);
    {
      const c = counter(site('res2'));
      const fr1 = act(site('res1'));
      const fr = act(site('res2'));
      for (let i = 0; i < N * D; i++) res2[i] = addAligned(res1[i], fr1, mlp[i], fm, fr, A, c);
    }
    rec(site('res2'), [N, D], res2, act(site('res2')));
    x = res2;
    xFrac = act(site('res2'));
  }

  function geluAll(h: Float64Array, fIn: number, site: string, length = h.length): void {
    const c = counter(site);
    const fo = act(site);
    for (let i = 0; i < length; i++) h[i] = geluInt(h[i], fIn, fo, A, c);
  }

  function moeInt(b: number, y: Float64Array, fn: number): Float64Array {
    const m = d.moe!;
    const { experts: E, topK: k, hidden: He } = m;
    const pre = `backbone.blocks.${b}.mlp`;
    const site = (n: string): string => `blocks.${b}.${n}`;
    const gName = gateTensorName(d, b, task.index);
    const logitsAcc = new Float64Array(N * E);
    matmulRows(y, 0, N, D, wq.gateRows(gName), E, logitsAcc);
    const logits = new Float64Array(N * E);
    const fz = act(site('gate'));
    finish(logitsAcc, N, E, undefined, 0, fn + wq.frac(gName), site('gate'), logits);
    rec(site('gate'), [N, E], logits, fz);

    const chosen = new Int32Array(N * k);
    const gw = new Float64Array(N * k);
    const queues: number[][] = Array.from({ length: E }, () => []);
    for (let t = 0; t < N; t++) {
      const c = gateTopK(logits.subarray(t * E, (t + 1) * E), E, k, fz);
      for (let r = 0; r < k; r++) {
        chosen[t * k + r] = c.experts[r];
        gw[t * k + r] = c.weights[r];
        queues[c.experts[r]].push(t * k + r);
      }
    }
    gates.push({ block: b, experts: chosen, weights: gw, k, load: queues.map((q) => q.length) });
    rec(site('gate.experts'), [N, k], Float64Array.from(chosen), undefined, 'int32');
    rec(site('gate.weights'), [N, k], gw, 16, 'int32');

    const w1 = `${pre}.experts.htoh4.weight`;
    const b1 = `${pre}.experts.htoh4.bias`;
    const w2 = `${pre}.experts.h4toh.weight`;
    const b2 = `${pre}.experts.h4toh.bias`;
    const fy = act(site('expert_fc2'));
    const fmoe = act(site('moe'));
    const acc = new Float64Array(N * D);
    for (let e = 0; e < E; e++) {
      const q = queues[e];
      if (q.length === 0) continue;
      const xs = new Float64Array(q.length * D);
      q.forEach((slot, i) => {
        const t = Math.floor(slot / k);
        xs.set(y.subarray(t * D, t * D + D), i * D);
      });
      const h = linear(xs, q.length, D, fn, w1, b1, He, site('expert_fc1'), e * He * D, e * He);
      geluAll(h, act(site('expert_fc1')), site('expert_gelu'));
      const ye = linear(h, q.length, He, act(site('expert_gelu')), w2, b2, D, site('expert_fc2'), e * D * He, e * D);
      q.forEach((slot, i) => {
        const t = Math.floor(slot / k);
        const g = gw[slot];
        for (let j = 0; j < D; j++) acc[t * D + j] += combineTerm(g, ye[i * D + j], fy, fmoe);
      });
    }
    const out = new Float64Array(N * D);
    const c = counter(site('moe'));
    let overflow = 0;
    for (let i = 0; i < N * D; i++) {
      if (Math.abs(acc[i]) >= accLimit) overflow++;
      out[i] = sat(acc[i], A, c);
    }
    counts[site('moe')].accOverflow += overflow;
    rec(site('moe'), [N, D], out, fmoe);
    return out;
  }

  // Head of the task.
  const pre = `decoders.${task.name}`;
  const hs = (n: string): string => `head.${task.name}.${n}`;
  const yn = layerNorm(x, 1, Np, xFrac, `${pre}.norm.weight`, `${pre}.norm.bias`, hs('norm'));
  const fnorm = act(hs('norm'));
  rec(hs('norm'), [Np, D], yn, fnorm);

  if (task.head.kind === 'linear') {
    const C = task.channels;
    const out = linear(yn, Np, D, fnorm, `${pre}.linear.weight`, `${pre}.linear.bias`, C, hs('out'));
    rec(hs('out'), [Np, C], out, act(hs('out')));
    return { output: { shape: [Np, C], data: out, frac: act(hs('out')) }, checkpoints, gates, counts: finalCounts() };
  }

  const S = task.head.stages;
  const Ch = task.head.channels;
  let h = d.gridH;
  let w = d.gridW;
  let cin = D;
  let fm = tokensToPlanes(yn, D, h, w, 0);
  let fFrac = fnorm;
  for (let s = 0; s < S; s++) {
    const wName = `${pre}.conv_${s}.weight`;
    const bName = `${pre}.conv_${s}.bias`;
    const xp = padPlanes(fm, cin, h, w);
    const out = new Float64Array(Ch * h * w);
    const accs = Array.from({ length: CONV_CHANNELS_PER_PASS }, () => new Float64Array(h * w));
    const wt = wq.data(wName);
    const fAcc = fFrac + wq.frac(wName);
    for (let co = 0; co < Ch; co += CONV_CHANNELS_PER_PASS) {
      const n = Math.min(CONV_CHANNELS_PER_PASS, Ch - co);
      conv3x3Channels(xp, cin, h, w, wt, co, n, accs);
      for (let i = 0; i < n; i++) finishPlane(accs[i], h * w, bName, co + i, fAcc, hs(`conv_${s}`), out, (co + i) * h * w, true);
    }
    fm = out;
    fFrac = act(hs(`conv_${s}`));
    cin = Ch;
    rec(hs(`conv_${s}`), [Ch, h, w], out, fFrac);
    if (s < S - 1) {
      fm = upsample2x(fm, Ch, h, w, upsampleTap, upsampleNeighbour);
      h *= 2;
      w *= 2;
      rec(hs(`up_${s}`), [Ch, h, w], fm, fFrac);
    }
  }
  const C = task.channels;
  const wName = `${pre}.conv_${S}.weight`;
  const c1 = new Float64Array(C * h * w);
  const acc = new Float64Array(h * w);
  for (let co = 0; co < C; co++) {
    conv1x1Channel(fm, Ch, h * w, wq.data(wName), co, acc);
    finishPlane(acc, h * w, `${pre}.conv_${S}.bias`, co, fFrac + wq.frac(wName), hs('out'), c1, co * h * w, false);
  }
  const fo = act(hs('out'));
  rec(hs('conv1x1'), [C, h, w], c1, fo);
  const out = upsample2x(c1, C, h, w, upsampleTap, upsampleNeighbour);
  rec(hs('out'), [C, 2 * h, 2 * w], out, fo);
  return { output: { shape: [C, 2 * h, 2 * w], data: out, frac: fo }, checkpoints, gates, counts: finalCounts() };
}

/** Quantizes a real image into the plan's input format and runs the int reference; input saturations are counted under "input". */
export function runIntOnImage(ir: ModelIR, plan: QuantPlan, quant: QuantWeights, taskName: string, image: Image, opts: RunOptions = {}): IntRun {
  const c = new SatCounter();
  const q = quantizeImage(plan, image, c);
  const run = runInt(ir, plan, quant, taskName, q, opts);
  run.counts.input.saturated += c.count;
  return run;
}
