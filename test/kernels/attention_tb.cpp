// Testbench of kernels/attention.h (test/kernel-families.test.ts): attention of block <b>, q, k
// and v through the engine from the weight image, then the softmax core. argv[1] is
// data/weights.bin; stdin holds cases
//   attention <label> <b> <Y, N_TOK x D: the norm1 output>
// each printing A (N_TOK x D) as "<label>.a" and the last head's q, k, v (N_TOK x HD) as
// "<label>.q", ".k", ".v".
#include "kernels/attention.h"
#include "tb_common.h"

using namespace m3vit;

// The engine's scratch port (the row feed of token-tiled experts; unused here).
static wword_t SCRATCH[SCRATCH_WORDS];

int main(int argc, char **argv) {
  return tb::run(argc, argv, [](const std::string &kind, const std::string &label, const ddr_in &w) {
    if (kind != "attention") return false;
    const int b = (int)tb::next();
    tb::read_rows(Y, N_TOK, D);
    attention(w, ddr_io(SCRATCH, 1), BLOCKS[b]);
    tb::print_rows(label + ".a", A, 0, N_TOK, D);
    tb::print_rows(label + ".q", Qh, 0, N_TOK, HD);
    tb::print_rows(label + ".k", Kh, 0, N_TOK, HD);
    tb::print_rows(label + ".v", Vh, 0, N_TOK, HD);
    return true;
  });
}
