/**
 * The float reference: float64 with M³ViT's exact semantics (shared/reference/m3vit-model.md):
 * erf GELU, full softmax, LayerNorm eps from the model (1e-6), multi-gate top-k whose kept
 * weights are the full-softmax probabilities (not renormalised), expert-major accumulation,
 * UpHead with BatchNorm folded into the convs, ReLU, bilinear 2x (align_corners=false).
 * It is the yardstick of the int mode and the calibration run of the quantizer.
 */
import { gelu } from '../numerics/special';
import { gateTensorName, isMoeBlock } from '../ir/build';
import type { ModelIR, TaskIR } from '../ir/types';
import type { WeightSet } from '../weights/types';
import { upsampleNeighbour } from '../numerics/ops';
import { conv1x1Channel, CONV_CHANNELS_PER_PASS, conv3x3Channels, dot, gatherPatches, matmulRows, padPlanes, tokensToPlanes, transpose, upsample2x } from './kernels';
import type { Checkpoint, FloatRun, GateRecord, Image, RunOptions } from './types';

export interface FloatRunOptions extends RunOptions {
  /** Called with the values of every activation site (calibration); data[0..length). */
  observe?: (site: string, data: Float64Array, length: number) => void;
}

/** Bilinear 2x tap, align_corners=false: 9/16, 3/16, 3/16, 1/16 (exact PyTorch weights for a factor of 2). */
const floatTap = (a: number, b: number, c: number, d: number): number => (9 * a + 3 * b + 3 * c + d) / 16;

export function findTask(ir: ModelIR, task: string): TaskIR {
  const t = ir.tasks.find((x) => x.name === task);
  if (!t) throw new Error(`model ${ir.dims.name} has no task ${task}`);
  return t;
}

const transposedCache = new WeakMap<WeightSet, Map<string, Float64Array>>();

/** Gate weights [D][E] transposed to [E][D] once per weight set, for contiguous dot products. */
function gateRows(weights: WeightSet, name: string, D: number, E: number): Float64Array {
  let m = transposedCache.get(weights);
  if (!m) transposedCache.set(weights, (m = new Map()));
  let t = m.get(name);
  if (!t) m.set(name, (t = transpose(tensor(weights, name), D, E)));
  return t;
}

function tensor(weights: WeightSet, name: string): Float64Array {
  const t = weights.get(name);
  if (!t) throw new Error(`weights have no tensor ${name}`);
  return t.data;
}

/** LayerNorm of `rows` rows of x (starting at row `first`) into y: (x - mean) / sqrt(var + eps) * g + b. */
export function layerNormFloat(x: Float64Array, first: number, rows: number, D: number, g: Float64Array, b: Float64Array, eps: number, y: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const o = (first + r) * D;
    let mean = 0;
    for (let i = 0; i < D; i++) mean += x[o + i];
    mean /= D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (x[o + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / D + eps);
    for (let i = 0; i < D; i++) y[r * D + i] = (x[o + i] - mean) * inv * g[i] + b[i];
  }
}

/** Linear layer over rows: y = x W^T + b. */
function linear(x: Float64Array, rows: number, inDim: number, w: Float64Array, b: Float64Array | undefined, outDim: number): Float64Array {
  const y = new Float64Array(rows * outDim);
  matmulRows(x, 0, rows, inDim, w, outDim, y);
  if (b) for (let r = 0; r < rows; r++) for (let o = 0; o < outDim; o++) y[r * outDim + o] += b[o];
  return y;
}

/** Top-k of the full softmax: larger probability first, ties to the lower expert index. */
export function gateTopKFloat(z: ArrayLike<number>, E: number, k: number): { experts: number[]; weights: number[] } {
  let m = z[0];
  for (let e = 1; e < E; e++) if (z[e] > m) m = z[e];
  const p = new Float64Array(E);
  let s = 0;
  for (let e = 0; e < E; e++) s += (p[e] = Math.exp(z[e] - m));
  const taken = new Uint8Array(E);
  const experts: number[] = [];
  for (let r = 0; r < k; r++) {
    let best = -1;
    for (let e = 0; e < E; e++) if (!taken[e] && (best < 0 || z[e] > z[best])) best = e;
    taken[best] = 1;
    experts.push(best);
  }
  return { experts, weights: experts.map((e) => p[e] / s) };
}

