// Testbench of kernels/dense_mlp.h (test/kernel-families.test.ts): dense_mlp of block <b> (fc1,
// GELU, fc2 in hidden tiles, the residual). argv[1] is data/weights.bin; stdin holds cases
//   dense <label> <b> <Y, N_TOK x D: the norm2 output> <X, N_TOK x D: the first residual>
// each printing X after the call (the block output) as "<label>.x".
#include "kernels/dense_mlp.h"
#include "tb_common.h"

using namespace m3vit;

// The engine's scratch port (the row feed of token-tiled experts; unused here).
static wword_t SCRATCH[SCRATCH_WORDS];

int main(int argc, char **argv) {
  return tb::run(argc, argv, [](const std::string &kind, const std::string &label, const ddr_in &w) {
    if (kind != "dense") return false;
    const int b = (int)tb::next();
    tb::read_rows(Y, N_TOK, D);
    tb::read_rows(X, N_TOK, D);
    dense_mlp<N_TOK, N_TOK>(w, ddr_io(SCRATCH, 1), BLOCKS[b], false);
    tb::print_rows(label + ".x", X, 0, N_TOK, D);
    return true;
  });
}
