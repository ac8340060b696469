// Testbench of kernels/io.h (test/kernel-families.test.ts): bus-word lanes, the element reader
// and lane writers, vector loads, the size helpers and dump_rows, with the words each moved on
// its m_axi channel (the csim counters). stdin holds cases (the weight image of argv[1] goes unused):
//   mem     <label> <TB_MEM_WORDS x 16 bytes>        the DDR region the readers read (bundle 0)
//   lanes   <label>                                   lane16 / lane32 of every word ("<label>.l16", ".l32")
//   reader  <label> <base> <first> <n>                ElemReader: n elements ("<label>.v", ".reads")
//   vec32   <label> <off> <first> <n>                 load_vec32 ("<label>.v", ".reads")
//   vec16   <label> <off> <n>                         load_vec16 ("<label>.v", ".reads")
//   writer16|writer32 <label> <base> <n> <n values>   a LaneWriter, flushed ("<label>.out", ".writes")
//   sizes   <label> <n> <n x (cols rows K)>           row_words(cols), block_rows(rows, K) ("<label>.v")
//   dump    <label> <off> <first> <rows> <X>          dump_rows of X (N_TOK x D) ("<label>.out", ".writes")
// A written region (TB_OUT_WORDS words, filled with the byte 0xA5 before) is printed as int16 elements.
#include "kernels/io.h"
#include "tb_common.h"

using namespace m3vit;

static const unsigned TB_MEM_WORDS = 64;
static const unsigned TB_OUT_WORDS = 80;
static wword_t TB_MEM[TB_MEM_WORDS];
static wword_t TB_OUT[TB_OUT_WORDS];

// Words moved on a csim channel (bundle * 2 + write) by `f`.
template <typename F>
static long words_moved(int channel, F f) {
  const long before = g_csim.counters.words[g_csim.counters.cur][channel];
  f();
  return g_csim.counters.words[g_csim.counters.cur][channel] - before;
}

static void lanes(const std::string &label) {
  {
    tb::Line l16(label + ".l16");
    for (unsigned i = 0; i < TB_MEM_WORDS; i++) for (int l = 0; l < 8; l++) l16 << lane16(TB_MEM[i], l);
  }
  tb::Line l32(label + ".l32");
  for (unsigned i = 0; i < TB_MEM_WORDS; i++) for (int l = 0; l < 4; l++) l32 << lane32(TB_MEM[i], l);
}

static void reads(const std::string &label, const std::string &kind, const ddr_in &mem) {
  static bias_t v32[TB_MEM_WORDS * 4];
  static wgt_t v16[TB_MEM_WORDS * 8];
  long got[TB_MEM_WORDS * 8];
  const unsigned off = (unsigned)tb::next();
  const int first = kind == "vec16" ? 0 : (int)tb::next();
  const int n = (int)tb::next();
  const long moved = words_moved(0, [&]() {
    if (kind == "reader") {
      ElemReader rd(mem, off, (unsigned)first);
      for (int i = 0; i < n; i++) got[i] = (long)rd.next();
    } else if (kind == "vec32") {
      load_vec32<TB_MEM_WORDS * 4>(mem, off, first, n, v32);
      for (int i = 0; i < n; i++) got[i] = (long)v32[i];
    } else {
      load_vec16<TB_MEM_WORDS * 8>(mem, off, n, v16);
      for (int i = 0; i < n; i++) got[i] = (long)v16[i];
    }
  });
  {
    tb::Line v(label + ".v");
    for (int i = 0; i < n; i++) v << got[i];
  }
  tb::Line(label + ".reads") << moved;
}

template <int BITS>
static void writer(const std::string &label, const ddr_io &out) {
  const unsigned base = (unsigned)tb::next();
  const int n = (int)tb::next();
  tb::fill_bytes(TB_OUT, TB_OUT_WORDS, 0xA5);
  const long moved = words_moved(3, [&]() {
    LaneWriter<BITS> wr(out, base);
    for (int i = 0; i < n; i++) wr.push(tb::next());
    wr.flush();
  });
  tb::print_words16(label + ".out", TB_OUT, 0, TB_OUT_WORDS);
  tb::Line(label + ".writes") << moved;
}

static void sizes(const std::string &label) {
  const int n = (int)tb::next();
  tb::Line v(label + ".v");
  for (int i = 0; i < n; i++) {
    const int cols = (int)tb::next(), rows = (int)tb::next(), K = (int)tb::next();
    v << row_words(cols) << (long long)block_rows(rows, K);
  }
}

static void dump(const std::string &label, const ddr_io &out) {
  const unsigned off = (unsigned)tb::next();
  const int first = (int)tb::next(), rows = (int)tb::next();
  tb::read_rows(X, N_TOK, D);
  tb::fill_bytes(TB_OUT, TB_OUT_WORDS, 0xA5);
  const long moved = words_moved(3, [&]() { dump_rows(out, off, X, first, rows); });
  tb::print_words16(label + ".out", TB_OUT, 0, TB_OUT_WORDS);
  tb::Line(label + ".writes") << moved;
}

// The readers read TB_MEM as bundle 0, the writers write TB_OUT as bundle 1 (the weight image
// tb::run loads is not used).
static bool run_case(const std::string &kind, const std::string &label, const ddr_in &) {
  const ddr_in mem(TB_MEM, 0);
  const ddr_io out(TB_OUT, 1);
  if (kind == "mem") {
    for (unsigned i = 0; i < TB_MEM_WORDS; i++) for (int b = 0; b < 16; b++) tb::set_byte(TB_MEM[i], b, (unsigned)tb::next());
  } else if (kind == "lanes") {
    lanes(label);
  } else if (kind == "reader" || kind == "vec32" || kind == "vec16") {
    reads(label, kind, mem);
  } else if (kind == "writer16") {
    writer<16>(label, out);
  } else if (kind == "writer32") {
    writer<32>(label, out);
  } else if (kind == "sizes") {
    sizes(label);
  } else if (kind == "dump") {
    dump(label, out);
  } else {
    return false;
  }
  return true;
}

int main(int argc, char **argv) { return tb::run(argc, argv, run_case); }
