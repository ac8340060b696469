/**
 * The float reference (generator/reference/float.ts) against a second, naive implementation
 * written here from the M³ViT definitions (shared/reference/m3vit-model.md) and PyTorch's
 * operator definitions: plain nested loops over number arrays, token-major MoE, PyTorch's
 * general bilinear formula, erf by numerical integration. It shares no code with
 * generator/reference or generator/numerics.
 */
import { buildIR } from '../generator/ir/build';
import type { ModelIR } from '../generator/ir/types';
import type { ModelSpec } from '../generator/model/spec';
import { runFloat } from '../generator/reference/float';
import { randomImage, randomWeights } from '../generator/weights/random';
import type { WeightSet } from '../generator/weights/types';
import { figure } from './helpers/figures';

// ---- the naive model -------------------------------------------------------------------

/** erf by composite Simpson integration of 2/sqrt(pi) exp(-t^2) over [0, x] (error ~1e-14). */
function erfNaive(x: number): number {
  const a = Math.min(Math.abs(x), 7);
  const n = 4000;
  const h = a / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
    s += w * Math.exp(-(i * h) * (i * h));
  }
  const r = ((s * h) / 3) * (2 / Math.sqrt(Math.PI));
  return x < 0 ? -r : r;
}
const geluNaive = (x: number): number => 0.5 * x * (1 + erfNaive(x / Math.SQRT2));

type M = number[][]; // [rows][cols]

function W(ws: WeightSet, name: string): number[] {
  return Array.from(ws.get(name)!.data);
}
function linearNaive(x: M, w: number[], b: number[] | undefined, out: number, inp: number): M {
  return x.map((row) => {
    const y: number[] = [];
    for (let o = 0; o < out; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inp; i++) s += row[i] * w[o * inp + i];
      y.push(s);
    }
    return y;
  });
}
function layerNormNaive(x: M, g: number[], b: number[], eps: number): M {
  return x.map((row) => {
    const mean = row.reduce((a, c) => a + c, 0) / row.length;
    const v = row.reduce((a, c) => a + (c - mean) * (c - mean), 0) / row.length;
    return row.map((c, i) => ((c - mean) / Math.sqrt(v + eps)) * g[i] + b[i]);
  });
}
function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, c) => a + c, 0);
  return e.map((v) => v / s);
}
/** PyTorch upsample_bilinear2d, align_corners=False, output size 2x: the general source-index formula. */
function upsampleNaive(x: number[][][]): number[][][] {
  const [C, H, Wd] = [x.length, x[0].length, x[0][0].length];
  const src = (dst: number, inSize: number): [number, number, number] => {
    let s = (dst + 0.5) * (inSize / (2 * inSize)) - 0.5;
    if (s < 0) s = 0;
    const i0 = Math.floor(s);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    return [i0, i1, s - i0];
  };
  const out: number[][][] = [];
  for (let c = 0; c < C; c++) {
    const plane: number[][] = [];
    for (let oy = 0; oy < 2 * H; oy++) {
      const [y0, y1, ly] = src(oy, H);
      const row: number[] = [];
      for (let ox = 0; ox < 2 * Wd; ox++) {
        const [x0, x1, lx] = src(ox, Wd);
        row.push((1 - ly) * ((1 - lx) * x[c][y0][x0] + lx * x[c][y0][x1]) + ly * ((1 - lx) * x[c][y1][x0] + lx * x[c][y1][x1]));
      }
      plane.push(row);
    }
    out.push(plane);
  }
  return out;
}
function conv2dNaive(x: number[][][], w: number[], b: number[], cout: number, k: number, relu: boolean): number[][][] {
  const [C, H, Wd] = [x.length, x[0].length, x[0][0].length];
  const pad = (k - 1) / 2;
  const out: number[][][] = [];
  for (let o = 0; o < cout; o++) {
    const plane: number[][] = [];
    for (let y = 0; y < H; y++) {
      const row: number[] = [];
      for (let xx = 0; xx < Wd; xx++) {
        let s = b[o];
        for (let c = 0; c < C; c++) {
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const iy = y + ky - pad;
              const ix = xx + kx - pad;
              if (iy < 0 || iy >= H || ix < 0 || ix >= Wd) continue;
              s += w[((o * C + c) * k + ky) * k + kx] * x[c][iy][ix];
            }
          }
        }
        row.push(relu ? Math.max(0, s) : s);
      }
      plane.push(row);
    }
    out.push(plane);
  }
  return out;
}

