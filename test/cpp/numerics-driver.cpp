// Test driver for the generated numerics.h (test/cpp-numerics.test.ts): reads one case per
// line, "<function> <args...>", and prints the C++ result on one line. The jest test writes
// the cases, computes the expected results with the TypeScript functions and compares.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "case_driver.h"
#include "numerics.h"

using namespace m3vit;

// One case: false for an unknown function.
static bool eval(const std::string &fn, std::istringstream &in, std::ostringstream &out) {
  if (fn == "rshift_round") {
    i64 x; int s; in >> x >> s;
    out << rshift_round(x, s);
  } else if (fn == "sat") {
    i64 x; int bits; in >> x >> bits;
    out << sat(x, bits);
  } else if (fn == "requant") {
    i64 acc; int ff, tf, bits; in >> acc >> ff >> tf >> bits;
    out << requant(acc, ff, tf, bits);
  } else if (fn == "mul_shift_round") {
    i64 a, b; int s; in >> a >> b >> s;
    out << mul_shift_round(a, b, s);
  } else if (fn == "floor_div") {
    i64 a, b; in >> a >> b;
    out << floor_div(a, b);
  } else if (fn == "div_round") {
    i64 a, b; in >> a >> b;
    out << div_round(a, b);
  } else if (fn == "isqrt") {
    i64 v; in >> v;
    out << isqrt(v);
  } else if (fn == "bit_length") {
    i64 v; in >> v;
    out << bit_length(v);
  } else if (fn == "max_of") {
    int b; in >> b;
    out << max_of(b);
  } else if (fn == "min_of") {
    int b; in >> b;
    out << min_of(b);
  } else if (fn == "quantize") {
    std::string xs; int frac, bits; in >> xs >> frac >> bits;
    out << quantize(std::strtod(xs.c_str(), nullptr), frac, bits);
  } else if (fn == "dequantize") {
    i64 q; int frac; in >> q >> frac;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", dequantize(q, frac));
    out << buf;
  } else if (fn == "choose_frac") {
    std::string ms; int bits, head; in >> ms >> bits >> head;
    out << choose_frac(std::strtod(ms.c_str(), nullptr), bits, head);
  } else if (fn == "add_aligned") {
    i64 x, y; int fx, fy, fo, bits; in >> x >> fx >> y >> fy >> fo >> bits;
    out << add_aligned(x, fx, y, fy, fo, bits);
  } else if (fn == "gelu_int") {
    i64 x; int f, fo, bits; in >> x >> f >> fo >> bits;
    out << gelu_int(x, f, fo, bits);
  } else if (fn == "exp_neg") {
    i64 d; int fd; in >> d >> fd;
    out << exp_neg(d, fd);
  } else if (fn == "layer_norm_row") {
    LayerNormConsts k;
    in >> k.dim >> k.in_frac >> k.extra_bits >> k.eps_q >> k.sqrt_dim_q >> k.gamma_frac >> k.beta_frac >> k.out_frac >> k.bits;
    std::vector<i64> x = read_ints(in, k.dim), g = read_ints(in, k.dim), b = read_ints(in, k.dim);
    std::vector<int16_t> y(k.dim);
    // Activations, gammas and betas in their hardware word types.
    std::vector<int16_t> x16(x.begin(), x.end()), g16(g.begin(), g.end());
    std::vector<int32_t> b32(b.begin(), b.end());
    layer_norm_row(x16.data(), g16.data(), b32.data(), k, y.data());
    for (int i = 0; i < k.dim; i++) out << (i ? " " : "") << y[i];
  } else if (fn == "attn_score") {
    i64 acc, sq; int af, sf, bits; in >> acc >> sq >> af >> sf >> bits;
    out << attn_score(acc, sq, af, sf, bits);
  } else if (fn == "attention_row") {
    int n, fs, hd, kt; in >> n >> fs >> hd >> kt;
    std::vector<i64> s = read_ints(in, n), v = read_ints(in, (size_t)n * hd);
    std::vector<int16_t> s16(s.begin(), s.end()), v16(v.begin(), v.end()), o16(hd);
    std::vector<i64> o(hd);
    attention_row<14>(s16.data(), n, fs, v16.data(), hd, hd, kt, o.data(), o16.data(), 16); // 16-bit words: pf 14
    for (int d = 0; d < hd; d++) out << (d ? " " : "") << o16[d];
  } else if (fn == "gate_top_k") {
    int E, k, fz; in >> E >> k >> fz;
    std::vector<i64> z = read_ints(in, E);
    std::vector<int16_t> z16(z.begin(), z.end());
    int experts[64];
    i64 weights[64];
    // K = k: the kernels' running list holds exactly TOPK entries.
    if (k == 1) gate_top_k<1>(z16.data(), E, fz, experts, weights);
    else if (k == 2) gate_top_k<2>(z16.data(), E, fz, experts, weights);
    else if (k == 3) gate_top_k<3>(z16.data(), E, fz, experts, weights);
    else gate_top_k<4>(z16.data(), E, fz, experts, weights);
    for (int r = 0; r < k; r++) out << (r ? " " : "") << experts[r] << " " << weights[r];
  } else if (fn == "align_bias") {
    i64 b; int fb, fa; in >> b >> fb >> fa;
    out << align_bias(b, fb, fa);
  } else if (fn == "linear_out") {
    i64 acc, b; int fb, fa, fo, bits, relu; in >> acc >> b >> fb >> fa >> fo >> bits >> relu;
    out << linear_out(acc, b, fb, fa, fo, bits, relu != 0);
  } else if (fn == "combine_term") {
    i64 g, y; int fy, fm; in >> g >> y >> fy >> fm;
    out << combine_term(g, y, fy, fm);
  } else if (fn == "upsample_tap") {
    i64 a, b, c, d; in >> a >> b >> c >> d;
    out << upsample_tap(a, b, c, d);
  } else if (fn == "upsample_neighbour") {
    int i, odd, n; in >> i >> odd >> n;
    out << upsample_neighbour(i, odd != 0, n);
  } else if (fn == "gelu_pair") {
    int j; in >> j;
    i64 t0, t1;
    gelu_pair(GELU_PAIRS[j], t0, t1);
    out << t0 << " " << t1;
  } else if (fn == "exp2_table") {
    int j; in >> j;
    out << EXP2_TABLE[j];
  } else {
    return false;
  }
  return true;
}

int main() { return run_cases(eval); }
