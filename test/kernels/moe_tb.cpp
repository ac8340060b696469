// Testbench of kernels/moe.h (test/kernel-families.test.ts): moe_layer of block <b> for task
// <task> (the gate, top-k, the expert queues, the experts through the weight store and the
// engine, the combined output and the residual). argv[1] is data/weights.bin; stdin holds
//   moe <label> <b> <task> <Y, N_TOK x D: the norm2 output> <X, N_TOK x D: the first residual>
// Each case prints, keys "<label>.<name>": z (the logits Z, N_TOK x E_ROWS), chosen and gate
// (CHOSEN, CGATE), qstart, qtok and qgate (the queues), moe (Y after the call: the MoE output),
// x (the block output) and, from the csim counters of the layer, used (experts used), loads
// (expert loads) and per_expert (loads of each expert).
#include "kernels/moe.h"
#include "tb_common.h"

using namespace m3vit;

static wword_t SCRATCH[SCRATCH_WORDS];

// The queues hold their values' widths (tok_t, prob_t) or int.
template <typename T>
static void print_list(const std::string &key, const T *v, int n) {
  tb::Line line(key);
  for (int i = 0; i < n; i++) line << (long long)v[i];
}

static void print_queues(const std::string &label) {
  tb::print_rows(label + ".chosen", CHOSEN, 0, N_TOK, TOPK);
  tb::print_rows(label + ".gate", CGATE, 0, N_TOK, TOPK);
  print_list(label + ".qstart", QSTART, E + 1);
  print_list(label + ".qtok", QTOK, N_TOK * TOPK);
  print_list(label + ".qgate", QGATE, N_TOK * TOPK);
}

static void print_loads(const std::string &label, const MoeLayerStats &s) {
  tb::Line(label + ".used") << s.experts_used;
  tb::Line(label + ".loads") << s.expert_weight_loads;
  print_list(label + ".per_expert", s.loads_per_expert, E);
}

int main(int argc, char **argv) {
  return tb::run(argc, argv, [](const std::string &kind, const std::string &label, const ddr_in &w) {
    if (kind != "moe") return false;
    const int b = (int)tb::next(), task = (int)tb::next();
    tb::read_rows(Y, N_TOK, D);
    tb::read_rows(X, N_TOK, D);
    MoeLayerStats &s = g_csim.moe[BLOCKS[b].moe];
    s = MoeLayerStats();
    moe_layer(w, ddr_io(SCRATCH, 1), BLOCKS[b], task, false);
    tb::print_rows(label + ".z", Z, 0, N_TOK, E_ROWS);
    print_queues(label);
    tb::print_rows(label + ".moe", Y, 0, N_TOK, D);
    tb::print_rows(label + ".x", X, 0, N_TOK, D);
    print_loads(label, s);
    return true;
  });
}
