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

// One query row of attention in the kernel's steps at its widths, per key tile: the scores
// maximum and the factor (Q.K^T's epilogue), the P words (P.V's input lanes), p * v summed
// exactly (the engine's P.V job), the rescaled o plus that sum (P.V's epilogue); at the end
// the output (ATT_OUT).
static void attention_row_narrow(const std::vector<i64> &s, int n, int fs, const std::vector<i64> &v, int hd, int kt, std::ostringstream &out) {
  std::vector<i64> o(hd, 0);
  i64 m = 0, l = 0;
  for (int t0 = 0; t0 < n; t0 += kt) {
    const int t1 = t0 + kt < n ? t0 + kt : n;
    i64 mt = s[t0];
    for (int j = t0 + 1; j < t1; j++) mt = s[j] > mt ? s[j] : mt;
    const i64 m_new = (t0 == 0 || mt > m) ? mt : m;
    const i64 a = exp_neg<DIFF_BITS>(t0 == 0 ? (i64)0 : m_new - m, fs);
    std::vector<i64> p(t1 - t0);
    i64 sum = 0;
    for (int j = t0; j < t1; j++) sum += (p[j - t0] = softmax_p<PROB_WORD_FRAC, DIFF_BITS>(m_new - s[j], fs));
    l = softmax_rescale<SOFTMAX_SUM_BITS>(l, a) + softmax_up<PROB_WORD_FRAC>(sum);
    for (int d = 0; d < hd; d++) {
      i64 pv = 0; // the engine's P.V sum of the tile
      for (int j = t0; j < t1; j++) pv += mul<ACT_BITS, ACT_BITS>(p[j - t0], v[(size_t)j * hd + d]);
      o[d] = softmax_rescale<SOFTMAX_OUT_BITS>(o[d], a) + softmax_up<PROB_WORD_FRAC>(pv);
    }
    m = m_new;
  }
  for (int d = 0; d < hd; d++) out << (d ? " " : "") << softmax_output<SOFTMAX_OUT_BITS, SOFTMAX_SUM_BITS>(o[d], l, ACT_BITS);
}

// A token's gate weights in ROUTE_SCAN's steps at its widths: the exp terms against the
// maximum summed in GATE_SUM_BITS, each term's weight through the GATE_NUM_BITS divider.
static void gate_weights_narrow(const std::vector<i64> &z, int fz, std::ostringstream &out) {
  i64 m = z[0];
  for (size_t e = 1; e < z.size(); e++) m = z[e] > m ? z[e] : m;
  ap_int<GATE_SUM_BITS> sum = 0;
  for (size_t e = 0; e < z.size(); e++) sum = sum + gate_term<ACT_BITS>(m, z[e], fz);
  for (size_t e = 0; e < z.size(); e++) out << (e ? " " : "") << gate_weight<GATE_NUM_BITS, GATE_SUM_BITS>(gate_term<ACT_BITS>(m, z[e], fz), (i64)sum);
}

// One case: false for an unknown function.
static bool eval(const std::string &fn, std::istringstream &in, std::ostringstream &out) {
  if (fn == "layer_norm_row") {
    LayerNormConsts k;
    in >> k.dim >> k.in_frac >> k.extra_bits >> k.eps_q >> k.sqrt_dim_q >> k.gamma_frac >> k.beta_frac >> k.out_frac >> k.bits;
    const std::vector<i64> x = read_ints(in, k.dim), g = read_ints(in, k.dim), b = read_ints(in, k.dim);
    ln_row(x, g, b, k, out);
  } else if (fn == "attention_row") {
    int n, fs, hd, kt;
    in >> n >> fs >> hd >> kt;
    const std::vector<i64> s = read_ints(in, n), v = read_ints(in, (size_t)n * hd);
    attention_row_narrow(s, n, fs, v, hd, kt, out);
  } else if (fn == "gelu_int") {
    i64 x; int f, fo, bits; in >> x >> f >> fo >> bits;
    out << gelu_int<GELU_REM_BITS>(x, f, fo, bits);
  } else if (fn == "exp_neg") {
    i64 d; int fd; in >> d >> fd;
    out << exp_neg<DIFF_BITS>(d, fd);
  } else if (fn == "attn_score") {
    i64 acc, sq; int af, sf, bits; in >> acc >> sq >> af >> sf >> bits;
    out << attn_score<ACC_BITS>(acc, sq, af, sf, bits);
  } else if (fn == "gate_weights") {
    int E, fz; in >> E >> fz;
    gate_weights_narrow(read_ints(in, E), fz, out);
  } else if (fn == "combine_term") {
    i64 g, y; int fy, fm; in >> g >> y >> fy >> fm;
    out << combine_term<ACT_BITS>(g, y, fy, fm);
  } else {
    return false;
  }
  return true;
}

int main() { return run_cases(eval); }
