/**
 * Expected outputs of the kernel families, from the TypeScript operators only
 * (generator/numerics/ops.ts, generator/reference/kernels.ts, generator/reference/int.ts): each
 * function is a thin adapter that puts a family's inputs into the operator's shapes and its
 * results into the buffer layout the driver prints. Nothing here reads a value the C++ produced.
 */
import { gateTensorName } from '../../generator/ir/build';
import { requant, sat } from '../../generator/numerics/fixed';
import {
  addAligned, attentionRow, attnScore, combineTerm, gateTopK, geluInt, layerNormConsts, layerNormRow, linearOut, upsampleNeighbour, upsampleTap,
} from '../../generator/numerics/ops';
import { attnScaleQ } from '../../generator/numerics/tables';
import { runInt } from '../../generator/reference/int';
import { CONV_CHANNELS_PER_PASS, conv1x1Channel, conv3x3Channels, dot, matmulRows, padPlanes, tokensToPlanes, upsample2x } from '../../generator/reference/kernels';
import type { FamilyProject } from './harness';

type Rng = { next(): number; int(lo: number, hi: number): number };

/** n signed values of up to `bits` bits with mixed magnitudes (small ones common) and, now
 * and then, the extremes of the word. */
export function randomInts(R: Rng, n: number, bits: number): Float64Array {
  const lo = -(2 ** (bits - 1));
  const hi = 2 ** (bits - 1) - 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = R.next();
    if (u < 0.03) out[i] = hi;
    else if (u < 0.06) out[i] = lo;
    else {
      const b = R.int(0, bits - 1);
      const m = R.int(0, 2 ** b - 1);
      out[i] = R.next() < 0.5 ? -m : m;
    }
  }
  return out;
}

/** The quantized checkpoint tensor `name` of the project (C order). */
export function tensor(p: FamilyProject, name: string): Int32Array {
  const t = p.quant.get(name);
  if (!t) throw new Error(`no quantized tensor ${name}`);
  return t.data;
}

/** Fraction bits of a weight tensor and of an activation site in the project's plan. */
export function wfrac(p: FamilyProject, name: string): number {
  const t = p.plan.tensors[name];
  if (!t) throw new Error(`no tensor ${name} in the plan`);
  return t.frac;
}
export function afrac(p: FamilyProject, site: string): number {
  const f = p.plan.act[site];
  if (f === undefined) throw new Error(`no site ${site} in the plan`);
  return f;
}

/** A matrix as the kernel multiplies it: element (row, column) of its rows in the image's order. */
export type Matrix = (r: number, c: number) => number;

/** Words of `rows` rows of a K-column matrix in PE x SIMD blocks (where row `rows` starts). */
export function blockRows(p: FamilyProject, rows: number, K: number): number {
  return (rows / p.sched.pe) * (K / p.sched.simd) * p.sched.blockWords;
}

/**
 * linear_engine's contract: dst[n][o] (+)= sum_i x[n][i] * W(o, i) (matmulRows, the reference's
 * exact sums) for the tokens n0 .. n0 + nRows - 1 and the rows o < rows; every other element of
 * dst keeps its value.
 */
export function linearEngine(
  x: ArrayLike<number>, xCols: number, n0: number, nRows: number, W: Matrix, rows: number, K: number,
  before: ArrayLike<number>, cols: number, accumulate: boolean,
): Float64Array {
  const xs = new Float64Array(nRows * K);
  for (let n = 0; n < nRows; n++) for (let i = 0; i < K; i++) xs[n * K + i] = x[(n0 + n) * xCols + i];
  const w = new Float64Array(rows * K);
  for (let o = 0; o < rows; o++) for (let i = 0; i < K; i++) w[o * K + i] = W(o, i);
  const sums = new Float64Array(nRows * rows);
  matmulRows(xs, 0, nRows, K, w, rows, sums);
  const out = Float64Array.from(before);
  for (let n = 0; n < nRows; n++) {
    for (let o = 0; o < rows; o++) {
      const at = (n0 + n) * cols + o;
      out[at] = (accumulate ? out[at] : 0) + sums[n * rows + o];
    }
  }
  return out;
}