function naiveForward(ir: ModelIR, ws: WeightSet, task: string, img: number[]): number[] {
  const d = ir.dims;
  const { embedDim: D, patch: P, imageH: H, imageW: Wd, inChannels: C } = d;
  const gh = H / P;
  const gw = Wd / P;
  const pix = (c: number, y: number, x: number): number => img[(c * H + y) * Wd + x];
  // patch embedding = conv with kernel = stride = P
  const pw = W(ws, 'backbone.patch_embed.proj.weight');
  const pb = W(ws, 'backbone.patch_embed.proj.bias');
  const cls = W(ws, 'backbone.cls_token');
  const pos = W(ws, 'backbone.pos_embed');
  let x: M = [cls.map((v, i) => v + pos[i])];
  for (let r = 0; r < gh; r++) {
    for (let c = 0; c < gw; c++) {
      const tok: number[] = [];
      for (let o = 0; o < D; o++) {
        let s = pb[o];
        for (let ci = 0; ci < C; ci++) for (let ky = 0; ky < P; ky++) for (let kx = 0; kx < P; kx++) s += pw[((o * C + ci) * P + ky) * P + kx] * pix(ci, r * P + ky, c * P + kx);
        tok.push(s + pos[(x.length) * D + o]);
      }
      x.push(tok);
    }
  }
  const N = x.length;
  const t = ir.tasks.find((q) => q.name === task)!;
  for (let b = 0; b < d.depth; b++) {
    const pre = `backbone.blocks.${b}`;
    const y = layerNormNaive(x, W(ws, `${pre}.norm1.weight`), W(ws, `${pre}.norm1.bias`), d.layerNormEps);
    const qkv = linearNaive(y, W(ws, `${pre}.attn.qkv.weight`), W(ws, `${pre}.attn.qkv.bias`), 3 * D, D);
    const hd = d.headDim;
    const att: M = Array.from({ length: N }, () => new Array(D).fill(0));
    for (let h = 0; h < d.heads; h++) {
      for (let i = 0; i < N; i++) {
        const sc: number[] = [];
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let e = 0; e < hd; e++) s += qkv[i][h * hd + e] * qkv[j][D + h * hd + e];
          sc.push(s / Math.sqrt(hd));
        }
        const p = softmax(sc);
        for (let e = 0; e < hd; e++) {
          let s = 0;
          for (let j = 0; j < N; j++) s += p[j] * qkv[j][2 * D + h * hd + e];
          att[i][h * hd + e] = s;
        }
      }
    }
    const proj = linearNaive(att, W(ws, `${pre}.attn.proj.weight`), W(ws, `${pre}.attn.proj.bias`), D, D);
    x = x.map((row, i) => row.map((v, j) => v + proj[i][j]));
    const y2 = layerNormNaive(x, W(ws, `${pre}.norm2.weight`), W(ws, `${pre}.norm2.bias`), d.layerNormEps);
    let mlp: M;
    if (d.moe && d.moe.blocks.includes(b)) {
      const { experts: E, topK: k, hidden: He } = d.moe;
      const gname = d.moe.gate === 'shared' ? `${pre}.mlp.gate.w_gate` : `${pre}.mlp.gate.${t.index}.w_gate`;
      const wg = W(ws, gname); // [D][E]
      const w1 = W(ws, `${pre}.mlp.experts.htoh4.weight`);
      const b1 = W(ws, `${pre}.mlp.experts.htoh4.bias`);
      const w2 = W(ws, `${pre}.mlp.experts.h4toh.weight`);
      const b2 = W(ws, `${pre}.mlp.experts.h4toh.bias`);
      // token-major: each token through its own k experts
      mlp = y2.map((row) => {
        const z: number[] = [];
        for (let e = 0; e < E; e++) {
          let s = 0;
          for (let i = 0; i < D; i++) s += row[i] * wg[i * E + e];
          z.push(s);
        }
        const p = softmax(z);
        const order = p.map((v, e) => [v, e]).sort((a, c) => c[0] - a[0] || a[1] - c[1]).slice(0, k);
        const out = new Array(D).fill(0);
        for (const [pe, e] of order) {
          const hid = linearNaive([row], w1.slice(e * He * D, (e + 1) * He * D), b1.slice(e * He, (e + 1) * He), He, D)[0].map(geluNaive);
          const ye = linearNaive([hid], w2.slice(e * D * He, (e + 1) * D * He), b2.slice(e * D, (e + 1) * D), D, He)[0];
          for (let i = 0; i < D; i++) out[i] += pe * ye[i];
        }
        return out;
      });
    } else {
      const Hd = d.mlpHidden;
      const h1 = linearNaive(y2, W(ws, `${pre}.mlp.fc1.weight`), W(ws, `${pre}.mlp.fc1.bias`), Hd, D).map((r) => r.map(geluNaive));
      mlp = linearNaive(h1, W(ws, `${pre}.mlp.fc2.weight`), W(ws, `${pre}.mlp.fc2.bias`), D, Hd);
    }
    x = x.map((row, i) => row.map((v, j) => v + mlp[i][j]));
  }
  const hp = `decoders.${task}`;
  const yn = layerNormNaive(x.slice(1), W(ws, `${hp}.norm.weight`), W(ws, `${hp}.norm.bias`), d.layerNormEps);
  if (t.head.kind === 'linear') return linearNaive(yn, W(ws, `${hp}.linear.weight`), W(ws, `${hp}.linear.bias`), t.channels, D).flat();
  // tokens -> [D][gh][gw]
  let fm: number[][][] = Array.from({ length: D }, (_, c) => Array.from({ length: gh }, (_, r) => Array.from({ length: gw }, (_, q) => yn[r * gw + q][c])));
  const S = t.head.stages;
  for (let s = 0; s < S; s++) {
    fm = conv2dNaive(fm, W(ws, `${hp}.conv_${s}.weight`), W(ws, `${hp}.conv_${s}.bias`), t.head.channels, 3, true);
    if (s < S - 1) fm = upsampleNaive(fm);
  }
  fm = conv2dNaive(fm, W(ws, `${hp}.conv_${S}.weight`), W(ws, `${hp}.conv_${S}.bias`), t.channels, 1, false);
  return upsampleNaive(fm).flat(2);
}

