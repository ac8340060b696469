/**
 * The integer primitives of generator/numerics/fixed.ts against hand-derived cases and an
 * independent BigInt computation (exact integers of any size, no shared code).
 */
import {
  bitLength, chooseFrac, dequantize, divRound, floorDiv, FRAC_MAX, FRAC_MIN, isqrt, maxOf, minOf, mulShiftRound, quantize,
  requant, rshiftRound, sat, SatCounter,
} from '../generator/numerics/fixed';

/** floor division for BigInt (BigInt's / truncates toward zero). */
function bigFloorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}
/** Round half up of a / 2^s, s >= 0, in BigInt: floor((a + 2^(s-1)) / 2^s). */
function bigShiftRound(a: bigint, s: number): bigint {
  if (s === 0) return a;
  return bigFloorDiv(a + (1n << BigInt(s - 1)), 1n << BigInt(s));
}

/** A small deterministic generator for test operands (no shared code with generator/). */
function lcg(seed: number): () => number {
  let x = BigInt(seed);
  return () => {
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    return Number(x >> 11n) / 2 ** 53;
  };
}

describe('rshiftRound', () => {
  it('rounds half up (toward +infinity on ties), hand-derived', () => {
    // 5/2 = 2.5 -> 3; -5/2 = -2.5 -> -2; 7/4 = 1.75 -> 2; -7/4 = -1.75 -> -2; 6/4 = 1.5 -> 2; -6/4 = -1.5 -> -1
    expect([rshiftRound(5, 1), rshiftRound(-5, 1), rshiftRound(7, 2), rshiftRound(-7, 2), rshiftRound(6, 2), rshiftRound(-6, 2)]).toEqual([3, -2, 2, -2, 2, -1]);
    expect(rshiftRound(1, 1)).toBe(1); // 0.5 -> 1
    expect(rshiftRound(-1, 1)).toBe(0); // -0.5 -> 0
    expect(rshiftRound(123, 0)).toBe(123);
    expect(rshiftRound(-3, -4)).toBe(-48); // negative shift is an exact left shift
  });

  it('equals BigInt floor((x + 2^(s-1)) / 2^s) over random 52-bit operands', () => {
    const r = lcg(1);
    for (let i = 0; i < 20000; i++) {
      const s = Math.floor(r() * 40);
      const x = Math.floor((r() * 2 - 1) * 2 ** 51);
      expect(rshiftRound(x, s) + 0).toBe(Number(bigShiftRound(BigInt(x), s)));
    }
  });
});

describe('sat and requant', () => {
  it('clamps to the signed word and counts every clamp', () => {
    const c = new SatCounter();
    expect([sat(32767, 16, c), sat(32768, 16, c), sat(-32768, 16, c), sat(-32769, 16, c), sat(1e12, 16, c)]).toEqual([32767, 32767, -32768, -32768, 32767]);
    expect(c.count).toBe(3);
    expect([maxOf(8), minOf(8)]).toEqual([127, -128]);
  });

  it('requant shifts from one binary point to another with rounding, then saturates', () => {
    // 1.375 with 8 fraction bits = 352 -> 2 fraction bits: 1.375*4 = 5.5 -> 6
    expect(requant(352, 8, 2, 16)).toBe(6);
    // to more fraction bits: exact
    expect(requant(3, 0, 4, 16)).toBe(48);
    const c = new SatCounter();
    expect(requant(2 ** 20, 0, 0, 16, c)).toBe(32767);
    expect(c.count).toBe(1);
  });
});

describe('mulShiftRound', () => {
  it('equals the BigInt product shifted, including products beyond 2^53', () => {
    const r = lcg(2);
    let beyond = 0;
    for (let i = 0; i < 20000; i++) {
      const a = Math.floor((r() * 2 - 1) * 2 ** (20 + r() * 30)); // up to ~2^50
      const b = Math.floor((r() * 2 - 1) * 2 ** (r() * 28)); // below 2^28
      const s = Math.floor(r() * 48);
      const exact = bigShiftRound(BigInt(a) * BigInt(b), s);
      if (Math.abs(Number(exact)) >= 2 ** 53) continue; // outside the documented range (result < 2^53)
      if (Math.abs(a * b) >= 2 ** 53) beyond++;
      // + 0 turns -0 (a zero product of a negative operand) into 0: the same integer
      expect(mulShiftRound(a, b, s) + 0).toBe(Number(exact));
      expect(mulShiftRound(b, a, s) + 0).toBe(Number(exact)); // operand order does not matter
    }
    expect(beyond).toBeGreaterThan(1000); // the split path was really exercised
  });

  it('hand-derived: (3 * 5) / 4 = 3.75 -> 4; (-3 * 5) / 4 = -3.75 -> -4; 2^40 * 2^20 / 2^30 = 2^30', () => {
    expect(mulShiftRound(3, 5, 2)).toBe(4);
    expect(mulShiftRound(-3, 5, 2)).toBe(-4);
    expect(mulShiftRound(2 ** 40, 2 ** 20, 30)).toBe(2 ** 30);
    expect(mulShiftRound(2 ** 40 + 1, 2 ** 20 + 1, 30)).toBe(Number(bigShiftRound((2n ** 40n + 1n) * (2n ** 20n + 1n), 30)));
  });

  it('refuses operands whose product it cannot keep exact', () => {
    expect(() => mulShiftRound(2 ** 40, 2 ** 30, 10)).toThrow(RangeError);
  });
});

