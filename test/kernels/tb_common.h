// What the kernel-family testbenches (test/kernels/<family>_tb.cpp, run by
// test/kernel-families.test.ts) share: their main loop, integers from stdin, DDR regions as the host lays them
// out (little-endian bytes), and outputs as "<key> <values...>" lines on stdout. Included after
// the family's kernel header (it uses m3vit::wword_t). Bytes are read and written through
// ap_uint ranges of 8 bits, not through the kernels' lane helpers, so that a testbench does not
// depend on the io family it may be testing.
#ifndef M3VIT_TEST_TB_COMMON_H
#define M3VIT_TEST_TB_COMMON_H

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace tb {

using m3vit::wword_t;

// The next integer of stdin; the test always writes what the driver reads, so running out is a bug.
inline long long next() {
  long long v;
  if (!(std::cin >> v)) {
    std::fprintf(stderr, "tb: the input ended early\n");
    std::exit(2);
  }
  return v;
}

// The next case of stdin: its kind (what the driver calls) and its label (the prefix of its
// output keys); false at the end of the input.
inline bool next_case(std::string &kind, std::string &label) { return static_cast<bool>(std::cin >> kind >> label); }

// rows x cols integers of stdin into the top-left corner of a 2-D array.
template <typename T, int R, int C>
void read_rows(T (&a)[R][C], int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    for (int c = 0; c < cols; c++) a[r][c] = (T)next();
  }
}

// Word i as 16 bytes, byte b = bits [8b+7:8b].
inline unsigned byte_of(const wword_t &w, int b) { return (unsigned)w.range(8 * b + 7, 8 * b); }
inline void set_byte(wword_t &w, int b, unsigned v) { w.range(8 * b + 7, 8 * b) = v & 0xffu; }

// int16 element e of a region, from its two little-endian bytes.
inline long long elem16(const wword_t *mem, unsigned e) {
  const wword_t &w = mem[e / 8];
  const unsigned u = byte_of(w, 2 * (int)(e % 8)) | (byte_of(w, 2 * (int)(e % 8) + 1) << 8);
  return u >= 0x8000u ? (long long)u - 0x10000 : (long long)u;
}

// n words of int16 elements from stdin (8 per word, element e at bytes 2e, 2e + 1).
inline void read_words16(wword_t *mem, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    for (int l = 0; l < 8; l++) {
      const unsigned u = (unsigned)(next() & 0xffff);
      set_byte(mem[i], 2 * l, u);
      set_byte(mem[i], 2 * l + 1, u >> 8);
    }
  }
}

// Every byte of n words set to `v` (a fill pattern that shows which words a kernel wrote).
inline void fill_bytes(wword_t *mem, unsigned n, unsigned v) {
  for (unsigned i = 0; i < n; i++) {
    for (int b = 0; b < 16; b++) set_byte(mem[i], b, v);
  }
}

// The weight image file (data/weights.bin) into `words` words; exits 2 when its size differs.
inline void load_image(const char *path, wword_t *mem, unsigned words) {
  std::FILE *f = std::fopen(path, "rb");
  if (!f) {
    std::fprintf(stderr, "tb: cannot open %s\n", path);
    std::exit(2);
  }
  unsigned char bytes[16];
  for (unsigned i = 0; i < words; i++) {
    if (std::fread(bytes, 1, 16, f) != 16) {
      std::fprintf(stderr, "tb: %s is shorter than %u words\n", path, words);
      std::exit(2);
    }
    for (int b = 0; b < 16; b++) set_byte(mem[i], b, bytes[b]);
  }
  const bool longer = std::fgetc(f) != EOF;
  std::fclose(f);
  if (longer) {
    std::fprintf(stderr, "tb: %s is longer than %u words\n", path, words);
    std::exit(2);
  }
}

// One output line: the key, then the values pushed with <<.
class Line {
public:
  explicit Line(const std::string &key) { std::printf("%s", key.c_str()); }
  ~Line() { std::printf("\n"); }
  Line &operator<<(long long v) {
    std::printf(" %lld", v);
    return *this;
  }
};

// rows x cols of a 2-D array as one line.
template <typename T, int R, int C>
void print_rows(const std::string &key, const T (&a)[R][C], int first, int rows, int cols) {
  Line line(key);
  for (int r = first; r < first + rows; r++) {
    for (int c = 0; c < cols; c++) line << (long long)a[r][c];
  }
}

// n words of a region as their int16 elements (8 per word), one line.
inline void print_words16(const std::string &key, const wword_t *mem, unsigned first, unsigned n) {
  Line line(key);
  for (unsigned e = first * 8; e < (first + n) * 8; e++) line << elem16(mem, e);
}

// A driver's main: the project's weight image (argv[1]) as the weights bundle, then every case
// of stdin through on_case(kind, label, weights), which returns false for a kind it does not know.
template <typename OnCase>
int run(int argc, char **argv, OnCase on_case) {
  static wword_t weights[m3vit::WEIGHT_WORDS];
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <weights.bin> < cases\n", argv[0]);
    return 2;
  }
  load_image(argv[1], weights, m3vit::WEIGHT_WORDS);
  const m3vit::ddr_in w(weights, 0);
  std::string kind, label;
  while (next_case(kind, label)) {
    if (!on_case(kind, label, w)) {
      std::fprintf(stderr, "tb: unknown case %s\n", kind.c_str());
      return 2;
    }
  }
  return 0;
}

} // namespace tb

#endif // M3VIT_TEST_TB_COMMON_H
