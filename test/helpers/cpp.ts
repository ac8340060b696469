/** Compiling and running small C++ programs from tests (g++ only, no vendor headers). */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const CXX = process.env.CXX ?? 'g++';
/** The flags the generated Makefile uses for csim: warnings are errors. */
// Loop labels name loops in the HLS reports; C++ sees them as unused labels.
export const STRICT_FLAGS = ['-std=c++14', '-O2', '-Wall', '-Wextra', '-Werror', '-Wno-unused-label'];

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `m3vit-${prefix}-`));
}

/** Compiles `sources` into `exe`; throws with the compiler output on failure. */
export function compile(sources: string[], exe: string, flags: string[]): void {
  try {
    execFileSync(CXX, [...flags, ...sources, '-o', exe], { stdio: 'pipe', maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`${CXX} failed:\n${err.stderr?.toString() ?? ''}${err.stdout?.toString() ?? ''}`);
  }
}

/** Small deterministic PRNG (mulberry32) for reproducible random cases. */
export function rng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(xs: T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /** Uniform integer in [lo, hi], exact for spans up to 2^53. */
  const int = (lo: number, hi: number): number => {
    const span = hi - lo + 1;
    if (span <= 4294967296) return lo + Math.floor(next() * span);
    const hiPart = Math.floor(next() * Math.ceil(span / 4294967296));
    const v = hiPart * 4294967296 + Math.floor(next() * 4294967296);
    return lo + (v % span);
  };
  return { next, int, pick: <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)] };
}