describe('divRound, floorDiv', () => {
  it('hand-derived', () => {
    expect([divRound(7, 2), divRound(-7, 2), divRound(5, 3), divRound(4, 3), divRound(-5, 3)]).toEqual([4, -3, 2, 1, -2]);
    expect([floorDiv(7, 2), floorDiv(-7, 2), floorDiv(6, 3)]).toEqual([3, -4, 2]);
  });

  it('equal BigInt floor((2a + b) / 2b) and floor(a / b) over random operands below 2^50', () => {
    const r = lcg(3);
    for (let i = 0; i < 4000; i++) {
      const a = Math.floor((r() * 2 - 1) * 2 ** 50);
      const b = 1 + Math.floor(r() * 2 ** (r() * 40));
      expect(divRound(a, b) + 0).toBe(Number(bigFloorDiv(2n * BigInt(a) + BigInt(b), 2n * BigInt(b))));
      expect(floorDiv(a, b) + 0).toBe(Number(bigFloorDiv(BigInt(a), BigInt(b))));
    }
  });
});

describe('isqrt', () => {
  it('is floor(sqrt(v)) exactly, at perfect squares and their neighbours up to 2^52', () => {
    for (const r of [0, 1, 2, 3, 1000, 46340, 65535, 2 ** 20 + 7, 67108863, 67108864 - 1]) {
      const v = r * r;
      expect(isqrt(v)).toBe(r);
      if (v > 0) expect(isqrt(v - 1)).toBe(r - 1);
      expect(isqrt(v + 2 * r)).toBe(r); // (r+1)^2 - 1
    }
    const rr = lcg(4);
    for (let i = 0; i < 5000; i++) {
      const v = Math.floor(rr() * 2 ** 52);
      const s = isqrt(v);
      expect(BigInt(s) * BigInt(s) <= BigInt(v) && BigInt(s + 1) * BigInt(s + 1) > BigInt(v)).toBe(true);
    }
    expect(() => isqrt(-1)).toThrow(RangeError);
  });
});

describe('quantize, chooseFrac, bitLength', () => {
  it('quantize rounds half up and saturates with a count', () => {
    const c = new SatCounter();
    expect([quantize(0.5, 0, 16), quantize(-0.5, 0, 16), quantize(1.25, 1, 16), quantize(-1.25, 1, 16), quantize(0.1, 10, 16)]).toEqual([1, 0, 3, -2, 102]);
    expect(quantize(100, 10, 16, c)).toBe(32767);
    expect(c.count).toBe(1);
    expect(dequantize(102, 10)).toBeCloseTo(0.099609375, 12);
  });

  it('chooseFrac picks the most fraction bits that still hold maxAbs * 2^headroom', () => {
    // 1.0 in 16 bits: 2^14 = 16384 fits, 2^15 = 32768 does not -> 14
    expect(chooseFrac(1, 16)).toBe(14);
    expect(chooseFrac(1, 16, 1)).toBe(13);
    // 0.02: 0.02 * 2^20 = 20971.5 -> 20972 <= 32767; 2^21 -> 41943 > 32767
    expect(chooseFrac(0.02, 16)).toBe(20);
    // the boundary: 32767 / 2^10 fits exactly at frac 10
    expect(chooseFrac(32767 / 1024, 16)).toBe(10);
    expect(chooseFrac(0, 16)).toBe(FRAC_MAX);
    expect(chooseFrac(1e30, 16)).toBe(FRAC_MIN);
    // property: the chosen frac holds the value, one more does not (within the clamp range)
    const r = lcg(5);
    for (let i = 0; i < 2000; i++) {
      const m = 2 ** (r() * 30 - 12);
      const bits = 8 + Math.floor(r() * 9);
      const f = chooseFrac(m, bits);
      expect(Math.floor(m * 2 ** f + 0.5)).toBeLessThanOrEqual(maxOf(bits));
      if (f < FRAC_MAX) expect(Math.floor(m * 2 ** (f + 1) + 0.5)).toBeGreaterThan(maxOf(bits));
    }
  });

  it('bitLength', () => {
    expect([0, 1, 2, 3, 255, 256, 2 ** 40].map(bitLength)).toEqual([0, 1, 2, 2, 8, 9, 41]);
  });
});
