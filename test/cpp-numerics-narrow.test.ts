/**
 * The kernels' narrow products are exact: numerics.h instantiated at the operand widths of
 * generator/numerics/widths.ts (what the kernels pass, see model_config.h), in the kernels'
 * step order, against the generic TypeScript twins, on inputs at the bounds those widths
 * claim to hold (largest variance, smallest variance, the longest softmax row at the extreme
 * value, the largest GELU remainder). A width one bit too small truncates an operand and
 * some case below differs. Three model shapes: m3vit-tiny, ViT-S at 512 x 512 (1,025 keys)
 * and 8-bit words.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { numericsHeader } from '../generator/emit/numerics-header';
import { divRound, FRAC_MAX, FRAC_MIN } from '../generator/numerics/fixed';
import * as O from '../generator/numerics/ops';
import * as T from '../generator/numerics/tables';
import { gateWidths, modelWidths, tableWidths } from '../generator/numerics/widths';
import { compile, rng, SHIM_DIR, STRICT_FLAGS, tempDir } from './helpers/cpp';

interface Shape {
  name: string;
  dim: number;
  keys: number;
  act: number;
  weight: number;
  acc: number;
  headDim: number;
  /** MoE experts (the gate's exp sum and weight divide). */
  experts: number;
}

const SHAPES: Shape[] = [
  { name: 'm3vit-tiny (D 192, 129 keys, 16-bit words)', dim: 192, keys: 129, act: 16, weight: 16, acc: 48, headDim: 64, experts: 16 },
  { name: 'ViT-S at 512 x 512 (D 384, 1,025 keys)', dim: 384, keys: 1025, act: 16, weight: 16, acc: 48, headDim: 64, experts: 16 },
  { name: '8-bit words (D 64, 17 keys)', dim: 64, keys: 17, act: 8, weight: 8, acc: 32, headDim: 16, experts: 64 },
];

interface Case {
  line: string;
  expect: string;
}

function lnConsts(s: Shape): O.LayerNormConsts[] {
  const out: O.LayerNormConsts[] = [];
  for (const inFrac of [0, 6, 12]) {
    for (const eps of [1e-6, 1e-5]) out.push(O.layerNormConsts(s.dim, eps, inFrac, s.weight - 2, 20, 10, s.act));
  }
  return out;
}