export function runFloat(ir: ModelIR, weights: WeightSet, taskName: string, image: Image, opts: FloatRunOptions = {}): FloatRun {
  const task = findTask(ir, taskName);
  const d = ir.dims;
  const { embedDim: D, tokens: N, patches: Np, heads, headDim: hd } = d;
  const W = (name: string): Float64Array => tensor(weights, name);
  const checkpoints: Checkpoint[] = [];
  const gates: GateRecord[] = [];
  const rec = (name: string, shape: number[], data: Float64Array): void => {
    if (opts.record) checkpoints.push({ name, shape, data: data.slice() });
  };
  const obs = (site: string, data: Float64Array, length = data.length): void => opts.observe?.(site, data, length);

  const img = Float64Array.from(image.data);
  obs('input', img);
  rec('input', [d.inChannels, d.imageH, d.imageW], img);

  // Patch embedding: conv with kernel = stride = P, i.e. a linear layer per patch.
  const patches = gatherPatches(img, d.inChannels, d.imageH, d.imageW, d.patch);
  const pe = linear(patches, Np, d.inChannels * d.patch * d.patch, W('backbone.patch_embed.proj.weight'), W('backbone.patch_embed.proj.bias'), D);
  obs('patch_embed', pe);
  rec('patch_embed', [Np, D], pe);

  let x = new Float64Array(N * D);
  const cls = W('backbone.cls_token');
  const pos = W('backbone.pos_embed');
  for (let i = 0; i < D; i++) x[i] = cls[i] + pos[i];
  for (let p = 0; p < Np; p++) for (let i = 0; i < D; i++) x[(p + 1) * D + i] = pe[p * D + i] + pos[(p + 1) * D + i];
  obs('tokens', x);
  rec('tokens', [N, D], x);

  const y = new Float64Array(N * D);
  const scores = new Float64Array(N);
  for (let b = 0; b < d.depth; b++) {
    const pre = `backbone.blocks.${b}`;
    const site = (n: string): string => `blocks.${b}.${n}`;
    layerNormFloat(x, 0, N, D, W(`${pre}.norm1.weight`), W(`${pre}.norm1.bias`), d.layerNormEps, y);
    obs(site('norm1'), y);
    rec(site('norm1'), [N, D], y);
    const qkv = linear(y, N, D, W(`${pre}.attn.qkv.weight`), W(`${pre}.attn.qkv.bias`), 3 * D);
    obs(site('qkv'), qkv);
    rec(site('qkv'), [N, 3 * D], qkv);

    const att = new Float64Array(N * D);
    const scale = 1 / Math.sqrt(hd);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < N; i++) {
        let m = -Infinity;
        for (let j = 0; j < N; j++) {
          scores[j] = dot(qkv, i * 3 * D + h * hd, qkv, j * 3 * D + D + h * hd, hd) * scale;
          if (scores[j] > m) m = scores[j];
        }
        obs(site('scores'), scores);
        let l = 0;
        for (let j = 0; j < N; j++) l += (scores[j] = Math.exp(scores[j] - m));
        const o = i * D + h * hd;
        for (let j = 0; j < N; j++) {
          const p = scores[j] / l;
          const vb = j * 3 * D + 2 * D + h * hd;
          for (let e = 0; e < hd; e++) att[o + e] += p * qkv[vb + e];
        }
      }
    }
    rec(site('attn'), [N, D], att);
    const proj = linear(att, N, D, W(`${pre}.attn.proj.weight`), W(`${pre}.attn.proj.bias`), D);
    obs(site('proj'), proj);
    rec(site('proj'), [N, D], proj);
    const res1 = new Float64Array(N * D);
    for (let i = 0; i < N * D; i++) res1[i] = x[i] + proj[i];
    obs(site('res1'), res1);
    rec(site('res1'), [N, D], res1);

    layerNormFloat(res1, 0, N, D, W(`${pre}.norm2.weight`), W(`${pre}.norm2.bias`), d.layerNormEps, y);
    obs(site('norm2'), y);
    rec(site('norm2'), [N, D], y);

    let mlp: Float64Array;
    if (isMoeBlock(d, b)) {
      mlp = moeFloat(ir, weights, b, task, y, gates, obs, rec);
    } else {
      const Hd = d.mlpHidden;
      const h1 = linear(y, N, D, W(`${pre}.mlp.fc1.weight`), W(`${pre}.mlp.fc1.bias`), Hd);
      obs(site('fc1'), h1);
      rec(site('fc1'), [N, Hd], h1);
      for (let i = 0; i < h1.length; i++) h1[i] = gelu(h1[i]);
      obs(site('gelu'), h1);
      rec(site('gelu'), [N, Hd], h1);
      mlp = linear(h1, N, Hd, W(`${pre}.mlp.fc2.weight`), W(`${pre}.mlp.fc2.bias`), D);
      obs(site('fc2'), mlp);
      rec(site('fc2'), [N, D], mlp);
    }
    const res2 = new Float64Array(N * D);
    for (let i = 0; i < N * D; i++) res2[i] = res1[i] + mlp[i];
    obs(site('res2'), res2);
    rec(site('res2'), [N, D], res2);
    x = res2;
  }

  const output = headFloat(ir, weights, task, x, obs, rec);
  return { output, checkpoints, gates };
}

