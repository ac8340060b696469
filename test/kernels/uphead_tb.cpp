// Testbench of kernels/uphead.h (test/kernel-families.test.ts): the UpHead's passes over feature
// maps in scratch (channels-last [h][w][stride] int16, padding channels zero) and the whole head.
// argv[1] is data/weights.bin; stdin holds cases, each on a scratch and a result filled with
// the byte 0xA5 first (so that words a kernel does not write keep a known value):
//   conv3x3  <label> <task> <stage> <input map at word 0>   prints the map at MAP_WORDS ("<label>.map")
//   upsample <label> <task> <stage> <input map at word 0>   prints the map at MAP_WORDS ("<label>.map")
//   conv1x1  <label> <task> <input map at word 0>           prints the result ("<label>.result")
//   uphead   <label> <task> <Y, N_TOK x D: the head norm>   prints the result ("<label>.result")
// A map is given as its words, 8 int16 elements each.
#include "kernels/uphead.h"
#include "tb_common.h"

using namespace m3vit;

static wword_t SCRATCH[SCRATCH_WORDS];
static wword_t RESULT[RESULT_WORDS];

// Words of an [h][w][stride] map.
static unsigned map_words(int h, int w, int stride) { return (unsigned)(h * w * stride / 8); }

// One case on a scratch and result full of the fill byte; false for an unknown kind.
static bool run_case(const std::string &kind, const std::string &label, const ddr_in &w) {
  const ddr_io scratch(SCRATCH, 1);
  const ddr_io result(RESULT, 3);
  tb::fill_bytes(SCRATCH, SCRATCH_WORDS, 0xA5);
  tb::fill_bytes(RESULT, RESULT_WORDS, 0xA5);
  const int task = (int)tb::next();
  const TaskParams &tp = TASK_PARAMS[task];
  if (kind == "conv3x3" || kind == "upsample") {
    const StageParams &sp = STAGE_PARAMS[task][tb::next()];
    const int in_stride = kind == "conv3x3" ? sp.cin_stride : tp.up_stride;
    tb::read_words16(SCRATCH, map_words(sp.h, sp.w, in_stride));
    if (kind == "conv3x3") {
      conv3x3(w, scratch, sp, tp, 0, MAP_WORDS);
      tb::print_words16(label + ".map", SCRATCH, MAP_WORDS, map_words(sp.h, sp.w, tp.up_stride));
    } else {
      upsample2x(scratch, 0, MAP_WORDS, sp.h, sp.w, tp.up_stride);
      tb::print_words16(label + ".map", SCRATCH, MAP_WORDS, map_words(2 * sp.h, 2 * sp.w, tp.up_stride));
    }
  } else if (kind == "conv1x1") {
    tb::read_words16(SCRATCH, map_words(tp.last_h, tp.last_w, tp.up_stride));
    conv1x1_out(w, scratch, result, tp, 0, false);
    tb::print_words16(label + ".result", RESULT, 0, RESULT_WORDS);
  } else if (kind == "uphead") {
    tb::read_rows(Y, N_TOK, D);
    uphead(w, scratch, result, task, false);
    tb::print_words16(label + ".result", RESULT, 0, RESULT_WORDS);
  } else {
    return false;
  }
  return true;
}

int main(int argc, char **argv) { return tb::run(argc, argv, run_case); }
