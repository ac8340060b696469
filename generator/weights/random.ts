/**
 * Seeded random weights and input images, identical on every machine and JavaScript engine.
 *
 * Why our own generator and our own logarithm: Math.random cannot be seeded, and
 * ECMAScript does not require Math.log/Math.cos to be correctly rounded, so a Box-Muller
 * normal could differ in the last bit between engines. Everything below uses only 32-bit
 * integer operations and the IEEE-754 basic operations (+ - * / sqrt), which are exact or
 * correctly rounded everywhere. docs/numerics.md ("Seeded random data") states the algorithm
 * so that another implementation (e.g. the Python side) can reproduce it.
 *
 *   stream(seed, name):  h = FNV-1a-32(UTF-8 bytes of name); the 128-bit xoshiro128** state
 *                        is four outputs of splitmix32 started at (seed XOR h * 0x9E3779B9)
 *   uniform53():         (a >>> 5) * 2^26 + (b >>> 6), over 2^53, from two 32-bit outputs
 *   normal():            Marsaglia's polar method with ln from logExact; each accepted
 *                        pair (u, v) gives u*f, then v*f
 *   truncated normal:    redraw while |z| > 2 (the "truncate at ±2 std")
 */
import type { RandomInit } from '../config/types';
import type { ModelDims, ModelIR, TensorIR } from '../ir/types';
import type { FloatTensor, WeightSet } from './types';

/** FNV-1a over the UTF-8 bytes of s, 32-bit. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** splitmix32 (golden-ratio increment, murmur3 finaliser): seeds the xoshiro state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * xoshiro128** (Blackman & Vigna): 32-bit outputs, period 2^128 - 1. The state lives in an
 * Int32Array: V8 keeps int32 values unboxed, where uint32 values above 2^31 would be heap
 * doubles (this generator fills ~22 M weights for m3vit-tiny, so that matters).
 */
export class Rng {
  private readonly s = new Int32Array(4);
  /** The polar method makes normals in pairs; the second waits here. */
  private spare: number | undefined;

  constructor(seed: number, name: string) {
    const st = { s: ((seed >>> 0) ^ Math.imul(fnv1a32(name), 0x9e3779b9)) >>> 0 };
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(st) | 0;
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** Next output as an unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const x = Math.imul(s[1], 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9);
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 11) | (s[3] >>> 21);
    return result >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal (Marsaglia polar method: u * f first, then v * f). */
  normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * logExact(s)) / s);
        this.spare = v * f;
        return u * f;
      }
    }
  }

  /** Normal with standard deviation 1, redrawn while |z| > limit. */
  truncatedNormal(limit: number): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= limit) return z;
    }
  }
}

const LN2 = 0.6931471805599453;

/**
 * Natural logarithm from basic operations only (reproducible bit for bit): x = m * 2^e with
 * m in [sqrt(1/2), sqrt(2)) by exact scaling, then ln m = 2 atanh((m-1)/(m+1)) by its series.
 * Accurate to a few ulp, which is all a normal generator needs.
 */
export function logExact(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`logExact(${x})`);
  let e = 0;
  let m = x;
  while (m >= Math.SQRT2) {
    m /= 2;
    e++;
  }
  while (m < Math.SQRT1_2) {
    m *= 2;
    e--;
  }
  const t = (m - 1) / (m + 1); // |t| < 0.172
  const t2 = t * t;
  let term = t;
  let sum = t;
  for (let k = 3; k < 60; k += 2) {
    term *= t2;
    const add = term / k;
    sum += add;
    if (Math.abs(add) < 1e-18) break;
  }
  return 2 * sum + e * LN2;
}

/** Standard deviation of M³ViT's weight initialisation (timm trunc_normal_(std=.02)). */
export const INIT_STD = 0.02;
/** Truncation of the normal, in standard deviations. */
export const INIT_TRUNCATE = 2;

function fill(shape: number[], f: () => number): FloatTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.fround(f());
  return { shape: [...shape], data };
}

/** One tensor's initial values: a stream of its own, so adding a tensor changes no other. */
export function randomTensor(t: TensorIR, seed: number, init: RandomInit): FloatTensor {
  const rng = new Rng(seed, t.name);
  const tn = (std: number) => () => std * rng.truncatedNormal(INIT_TRUNCATE);
  const exercise = init === 'exercise';
  switch (t.role) {
    case 'norm_weight':
      return exercise ? fill(t.shape, () => 1 + 0.1 * rng.normal()) : fill(t.shape, () => 1);
    case 'norm_bias':
      return exercise ? fill(t.shape, () => 0.05 * rng.normal()) : fill(t.shape, () => 0);
    case 'bias':
      return exercise ? fill(t.shape, tn(INIT_STD)) : fill(t.shape, () => 0);
    default:
      return fill(t.shape, tn(INIT_STD));
  }
}

/** Every tensor of the model, seeded per (seed, tensor name). */
export function randomWeights(ir: ModelIR, seed: number, init: RandomInit): WeightSet {
  const ws: WeightSet = new Map();
  for (const t of ir.tensors) ws.set(t.name, randomTensor(t, seed, init));
  return ws;
}

/**
 * A normalised input image [C, H, W]: N(0, 1) clipped to ±2.5, float32 values. `index`
 * numbers the images of one seed (calibration uses 0..n-1, golden vectors use n).
 */
export function randomImage(dims: Pick<ModelDims, 'inChannels' | 'imageH' | 'imageW'>, seed: number, index: number): FloatTensor {
  const rng = new Rng(seed, `image:${index}`);
  return fill([dims.inChannels, dims.imageH, dims.imageW], () => Math.max(-2.5, Math.min(2.5, rng.normal())));
}