// ---- the comparison ----------------------------------------------------------------------

function compare(spec: ModelSpec, init: 'm3vit' | 'exercise', seed: number): void {
  const ir = buildIR(spec);
  const ws = randomWeights(ir, seed, init);
  // weights large enough that the gates do not tie and every nonlinearity is exercised
  for (const [name, t] of ws) if (!name.includes('norm')) t.data.forEach((v, i) => (t.data[i] = 10 * v));
  const img = randomImage(ir.dims, seed, 0);
  for (const t of ir.tasks) {
    const got = runFloat(ir, ws, t.name, img);
    const want = naiveForward(ir, ws, t.name, Array.from(img.data));
    expect(got.output.shape).toEqual(t.outputShape);
    expect(got.output.data.length).toBe(want.length);
    let maxAbs = 0;
    let maxDiff = 0;
    want.forEach((w, i) => {
      maxAbs = Math.max(maxAbs, Math.abs(w));
      maxDiff = Math.max(maxDiff, Math.abs(got.output.data[i] - w));
    });
    figure(`${spec.name}/${t.name} (${init}): max |float ref - naive| = ${maxDiff.toExponential(2)}, max |output| = ${maxAbs.toPrecision(3)}`);
    expect(maxAbs).toBeGreaterThan(1e-3);
    expect(maxDiff).toBeLessThanOrEqual(1e-10 * Math.max(1, maxAbs));
  }
}

describe('float reference = naive M³ViT', () => {
  it('MoE model (multi-gate), UpHead and linear head, two tasks, exercise init', () => {
    compare(
      {
        name: 'moe-small', image: { height: 8, width: 16 }, patch: 4, embedDim: 8, depth: 2, heads: 2, mlpRatio: 2,
        moe: { experts: 4, topK: 2, hidden: 6 },
        tasks: [
          { name: 'seg', channels: 3, head: { kind: 'uphead', channels: 5 } },
          { name: 'lin', channels: 2, head: { kind: 'linear' } },
        ],
      },
      'exercise', 3,
    );
  });

  it('MoE in every block, top-1, shared gate; m3vit init', () => {
    compare(
      {
        name: 'moe-shared', image: { height: 8, width: 8 }, patch: 4, embedDim: 12, depth: 2, heads: 3, mlpRatio: 1,
        moe: { experts: 3, topK: 1, hidden: 4, blocks: 'all', gate: 'shared' },
        tasks: [{ name: 'a', channels: 2, head: { kind: 'uphead', channels: 4 } }],
      },
      'm3vit', 4,
    );
  });

  it('dense ViT, patch 8 (3 UpHead stages), 3 tasks', () => {
    compare(
      {
        name: 'dense', image: { height: 16, width: 8 }, patch: 8, embedDim: 8, depth: 1, heads: 1, mlpRatio: 3,
        tasks: [
          { name: 'x', channels: 1, head: { kind: 'uphead', channels: 3 } },
          { name: 'y', channels: 4, head: { kind: 'linear' } },
          { name: 'z', channels: 2, head: { kind: 'uphead', channels: 2 } },
        ],
      },
      'exercise', 5,
    );
  });
});
