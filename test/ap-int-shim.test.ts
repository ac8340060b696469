/**
 * The ap_int shim (testbench/shim/ap_int_shim.h) against AMD's real C-simulation headers: one
 * program of many operations (edge and seeded random values over widths 1..128, signed and
 * unsigned, mixed with C integer types; shifts by constants and variables, slices, conversions,
 * compound assignment; see test/cpp/ap_diff.h) is compiled with the shim under g++ and clang++
 * (clang++ under UBSan + ASan) and with the real headers under clang++, and the outputs must
 * agree line by line. The real headers are the oracle; the shim never sees their output. Then
 * every compile-time refusal of the shim is shown to refuse, with its message, and the run-time
 * checks to abort.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compile, compileFails, haveCompiler, rng, runExe, SHIM_DIR, tempDir, vendorInclude } from './helpers/cpp';
import { figure } from './helpers/figures';

const R = rng(20261201);
const FLAGS = ['-std=c++14', '-O0', '-Wall', '-Wextra', '-Werror', `-I${SHIM_DIR}`, `-I${path.join(__dirname, 'cpp')}`];
const COMPILERS = ['g++', 'clang++'].filter(haveCompiler);
const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'];

interface Ty {
  name: string;
  w: number;
  s: boolean;
  ap: boolean;
}
const ap = (w: number, s: boolean): Ty => ({ name: `${s ? 'ap_int' : 'ap_uint'}<${w}>`, w, s, ap: true });
const NATIVE: Ty[] = [
  { name: 'bool', w: 1, s: false, ap: false },
  { name: 'signed char', w: 8, s: true, ap: false },
  { name: 'unsigned char', w: 8, s: false, ap: false },
  { name: 'short', w: 16, s: true, ap: false },
  { name: 'unsigned short', w: 16, s: false, ap: false },
  { name: 'int', w: 32, s: true, ap: false },
  { name: 'unsigned', w: 32, s: false, ap: false },
  { name: 'long', w: 64, s: true, ap: false },
  { name: 'unsigned long', w: 64, s: false, ap: false },
  { name: 'long long', w: 64, s: true, ap: false },
  { name: 'unsigned long long', w: 64, s: false, ap: false },
];

/** A random w-bit pattern: edges, full-width noise, or a small magnitude of either sign. */
function pattern(w: number, i: number): bigint {
  const mod = 1n << BigInt(w);
  const edges = [0n, 1n, mod - 1n, 1n << BigInt(w - 1), (1n << BigInt(w - 1)) - 1n, (1n << BigInt(w - 1)) + 1n];
  if (i < edges.length) return edges[i] % mod;
  const bits = i % 2 ? w : R.int(0, Math.min(w, 20));
  let v = 0n;
  for (let b = 0; b < bits; b += 16) v = (v << 16n) | BigInt(R.int(0, 0xffff));
  v %= 1n << BigInt(bits);
  if (R.next() < 0.5) v = (mod - v) % mod;
  return v;
}
const N = 12;
/** Every width near a native boundary and the kernels' widths, plus seeded random ones. */
const WIDTHS = [...new Set([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 63, 64, 65, 95, 96, 97, 127, 128, ...Array.from({ length: 14 }, () => R.int(1, 128))])].sort((a, b) => a - b);
const hex = (x: bigint): string => `0x${x.toString(16)}ull`;
function values(t: Ty, nonzero = false): string {
  const vs: string[] = [];
  for (let i = 0; i < N; i++) {
    let v = pattern(t.w, i);
    if (nonzero && v === 0n) v = 3n % (1n << BigInt(t.w)) || 1n;
    vs.push(`{${hex(v >> 64n)}, ${hex(v & ((1n << 64n) - 1n))}}`);
  }
  return `{${vs.join(', ')}}`;
}

/** The widths the shim computes exactly (it refuses the rest: see the tests below). */
const fitsPlus = (a: Ty, b: Ty): boolean => Math.max(a.w, b.w) + 2 <= 128;
const fitsMult = (a: Ty, b: Ty): boolean => a.w + b.w <= 128;
const fitsDiv = (a: Ty, b: Ty): boolean => a.s === b.s && Math.max(a.w, b.w) + 2 <= 128;

