/**
 * The integer operators of generator/numerics/ops.ts (and the float special functions they
 * are built from) against hand-derived cases and float math, with the error bounds asserted
 * and the measured errors printed.
 */
import { quantize, SatCounter } from '../generator/numerics/fixed';
import {
  addAligned, alignBias, attentionRow, attnScore, combineTerm, expNeg, gateTopK, geluInt, layerNormConsts, layerNormRow, linearOut,
  upsampleNeighbour, upsampleTap,
} from '../generator/numerics/ops';
import { erf, gelu } from '../generator/numerics/special';
import { attnScaleQ, PROB_ONE } from '../generator/numerics/tables';
import { figure } from './helpers/figures';

/** A small deterministic generator for test data (no shared code with generator/). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}
function gauss(r: () => number): number {
  let s = 0;
  for (let i = 0; i < 12; i++) s += r();
  return s - 6;
}

describe('erf and gelu (float64)', () => {
  // Reference values: Python 3.11 math.erf (correctly rounded libm erf), printed with repr.
  const ERF: Array<[number, number]> = [
    [0.0, 0.0],
    [1e-10, 1.1283791670955126e-10],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1.0, 0.8427007929497149],
    [1.5, 0.9661051464753108],
    [2.0, 0.9953222650189527],
    [2.4999, 0.9995928300996666],
    [2.5, 0.999593047982555],
    [3.0, 0.9999779095030014],
    [4.0, 0.9999999845827421],
    [5.0, 0.9999999999984626],
    [6.0, 1.0],
    [-0.3, -0.3286267594591274],
    [-1.7, -0.9837904585907745],
    [-3.2, -0.9999939742388483],
  ];
  it('erf matches Python math.erf to a few ulp', () => {
    let worst = 0;
    for (const [x, want] of ERF) {
      const err = Math.abs(erf(x) - want);
      worst = Math.max(worst, err);
      expect(err).toBeLessThanOrEqual(4 * Number.EPSILON * Math.max(Math.abs(want), 1e-10));
    }
    figure(`erf: largest error against math.erf ${worst.toExponential(2)}`);
  });

  // 0.5 * x * (1 + math.erf(x / math.sqrt(2))) in Python 3.11
  const GELU: Array<[number, number]> = [
    [-3.0, -0.00404969409489031],
    [-1.0, -0.15865525393145707],
    [-0.5, -0.15426876936299344],
    [0.0, 0.0],
    [0.5, 0.34573123063700656],
    [1.0, 0.8413447460685429],
    [2.0, 1.9544997361036416],
    [3.0, 2.99595030590511],
  ];
  it('gelu is the exact erf form', () => {
    for (const [x, want] of GELU) expect(Math.abs(gelu(x) - want)).toBeLessThanOrEqual(1e-15);
  });
});

describe('geluInt', () => {
  it('stays within one output LSB of gelu over [-10, 10] for several binary points', () => {
    for (const [f, fo] of [[12, 12], [10, 13], [8, 8], [4, 6], [14, 14]]) {
      let worst = 0;
      for (let x = -10 * 2 ** f; x <= 10 * 2 ** f; x += Math.max(1, 2 ** (f - 10))) {
        const y = geluInt(x, f, fo, 16) / 2 ** fo;
        const want = gelu(x / 2 ** f);
        if (Math.abs(want * 2 ** fo) > 32767) continue; // beyond the output word
        worst = Math.max(worst, Math.abs(y - want));
      }
      figure(`geluInt f=${f} fo=${fo}: max error ${worst.toExponential(3)} (${(worst * 2 ** fo).toFixed(3)} LSB)`);
      // table interpolation (<= 2.5e-5) + table rounding (2^-17) + output rounding (1/2 LSB)
      expect(worst).toBeLessThanOrEqual(2 ** -(fo + 1) + 4.5e-5);
    }
  });

  it('hand-derived: below -8 it is 0, at and above 8 it is x, gelu(0) = 0', () => {
    expect(geluInt(-9 * 256, 8, 8, 16)).toBe(0);
    expect(geluInt(8 * 256, 8, 8, 16)).toBe(2048);
    expect(geluInt(9 * 256, 8, 10, 16)).toBe(9 * 1024);
    expect(geluInt(0, 8, 8, 16)).toBe(0);
  });
});

describe('expNeg', () => {
  it('follows Math.exp(-d) within half an output LSB plus a relative error that grows with d', () => {
    // Error budget: output rounding 2^-17; u = d * log2(e) carries 16 fraction bits (2^-17
    // in the exponent) and LOG2E_Q16 is off by 7.1e-6, i.e. a relative error of
    // ln2 * (2^-17 + 7.1e-6 * d); the 2^-j table (2^-21 rounding), the rounding of the
    // interpolation step (2^-21) and its curvature ((1/256)^2/8 * ln2^2 = 9e-7): < 2^-19.
    for (const fd of [6, 10, 13]) {
      let worstAbs = 0;
      let worstExcess = -Infinity;
      for (let d = 0; d <= 30 * 2 ** fd; d += Math.max(1, 2 ** (fd - 8))) {
        const got = expNeg(d, fd) / PROB_ONE;
        const dr = d / 2 ** fd;
        const want = Math.exp(-dr);
        const err = Math.abs(got - want);
        worstAbs = Math.max(worstAbs, err);
        const bound = 2 ** -17 + want * (Math.LN2 * (2 ** -17 + 7.1e-6 * dr) + 2 ** -19);
        worstExcess = Math.max(worstExcess, err - bound);
      }
      figure(`expNeg fd=${fd}: max abs error ${worstAbs.toExponential(3)}`);
      expect(worstAbs).toBeLessThanOrEqual(2 ** -16);
      expect(worstExcess).toBeLessThanOrEqual(0);
    }
  });

  it('hand-derived: exp(0) = 1.0 = 65536; exp(-ln 2) = 0.5; huge d gives 0', () => {
    expect(expNeg(0, 10)).toBe(65536);
    expect(Math.abs(expNeg(Math.round(Math.LN2 * 2 ** 16), 16) - 32768)).toBeLessThanOrEqual(1);
    expect(expNeg(100 * 1024, 10)).toBe(0);
  });
});

describe('layerNormRow', () => {
  it('matches float LayerNorm of the dequantized values within one output LSB plus gamma rounding', () => {
    const r = lcg(11);
    for (const [D, fx, fo, scale] of [[192, 12, 11, 2], [384, 8, 12, 30], [16, 14, 13, 0.05]]) {
      const fg = 14;
      const fb = 16;
      const x = Array.from({ length: D }, () => quantize(scale * gauss(r) + 0.3 * scale, fx, 16));
      const g = Array.from({ length: D }, () => quantize(1 + 0.1 * gauss(r), fg, 16));
      const b = Array.from({ length: D }, () => quantize(0.05 * gauss(r), fb, 32));
      const k = layerNormConsts(D, 1e-6, fx, fg, fb, fo, 16);
      const y = new Float64Array(D);
      layerNormRow(x, 0, g, b, k, y, 0);
      const xs = x.map((v) => v / 2 ** fx);
      const mean = xs.reduce((a, c) => a + c, 0) / D;
      const v = xs.reduce((a, c) => a + (c - mean) ** 2, 0) / D;
      let worst = 0;
      for (let i = 0; i < D; i++) {
        const want = ((xs[i] - mean) / Math.sqrt(v + 1e-6)) * (g[i] / 2 ** fg) + b[i] / 2 ** fb;
        worst = Math.max(worst, Math.abs(y[i] / 2 ** fo - want));
      }
      figure(`layerNormRow D=${D} fx=${fx} fo=${fo}: max error ${worst.toExponential(3)} (${(worst * 2 ** fo).toFixed(3)} LSB)`);
      // output rounding 1/2 LSB; n carries 16 fraction bits (|n| <= sqrt(D)) times |gamma| < 2
      expect(worst).toBeLessThanOrEqual(2 ** -(fo + 1) + 2 * 2 ** -16 + 1e-5);
    }
  });

  it('hand-derived: [1, 3] -> [-1, 1] (mean 2, variance 1), gamma 1, beta 0', () => {
    const k = layerNormConsts(2, 0, 0, 0, 0, 4, 16);
    const y = [0, 0];
    layerNormRow([1, 3], 0, [1, 1], [0, 0], k, y, 0);
    expect(y).toEqual([-16, 16]);
  });
});

describe('attnScore and attentionRow', () => {
  it('attnScore scales q.k by head_dim^-0.5 (hand-derived: 64 -> 1/8)', () => {
    expect(attnScaleQ(64)).toBe(4096); // 2^15 / 8
    // q.k = 3.0 with 2*8 fraction bits = 196608; * 1/8 = 0.375 with 10 fraction bits = 384
    expect(attnScore(196608, attnScaleQ(64), 16, 10, 16)).toBe(384);
  });

  // p has pf = 14 fraction bits (16-bit words): each p_j is off by at most 2^-15, so the
  // output by at most sum_j 2^-15 |v_j - out| / l <= n 2^-14 max|V| / l, l >= 1; observed
  // errors are far below that and are reported.
  it.each([1, 8, 32, 1000])('matches float softmax(s) . V within 2 LSB of V plus 2e-4 of max |V| (key tiles of %i)', (kt) => {
    const r = lcg(12);
    for (const [n, hd, fs, fv, spread] of [[129, 64, 10, 12, 4], [17, 8, 12, 8, 12], [2, 4, 8, 10, 0.1]]) {
      const scores = Array.from({ length: n }, () => quantize(spread * gauss(r), fs, 16));
      const v = Array.from({ length: n * hd }, () => quantize(2 * gauss(r), fv, 16));
      const out = new Float64Array(hd);
      attentionRow(scores, n, fs, v, hd, 0, hd, kt, new Float64Array(hd), out, 0, 16);
      const s = scores.map((q) => q / 2 ** fs);
      const m = Math.max(...s);
      const p = s.map((x) => Math.exp(x - m));
      const l = p.reduce((a, c) => a + c, 0);
      let worst = 0;
      let vmax = 0;
      for (let d = 0; d < hd; d++) {
        let want = 0;
        for (let j = 0; j < n; j++) {
          want += (p[j] / l) * (v[j * hd + d] / 2 ** fv);
          vmax = Math.max(vmax, Math.abs(v[j * hd + d] / 2 ** fv));
        }
        worst = Math.max(worst, Math.abs(out[d] / 2 ** fv - want));
      }
      figure(`attentionRow n=${n} hd=${hd} key tiles of ${kt}: max error ${worst.toExponential(3)} (${(worst * 2 ** fv).toFixed(2)} LSB of V)`);
      expect(worst).toBeLessThanOrEqual(2 * 2 ** -fv + 2e-4 * vmax);
    }
  });

  it('hand-derived: equal scores average the values; one dominant score picks its row', () => {
    for (const kt of [1, 2]) {
      const out = [0, 0];
      // p = 2^14 for both keys, in PROB_FRAC units 2^16 each: l = 2^17, o = 2^16 (10 + 30, 20 + 40).
      attentionRow([5, 5], 2, 0, [10, 20, 30, 40], 2, 0, 2, kt, new Float64Array(2), out, 0, 16);
      expect(out).toEqual([20, 30]);
      // exp(-100) underflows: key 0 drops out (p = 0, or a = 0 for its tile).
      attentionRow([0, 100], 2, 0, [10, 20, 30, 40], 2, 0, 2, kt, new Float64Array(2), out, 0, 16);
      expect(out).toEqual([30, 40]);
    }
  });

  it('hand-derived tiles: a later tile with a far larger maximum rescales the earlier one to 0; a lower one adds nothing', () => {
    const v = [10, 20, 30, 40, 50, 60, 70, 80]; // rows of keys 0..3
    const out = [0, 0];
    // Tile 0 = keys 0, 1 at score 0; tile 1 = keys 2, 3 at 50: a = exp(-50) = 0 clears tile 0.
    attentionRow([0, 0, 50, 50], 4, 0, v, 2, 0, 2, 2, new Float64Array(2), out, 0, 16);
    expect(out).toEqual([60, 70]);
    // The reverse: tile 1's p = exp(-50) = 0, a = exp(0) = 1 keeps tile 0 exactly.
    attentionRow([50, 50, 0, 0], 4, 0, v, 2, 0, 2, 2, new Float64Array(2), out, 0, 16);
    expect(out).toEqual([20, 30]);
    // A partial last tile (4 keys in tiles of 3): keys 0..2 at 0, key 3 at 50.
    attentionRow([0, 0, 0, 50], 4, 0, v, 2, 0, 2, 3, new Float64Array(2), out, 0, 16);
    expect(out).toEqual([70, 80]);
  });

  it('full-scale V under many rescales stays in the word: rounding overshoot < 1/2 LSB, no saturation', () => {
    // Rising scores rescale o and l at every key; with every value at the word's limit the
    // separate roundings push o / l above the limit by at most ~1/4 LSB (see attentionRow).
    const r = lcg(7);
    for (const limit of [32767, -32768]) {
      for (let t = 0; t < 200; t++) {
        const n = 2 + Math.floor(r() * 60);
        const fs = Math.floor(r() * 14);
        const scores: number[] = [];
        let s = -30000;
        for (let j = 0; j < n; j++) scores.push((s = Math.min(32767, s + 1 + Math.floor(r() * 2 ** Math.floor(r() * 12)))));
        const v = new Array<number>(n).fill(limit);
        const out = [0];
        const c = new SatCounter();
        attentionRow(scores, n, fs, v, 1, 0, 1, 1 + (t % 5), new Float64Array(1), out, 0, 16, c);
        expect(out[0]).toBe(limit);
        expect(c.count).toBe(0);
      }
    }
  });
});

describe('gateTopK', () => {
  it('keeps the k largest logits, ties broken by the lower expert index', () => {
    // experts 1, 2 and 4 tie at the maximum: 1 then 2 are kept
    expect(gateTopK([0, 7, 7, 3, 7], 5, 2, 0).experts).toEqual([1, 2]);
    expect(gateTopK([4, 4, 4, 4], 4, 3, 0).experts).toEqual([0, 1, 2]);
    expect(gateTopK([1, 2, 3, 4], 4, 2, 0).experts).toEqual([3, 2]);
  });

  it('weights are the full-softmax probabilities (not renormalised over the k), within 2^-15', () => {
    const r = lcg(13);
    let worst = 0;
    for (let t = 0; t < 200; t++) {
      const E = 16;
      const fz = 12;
      const z = Array.from({ length: E }, () => quantize(gauss(r), fz, 16));
      const c = gateTopK(z, E, 2, fz);
      const zs = z.map((q) => q / 2 ** fz);
      const m = Math.max(...zs);
      const p = zs.map((x) => Math.exp(x - m));
      const s = p.reduce((a, b) => a + b, 0);
      c.experts.forEach((e, i) => {
        worst = Math.max(worst, Math.abs(c.weights[i] / PROB_ONE - p[e] / s));
      });
      // the kept weights sum to less than 1 (they are not renormalised)
      expect(c.weights[0] + c.weights[1]).toBeLessThan(PROB_ONE);
    }
    figure(`gateTopK: max weight error ${worst.toExponential(3)}`);
    expect(worst).toBeLessThanOrEqual(2 ** -15);
  });

  it('hand-derived: two equal logits out of two get 1/2 each', () => {
    expect(gateTopK([3, 3], 2, 2, 0).weights).toEqual([32768, 32768]);
  });
});

describe('addAligned, combineTerm, upsampleTap, linearOut', () => {
  it('addAligned: 0.75 (fx 2) + 0.3125 (fy 4) = 1.0625 -> 3 fraction bits: 8.5 -> 9 (half up)', () => {
    expect(addAligned(3, 2, 5, 4, 3, 16)).toBe(9);
    expect(addAligned(-3, 2, -5, 4, 3, 16)).toBe(-8); // -8.5 -> -8
  });

  it('combineTerm: gate 0.5 (32768) x 100 (fy 8) into fm 8 = 50; into fm 9 = 100', () => {
    expect(combineTerm(32768, 100, 8, 8)).toBe(50);
    expect(combineTerm(32768, 100, 8, 9)).toBe(100);
    expect(combineTerm(32768, 101, 8, 8)).toBe(51); // 50.5 -> 51
  });

  it('upsampleTap weighs 9, 3, 3, 1 (/16) and rounds half up; neighbours clamp at the border', () => {
    expect(upsampleTap(16, 0, 0, 0)).toBe(9);
    expect(upsampleTap(1, 0, 0, 0)).toBe(1); // 0.5625 -> 1
    expect(upsampleTap(0, 0, 0, 8)).toBe(1); // 0.5 -> 1
    expect(upsampleTap(5, 5, 5, 5)).toBe(5);
    expect([upsampleNeighbour(0, false, 4), upsampleNeighbour(0, true, 4), upsampleNeighbour(3, true, 4), upsampleNeighbour(2, false, 4)]).toEqual([0, 1, 3, 1]);
  });

  it('linearOut aligns the bias, applies ReLU before rounding, requantizes', () => {
    expect(alignBias(3, 2, 5)).toBe(24);
    expect(() => alignBias(3, 6, 5)).toThrow(RangeError);
    // acc 100 (fAcc 4) + bias 1 (fb 2 -> 4 in acc units) = 104 / 2^4 = 6.5 -> fo 0: 7
    expect(linearOut(100, 1, 2, 4, 0, 16, false)).toBe(7);
    expect(linearOut(-100, 1, 2, 4, 0, 16, false)).toBe(-6); // -96/16 = -6
    expect(linearOut(-1e9, 0, 4, 4, 0, 16, true)).toBe(0); // no saturation counted for ReLU'd negatives
  });
});