/**
 * A linear layer as the reference runs it (int.ts `linear`): exact sums (matmulRows), then
 * linearOut with the bias at the accumulator's binary point into the format of `site`. The
 * element offsets wOff and bOff pick one expert's slice of an [E][out][in] weight and [E][out] bias.
 */
export function linearLayer(
  p: FamilyProject, x: ArrayLike<number>, rows: number, inDim: number, fx: number,
  wName: string, bName: string, outDim: number, site: string, wOff = 0, bOff = 0,
): Float64Array {
  const w = Float64Array.from(tensor(p, wName).subarray(wOff, wOff + outDim * inDim));
  const bias = tensor(p, bName);
  const sums = new Float64Array(rows * outDim);
  matmulRows(Float64Array.from(x), 0, rows, inDim, w, outDim, sums);
  const fAcc = fx + wfrac(p, wName);
  const fo = afrac(p, site);
  return sums.map((a, i) => linearOut(a, bias[bOff + (i % outDim)], wfrac(p, bName), fAcc, fo, p.plan.bits.activation, false));
}

/** Which LayerNorm of the model: norm1 / norm2 of a block, or a task's head norm. */
export type NormSite = { block: number; norm: 1 | 2 } | { task: string };

/** layerNormRow over rows first .. first + rows - 1 of x (N x D), with the plan's formats. */
export function layerNorm(p: FamilyProject, site: NormSite, x: ArrayLike<number>, first: number, rows: number): Float64Array {
  const { D } = p.sched;
  const d = p.ir.dims;
  let fIn: number;
  let pre: string;
  let out: string;
  if ('task' in site) {
    fIn = afrac(p, `blocks.${d.depth - 1}.res2`);
    pre = `decoders.${site.task}.norm`;
    out = `head.${site.task}.norm`;
  } else {
    const b = site.block;
    fIn = site.norm === 2 ? afrac(p, `blocks.${b}.res1`) : b === 0 ? afrac(p, 'tokens') : afrac(p, `blocks.${b - 1}.res2`);
    pre = `backbone.blocks.${b}.norm${site.norm}`;
    out = `blocks.${b}.norm${site.norm}`;
  }
  const k = layerNormConsts(D, d.layerNormEps, fIn, wfrac(p, `${pre}.weight`), wfrac(p, `${pre}.bias`), afrac(p, out), p.plan.bits.activation);
  const y = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) layerNormRow(x, (first + r) * D, tensor(p, `${pre}.weight`), tensor(p, `${pre}.bias`), k, y, r * D);
  return y;
}

/** The int reference's tokens (patch embedding, class token, positional embedding) for an
 * image; they are the same for every task, so the first one runs. */
export function tokens(p: FamilyProject, image: ArrayLike<number>): Float64Array {
  const run = runInt(p.ir, p.plan, p.quant, p.ir.tasks[0].name, image, { record: true });
  const t = run.checkpoints.find((c) => c.name === 'tokens');
  if (!t) throw new Error('the int reference recorded no tokens');
  return t.data;
}

/**
 * The attention core exactly as the int reference calls it (int.ts): per head and query row,
 * the scores of every key (attnScore of the q.k dot product) and attentionRow over them, from
 * qkv rows [N][3D] (q, k, v in checkpoint order) into [N][D]. When the reference's attention
 * operator changes, this adapter changes with it.
 */
export function attentionCore(qkv: Float64Array, N: number, D: number, heads: number, hd: number, fq: number, fs: number, bits: number, keyTile: number): Float64Array {
  const att = new Float64Array(N * D);
  const scores = new Float64Array(N);
  const o = new Float64Array(hd);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) scores[j] = attnScore(dot(qkv, i * 3 * D + h * hd, qkv, j * 3 * D + D + h * hd, hd), attnScaleQ(hd), 2 * fq, fs, bits);
      attentionRow(scores, N, fs, qkv, 3 * D, 2 * D + h * hd, hd, keyTile, o, att, i * D + h * hd, bits);
    }
  }
  return att;
}

