// Testbench of kernels/dense_mlp.h (test/kernel-families.test.ts): dense_mlp of block <b> (fc1,
// GELU, fc2 in hidden tiles, the residual). argv[1] is data/weights.bin; stdin holds cases
//   dense <label> <b> <Y, N_TOK x D: the norm2 output> <X, N_TOK x D: the first residual>
// each printing X after the call (the block output) as "<label>.x".
#include "kernels/dense_mlp.h"
#include "tb_common.h"

using namespace m3vit;

static wword_t WEIGHTS[WEIGHT_WORDS];

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  tb::load_image(argv[1], WEIGHTS, WEIGHT_WORDS);
  const ddr_in w(WEIGHTS, 0);
  std::string kind, label;
  while (tb::next_case(kind, label)) {
    if (kind != "dense") return 2;
    const int b = (int)tb::next();
    tb::read_rows(Y, N_TOK, D);
    tb::read_rows(X, N_TOK, D);
    dense_mlp(w, BLOCKS[b]);
    tb::print_rows(label + ".x", X, 0, N_TOK, D);
  }
  return 0;
}
