/**
 * The generated numerics.h against generator/numerics: every C++ twin is run on thousands
 * of cases (random and edge) and must return exactly what the TypeScript function returns.
 * The expected values come from the TypeScript functions, which have their own hand-derived
 * tests; this test proves the two sides are the same arithmetic.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { numericsHeader } from '../generator/emit/numerics-header';
import * as F from '../generator/numerics/fixed';
import * as O from '../generator/numerics/ops';
import * as T from '../generator/numerics/tables';
import { compile, rng, STRICT_FLAGS, tempDir } from './helpers/cpp';

interface Case {
  line: string;
  expect: string;
}

const R = rng(20240611);
const two = (n: number): number => 2 ** n;
/** A random integer with a random magnitude up to 2^maxBits, both signs (small values are common). */
function mag(maxBits: number, signed = true): number {
  const bits = R.int(0, maxBits);
  const v = R.int(0, Math.max(0, two(bits) - 1));
  return signed && R.next() < 0.5 ? -v : v;
}

function cases(): Case[] {
  const out: Case[] = [];
  const add = (fn: string, args: Array<number | string>, expect: number | number[] | string): void => {
    out.push({ line: `${fn} ${args.join(' ')}`, expect: Array.isArray(expect) ? expect.join(' ') : String(expect) });
  };

  // rshiftRound: ties (x = k * 2^s + 2^(s-1)) in both signs, negative shifts, zero.
  for (let i = 0; i < 3000; i++) {
    const s = R.int(-12, 40);
    let x = mag(s < 0 ? 40 : 52);
    if (i % 5 === 0 && s > 0) x = R.int(-1000, 1000) * two(s) + two(s - 1); // exact tie
    add('rshift_round', [x, s], F.rshiftRound(x, s));
  }
  for (const [x, s] of [[0, 0], [-1, 1], [1, 1], [-3, 1], [3, 1], [-2, 2], [2, 2], [-6, 2], [2 ** 52 - 1, 52], [-(2 ** 52), 52], [5, 63]] as const) {
    add('rshift_round', [x, s], F.rshiftRound(x, s));
  }
  for (let i = 0; i < 1000; i++) {
    const bits = R.int(2, 53);
    const x = mag(55);
    add('sat', [x, bits], F.sat(x, bits));
  }
  for (let i = 0; i < 1500; i++) {
    const from = R.int(-16, 60);
    const to = R.int(-16, 30);
    const acc = mag(from < to ? Math.max(0, 52 - (to - from)) : 52); // left shifts stay below 2^53
    const bits = R.int(8, 32);
    add('requant', [acc, from, to, bits], F.requant(acc, from, to, bits));
  }
  // mulShiftRound: products beyond 2^53 take the TypeScript's split path.
  for (let i = 0; i < 3000; i++) {
    const a = mag(i % 2 ? 40 : 24);
    const b = mag(21);
    const s = R.int(0, 45);
    add('mul_shift_round', [a, b, s], F.mulShiftRound(a, b, s));
  }
  for (let i = 0; i < 1500; i++) {
    const a = mag(52);
    const b = R.int(1, two(R.int(0, 30)));
    add('floor_div', [a, b], F.floorDiv(a, b));
    const a2 = mag(50);
    const b2 = R.int(1, two(R.int(0, 30)));
    add('div_round', [a2, b2], F.divRound(a2, b2));
  }
  for (const [a, b] of [[-1, 2], [1, 2], [-3, 2], [3, 2], [-5, 10], [5, 10], [0, 7], [-7, 7], [-8, 7]]) {
    add('floor_div', [a, b], F.floorDiv(a, b));
    add('div_round', [a, b], F.divRound(a, b));
  }
  for (let i = 0; i < 3000; i++) {
    let v = R.int(0, two(R.int(0, 53)) - 1);
    if (i % 3 === 0) {
      const r = R.int(0, 94906265);
      v = r * r + R.int(-1, 1);
      if (v < 0) v = 0;
    }
    add('isqrt', [v], F.isqrt(v));
    add('bit_length', [v], F.bitLength(v));
  }
  for (let b = 2; b <= 53; b++) {
    add('max_of', [b], F.maxOf(b));
    add('min_of', [b], F.minOf(b));
  }
  // quantize/dequantize: ties at half a unit, large values that saturate, tiny ones.
  for (let i = 0; i < 2000; i++) {
    const frac = R.int(-16, 30);
    const bits = R.int(4, 32);
    let x = (R.next() - 0.5) * two(R.int(-20, 20));
    if (i % 4 === 0) x = (R.int(-40000, 40000) + 0.5) * two(-frac);
    if (i % 17 === 0) x = (R.next() - 0.5) * 1e300;
    add('quantize', [String(x), frac, bits], F.quantize(x, frac, bits));
    const q = mag(31);
    add('dequantize', [q, frac], String(F.dequantize(q, frac)));
  }
  for (let i = 0; i < 1500; i++) {
    let m = R.next() * two(R.int(-24, 24));
    if (i % 5 === 0) m = two(R.int(-20, 20));
    if (i % 7 === 0) m = (two(R.int(1, 15)) - 0.5) * two(R.int(-10, 10));
    if (i === 0) m = 0;
    const bits = R.int(4, 16);
    const head = R.int(0, 4);
    add('choose_frac', [String(m), bits, head], F.chooseFrac(m, bits, head));
  }

  // Operators.
  for (let i = 0; i < 3000; i++) {
    const fx = R.int(-10, 24);
    const fy = fx + R.int(-20, 20);
    const fo = Math.max(fx, fy) - R.int(-6, 30);
    const bits = R.int(8, 16);
    const x = mag(15);
    const y = mag(15);
    add('add_aligned', [x, fx, y, fy, fo, bits], O.addAligned(x, fx, y, fy, fo, bits));
  }
  for (let i = 0; i < 6000; i++) {
    const f = i % 10 === 0 ? R.int(-16, -1) : R.int(0, 24);
    const fo = R.int(-4, 20);
    const bits = R.int(8, 16);
    let x = mag(16);
    if (i % 4 === 0) {
      // Around the table ends and segment boundaries.
      const edge = R.pick([T.GELU_LO, T.GELU_HI, 0, R.int(-8, 8)]);
      x = Math.round(edge * two(f)) + R.int(-2, 2);
    }
    add('gelu_int', [x, f, fo, bits], O.geluInt(x, f, fo, bits));
  }
  for (let i = 0; i < 4000; i++) {
    const fd = R.int(-4, 20);
    const d = i % 5 === 0 ? R.int(0, 64) : R.int(0, two(R.int(0, 17)));
    add('exp_neg', [d, fd], O.expNeg(d, fd));
  }
  for (let i = 0; i < 400; i++) {
    const dim = R.pick([1, 2, 4, 8, 16, 24, 32, 64, 192, 384, 768]);
    const bits = R.pick([8, 12, 16]);
    const inFrac = R.int(-2, 14);
    const gammaFrac = R.int(6, 15);
    const betaFrac = Math.min(R.int(4, 30), T.LN_NORM_FRAC + gammaFrac);
    const outFrac = R.int(4, 14);
    const k = O.layerNormConsts(dim, R.pick([1e-6, 1e-5, 1e-3]), inFrac, gammaFrac, betaFrac, outFrac, bits);
    const lim = two(bits - 1);
    const center = R.int(-lim / 2, lim / 2);
    const spread = i % 6 === 0 ? R.int(0, 2) : R.int(0, lim / 2); // near-constant rows test the eps path
    const x = Array.from({ length: dim }, () => Math.max(-lim, Math.min(lim - 1, center + R.int(-spread, spread))));
    const gamma = Array.from({ length: dim }, () => mag(15));
    const betaBits = Math.max(0, Math.min(31, 50 - (T.LN_NORM_FRAC + gammaFrac - betaFrac)));
    const beta = Array.from({ length: dim }, () => mag(Math.min(betaBits, 31)));
    const y: number[] = [];
    O.layerNormRow(x, 0, gamma, beta, k, y, 0);
    add('layer_norm_row', [k.dim, k.inFrac, k.extraBits, k.epsQ, k.sqrtDimQ, k.gammaFrac, k.betaFrac, k.outFrac, k.bits, ...x, ...gamma, ...beta], y);
  }
  for (let i = 0; i < 2000; i++) {
    const hd = R.pick([4, 8, 16, 32, 64]);
    const fq = R.int(4, 14);
    const acc = mag(Math.min(52, 2 * 15 + 7));
    const fs = R.int(2, 14);
    add('attn_score', [acc, T.attnScaleQ(hd), 2 * fq, fs, 16], O.attnScore(acc, T.attnScaleQ(hd), 2 * fq, fs, 16));
  }
  for (let i = 0; i < 600; i++) {
    const n = R.int(1, 70);
    const hd = R.pick([1, 2, 4, 8, 16]);
    const fs = R.int(0, 12);
    const spread = two(R.int(0, 15));
    const scores = Array.from({ length: n }, () => Math.max(-32768, Math.min(32767, R.int(-spread, spread))));
    if (i % 5 === 0) for (let j = 0; j < n; j++) scores[j] = j * R.int(0, 3); // increasing: rescales at every key
    const v = Array.from({ length: n * hd }, () => mag(15));
    const o = new Float64Array(hd);
    const res: number[] = [];
    const kt = R.pick([1, 2, 8, 16, n]);
    O.attentionRow(scores, n, fs, v, hd, 0, hd, kt, o, res, 0, 16);
    add('attention_row', [n, fs, hd, kt, ...scores, ...v], res);
  }
  for (let i = 0; i < 1500; i++) {
    const E = R.pick([1, 2, 3, 4, 8, 16, 33, 64]);
    const k = R.int(1, Math.min(E, 4));
    const fz = R.int(0, 14);
    const span = two(R.int(0, 15));
    const z = Array.from({ length: E }, () => Math.max(-32768, Math.min(32767, R.int(-span, span))));
    if (i % 4 === 0) for (let e = 0; e < E; e++) z[e] = R.int(-2, 2); // many ties
    const c = O.gateTopK(z, E, k, fz);
    add('gate_top_k', [E, k, fz, ...z], c.experts.flatMap((e, r) => [e, c.weights[r]]));
  }
  for (let i = 0; i < 3000; i++) {
    const fAcc = R.int(-4, 40);
    const fb = fAcc - R.int(0, 20);
    const b = mag(Math.min(31, 50 - (fAcc - fb)));
    const fo = R.int(-4, 16);
    const acc = mag(46 - Math.max(0, fo - fAcc)); // left shifts stay below 2^53
    const bits = R.int(8, 16);
    const relu = R.next() < 0.5;
    add('align_bias', [b, fb, fAcc], O.alignBias(b, fb, fAcc));
    add('linear_out', [acc, b, fb, fAcc, fo, bits, relu ? 1 : 0], O.linearOut(acc, b, fb, fAcc, fo, bits, relu));
  }
  for (let i = 0; i < 2000; i++) {
    const g = R.int(0, T.PROB_ONE);
    const y = mag(15);
    const fy = R.int(-4, 16);
    const fm = R.int(-4, 16);
    add('combine_term', [g, y, fy, fm], O.combineTerm(g, y, fy, fm));
  }
  for (let i = 0; i < 2000; i++) {
    const v = [mag(15), mag(15), mag(15), mag(15)];
    add('upsample_tap', v, O.upsampleTap(v[0], v[1], v[2], v[3]));
  }
  for (let n = 1; n <= 6; n++) {
    for (let i = 0; i < n; i++) {
      for (const odd of [false, true]) add('upsample_neighbour', [i, odd ? 1 : 0, n], O.upsampleNeighbour(i, odd, n));
    }
  }
  const gelu = T.geluTableValues();
  // GELU_PAIRS word j decodes to entries j and j + 1 of the TypeScript table.
  for (let j = 0; j + 1 < gelu.length; j++) add('gelu_pair', [j], [gelu[j], gelu[j + 1]]);
  const exp2 = T.exp2TableValues();
  for (let j = 0; j < exp2.length; j++) add('exp2_table', [j], exp2[j]);
  return out;
}