type Obs = (site: string, data: Float64Array, length?: number) => void;
type Rec = (name: string, shape: number[], data: Float64Array) => void;

function moeFloat(ir: ModelIR, weights: WeightSet, b: number, task: TaskIR, y: Float64Array, gates: GateRecord[], obs: Obs, rec: Rec): Float64Array {
  const d = ir.dims;
  const m = d.moe!;
  const { tokens: N, embedDim: D } = d;
  const { experts: E, topK: k, hidden: He } = m;
  const pre = `backbone.blocks.${b}.mlp`;
  const site = (n: string): string => `blocks.${b}.${n}`;
  const logits = new Float64Array(N * E);
  matmulRows(y, 0, N, D, gateRows(weights, gateTensorName(d, b, task.index), D, E), E, logits);
  obs(site('gate'), logits);
  rec(site('gate'), [N, E], logits);

  const chosen = new Int32Array(N * k);
  const gw = new Float64Array(N * k);
  const queues: number[][] = Array.from({ length: E }, () => []);
  for (let t = 0; t < N; t++) {
    const c = gateTopKFloat(logits.subarray(t * E, (t + 1) * E), E, k);
    for (let r = 0; r < k; r++) {
      chosen[t * k + r] = c.experts[r];
      gw[t * k + r] = c.weights[r];
      queues[c.experts[r]].push(t * k + r);
    }
  }
  gates.push({ block: b, experts: chosen, weights: gw, k, load: queues.map((q) => q.length) });
  rec(site('gate.experts'), [N, k], Float64Array.from(chosen));
  rec(site('gate.weights'), [N, k], gw);

  // Expert-major: each expert once, over its whole queue (ascending token order).
  const out = new Float64Array(N * D);
  const w1 = tensor(weights, `${pre}.experts.htoh4.weight`);
  const b1 = tensor(weights, `${pre}.experts.htoh4.bias`);
  const w2 = tensor(weights, `${pre}.experts.h4toh.weight`);
  const b2 = tensor(weights, `${pre}.experts.h4toh.bias`);
  for (let e = 0; e < E; e++) {
    const q = queues[e];
    if (q.length === 0) continue;
    const xs = new Float64Array(q.length * D);
    q.forEach((slot, i) => xs.set(y.subarray(Math.floor(slot / k) * D, Math.floor(slot / k) * D + D), i * D));
    const h = linear(xs, q.length, D, w1.subarray(e * He * D, (e + 1) * He * D), b1.subarray(e * He, (e + 1) * He), He);
    obs(site('expert_fc1'), h);
    for (let i = 0; i < h.length; i++) h[i] = gelu(h[i]);
    obs(site('expert_gelu'), h);
    const ye = linear(h, q.length, He, w2.subarray(e * D * He, (e + 1) * D * He), b2.subarray(e * D, (e + 1) * D), D);
    obs(site('expert_fc2'), ye);
    q.forEach((slot, i) => {
      const t = Math.floor(slot / k);
      const g = gw[slot];
      for (let j = 0; j < D; j++) out[t * D + j] += g * ye[i * D + j];
    });
  }
  obs(site('moe'), out);
  rec(site('moe'), [N, D], out);
  return out;
}

