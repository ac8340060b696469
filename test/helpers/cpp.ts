/**
 * Compiling and running small C++ programs from tests (g++ by default, clang++ where a test
 * asks), and finding AMD's vendored C-simulation headers for the tests that compare with them.
 */
import { execFileSync, spawnSync } from 'child_process';
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

/** Compiles `sources` into `exe` with `cxx`; throws with the compiler output on failure. */
export function compile(sources: string[], exe: string, flags: string[], cxx: string = CXX): void {
  try {
    execFileSync(cxx, [...flags, ...sources, '-o', exe], { stdio: 'pipe', maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`${cxx} failed:\n${err.stderr?.toString() ?? ''}${err.stdout?.toString() ?? ''}`);
  }
}

/** Compiles `sources` expecting failure; returns the compiler's diagnostics (throws if it compiled). */
export function compileFails(sources: string[], flags: string[], cxx: string = CXX): string {
  const r = spawnSync(cxx, [...flags, '-fsyntax-only', ...sources], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status === 0) throw new Error(`${cxx} compiled ${sources.join(' ')}, expected an error`);
  return `${r.stderr}${r.stdout}`;
}

/** Runs a compiled program; its exit status and output (never throws on a non-zero exit). */
export function runExe(exe: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(exe, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The C++ compilers the differential tests use: g++ and clang++ (CI installs both). */
export function haveCompiler(cxx: string): boolean {
  return spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Repository root (this file is test/helpers/cpp.ts). */
const ROOT = path.resolve(__dirname, '..', '..');
/** The shim folder (copied into every generated project's src/shim/). */
export const SHIM_DIR = path.join(ROOT, 'testbench', 'shim');

/**
 * AMD's C-simulation headers (ap_int.h, hls_stream.h, Apache-2.0), vendored next to the repo at
 * ../shared/vendor/xilinx-ap-types/include: test-time only, never copied into the project.
 * Absent: undefined, with a message that the comparison is skipped; in CI
 * (M3VIT_REQUIRE_VENDOR_HEADERS=1) absence is an error instead.
 */
export function vendorInclude(): string | undefined {
  const dir = path.resolve(ROOT, '..', 'shared', 'vendor', 'xilinx-ap-types', 'include');
  if (fs.existsSync(path.join(dir, 'ap_int.h')) && fs.existsSync(path.join(dir, 'hls_stream.h'))) return dir;
  const why = `the vendored Vitis C-simulation headers are not at ${dir} (ap_int.h, hls_stream.h)`;
  if (process.env.M3VIT_REQUIRE_VENDOR_HEADERS === '1') throw new Error(`${why}; M3VIT_REQUIRE_VENDOR_HEADERS=1 requires them`);
  console.log(`skipping the comparisons with the real headers: ${why}`);
  return undefined;
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
