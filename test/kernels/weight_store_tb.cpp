// Testbench of kernels/weight_store.h (test/kernel-families.test.ts): blocks of the weight image
// into the weight store as parts, and the block feed's fetch order. argv[1] is data/weights.bin;
// stdin holds cases
//   parts <label> <base> <count> <bank> <first>   load_parts; prints the parts written
//                                                 ("<label>.ws", PART_ROWS x SIMD each) and the words read ("<label>.reads")
//   feed  <label> <bank0> <nblk> <steps>          prime_feed, then next_fetch `steps` times; prints the
//                                                 primed next block ("<label>.nxt", PE x SIMD) and
//                                                 (fb, fbank, faddr) after priming and each step ("<label>.seq")
#include "kernels/weight_store.h"
#include "tb_common.h"

using namespace m3vit;

static void parts(const std::string &label, const ddr_in &w) {
  const unsigned base = (unsigned)tb::next();
  const int count = (int)tb::next(), bank = (int)tb::next(), first = (int)tb::next();
  const long before = g_csim.counters.words[0][0];
  load_parts(w, base, count, WS[bank], first);
  const long reads = g_csim.counters.words[0][0] - before;
  {
    tb::Line ws(label + ".ws");
    for (int a = first; a < first + count * BLOCK_PARTS; a++) {
      for (int r = 0; r < PART_ROWS; r++) for (int c = 0; c < SIMD; c++) ws << WS[bank][a][r][c];
    }
  }
  tb::Line(label + ".reads") << reads;
}

static void feed(const std::string &label) {
  const int bank0 = (int)tb::next(), nblk = (int)tb::next(), steps = (int)tb::next();
  wgt_t nxt[PE][SIMD];
  int fb = -1, fbank = -1, faddr = -1;
  prime_feed(bank0, nblk, nxt, fb, fbank, faddr);
  tb::print_rows(label + ".nxt", nxt, 0, PE, SIMD);
  tb::Line seq(label + ".seq");
  seq << fb << fbank << faddr;
  for (int i = 0; i < steps; i++) {
    next_fetch(bank0, nblk, fb, fbank, faddr);
    seq << fb << fbank << faddr;
  }
}

int main(int argc, char **argv) {
  return tb::run(argc, argv, [](const std::string &kind, const std::string &label, const ddr_in &w) {
    if (kind == "parts") parts(label, w);
    else if (kind == "feed") feed(label);
    else return false;
    return true;
  });
}