/** Block b's attention from the norm1 output y: qkv (linearLayer), then attentionCore. */
export function attention(p: FamilyProject, b: number, y: ArrayLike<number>): { qkv: Float64Array; a: Float64Array } {
  const { N, D, heads, hd } = p.sched;
  const pre = `backbone.blocks.${b}.attn.qkv`;
  const fq = afrac(p, `blocks.${b}.qkv`);
  const qkv = linearLayer(p, y, N, D, afrac(p, `blocks.${b}.norm1`), `${pre}.weight`, `${pre}.bias`, 3 * D, `blocks.${b}.qkv`);
  return { qkv, a: attentionCore(qkv, N, D, heads, hd, fq, afrac(p, `blocks.${b}.scores`), p.plan.bits.activation, p.plan.attention.keyTile) };
}

/** Dense block b from the norm2 output y and the first residual x: fc1, geluInt, fc2, addAligned. */
export function denseMlp(p: FamilyProject, b: number, y: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const { N, D } = p.sched;
  const Hd = p.sched.dense!.hidden;
  const pre = `backbone.blocks.${b}.mlp`;
  const s = (n: string): number => afrac(p, `blocks.${b}.${n}`);
  const A = p.plan.bits.activation;
  const h = linearLayer(p, y, N, D, s('norm2'), `${pre}.fc1.weight`, `${pre}.fc1.bias`, Hd, `blocks.${b}.fc1`).map((v) => geluInt(v, s('fc1'), s('gelu'), A));
  const f = linearLayer(p, h, N, Hd, s('gelu'), `${pre}.fc2.weight`, `${pre}.fc2.bias`, D, `blocks.${b}.fc2`);
  return f.map((v, i) => addAligned(x[i], s('res1'), v, s('fc2'), s('res2'), A));
}

/** What moe_layer leaves behind, by the names the moe driver prints. */
export type MoeOutputs = Record<'z' | 'chosen' | 'gate' | 'qstart' | 'qtok' | 'qgate' | 'moe' | 'x' | 'used' | 'loads' | 'per_expert', number[]>;

/** The gate of MoE block b for built task `task`: logits (exact sums requantised, E_ROWS per
 * token, the padding rows' zero), gateTopK per token, and each expert's (token, rank) slots. */
function route(p: FamilyProject, b: number, task: number, y: ArrayLike<number>): { z: Float64Array; chosen: number[]; gate: number[]; queues: number[][] } {
  const { N, D } = p.sched;
  const { experts: E, topK: k, gateRows } = p.sched.moe!;
  const fz = afrac(p, `blocks.${b}.gate`);
  const g = gateTensorName(p.ir.dims, b, p.sched.tasks[task].modelIndex);
  const w = tensor(p, g);
  const sums = linearEngine(y, D, 0, N, (e, i) => (e < E ? w[i * E + e] : 0), gateRows, D, new Float64Array(N * gateRows), gateRows, false);
  const z = sums.map((a) => requant(a, afrac(p, `blocks.${b}.norm2`) + wfrac(p, g), fz, p.plan.bits.activation));
  const chosen: number[] = [];
  const gate: number[] = [];
  const queues: number[][] = Array.from({ length: E }, () => []);
  for (let t = 0; t < N; t++) {
    const c = gateTopK(z.subarray(t * gateRows, t * gateRows + E), E, k, fz);
    chosen.push(...c.experts);
    gate.push(...c.weights);
    c.experts.forEach((e, r) => queues[e].push(t * k + r));
  }
  return { z, chosen, gate, queues };
}

/** Every expert over its queue (tokens ascending): fc1, geluInt, fc2, and combineTerm of its
 * gate weight into a wide sum per token (not yet saturated). */