function headFloat(ir: ModelIR, weights: WeightSet, task: TaskIR, x: Float64Array, obs: Obs, rec: Rec): FloatRun['output'] {
  const d = ir.dims;
  const { embedDim: D, patches: Np } = d;
  const pre = `decoders.${task.name}`;
  const site = (n: string): string => `head.${task.name}.${n}`;
  const W = (name: string): Float64Array => tensor(weights, name);
  const yn = new Float64Array(Np * D);
  layerNormFloat(x, 1, Np, D, W(`${pre}.norm.weight`), W(`${pre}.norm.bias`), d.layerNormEps, yn);
  obs(site('norm'), yn);
  rec(site('norm'), [Np, D], yn);

  if (task.head.kind === 'linear') {
    const C = task.channels;
    const out = linear(yn, Np, D, W(`${pre}.linear.weight`), W(`${pre}.linear.bias`), C);
    obs(site('out'), out);
    rec(site('out'), [Np, C], out);
    return { shape: [Np, C], data: out };
  }

  const S = task.head.stages;
  const Ch = task.head.channels;
  let h = d.gridH;
  let w = d.gridW;
  let cin = D;
  let fm = tokensToPlanes(yn, D, h, w, 0);
  for (let s = 0; s < S; s++) {
    const wt = W(`${pre}.conv_${s}.weight`);
    const bias = W(`${pre}.conv_${s}.bias`);
    const xp = padPlanes(fm, cin, h, w);
    const out = new Float64Array(Ch * h * w);
    const accs = Array.from({ length: CONV_CHANNELS_PER_PASS }, () => new Float64Array(h * w));
    for (let co = 0; co < Ch; co += CONV_CHANNELS_PER_PASS) {
      const n = Math.min(CONV_CHANNELS_PER_PASS, Ch - co);
      conv3x3Channels(xp, cin, h, w, wt, co, n, accs);
      for (let i = 0; i < n; i++) {
        const acc = accs[i];
        const ob = (co + i) * h * w;
        for (let p = 0; p < h * w; p++) out[ob + p] = Math.max(0, acc[p] + bias[co + i]);
      }
    }
    obs(site(`conv_${s}`), out);
    rec(site(`conv_${s}`), [Ch, h, w], out);
    fm = out;
    cin = Ch;
    if (s < S - 1) {
      fm = upsample2x(fm, Ch, h, w, floatTap, upsampleNeighbour);
      h *= 2;
      w *= 2;
      rec(site(`up_${s}`), [Ch, h, w], fm);
    }
  }
  const C = task.channels;
  const wt = W(`${pre}.conv_${S}.weight`);
  const bias = W(`${pre}.conv_${S}.bias`);
  const c1 = new Float64Array(C * h * w);
  const acc = new Float64Array(h * w);
  for (let co = 0; co < C; co++) {
    conv1x1Channel(fm, Ch, h * w, wt, co, acc);
    for (let p = 0; p < h * w; p++) c1[co * h * w + p] = acc[p] + bias[co];
  }
  obs(site('out'), c1);
  rec(site('conv1x1'), [C, h, w], c1);
  const out = upsample2x(c1, C, h, w, floatTap, upsampleNeighbour);
  rec(site('out'), [C, 2 * h, 2 * w], out);
  return { shape: [C, 2 * h, 2 * w], data: out };
}
