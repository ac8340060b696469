/**
 * The packed weight image: where every quantized tensor lives in DDR, in the order and
 * shape the kernels read it. 128-bit words; every segment starts on a word. Matrices the
 * MAC array consumes are stored as PE x SIMD blocks (block (i, j) = rows i*PE.., columns
 * j*SIMD.., row-major inside, padded to BLOCK_WORDS words), blocks row-tile-major: a tile of
 * PE rows is one burst and every block is one on-chip word of the MAC array's input.
 * The positional embedding is plain rows of 16-bit lanes (each row padded to whole
 * words); biases and LayerNorm betas are 32-bit lanes. The same image serves every built
 * task: a task switch reads only another gate and head.
 *
 * Reorderings (the kernels' reading order, not the checkpoint's):
 *   patch_embed.weight  [chunks][D][KC]: chunk c holds patch-vector columns c*KC.. (zero past C*P*P)
 *   attn.qkv            rows head-major: for head h, its hd Q rows, hd K rows, hd V rows
 *   mlp.fc2.weight      [tiles][D][TH]: hidden tile j's columns as one [D][TH] matrix
 *   experts             expert-major: W1 [He][D], W2 [D][He], b1, b2 of expert e contiguous,
 *                       expert e at base + e * EXPERT_WORDS
 *   gate w_gate [D][E]  transposed to [E_ROWS][D] (rows past E are zero)
 *   conv3x3 [Co][Ci][3][3]  rows [Co][9][Ci] (tap-major, channels inner: matches channels-last maps)
 *   linear head, conv1x1   rows padded to a multiple of PE with zero rows
 */
import { gateTensorName } from '../ir/build';
import type { ModelIR } from '../ir/types';
import type { QuantPlan } from '../numerics/plan';
import { words16, words32, type Schedule } from './schedule';

export type SegmentKind = 'blocks16' | 'rows16' | 'vec16' | 'vec32';

export interface Segment {
  /** Checkpoint tensor the values come from. */
  tensor: string;
  /** Expert index for per-expert slices. */
  expert?: number;
  kind: SegmentKind;
  rows: number;
  cols: number;
  offsetWords: number;
  words: number;
  bits: number;
  frac: number;
  /** How the rows and columns map to the checkpoint tensor (for people). */
  order: string;
  /** Index into the tensor's C-order data of element (r, c), or -1 for padding. */
  pick: (r: number, c: number) => number;
}

export interface BlockOffsets {
  ln1G: number;
  ln1B: number;
  qkvW: number;
  qkvB: number;
  projW: number;
  projB: number;
  ln2G: number;
  ln2B: number;
  fc1W: number;
  fc1B: number;
  fc2W: number;
  fc2B: number;
  /** Expert 0 of the block (MoE blocks). */
  experts: number;
}

export interface HeadOffsets {
  normG: number;
  normB: number;
  /** Linear head: weight and bias; UpHead: conv1x1 weight and bias. */
  outW: number;
  outB: number;
  /** UpHead conv3x3 stages. */
  convW: number[];
  convB: number[];
}

export interface WeightLayout {
  segments: Segment[];
  totalWords: number;
  patchW: number;
  patchB: number;
  cls: number;
  pos: number;
  blocks: BlockOffsets[];
  /** [moe layer][built task] gate offsets. */
  gates: number[][];
  heads: HeadOffsets[];
  /** Offsets of W1, W2, b1, b2 inside one expert (W2 right after W1). */
  expertParts: { w1: number; b1: number; w2: number; b2: number };
  /** Block geometry of 'blocks16' segments. */
  pe: number;
  simd: number;
  blockWords: number;
}

