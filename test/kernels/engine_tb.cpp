// Testbench of kernels/engine.h (test/kernel-families.test.ts): linear_engine over matrices of
// the project's weight image. argv[1] is data/weights.bin; stdin holds cases
//   linear <label> <off> <rows> <K> <src> <tail> <dst> <accumulate>
//          <src rows N_TOK x D> <dst before, N_TOK x ACC_COLS>
// (token rows [0, N_TOK), or [0, N_TOK - 1) when tail: linear_engine<N_TOK, N_TOK - 1>, a
// tiling's full and last tile)
// (src 0/1/2 = Y/A/A (the dense hidden tile shares A), dst 0 = ACC: the engine's summing destination; its requantizing ones
// are checked end to end by csim); each case prints ACC after the call as "<label>.dst".
#include "kernels/engine.h"
#include "tb_common.h"

using namespace m3vit;

// The engine's scratch port (the row feed of token-tiled experts; unused here).
static wword_t SCRATCH[SCRATCH_WORDS];

// The input rows of a case into the source buffer the job reads.
static void read_source(int src) {
  act_t (&x)[N_TOK][D] = src == SRC_Y ? Y : A; // SRC_A and SRC_H (the hidden tile shares A)
  tb::read_rows(x, N_TOK, D);
}

int main(int argc, char **argv) {
  return tb::run(argc, argv, [](const std::string &kind, const std::string &label, const ddr_in &w) {
    if (kind != "linear") return false;
    const unsigned off = (unsigned)tb::next();
    const int rows = (int)tb::next(), K = (int)tb::next(), src = (int)tb::next();
    const bool tail = tb::next() != 0;
    const int dst = (int)tb::next();
    const bool accumulate = tb::next() != 0;
    read_source(src);
    if (dst != DST_ACC) return false;
    acc_t (&out)[N_TOK][ACC_COLS] = ACC;
    tb::read_rows(out, N_TOK, ACC_COLS);
    linear_engine<N_TOK, N_TOK - 1>(w, ddr_io(SCRATCH, 1), off, rows, K, src, tail, dst, accumulate);
    tb::print_rows(label + ".dst", out, 0, N_TOK, ACC_COLS);
    return true;
  });
}
