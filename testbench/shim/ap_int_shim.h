// ap_int_shim.h: a small stand-in for the Vitis HLS arbitrary-precision integer types, so that
// C simulation builds with g++ alone (m3vit-gen copies it into src/shim/ of every project).
//
// It provides what the generated kernels and testbench use, with the semantics of the real
// types for those uses:
//   ap_int<W>, ap_uint<W> (W <= 64): values kept wrapped to W bits (two's complement), stored
//     in the smallest native type; arithmetic happens in 64-bit integers via the implicit
//     conversion, and assigning back wraps, as the real types do.
//   ap_uint<W> (any W, e.g. the 128-bit bus word): bit slices through range(hi, lo), read as
//     an unsigned value of up to 64 bits and assigned from one.
// Hand-written for m3vit-gen; it is not the Vitis header and does not copy it. With the Vitis
// headers on the include path (and M3VIT_USE_SHIM undefined) the real types are used.
#ifndef M3VIT_AP_INT_SHIM_H
#define M3VIT_AP_INT_SHIM_H

#include <stdint.h>

namespace m3vit_shim {

// The smallest native integer type holding W bits.
template <int W, bool FITS8 = (W <= 8), bool FITS16 = (W <= 16), bool FITS32 = (W <= 32)>
struct storage {
  typedef int64_t s;
  typedef uint64_t u;
};
template <int W>
struct storage<W, true, true, true> {
  typedef int8_t s;
  typedef uint8_t u;
};
template <int W>
struct storage<W, false, true, true> {
  typedef int16_t s;
  typedef uint16_t u;
};
template <int W>
struct storage<W, false, false, true> {
  typedef int32_t s;
  typedef uint32_t u;
};

inline int64_t wrap_signed(int64_t x, int w) {
  if (w >= 64) return x;
  const unsigned s = 64u - (unsigned)w;
  return (int64_t)((uint64_t)x << s) >> s;
}
inline uint64_t wrap_unsigned(uint64_t x, int w) { return w >= 64 ? x : (x & (((uint64_t)1 << w) - 1)); }

} // namespace m3vit_shim

template <int W>
class ap_uint;

// A slice [hi:lo] (at most 64 bits) of an ap_uint, readable and assignable.
template <int W>
class ap_range_ref {
public:
  ap_range_ref(ap_uint<W> *word, int hi, int lo) : word_(word), hi_(hi), lo_(lo) {}
  operator unsigned long long() const { return word_->get_bits(hi_, lo_); }
  ap_range_ref &operator=(unsigned long long x) {
    word_->set_bits(hi_, lo_, x);
    return *this;
  }
  ap_range_ref &operator=(long long x) { return *this = (unsigned long long)x; }
  ap_range_ref &operator=(int x) { return *this = (unsigned long long)(long long)x; }

private:
  ap_uint<W> *word_;
  int hi_;
  int lo_;
};

template <int W>
class ap_int {
public:
  typedef typename m3vit_shim::storage<W>::s store_t;
  ap_int() {} // uninitialised, like the Vitis type (and as cheap)
  ap_int(bool x) : v_(x ? 1 : 0) {}
  ap_int(signed char x) : v_(wrap(x)) {}
  ap_int(unsigned char x) : v_(wrap(x)) {}
  ap_int(short x) : v_(wrap(x)) {}
  ap_int(unsigned short x) : v_(wrap(x)) {}
  ap_int(int x) : v_(wrap(x)) {}
  ap_int(unsigned x) : v_(wrap(x)) {}
  ap_int(long x) : v_(wrap(x)) {}
  ap_int(unsigned long x) : v_(wrap((long long)x)) {}
  ap_int(long long x) : v_(wrap(x)) {}
  ap_int(unsigned long long x) : v_(wrap((long long)x)) {}
  template <int W2>
  ap_int(const ap_int<W2> &x) : v_(wrap((long long)x)) {}
  template <int W2>
  ap_int(const ap_range_ref<W2> &r) : v_(wrap((long long)(unsigned long long)r)) {}
  operator long long() const { return (long long)v_; }
  ap_int &operator+=(long long x) {
    v_ = wrap((long long)v_ + x);
    return *this;
  }
  ap_int &operator-=(long long x) {
    v_ = wrap((long long)v_ - x);
    return *this;
  }

private:
  static store_t wrap(long long x) { return (store_t)m3vit_shim::wrap_signed(x, W); }
  store_t v_;
};

template <int W>
class ap_uint {
public:
  ap_uint() { clear(); }
  ap_uint(int x) { assign((unsigned long long)(long long)x); }
  ap_uint(unsigned x) { assign(x); }
  ap_uint(long x) { assign((unsigned long long)(long long)x); }
  ap_uint(unsigned long x) { assign(x); }
  ap_uint(long long x) { assign((unsigned long long)x); }
  ap_uint(unsigned long long x) { assign(x); }
  template <int W2>
  ap_uint(const ap_range_ref<W2> &r) { assign((unsigned long long)r); }
  // The low 64 bits (the value itself for W <= 64).
  operator unsigned long long() const { return w_[0]; }

  ap_range_ref<W> range(int hi, int lo) { return ap_range_ref<W>(this, hi, lo); }
  ap_range_ref<W> range(int hi, int lo) const { return ap_range_ref<W>(const_cast<ap_uint *>(this), hi, lo); }

  // Bits [hi:lo], hi - lo < 64, as an unsigned value.
  unsigned long long get_bits(int hi, int lo) const {
    const int n = hi - lo + 1;
    uint64_t v = w_[lo / 64] >> (lo % 64);
    if (lo % 64 != 0 && lo / 64 + 1 < WORDS && (lo % 64) + n > 64) v |= w_[lo / 64 + 1] << (64 - lo % 64);
    return m3vit_shim::wrap_unsigned(v, n);
  }
  void set_bits(int hi, int lo, unsigned long long x) {
    const int n = hi - lo + 1;
    x = m3vit_shim::wrap_unsigned(x, n);
    const int wi = lo / 64;
    const int sh = lo % 64;
    const uint64_t mask = n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1);
    w_[wi] = (w_[wi] & ~(mask << sh)) | ((uint64_t)x << sh);
    if (sh + n > 64 && wi + 1 < WORDS) {
      const uint64_t high = ((uint64_t)1 << (sh + n - 64)) - 1;
      w_[wi + 1] = (w_[wi + 1] & ~high) | ((uint64_t)x >> (64 - sh));
    }
  }
  bool operator==(const ap_uint &o) const {
    for (int i = 0; i < WORDS; i++)
      if (w_[i] != o.w_[i]) return false;
    return true;
  }
  bool operator!=(const ap_uint &o) const { return !(*this == o); }

private:
  static const int WORDS = (W + 63) / 64;
  void clear() {
    for (int i = 0; i < WORDS; i++) w_[i] = 0;
  }
  void assign(unsigned long long x) {
    clear();
    w_[0] = m3vit_shim::wrap_unsigned(x, W < 64 ? W : 64);
  }
  uint64_t w_[WORDS];
};

#endif // M3VIT_AP_INT_SHIM_H