export function weightLayout(ir: ModelIR, sched: Schedule, plan: QuantPlan): WeightLayout {
  const segments: Segment[] = [];
  let at = 0;
  const fmt = (t: string): { bits: number; frac: number } => {
    const f = plan.tensors[t];
    if (!f) throw new Error(`quantization plan has no tensor ${t}`);
    return f;
  };
  const { pe: PE, simd: SIMD, blockWords } = sched;
  const seg = (tensor: string, kind: SegmentKind, rows: number, cols: number, order: string, pick: Segment['pick'], expert?: number): number => {
    if (kind === 'blocks16' && (rows % PE !== 0 || cols % SIMD !== 0)) throw new Error(`${tensor}: [${rows}][${cols}] is not made of ${PE} x ${SIMD} blocks`);
    const words =
      kind === 'vec32' ? words32(cols) : kind === 'blocks16' ? (rows / PE) * (cols / SIMD) * blockWords : kind === 'rows16' ? rows * words16(cols) : words16(cols);
    segments.push({ tensor, ...(expert !== undefined ? { expert } : {}), kind, rows, cols, offsetWords: at, words, ...fmt(tensor), order, pick });
    const off = at;
    at += words;
    return off;
  };
  const vec32 = (t: string, n: number, pick: (i: number) => number = (i) => i): number => seg(t, 'vec32', 1, n, 'as checkpoint', (_r, c) => pick(c));
  const vec16 = (t: string, n: number): number => seg(t, 'vec16', 1, n, 'as checkpoint', (_r, c) => c);
  const matrix = (t: string, rows: number, cols: number): number => seg(t, 'blocks16', rows, cols, '[out][in] as checkpoint', (r, c) => r * cols + c);

  const { D, N, hd, heads } = sched;
  const d = ir.dims;
  const pe = sched.patchEmbed;
  const patchW = seg('backbone.patch_embed.proj.weight', 'blocks16', pe.chunks * D, pe.chunk, '[chunk][D][KC] of [D][C*P*P]', (r, c) => {
    const ch = Math.floor(r / D);
    const o = r % D;
    const k = ch * pe.chunk + c;
    return k < pe.k ? o * pe.k + k : -1;
  });
  const patchB = vec32('backbone.patch_embed.proj.bias', D);
  const cls = vec16('backbone.cls_token', D);
  const pos = seg('backbone.pos_embed', 'rows16', N, D, '[N][D] rows', (r, c) => r * D + c);

  // qkv row r' (head-major) <- checkpoint row g*D + h*hd + i.
  const qkvRow = (r: number): number => {
    const h = Math.floor(r / (3 * hd));
    const g = Math.floor((r % (3 * hd)) / hd);
    const i = r % hd;
    return g * D + h * hd + i;
  };
  const moeIndex = new Map<number, number>();
  sched.moe?.blocks.forEach((b, i) => moeIndex.set(b, i));
  const blocks: BlockOffsets[] = [];
  let expertParts = { w1: 0, b1: 0, w2: 0, b2: 0 };
  for (let b = 0; b < d.depth; b++) {
    const p = `backbone.blocks.${b}`;
    const o: BlockOffsets = { ln1G: 0, ln1B: 0, qkvW: 0, qkvB: 0, projW: 0, projB: 0, ln2G: 0, ln2B: 0, fc1W: 0, fc1B: 0, fc2W: 0, fc2B: 0, experts: 0 };
    o.ln1G = vec16(`${p}.norm1.weight`, D);
    o.ln1B = vec32(`${p}.norm1.bias`, D);
    o.qkvW = seg(`${p}.attn.qkv.weight`, 'blocks16', 3 * D, D, 'rows head-major: [head][q,k,v][hd] of [3D][D]', (r, c) => qkvRow(r) * D + c);
    o.qkvB = vec32(`${p}.attn.qkv.bias`, 3 * D, qkvRow);
    o.projW = matrix(`${p}.attn.proj.weight`, D, D);
    o.projB = vec32(`${p}.attn.proj.bias`, D);
    o.ln2G = vec16(`${p}.norm2.weight`, D);
    o.ln2B = vec32(`${p}.norm2.bias`, D);
    if (moeIndex.has(b)) {
      const m = sched.moe!;
      const He = m.hidden;
      o.experts = at;
      for (let e = 0; e < m.experts; e++) {
        const base = at;
        // W1 and W2 adjacent: expert-major streams both as one burst (EXPERT_W_WORDS words).
        seg(`${p}.mlp.experts.htoh4.weight`, 'blocks16', He, D, 'expert e of [E][He][D]', (r, c) => (e * He + r) * D + c, e);
        const w2 = at;
        seg(`${p}.mlp.experts.h4toh.weight`, 'blocks16', D, He, 'expert e of [E][D][He]', (r, c) => (e * D + r) * He + c, e);
        const b1 = at;
        seg(`${p}.mlp.experts.htoh4.bias`, 'vec32', 1, He, 'expert e of [E][He]', (_r, c) => e * He + c, e);
        const b2 = at;
        seg(`${p}.mlp.experts.h4toh.bias`, 'vec32', 1, D, 'expert e of [E][D]', (_r, c) => e * D + c, e);
        expertParts = { w1: 0, b1: b1 - base, w2: w2 - base, b2: b2 - base };
        if (at - base !== m.expertWords) throw new Error(`expert size ${at - base} != EXPERT_WORDS ${m.expertWords}`);
      }
    } else {
      const dn = sched.dense!;
      o.fc1W = matrix(`${p}.mlp.fc1.weight`, dn.hidden, D);
      o.fc1B = vec32(`${p}.mlp.fc1.bias`, dn.hidden);
      o.fc2W = seg(`${p}.mlp.fc2.weight`, 'blocks16', dn.tiles * D, dn.tile, '[tile][D][TH] of [D][hidden]', (r, c) => {
        const j = Math.floor(r / D);
        return (r % D) * dn.hidden + j * dn.tile + c;
      });
      o.fc2B = vec32(`${p}.mlp.fc2.bias`, D);
    }
    blocks.push(o);
  }

  // Gates of the built tasks (a shared gate is stored once), then the heads.
  const gates: number[][] = [];
  for (const b of sched.moe?.blocks ?? []) {
    const m = sched.moe!;
    const byName = new Map<string, number>();
    gates.push(
      sched.tasks.map((t) => {
        const name = gateTensorName(d, b, t.modelIndex);
        let off = byName.get(name);
        if (off === undefined) {
          off = seg(name, 'blocks16', m.gateRows, D, '[E_ROWS][D] transposed from [D][E]', (r, c) => (r < m.experts ? c * m.experts + r : -1));
          byName.set(name, off);
        }
        return off;
      }),
    );
  }
  const headOffsets: HeadOffsets[] = sched.tasks.map((t) => {
    const p = `decoders.${t.name}`;
    const h: HeadOffsets = { normG: vec16(`${p}.norm.weight`, D), normB: vec32(`${p}.norm.bias`, D), outW: 0, outB: 0, convW: [], convB: [] };
    const padRows = (tensor: string, cols: number): number =>
      seg(tensor, 'blocks16', t.channelsPadded, cols, `[C rounded up to PE][${cols}]`, (r, c) => (r < t.channels ? r * cols + c : -1));
    const padBias = (tensor: string): number => vec32(tensor, t.channelsPadded, (i) => (i < t.channels ? i : -1));
    if (t.head === 'linear') {
      h.outW = padRows(`${p}.linear.weight`, D);
      h.outB = padBias(`${p}.linear.bias`);
    } else {
      t.stages.forEach((s, i) => {
        const cin = s.cin;
        h.convW.push(
          seg(`${p}.conv_${i}.weight`, 'blocks16', t.upChannels, 9 * cin, '[Co][tap][Ci] of [Co][Ci][3][3]', (r, c) => {
            const tap = Math.floor(c / cin);
            const ci = c % cin;
            return (r * cin + ci) * 9 + tap;
          }),
        );
        h.convB.push(vec32(`${p}.conv_${i}.bias`, t.upChannels));
      });
      h.outW = padRows(`${p}.conv_${t.stages.length}.weight`, t.upChannels);
      h.outB = padBias(`${p}.conv_${t.stages.length}.bias`);
    }
    return h;
  });
  void heads;
  return { segments, totalWords: at, patchW, patchB, cls, pos, blocks, gates, heads: headOffsets, expertParts, pe: PE, simd: SIMD, blockWords };
}