describe('numerics.h (C++) equals generator/numerics (TypeScript)', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('numerics');
    fs.writeFileSync(path.join(dir, 'numerics.h'), numericsHeader());
    // numerics.h writes its products on ap_int: the shim m3vit-gen ships beside it in src/shim/.
    fs.mkdirSync(path.join(dir, 'shim'));
    fs.copyFileSync(path.join(__dirname, '../testbench/shim/ap_int_shim.h'), path.join(dir, 'shim/ap_int_shim.h'));
    compile([path.join(__dirname, 'cpp/numerics-driver.cpp')], path.join(dir, 'driver'), [...STRICT_FLAGS, '-Wno-unknown-pragmas', `-I${dir}`]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns the same integer for every case', () => {
    const all = cases();
    const stdout = execFileSync(path.join(dir, 'driver'), { input: all.map((c) => c.line).join('\n'), maxBuffer: 256 << 20 }).toString();
    const got = stdout.split('\n').slice(0, -1);
    expect(got.length).toBe(all.length);
    const perFn = new Map<string, number>();
    const bad: string[] = [];
    all.forEach((c, i) => {
      const fn = c.line.split(' ')[0];
      perFn.set(fn, (perFn.get(fn) ?? 0) + 1);
      const expected = fn === 'dequantize' ? Number(c.expect) : c.expect;
      const actual = fn === 'dequantize' ? Number(got[i]) : got[i];
      if (actual !== expected && bad.length < 10) bad.push(`${c.line.slice(0, 200)}\n  TS:  ${c.expect.slice(0, 200)}\n  C++: ${got[i].slice(0, 200)}`);
    });
    expect(bad).toEqual([]);
    // Every twin was exercised in volume (the table checks count one case per entry).
    for (const [fn, n] of perFn) expect([fn, n >= 6]).toEqual([fn, true]);
    expect(perFn.size).toBe(27);
  });
});
