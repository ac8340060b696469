// Test driver for the narrow instantiations of numerics.h (test/cpp-numerics-narrow.test.ts):
// the operand widths the kernels use, given as -D flags for one model shape, in the step
// order of the kernels (layer_norm, attention, mac_run's GELU/combine lanes). One case per
// line, "<function> <args...>"; the test compares with the generic TypeScript twins on
// inputs at the bounds the widths claim to hold.
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "case_driver.h"
#include "numerics.h"

using namespace m3vit;

// layer_norm in the kernel's steps (LN_SUM, LN_MEAN, LN_VAR, LN_RSQRT, LN_OUT) at its widths.
static void ln_row(const std::vector<i64> &x, const std::vector<i64> &g, const std::vector<i64> &b, const LayerNormConsts &k, std::ostringstream &out) {
  i64 s1 = 0;
  for (int i = 0; i < k.dim; i++) s1 += x[i];
  const i64 mu = ln_mean(s1, k);
  i64 v = k.eps_q;
  for (int i = 0; i < k.dim; i++) {
    const i64 c = ln_center(x[i], mu, k);
    v += mul<LN_C_BITS, LN_C_BITS>(c, c);
  }
  const i64 r = ln_rsqrt<LN_R_BITS, LN_VAR_BITS>(v, k);
  for (int i = 0; i < k.dim; i++) out << (i ? " " : "") << ln_output<LN_C_BITS, LN_R_BITS, LN_N_BITS, W_BITS>(ln_center(x[i], mu, k), r, g[i], b[i], k);
}

// One query row of attention in the kernel's steps (ATT_STEPS, ATT_OUT) at its widths.
static void attention_row_narrow(const std::vector<i64> &s, int n, int fs, const std::vector<i64> &v, int hd, std::ostringstream &out) {
  OnlineSoftmax st;
  std::vector<i64> o(hd);
  softmax_first(s[0], st);
  for (int d = 0; d < hd; d++) o[d] = softmax_first_o(v[d]);
  for (int j = 1; j < n; j++) {
    bool rescale;
    i64 factor;
    softmax_step<ACT_BITS, SOFTMAX_SUM_BITS>(s[j], fs, st, rescale, factor);
    for (int d = 0; d < hd; d++) o[d] = softmax_update_o<SOFTMAX_OUT_BITS, ACT_BITS>(o[d], v[(size_t)j * hd + d], rescale, factor);
  }
  for (int d = 0; d < hd; d++) out << (d ? " " : "") << softmax_output<SOFTMAX_OUT_BITS, SOFTMAX_SUM_BITS>(o[d], st, ACT_BITS);
}

// One case: false for an unknown function.
static bool eval(const std::string &fn, std::istringstream &in, std::ostringstream &out) {
  if (fn == "layer_norm_row") {
    LayerNormConsts k;
    in >> k.dim >> k.in_frac >> k.extra_bits >> k.eps_q >> k.sqrt_dim_q >> k.gamma_frac >> k.beta_frac >> k.out_frac >> k.bits;
    const std::vector<i64> x = read_ints(in, k.dim), g = read_ints(in, k.dim), b = read_ints(in, k.dim);
    ln_row(x, g, b, k, out);
  } else if (fn == "attention_row") {
    int n, fs, hd;
    in >> n >> fs >> hd;
    const std::vector<i64> s = read_ints(in, n), v = read_ints(in, (size_t)n * hd);
    attention_row_narrow(s, n, fs, v, hd, out);
  } else if (fn == "gelu_int") {
    i64 x; int f, fo, bits; in >> x >> f >> fo >> bits;
    out << gelu_int<GELU_REM_BITS>(x, f, fo, bits);
  } else if (fn == "exp_neg") {
    i64 d; int fd; in >> d >> fd;
    out << exp_neg<DIFF_BITS>(d, fd);
  } else if (fn == "attn_score") {
    i64 acc, sq; int af, sf, bits; in >> acc >> sq >> af >> sf >> bits;
    out << attn_score<ACC_BITS>(acc, sq, af, sf, bits);
  } else if (fn == "combine_term") {
    i64 g, y; int fy, fm; in >> g >> y >> fy >> fm;
    out << combine_term<ACT_BITS>(g, y, fy, fm);
  } else {
    return false;
  }
  return true;
}

int main() { return run_cases(eval); }