function expertSums(p: FamilyProject, b: number, y: ArrayLike<number>, queues: number[][], gate: number[]): Float64Array {
  const { N, D } = p.sched;
  const { topK: k, hidden: He } = p.sched.moe!;
  const s = (n: string): number => afrac(p, `blocks.${b}.${n}`);
  const pre = `backbone.blocks.${b}.mlp.experts`;
  const acc = new Float64Array(N * D);
  queues.forEach((q, e) => {
    if (q.length === 0) return;
    const xs = q.flatMap((slot) => Array.from(y).slice(Math.floor(slot / k) * D, Math.floor(slot / k) * D + D));
    const h = linearLayer(p, xs, q.length, D, s('norm2'), `${pre}.htoh4.weight`, `${pre}.htoh4.bias`, He, `blocks.${b}.expert_fc1`, e * He * D, e * He)
      .map((v) => geluInt(v, s('expert_fc1'), s('expert_gelu'), p.plan.bits.activation));
    const ye = linearLayer(p, h, q.length, He, s('expert_gelu'), `${pre}.h4toh.weight`, `${pre}.h4toh.bias`, D, `blocks.${b}.expert_fc2`, e * D * He, e * D);
    q.forEach((slot, i) => {
      const t = Math.floor(slot / k);
      for (let j = 0; j < D; j++) acc[t * D + j] += combineTerm(gate[slot], ye[i * D + j], s('expert_fc2'), s('moe'));
    });
  });
  return acc;
}

/**
 * MoE block b for built task `task` from the norm2 output y and the first residual x, in the
 * int reference's order (int.ts moeInt): route, expertSums, saturated once, the residual. Also
 * the queues (slots bucketed by expert, tokens ascending) and the expert loads the scheduler
 * promises (expert-major: each used expert once).
 */
export function moeLayer(p: FamilyProject, b: number, task: number, y: ArrayLike<number>, x: ArrayLike<number>): MoeOutputs {
  const m = p.sched.moe!;
  const A = p.plan.bits.activation;
  const s = (n: string): number => afrac(p, `blocks.${b}.${n}`);
  const { z, chosen, gate, queues } = route(p, b, task, y);
  const moe = Array.from(expertSums(p, b, y, queues, gate), (v) => sat(v, A));
  const perExpert = m.scheduler === 'expert-major' ? queues.map((q) => (q.length > 0 ? 1 : 0)) : lruLoads(chosen, m.experts, m.cacheSlots);
  const token = (slot: number): number => Math.floor(slot / m.topK);
  return {
    z: Array.from(z),
    chosen,
    gate,
    qstart: queues.reduce((a, q) => [...a, a[a.length - 1] + q.length], [0]),
    qtok: queues.flatMap((q) => q.map(token)),
    qgate: queues.flatMap((q) => q.map((slot) => gate[slot])),
    moe,
    x: moe.map((v, i) => addAligned(x[i], s('res1'), v, s('moe'), s('res2'), A)),
    used: [queues.filter((q) => q.length > 0).length],
    loads: [perExpert.reduce((a, n) => a + n, 0)],
    per_expert: perExpert,
  };
}

/**
 * Expert loads of the token-major scheduler (docs/architecture.md): the (token, rank) slots in
 * order, each looking its expert up in `slots` cache slots; a miss loads it into the slot used
 * least recently (never-used slots first, the lowest index among equals).
 */
function lruLoads(chosen: number[], E: number, slots: number): number[] {
  const held = new Array<number>(slots).fill(-1);
  const stamp = new Array<number>(slots).fill(0);
  const loads = new Array<number>(E).fill(0);
  chosen.forEach((e, i) => {
    let s = held.indexOf(e);
    if (s < 0) {
      s = stamp.indexOf(Math.min(...stamp));
      held[s] = e;
      loads[e]++;
    }
    stamp[s] = i + 1;
  });
  return loads;
}

/** The byte 0xA5 in both bytes of an int16: what the uphead driver fills scratch and result with. */
export const FILL16 = 0xa5a5 - 0x10000;

/** A channels-last [h][w][stride] map -> planes [C][h][w] (the reference's layout). */
export function mapToPlanes(map: ArrayLike<number>, C: number, h: number, w: number, stride: number): Float64Array {
  const out = new Float64Array(C * h * w);
  for (let c = 0; c < C; c++) for (let px = 0; px < h * w; px++) out[c * h * w + px] = map[px * stride + c];
  return out;
}

/** Planes [C][h][w] -> a channels-last map with `stride` channels per pixel, the rest `pad`. */
export function planesToMap(planes: ArrayLike<number>, C: number, h: number, w: number, stride: number, pad: number): Float64Array {
  const out = new Float64Array(h * w * stride).fill(pad);
  for (let c = 0; c < C; c++) for (let px = 0; px < h * w; px++) out[px * stride + c] = planes[c * h * w + px];
  return out;
}

