// Testbench of kernels/patch_embed.h (test/kernel-families.test.ts): patch_embed on an image
// in DDR. argv[1] is data/weights.bin; stdin holds cases
//   image <label> <IMAGE_WORDS x 8 int16 elements: [C][H][W], the last word zero-padded>
// each printing the tokens X (N_TOK x D) as "<label>.x".
#include "kernels/patch_embed.h"
#include "tb_common.h"

using namespace m3vit;

static wword_t WEIGHTS[WEIGHT_WORDS];
static wword_t IMAGE[IMAGE_WORDS];

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  tb::load_image(argv[1], WEIGHTS, WEIGHT_WORDS);
  const ddr_in w(WEIGHTS, 0);
  const ddr_in image(IMAGE, 2);
  std::string kind, label;
  while (tb::next_case(kind, label)) {
    if (kind != "image") return 2;
    tb::read_words16(IMAGE, IMAGE_WORDS);
    patch_embed(w, image);
    tb::print_rows(label + ".x", X, 0, N_TOK, D);
  }
  return 0;
}
