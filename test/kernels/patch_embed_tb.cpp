// Testbench of kernels/patch_embed.h (test/kernel-families.test.ts): patch_embed on an image
// in DDR. argv[1] is data/weights.bin; stdin holds cases
//   image <label> <IMAGE_WORDS x 8 int16 elements: [C][H][W], the last word zero-padded>
// each printing the tokens X (N_TOK x D) as "<label>.x".
#include "kernels/patch_embed.h"
#include "tb_common.h"

using namespace m3vit;

// The engine's scratch port (the row feed of token-tiled experts; unused here).
static wword_t SCRATCH[SCRATCH_WORDS];

static wword_t IMAGE[IMAGE_WORDS];

int main(int argc, char **argv) {
  return tb::run(argc, argv, [](const std::string &kind, const std::string &label, const ddr_in &w) {
    if (kind != "image") return false;
    tb::read_words16(IMAGE, IMAGE_WORDS);
    patch_embed(w, ddr_in(IMAGE, 2), ddr_io(SCRATCH, 1));
    tb::print_rows(label + ".x", X, 0, N_TOK, D);
    return true;
  });
}