function program(): string {
  const body: string[] = [];
  let id = 0;
  const call = (fn: string, a: Ty, b: Ty | null, extra: string): void => {
    const tag = `${fn}<${a.name}${b ? `, ${b.name}` : ''}>`;
    const args = b ? `${a.name}, ${b.name}` : a.name;
    body.push(`  { static const V va[${N}] = ${values(a)}; ${extra} ${fn}<${args}>("${tag}", va, ${b ? 'vb' : 'k'}, ${N}); }`);
    id++;
  };
  const binary = (a: Ty, b: Ty): void => {
    const vb = `static const V vb[${N}] = ${values(b)};`;
    if (fitsPlus(a, b)) call('plus_logic', a, b, vb);
    if (fitsMult(a, b)) call('mult', a, b, vb);
    if (fitsDiv(a, b) && a.ap) call('divide', a, b, `static const V vb[${N}] = ${values(b, true)};`);
    if (a.ap) call('compound', a, b, vb);
  };
  for (const w of WIDTHS) {
    for (const s of [true, false]) {
      const ks = Array.from({ length: N }, () => R.int(-w - 3, w + 3));
      call('unary', ap(w, s), null, `static const int k[${N}] = {${ks.join(', ')}};`);
    }
  }
  // The pairs the kernels will use, the measured bugs, then random pairs and every C type.
  const fixed: Array<[Ty, Ty]> = [
    [ap(16, true), ap(16, true)],
    [ap(48, true), ap(48, true)],
    [ap(64, true), ap(64, true)],
    [ap(64, false), ap(64, true)],
    [ap(96, true), ap(16, true)],
    [ap(16, false), NATIVE[5]],
    [ap(63, true), ap(65, false)],
    [ap(1, false), ap(1, true)],
    [ap(127, false), ap(1, false)],
    [ap(126, true), ap(2, false)],
  ];
  for (const [a, b] of fixed) binary(a, b);
  for (let i = 0; i < 50; i++) {
    const big = i % 3 === 0;
    binary(ap(R.int(1, big ? 126 : 64), R.next() < 0.5), ap(R.int(1, big ? 126 : 64), R.next() < 0.5));
  }
  for (const n of NATIVE) {
    for (let i = 0; i < 3; i++) {
      const a = ap(R.pick([1, 7, 16, 31, 32, 33, 48, 63, 64, 65, 100, 125]), i !== 1);
      binary(a, n);
      binary(n, a);
    }
  }
  return `// Generated by test/ap-int-shim.test.ts (${id} cases).
#include "ap_diff.h"

// The differences measured before the shim was rewritten (issue 11, item 8).
static void measured() {
  g_case = "measured";
  g_line = 0;
  show("ap_int<16>(0x4000) << 2", ap_int<16>(0x4000) << 2);
  show("(ap_uint<16>(0) - 1) < 0", (ap_uint<16>(0) - 1) < 0);
  ap_int<96> big = 1;
  big <<= 90;
  show("ap_int<96> 1 << 90", big);
  ap_uint<128> word = 0;
  word.range(127, 112) = 0xbeef;
  show("ap_uint<128> high word", word);
  show("ap_int<48> * ap_int<48>", ap_int<48>(0x7fffffffffffll) * ap_int<48>(-0x7fffffffffffll));
  show("range(0, 15)", ap_uint<16>(ap_uint<16>(0x1234).range(0, 15)));
}

int main() {
  measured();
${body.join('\n')}
  return 0;
}
`;
}