function cases(s: Shape): Case[] {
  const R = rng(20261202 + s.dim);
  const out: Case[] = [];
  const add = (fn: string, args: number[], expect: number | number[]): void => {
    out.push({ line: `${fn} ${args.join(' ')}`, expect: Array.isArray(expect) ? expect.join(' ') : String(expect) });
  };
  const hi = 2 ** (s.act - 1) - 1;
  const lo = -(2 ** (s.act - 1));
  const gHi = 2 ** (s.weight - 1) - 1;
  const gLo = -(2 ** (s.weight - 1));

  // LayerNorm rows at the extremes of c, r and n.
  for (const k of lnConsts(s)) {
    const rows: number[][] = [
      Array.from({ length: s.dim }, (_, i) => (i % 2 ? hi : lo)), // largest variance
      Array.from({ length: s.dim }, (_, i) => (i === 0 ? hi : lo)), // one outlier: largest |c| * r
      Array.from({ length: s.dim }, (_, i) => (i === 0 ? lo : hi)),
      Array.from({ length: s.dim }, () => hi), // no variance: r at its largest
      Array.from({ length: s.dim }, (_, i) => (i === 3 ? lo + 1 : lo)),
      ...Array.from({ length: 6 }, () => Array.from({ length: s.dim }, () => R.int(lo, hi))),
    ];
    for (const x of rows) {
      for (const gamma of [Array(s.dim).fill(gHi), Array(s.dim).fill(gLo), Array.from({ length: s.dim }, () => R.int(gLo, gHi))]) {
        const beta = Array.from({ length: s.dim }, () => R.int(-(2 ** 20), 2 ** 20));
        const y: number[] = [];
        O.layerNormRow(x, 0, gamma, beta, k, y, 0);
        add('layer_norm_row', [k.dim, k.inFrac, k.extraBits, k.epsQ, k.sqrtDimQ, k.gammaFrac, k.betaFrac, k.outFrac, k.bits, ...x, ...gamma, ...beta], y);
      }
    }
  }

  // Attention rows over every key, at the largest sum l and |o|, and rescaling at every key.
  const hd = 2;
  const rowCases: { scores: number[]; v: number[] }[] = [
    { scores: Array(s.keys).fill(7), v: Array(s.keys * hd).fill(lo) },
    { scores: Array(s.keys).fill(hi), v: Array(s.keys * hd).fill(hi) },
    { scores: Array.from({ length: s.keys }, (_, j) => lo + j), v: Array(s.keys * hd).fill(lo) },
    { scores: Array.from({ length: s.keys }, (_, j) => (j === 0 ? hi : lo)), v: Array.from({ length: s.keys * hd }, (_, i) => (i % 2 ? hi : lo)) },
    ...Array.from({ length: 4 }, () => ({
      scores: Array.from({ length: s.keys }, () => R.int(lo, hi)),
      v: Array.from({ length: s.keys * hd }, () => R.int(lo, hi)),
    })),
  ];
  for (const fs of [0, 4, 12]) {
    for (const { scores, v } of rowCases) {
      // One key per tile (a rescale at every key), the kernels' tiles, one tile of every key.
      for (const kt of [1, 8, 32, s.keys]) {
        const o = new Float64Array(hd);
        const res: number[] = [];
        O.attentionRow(scores, s.keys, fs, v, hd, 0, hd, kt, o, res, 0, s.act);
        add('attention_row', [s.keys, fs, hd, kt, ...scores, ...v], res);
      }
    }
  }

  // GELU at every activation format, the largest remainder at FRAC_MAX.
  for (let i = 0; i < 3000; i++) {
    const f = i < 1000 ? FRAC_MAX : R.int(FRAC_MIN, FRAC_MAX);
    const x = i % 7 === 0 ? R.pick([lo, hi, 0, -1]) : R.int(lo, hi);
    const fo = R.int(0, 14);
    add('gelu_int', [x, f, fo, s.act], O.geluInt(x, f, fo, s.act));
  }
  // exp(-d) of a difference of two activation words.
  for (let i = 0; i < 3000; i++) {
    const d = i % 5 === 0 ? hi - lo : R.int(0, hi - lo);
    const fd = R.int(-4, FRAC_MAX);
    add('exp_neg', [d, fd], O.expNeg(d, fd));
  }
  // The attention score of the largest Q.K dot.
  const dotMax = s.headDim * 2 ** (2 * s.act - 2);
  for (let i = 0; i < 1000; i++) {
    const acc = i % 4 === 0 ? R.pick([dotMax, -dotMax + s.headDim * 2 ** s.act]) : R.int(-dotMax, dotMax);
    const q = T.attnScaleQ(s.headDim);
    add('attn_score', [acc, q, 20, 10, s.act], O.attnScore(acc, q, 20, 10, s.act));
  }
  // An expert's gate weight times its output.
  for (let i = 0; i < 1000; i++) {
    const g = i % 5 === 0 ? T.PROB_ONE : R.int(0, T.PROB_ONE);
    const y = i % 3 === 0 ? R.pick([lo, hi]) : R.int(lo, hi);
    const fy = R.int(0, 14);
    const fm = R.int(0, 14);
    add('combine_term', [g, y, fy, fm], O.combineTerm(g, y, fy, fm));
  }
  // Every expert's gate weight of a token (its exp term over the sum of all E): all logits
  // equal (the largest sum, E * PROB_ONE), one far above the rest (a weight of PROB_ONE),
  // random spreads.
  for (let i = 0; i < 300; i++) {
    const fz = R.int(0, 14);
    const z = Array.from({ length: s.experts }, () => (i % 3 === 0 ? hi : i % 3 === 1 ? lo : R.int(lo, hi)));
    if (i % 3 === 1) z[R.int(0, s.experts - 1)] = hi;
    const m = Math.max(...z);
    const p = z.map((v) => O.expNeg(m - v, fz));
    const sum = p.reduce((a, b) => a + b, 0);
    add('gate_weights', [s.experts, fz, ...z], p.map((v) => divRound(v * T.PROB_ONE, sum)));
  }
  return out;
}

