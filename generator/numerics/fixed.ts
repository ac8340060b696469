/**
 * Integer primitives: the one numeric truth (DESIGN.md invariant 1). Every value in the
 * integer datapath is a signed integer q standing for q * 2^-frac. The generated C++ has a
 * line-for-line twin of each function here (templates/.../numerics.h) and the tests check
 * both against the same cases.
 *
 * JavaScript numbers are doubles: integer arithmetic is exact while magnitudes stay below
 * 2^53. Every function states the range it is exact for; callers keep within it (the
 * formats are chosen so that they do, and mulShiftRound covers the one place that cannot).
 */

/** 2^n for every integer n a double can hold exactly (-1074 .. 1023), by lookup: `2 ** n`
 * with a variable exponent is a Math.pow call in V8, and rshiftRound/sat call this per value. */
const POW2_MIN = -1074;
const POW2 = (() => {
  const t = new Float64Array(1023 - POW2_MIN + 1);
  for (let n = POW2_MIN; n <= 1023; n++) t[n - POW2_MIN] = 2 ** n;
  return t;
})();

/** 2^n as an exact double, for integer -1074 <= n <= 1023. */
export function pow2(n: number): number {
  const v = POW2[n - POW2_MIN]; // a typed array gives undefined for a fractional or out-of-range index
  return v !== undefined ? v : 2 ** n;
}

/** Largest and smallest value of a signed `bits`-bit word. */
export function maxOf(bits: number): number {
  return pow2(bits - 1) - 1;
}
export function minOf(bits: number): number {
  return -pow2(bits - 1);
}

/**
 * Rounding right shift: floor((x + 2^(s-1)) / 2^s) for s > 0 (round half up, i.e. toward
 * +infinity on ties), x for s = 0, and an exact left shift x * 2^-s for s < 0.
 * C++: (x + (1 << (s - 1))) >> s on int64 (arithmetic shift). Exact for |x| + 2^(s-1) < 2^53.
 */
export function rshiftRound(x: number, s: number): number {
  if (s > 0) return Math.floor((x + pow2(s - 1)) / pow2(s));
  if (s === 0) return x;
  return x * pow2(-s);
}

/** Counts saturations per layer; the reference reports them, never silently clips. */
export class SatCounter {
  count = 0;
}

/** Clamp to a signed `bits`-bit word, counting each clamp. */
export function sat(x: number, bits: number, counter?: SatCounter): number {
  const hi = pow2(bits - 1) - 1;
  const lo = -pow2(bits - 1);
  if (x > hi) {
    if (counter) counter.count++;
    return hi;
  }
  if (x < lo) {
    if (counter) counter.count++;
    return lo;
  }
  return x;
}

/** Requantize an accumulator with `fromFrac` fraction bits to a `bits`-bit word with `toFrac`. */
export function requant(acc: number, fromFrac: number, toFrac: number, bits: number, counter?: SatCounter): number {
  return sat(rshiftRound(acc, fromFrac - toFrac), bits, counter);
}

const TWO24 = pow2(24);

/**
 * rshiftRound(a * b, s) for s >= 0, exact whenever |a * b| < 2^63, the smaller operand is
 * below 2^29 and the result is below 2^53 (the C++ computes the product in int64). Below 2^53 the double product is exact;
 * above, the larger operand is split as a = ah * 2^24 + al (0 <= al < 2^24) and the shift
 * is applied to the two partial products so that no intermediate leaves the exact range.
 */
export function mulShiftRound(a: number, b: number, s: number): number {
  if (Math.abs(b) > Math.abs(a)) [a, b] = [b, a]; // split the larger operand: al * b then stays exact
  const p = a * b;
  if (Math.abs(p) < 9007199254740992) return rshiftRound(p, s);
  if (Math.abs(b) >= 536870912) throw new RangeError(`mulShiftRound: ${a} * ${b} is outside the exact range`);
  const ah = Math.floor(a / TWO24);
  const al = a - ah * TWO24; // 0 <= al < 2^24
  const half = s > 0 ? pow2(s - 1) : 0;
  if (s <= 24) {
    // 2^24 * ah * b is a multiple of 2^s: it shifts exactly, only the low part rounds.
    return ah * b * pow2(24 - s) + Math.floor((al * b + half) / pow2(s));
  }
  // a*b + 2^(s-1) = 2^24 * (ah*b) + (al*b + 2^(s-1)); write the second term as 2^24*q + r,
  // then floor((2^24 * (ah*b + q) + r) / 2^s) = floor((ah*b + q) / 2^(s-24)) as 0 <= r < 2^24.
  const q = Math.floor((al * b + half) / TWO24);
  return Math.floor((ah * b + q) / pow2(s - 24));
}

/** floor(a / b) for b > 0, exact for |a| < 2^53 (the double quotient cannot cross an integer). */
export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** Round-half-up division: floor((2a + b) / 2b) for b > 0; exact for |2a| + b < 2^53. */
export function divRound(a: number, b: number): number {
  return Math.floor((2 * a + b) / (2 * b));
}

/** floor(sqrt(v)) for 0 <= v < 2^53, exactly (double sqrt, then an integer correction). */
export function isqrt(v: number): number {
  if (v < 0) throw new RangeError(`isqrt of negative ${v}`);
  let r = Math.floor(Math.sqrt(v));
  while (r * r > v) r--;
  while ((r + 1) * (r + 1) <= v) r++;
  return r;
}

/** Number of bits needed for a non-negative integer (0 -> 0). */
export function bitLength(v: number): number {
  let n = 0;
  while (v >= 1) {
    v = Math.floor(v / 2);
    n++;
  }
  return n;
}

/**
 * Real -> fixed point: floor(x * 2^frac + 0.5), saturated. The host (PYNQ driver) and the
 * quantizer use this; the kernels never see floats.
 */
export function quantize(x: number, frac: number, bits: number, counter?: SatCounter): number {
  return sat(Math.floor(x * pow2(frac) + 0.5), bits, counter);
}

export function dequantize(q: number, frac: number): number {
  return q * pow2(-frac);
}

/** Bounds for chosen binary points: keeps every shift well inside int64 in the C++. */
export const FRAC_MIN = -16;
export const FRAC_MAX = 30;

/**
 * The most fraction bits a `bits`-bit word can have while holding maxAbs * 2^headroomBits.
 * maxAbs = 0 (an all-zero tensor) gets FRAC_MAX.
 */
export function chooseFrac(maxAbs: number, bits: number, headroomBits = 0): number {
  if (!(maxAbs > 0)) return FRAC_MAX;
  const limit = maxOf(bits);
  const target = maxAbs * pow2(headroomBits);
  let frac = Math.floor(Math.log2(limit / target));
  // log2 of a ratio is not exact: step to the largest frac that really fits.
  while (Math.floor(target * pow2(frac) + 0.5) > limit) frac--;
  while (Math.floor(target * pow2(frac + 1) + 0.5) <= limit) frac++;
  return Math.min(FRAC_MAX, Math.max(FRAC_MIN, frac));
}