function run(exe: string): string {
  const r = runExe(exe);
  if (r.status !== 0) throw new Error(`${exe} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The first lines where `got` differs from `want`, for the failure message. */
function firstDifferences(want: string[], got: string[], max = 15): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(want.length, got.length) && out.length < max; i++) {
    if (want[i] !== got[i]) out.push(`line ${i + 1}:\n  real: ${want[i] ?? '(none)'}\n  shim: ${got[i] ?? '(none)'}`);
  }
  return out;
}

describe('ap_int shim', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('apdiff');
    fs.writeFileSync(path.join(dir, 'main.cpp'), program());
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the same results as the real ap_int/ap_uint, line by line (g++ and clang++)', () => {
    const vendor = vendorInclude();
    if (!vendor) return;
    expect(COMPILERS).toEqual(['g++', 'clang++']);
    const src = path.join(dir, 'main.cpp');
    const t0 = Date.now();
    // The real headers: clang++ (g++ warns inside ap_private.h, see the vendor README).
    compile([src], path.join(dir, 'real'), ['-DM3VIT_DIFF_REAL', ...FLAGS, '-isystem', vendor], 'clang++');
    const want = run(path.join(dir, 'real')).split('\n');
    expect(want.length).toBeGreaterThan(50000);
    for (const cxx of COMPILERS) {
      const exe = path.join(dir, `shim-${cxx}`);
      // clang++ builds the shim under UBSan + ASan: its own arithmetic must be free of
      // undefined behaviour (shifts, signed overflow) on every case, not just agree.
      compile([src], exe, cxx === 'clang++' ? [...FLAGS, ...SANITIZE] : FLAGS, cxx);
      const got = run(exe).split('\n');
      const diff = firstDifferences(want, got);
      if (diff.length) throw new Error(`shim (${cxx}) differs from the real headers:\n${diff.join('\n')}`);
    }
    figure(`ap_int shim vs real headers: ${want.length} lines equal (g++, clang++), ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  /** Every static_assert of the shim, each with a snippet that must trip it (and only it). */
  const REFUSED: Array<{ what: string; code: string; message: RegExp }> = [
    { what: 'a width above 128', code: 'ap_int<129> x; (void)x;', message: /widths above 128 bits/ },
    { what: 'a width below 1', code: 'ap_uint<0> x; (void)x;', message: /the width must be at least 1/ },
    { what: 'a product wider than 128 bits', code: 'ap_int<100> a = 1; ap_int<40> b = 1; (void)(a * b);', message: /result of this operation is wider than 128 bits/ },
    { what: 'a sum wider than 128 bits', code: 'ap_uint<128> a = 1; (void)(a + 1);', message: /result of this operation is wider than 128 bits/ },
    { what: 'the negation of a 128-bit value', code: 'ap_int<128> a = 1; (void)(-a);', message: /result of this operation is wider than 128 bits/ },
    { what: 'a signed / unsigned division', code: 'ap_int<8> a = 1; ap_uint<8> b = 1; (void)(a / b);', message: /between signed and unsigned operands are not modelled/ },
    { what: 'an unsigned % int', code: 'ap_uint<8> a = 1; (void)(a % 3);', message: /between signed and unsigned operands are not modelled/ },
    { what: 'construction from floating point', code: 'ap_int<8> a(1.5); (void)a;', message: /construction from floating point/ },
    { what: 'a floating-point operand', code: 'ap_int<8> a = 1; (void)(a + 1.5);', message: /must be an ap_int, ap_uint, a range\(\) of one or a C integer type/ },
    { what: 'a floating-point compound operand', code: 'ap_int<8> a = 1; a += 1.5;', message: /must be an ap_int, ap_uint, a range\(\) of one or a C integer type/ },
    { what: 'a floating-point slice value', code: 'ap_uint<8> a = 0; a.range(3, 0) = 1.5;', message: /a range\(\) is assigned from/ },
    { what: 'a floating-point shift amount', code: 'ap_int<8> a = 1; (void)(a << 1.5);', message: /a shift amount must be/ },
    { what: 'an ap shift amount wider than 32 bits', code: 'ap_int<8> a = 1; ap_uint<40> k = 1; (void)(a << k);', message: /shift amount wider than 32 bits/ },
    { what: 'arithmetic of an ap_int slice with an ap value', code: 'ap_int<16> a = 1; ap_int<8> b = 1; (void)(a.range(7, 0) + b);', message: /range\(\) of an ap_int and an ap_int\/ap_uint/ },
    { what: 'an ap_int slice shifted by an ap value', code: 'ap_int<16> a = 1; ap_uint<4> k = 1; (void)(a.range(7, 0) << k);', message: /range\(\) of an ap_int shifted by/ },
  ];

  it.each(REFUSED)('refuses $what at compile time, with its message (g++ and clang++)', ({ code, message }) => {
    const src = path.join(dir, `refused-${REFUSED.findIndex((r) => r.code === code)}.cpp`);
    fs.writeFileSync(src, `#include "ap_int_shim.h"\nint main() {\n  ${code}\n  return 0;\n}\n`);
    for (const cxx of COMPILERS) {
      const out = compileFails([src], FLAGS, cxx);
      expect(out).toMatch(message);
    }
  });

  it('compiles the same snippets once the refused part is made explicit (the refusals are not accidents)', () => {
    const ok = [
      'ap_int<100> a = 1; ap_int<28> b = 1; (void)(a * b);',
      'ap_uint<127> a = 1; (void)(a + 1u);',
      'ap_int<8> a = 1; ap_int<8> b = 1; (void)(a / b);',
      'ap_uint<8> a = 1; (void)(a % 3u);',
      'ap_int<8> a((int)1.5); (void)a;',
      'ap_int<8> a = 1; ap_uint<32> k = 1; (void)(a << k);',
      'ap_int<16> a = 1; ap_int<8> b = 1; (void)(ap_uint<16>(a.range(7, 0)) + b);',
      'ap_uint<16> a = 1; ap_int<8> b = 1; (void)(a.range(7, 0) + b);',
    ];
    const src = path.join(dir, 'accepted.cpp');
    fs.writeFileSync(src, `#include "ap_int_shim.h"\nint main() {\n${ok.map((c) => `  { ${c} }`).join('\n')}\n  return 0;\n}\n`);
    for (const cxx of COMPILERS) compile([src], path.join(dir, `accepted-${cxx}`), FLAGS, cxx);
  });

  it.each([
    ['a range() index past the width', 'ap_uint<8> a = 0; volatile int hi = 8; (void)a.range(hi, 0).to_uint();', /range\(\) index 8 out of range for a 8-bit value/],
    ['a negative bit index', 'ap_uint<8> a = 0; volatile int i = -1; (void)(bool)a[i];', /bit index -1 out of range for a 8-bit value/],
    ['a shift amount beyond 32 bits', 'ap_int<8> a = 1; volatile long long k = 1ll << 40; (void)(a << k);', /shift amount out of range/],
  ])('aborts at run time on %s, naming it', (_what, code, message) => {
    const src = path.join(dir, `abort-${String(message).length}.cpp`);
    fs.writeFileSync(src, `#include "ap_int_shim.h"\nint main() {\n  ${code}\n  return 0;\n}\n`);
    const exe = `${src}.exe`;
    compile([src], exe, FLAGS);
    const r = runExe(exe);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message as RegExp);
  });
});