describe.each(SHAPES)('numerics.h at the kernels\' operand widths: $name', (s) => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('narrow');
    fs.writeFileSync(path.join(dir, 'numerics.h'), numericsHeader());
    fs.mkdirSync(path.join(dir, 'shim'));
    fs.copyFileSync(path.join(SHIM_DIR, 'ap_int_shim.h'), path.join(dir, 'shim/ap_int_shim.h'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('equals the generic TypeScript twins at the widths\' bounds', () => {
    const w = modelWidths({ keys: s.keys, dim: s.dim, actBits: s.act, eps: 1e-5 });
    const g = gateWidths(s.experts);
    const defines = {
      GATE_SUM_BITS: g.gateSumBits, GATE_NUM_BITS: g.gateNumBits,
      ACT_BITS: s.act, PROB_WORD_FRAC: T.probWordFrac(s.act), W_BITS: s.weight, ACC_BITS: s.acc, DIFF_BITS: w.diffBits, SOFTMAX_SUM_BITS: w.softmaxSumBits, SOFTMAX_OUT_BITS: w.softmaxOutBits,
      LN_C_BITS: w.lnCenterBits, LN_R_BITS: w.lnRsqrtBits, LN_N_BITS: w.lnNormBits, LN_VAR_BITS: w.lnVarBits,
    };
    const exe = path.join(dir, 'driver');
    compile([path.join(__dirname, 'cpp/numerics-narrow-driver.cpp')], exe, [...STRICT_FLAGS, '-Wno-unknown-pragmas', `-I${dir}`, ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`)]);
    const all = cases(s);
    const stdout = execFileSync(exe, { input: all.map((c) => c.line).join('\n'), maxBuffer: 256 << 20 }).toString();
    const got = stdout.split('\n').slice(0, -1);
    expect(got.length).toBe(all.length);
    const bad = all.flatMap((c, i) => (got[i] === c.expect ? [] : [`${c.line.slice(0, 80)}...: C++ ${got[i].slice(0, 60)} vs TS ${c.expect.slice(0, 60)}`]));
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

describe('operand widths (generator/numerics/widths.ts), by hand', () => {
  it('bounds the m3vit-tiny shape as derived', () => {
    // l <= 130 * 2^16 < 2^24: 25 signed bits; |o| <= 130 * 2^16 * 2^15 + 129 < 2^39: 40.
    // E = lnExtraBits(192, 16) = floor((52 - 32 - 8) / 2) = 6: c < 2^(16 + 6): 23 bits.
    // sqrt(192) * 2^40 = 1.5235e13 < 2^44: 45 bits; / 2^24 = 908,093 < 2^20: 21 bits;
    // eps_q at input format FRAC_MAX = 30: 1e-6 * 192 * 2^(2 * 36) = 9.07e17, + 192 * 2^44 < 2^60: 61 bits.
    const w = modelWidths({ keys: 129, dim: 192, actBits: 16, eps: 1e-6 });
    expect(w).toEqual({ diffBits: 17, softmaxSumBits: 25, softmaxOutBits: 40, lnCenterBits: 23, lnRsqrtBits: 45, lnNormBits: 21, lnVarBits: 61 });
    // |t[j+1] - t[j]| of GELU: slope <= 1.13 over a 2^-6 step at 2^16: about 1,160 < 2^11;
    // exp2: 2^20 * (1 - 2^(-1/256)) = 2,836 < 2^12.
    // The gate: a sum of 16 terms <= 2^16 is <= 2^20 < 2^21: 22 signed bits; a numerator
    // p * PROB_ONE <= 2^32 < 2^33: 34.
    expect(gateWidths(16)).toEqual({ gateSumBits: 22, gateNumBits: 34 });
    expect(tableWidths()).toEqual({ log2eBits: 18, attnScaleBits: 17, probBits: 18, geluDiffBits: 12, exp2DiffBits: 13, geluRemBits: 25, exp2RemBits: 9 });
  });
});