/** conv3x3 (padding 1) + bias + ReLU of UpHead stage s of a task on planes [cin][h][w]
 * (conv3x3Channels and linearOut, as int.ts runs the head). */
export function conv3x3Planes(p: FamilyProject, task: string, s: number, x: Float64Array): Float64Array {
  const st = p.sched.tasks.find((t) => t.name === task)!.stages[s];
  const Ch = p.sched.tasks.find((t) => t.name === task)!.upChannels;
  const pre = `decoders.${task}.conv_${s}`;
  const fIn = s === 0 ? afrac(p, `head.${task}.norm`) : afrac(p, `head.${task}.conv_${s - 1}`);
  const fAcc = fIn + wfrac(p, `${pre}.weight`);
  const xp = padPlanes(x, st.cin, st.h, st.w);
  const wt = Float64Array.from(tensor(p, `${pre}.weight`));
  const bias = tensor(p, `${pre}.bias`);
  const hw = st.h * st.w;
  const out = new Float64Array(Ch * hw);
  const accs = Array.from({ length: CONV_CHANNELS_PER_PASS }, () => new Float64Array(hw));
  for (let co = 0; co < Ch; co += CONV_CHANNELS_PER_PASS) {
    const n = Math.min(CONV_CHANNELS_PER_PASS, Ch - co);
    conv3x3Channels(xp, st.cin, st.h, st.w, wt, co, n, accs);
    for (let i = 0; i < n; i++) {
      for (let q = 0; q < hw; q++) out[(co + i) * hw + q] = linearOut(accs[i][q], bias[co + i], wfrac(p, `${pre}.bias`), fAcc, afrac(p, `head.${task}.conv_${s}`), p.plan.bits.activation, true);
    }
  }
  return out;
}

/** 2x upsampling of planes [C][h][w] with the reference's tap and neighbour rule. */
export function upsamplePlanes(x: Float64Array, C: number, h: number, w: number): Float64Array {
  return upsample2x(x, C, h, w, upsampleTap, upsampleNeighbour);
}

/** The task output [C][2h][2w] from the last map's planes: conv1x1Channel + linearOut per
 * channel, then the final upsample. */
export function conv1x1Out(p: FamilyProject, task: string, x: Float64Array): Float64Array {
  const t = p.sched.tasks.find((q) => q.name === task)!;
  const pre = `decoders.${task}.conv_${t.stages.length}`;
  const hw = t.lastH * t.lastW;
  const fAcc = afrac(p, `head.${task}.conv_${t.stages.length - 1}`) + wfrac(p, `${pre}.weight`);
  const wt = Float64Array.from(tensor(p, `${pre}.weight`));
  const bias = tensor(p, `${pre}.bias`);
  const c1 = new Float64Array(t.channels * hw);
  const acc = new Float64Array(hw);
  for (let co = 0; co < t.channels; co++) {
    conv1x1Channel(x, t.upChannels, hw, wt, co, acc);
    for (let q = 0; q < hw; q++) c1[co * hw + q] = linearOut(acc[q], bias[co], wfrac(p, `${pre}.bias`), fAcc, afrac(p, `head.${task}.out`), p.plan.bits.activation, false);
  }
  return upsamplePlanes(c1, t.channels, t.lastH, t.lastW);
}

/** The whole UpHead from the head norm's patch rows y [NP][D]: the token map, every stage's
 * conv3x3 (and upsample but after the last), then conv1x1Out. */
export function upHead(p: FamilyProject, task: string, y: ArrayLike<number>): Float64Array {
  const t = p.sched.tasks.find((q) => q.name === task)!;
  const { gridH, gridW } = p.sched.image;
  let x = tokensToPlanes(Float64Array.from(y), p.sched.D, gridH, gridW, 0);
  t.stages.forEach((st, s) => {
    x = conv3x3Planes(p, task, s, x);
    if (st.upsample) x = upsamplePlanes(x, t.upChannels, st.h, st.w);
  });
  return conv1x1Out(p, task, x);
}
