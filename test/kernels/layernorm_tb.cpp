// Testbench of kernels/layernorm.h (test/kernel-families.test.ts): layer_norm with the model's
// own constants and gamma/beta from the weight image. argv[1] is data/weights.bin; stdin holds
//   ln <label> <site> <index> <first> <rows> <X, N_TOK x D>
// site 0/1: norm1/norm2 of block <index>, 2: the head norm of task <index>. Each case prints
// rows [0, rows) of Y as "<label>.y".
#include "kernels/layernorm.h"
#include "tb_common.h"

using namespace m3vit;

int main(int argc, char **argv) {
  return tb::run(argc, argv, [](const std::string &kind, const std::string &label, const ddr_in &w) {
    if (kind != "ln") return false;
    const int site = (int)tb::next(), index = (int)tb::next();
    const int first = (int)tb::next(), rows = (int)tb::next();
    tb::read_rows(X, N_TOK, D);
    if (site == 2) {
      const TaskParams &tp = TASK_PARAMS[index];
      layer_norm(w, tp.ln_g, tp.ln_b, tp.ln, X, first, rows, Y);
    } else {
      const BlockParams &bp = BLOCKS[index];
      layer_norm(w, site == 0 ? bp.ln1_g : bp.ln2_g, site == 0 ? bp.ln1_b : bp.ln2_b, site == 0 ? bp.ln1 : bp.ln2, X, first, rows, Y);
    }
    tb::print_rows(label + ".y", Y, 0, rows, D);
    return true;
  });
}
