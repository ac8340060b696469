// ap_int_shim.h: a stand-in for the Vitis HLS arbitrary-precision integer types, so that C
// simulation builds with g++ or clang++ alone (m3vit-gen copies it into src/shim/ of every
// project). With the Vitis headers on the include path (and M3VIT_USE_SHIM undefined) the real
// types are used instead.
//
// Written for m3vit-gen from the documented semantics (UG1399, "Arbitrary Precision Data
// Types"); it does not copy the Vitis headers. test/ap-int-shim.test.ts compiles one program
// of many operations with this shim and with the real headers and compares the outputs line by
// line, so the shim cannot drift from the real types silently.
//
// What it models exactly, for W = 1..128 (128 needs __int128, i.e. g++ or clang++ on a 64-bit
// target; without it W is limited to 64):
//   - values wrapped to W bits (two's complement for ap_int, modulo 2^W for ap_uint);
//   - binary + - * / % & | ^ between ap_int/ap_uint, range() slices and C integer types, with
//     the result types of the real types: + and - give max(W1', W2') + 1 bits (W' one more for
//     an unsigned operand next to a signed one), - is always signed, * gives W1 + W2, & | ^
//     give max(W1', W2'), / gives W1 + S2, % gives min(W1, W2 + (S1 && !S2)); signed when
//     either operand is; C integer operands count as their own width (int: 32 bits, signed);
//   - comparisons as the C-simulation model makes them: by value when both sides have the same
//     signedness ((ap_uint<16>(0) - 1) < 0 is true: the difference is a signed ap_int<33>),
//     else with C's conversions (see equal() and order() below);
//   - << and >> keep the left operand's type (bits shifted out are lost, as in hardware); a
//     negative signed shift amount shifts the other way; amounts >= W give 0 (or the sign);
//   - unary - (W + 1 bits, signed), ~, !, ++, --, compound assignment (wraps to W);
//   - range(hi, lo) of any width up to W, readable as ap_uint<W> and assignable, reversed when
//     hi < lo (bit j of the slice is bit lo - j of the word); operator[] for one bit;
//   - the implicit conversion to long long / unsigned long long (the low 64 bits when W > 64,
//     as the real types do) and to_int(), to_uint(), to_long(), to_ulong(), to_int64(),
//     to_uint64().
// What it refuses at compile time (static_assert, with a message saying what to write), because
// it could not match the real types: results wider than 128 bits; / and % between signed and
// unsigned operands (the real model follows neither C's nor the exact rule there); floating-
// point operands and constructors; arithmetic or ap-typed shifts of a range() of an ap_int
// with ap values (the real types give the result the word's signedness); shift amounts given
// as ap types wider than 32 bits (the real types use only their low 32 bits). Out-of-range
// range()/[] indices and shift amounts beyond 2^31 abort at run time, as indices do in the real
// types' C simulation.
// Unlike the real types, a default-constructed value is 0 (the real value is indeterminate):
// this keeps csim deterministic; code must not rely on it either way.
#ifndef M3VIT_AP_INT_SHIM_H
#define M3VIT_AP_INT_SHIM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <type_traits>

template <int W>
class ap_int;
template <int W>
class ap_uint;

namespace m3vit_shim {

#ifdef __SIZEOF_INT128__
__extension__ typedef __int128 wide_s;
__extension__ typedef unsigned __int128 wide_u;
enum { MAX_W = 128 };
#else
typedef long long wide_s;
typedef unsigned long long wide_u;
enum { MAX_W = 64 };
#endif

// The signed type of the same width (std::make_signed knows no __int128 in strict ISO mode).
template <class U>
struct signed_of;
template <>
struct signed_of<unsigned long long> {
  typedef long long type;
};
#ifdef __SIZEOF_INT128__
template <>
struct signed_of<wide_u> {
  typedef wide_s type;
};
#endif

constexpr int max_of(int a, int b) { return a > b ? a : b; }
constexpr int min_of(int a, int b) { return a < b ? a : b; }

// The native integer a W-bit value is computed in: 64 bits while that suffices (fast), else 128.
template <int W, bool WIDE = (W > 64)>
struct carrier {
  typedef long long s;
  typedef unsigned long long u;
};
template <int W>
struct carrier<W, true> {
  typedef wide_s s;
  typedef wide_u u;
};

// The smallest native integer holding W bits: what an ap value stores (arrays stay small).
template <int W, bool S>
struct storage {
  typedef typename std::conditional<
      (W <= 8), typename std::conditional<S, int8_t, uint8_t>::type,
      typename std::conditional<
          (W <= 16), typename std::conditional<S, int16_t, uint16_t>::type,
          typename std::conditional<(W <= 32), typename std::conditional<S, int32_t, uint32_t>::type,
                                    typename std::conditional<S, typename carrier<W>::s, typename carrier<W>::u>::type>::type>::type>::type
      type;
};

// x reduced to its low w bits, sign-extended from bit w - 1 when signed (w <= bits of U).
// Branch-free (shift up, then back down: arithmetic for signed), as it runs on every store.
template <class U>
inline U wrap_bits(U x, int w, bool is_signed) {
  const int bits = (int)sizeof(U) * 8;
  if (w >= bits) return x;
  const U up = x << (bits - w);
  return is_signed ? (U)((typename signed_of<U>::type)up >> (bits - w)) : up >> (bits - w);
}

inline void fail(const char *what, int index, int width) {
  fprintf(stderr, "ERROR: ap_int shim: %s %d out of range for a %d-bit value\n", what, index, width);
  abort();
}

template <int W, bool S>
class base;
template <int W, bool S>
class range_ref;
template <int W, bool S>
class bit_ref;

// The ap type of a given width and signedness.
template <int W, bool S>
struct ap_of {
  typedef ap_int<W> type;
};
template <int W>
struct ap_of<W, false> {
  typedef ap_uint<W> type;
};

// What an operand of an ap expression is: width, signedness and its value in a carrier U.
// Not an operand: ok = false (floating point, classes), refused with a message where used.
template <class T, class Enable = void>
struct operand {
  enum { ok = 0, ap = 0, range = 0, W = 1, S = 0 };
  template <class U>
  static U get(const T &) { return 0; }
};
// C integer types count as their own width (bool 1 bit unsigned, char per its signedness).
template <class T>
struct operand<T, typename std::enable_if<std::is_integral<T>::value>::type> {
  enum { ok = 1, ap = 0, range = 0, W = std::is_same<T, bool>::value ? 1 : (int)sizeof(T) * 8, S = std::is_signed<T>::value && !std::is_same<T, bool>::value };
  template <class U>
  static U get(const T &x) { return (U)x; }
};
// An unscoped enum constant is its promoted integer type, as for a C expression.
template <class T>
struct operand<T, typename std::enable_if<std::is_enum<T>::value>::type> {
  typedef decltype(+T()) P;
  enum { ok = 1, ap = 0, range = 0, W = (int)sizeof(P) * 8, S = std::is_signed<P>::value };
  template <class U>
  static U get(const T &x) { return (U)+x; }
};
template <int WW, bool SS>
struct ap_operand {
  enum { ok = 1, ap = 1, range = 0, W = WW, S = SS };
  template <class U>
  static U get(const base<WW, SS> &x) { return x.template as<U>(); }
};
template <int WW>
struct operand<ap_int<WW>, void> : ap_operand<WW, true> {};
template <int WW>
struct operand<ap_uint<WW>, void> : ap_operand<WW, false> {};
template <int WW, bool SS>
struct operand<base<WW, SS>, void> : ap_operand<WW, SS> {};
// A slice is the unsigned value of the whole word's width, as in the real types.
template <int WW, bool SS>
struct operand<range_ref<WW, SS>, void> {
  enum { ok = 1, ap = 1, range = 1, W = WW, S = 0 };
  template <class U>
  static U get(const range_ref<WW, SS> &r) { return (U)r.bits(); }
};

// One bit counts as a bool (it converts to one; arithmetic on it is C's).
template <int WW, bool SS>
struct operand<bit_ref<WW, SS>, void> {
  enum { ok = 1, ap = 0, range = 0, W = 1, S = 0 };
  template <class U>
  static U get(const bit_ref<WW, SS> &r) { return (U)(bool)r; }
};

// The value of an operand; refuses what is not one.
template <class U, class T>
inline U value_of(const T &x) {
  static_assert(operand<T>::ok, "ap_int shim: an ap_int/ap_uint operand must be an ap_int, ap_uint, a range() of one or a C integer type (cast floating-point values explicitly)");
  return operand<T>::template get<U>(x);
}

// Binary operators take part in overload resolution only when an ap value is involved, so
// that plain C arithmetic is untouched; an unsupported partner is refused with a message.
template <class A, class B>
struct involves_ap {
  static const bool value = operand<A>::ap || operand<B>::ap;
};

// A slice of an ap_int: the real types give its arithmetic with ap values the word's signedness.
template <class T>
struct signed_range {
  static const bool value = false;
};
template <int WW>
struct signed_range<range_ref<WW, true> > {
  static const bool value = true;
};

// Result widths of the real types (UG1399), W' = W + 1 for an unsigned operand next to a
// signed one.
template <class A, class B>
struct rtype {
  typedef operand<A> PA;
  typedef operand<B> PB;
  static_assert(PA::ok && PB::ok,
                "ap_int shim: an ap_int/ap_uint operand must be an ap_int, ap_uint, a range() of one or a C integer type "
                "(cast floating-point values explicitly)");
  enum {
    W1 = PA::W, S1 = PA::S, W2 = PB::W, S2 = PB::S,
    E1 = W1 + (S2 && !S1), E2 = W2 + (S1 && !S2),
    plus_w = max_of(E1, E2) + 1, mult_w = W1 + W2, logic_w = max_of(E1, E2),
    div_w = W1 + S2, mod_w = min_of(W1, W2 + (S1 && !S2)), any_s = S1 || S2, minus_s = 1,
    // wide enough to hold both operands exactly, in the result's signedness
    hold_w = max_of(E1, E2),
    range_with_ap = (signed_range<A>::value && PB::ap && !PB::range) || (signed_range<B>::value && PA::ap && !PA::range)
  };
};

// The operand widths of a binary operator, present only when an ap value is involved
// (SFINAE): the templates found by argument-dependent lookup (e.g. for the iterators of a
// std::vector<ap_uint<128> >) stay out of other types' arithmetic. Each operator then asks
// for its own result width only, so that a width refused for + does not refuse ==.
template <class A, class B, bool = involves_ap<A, B>::value>
struct when_ap {};
template <class A, class B>
struct when_ap<A, B, true> {
  typedef rtype<A, B> K;
};

// Computes a result of width RW, signedness RS from operands held in CW bits; refuses widths
// the carrier cannot hold exactly.
template <int RW, bool RS, int CW>
struct calc {
  static_assert(RW <= MAX_W, "ap_int shim: the result of this operation is wider than 128 bits (64 without __int128); narrow an operand first");
  // (CW <= MAX_W follows: the operands never need more bits than a result the shim accepts.)
  typedef typename carrier<max_of(RW, CW)>::u U;
  typedef typename carrier<max_of(RW, CW)>::s Sg;
  typedef typename ap_of<RW, RS>::type R;
};

template <int W, bool S>
class base {
  static_assert(W >= 1, "ap_int shim: the width must be at least 1");
  static_assert(W <= MAX_W, "ap_int shim: widths above 128 bits (64 without __int128) are not supported");

public:
  typedef typename carrier<W>::u U;
  typedef typename carrier<W>::s Sg;
  typedef typename storage<W, S>::type store_t;
  typedef typename std::conditional<S, long long, unsigned long long>::type RetType;
  static const int width = W;

  base() : v_(0) {}
  // From any operand (C integers, ap values, slices): wraps to W bits.
  template <class T, class = typename std::enable_if<operand<T>::ok || std::is_floating_point<T>::value>::type>
  base(const T &x) {
    static_assert(!std::is_floating_point<T>::value, "ap_int shim: construction from floating point is not supported (convert to an integer explicitly)");
    set_bits(value_of<U>(x)); // only the low W bits matter: W's own carrier suffices
  }

  // The exact value, sign- or zero-extended into the carrier U2 (at least W bits wide).
  template <class U2>
  U2 as() const {
    return S ? (U2)(typename signed_of<U2>::type)v_ : (U2)v_;
  }
  // Stores the low W bits of x.
  template <class U2>
  void set_bits(U2 x) { v_ = (store_t)wrap_bits<U>((U)x, W, S); }
  bool negative() const { return S && v_ < 0; }

  operator RetType() const { return (RetType)v_; }
  int to_int() const { return (int)v_; }
  unsigned to_uint() const { return (unsigned)v_; }
  long to_long() const { return (long)v_; }
  unsigned long to_ulong() const { return (unsigned long)v_; }
  long long to_int64() const { return (long long)v_; }
  unsigned long long to_uint64() const { return (unsigned long long)v_; }
  int length() const { return W; }

  range_ref<W, S> range(int hi, int lo) { return range_ref<W, S>(this, hi, lo); }
  range_ref<W, S> range(int hi, int lo) const { return range_ref<W, S>(const_cast<base *>(this), hi, lo); }
  range_ref<W, S> operator()(int hi, int lo) { return range(hi, lo); }
  range_ref<W, S> operator()(int hi, int lo) const { return range(hi, lo); }
  bit_ref<W, S> operator[](int i) { return bit_ref<W, S>(this, i); }
  bit_ref<W, S> operator[](int i) const { return bit_ref<W, S>(const_cast<base *>(this), i); }

  // Compound assignment: the operation modulo 2^W, exact for + - * & | ^ whatever the widths:
  // the low W bits of the result depend only on the low W bits of the operands, so W's carrier
  // (64 bits up to W = 64) suffices.
  template <class T>
  base &operator+=(const T &x) { return apply(as<U>() + value_of<U>(x)); }
  template <class T>
  base &operator-=(const T &x) { return apply(as<U>() - value_of<U>(x)); }
  template <class T>
  base &operator*=(const T &x) { return apply(as<U>() * value_of<U>(x)); }
  template <class T>
  base &operator&=(const T &x) { return apply(as<U>() & value_of<U>(x)); }
  template <class T>
  base &operator|=(const T &x) { return apply(as<U>() | value_of<U>(x)); }
  template <class T>
  base &operator^=(const T &x) { return apply(as<U>() ^ value_of<U>(x)); }
  template <class T>
  base &operator/=(const T &x);
  template <class T>
  base &operator%=(const T &x);
  template <class T>
  base &operator<<=(const T &x);
  template <class T>
  base &operator>>=(const T &x);

  base &operator++() { return apply(as<U>() + 1); }
  base &operator--() { return apply(as<U>() - 1); }
  typename ap_of<W, S>::type operator++(int) {
    typename ap_of<W, S>::type old(*this);
    ++*this;
    return old;
  }
  typename ap_of<W, S>::type operator--(int) {
    typename ap_of<W, S>::type old(*this);
    --*this;
    return old;
  }

  typename ap_of<W, S>::type operator+() const { return typename ap_of<W, S>::type(*this); }
  // Like 0 - x: one bit wider and signed, so -ap_int<W>(min) and -ap_uint<W>(x) are exact.
  // (A template, so that ap_int<128> exists even though its negation would be refused.)
  template <int D = 0>
  typename calc<max_of(W, 1 + S) + 1 + D, true, W + 1>::R operator-() const {
    typedef calc<max_of(W, 1 + S) + 1 + D, true, W + 1> C;
    typename C::R r;
    r.set_bits((typename C::U)0 - as<typename C::U>());
    return r;
  }
  typename ap_of<W, S>::type operator~() const {
    typename ap_of<W, S>::type r;
    r.set_bits(~as<U>());
    return r;
  }
  bool operator!() const { return v_ == 0; }

private:
  base &apply(U x) {
    set_bits(x);
    return *this;
  }
  store_t v_;
};

// A slice [hi:lo] of an ap value (reversed when hi < lo): reads as the zero-extended bits,
// assignment replaces them with the low bits of the value assigned.
template <int W, bool S>
class range_ref {
public:
  range_ref(base<W, S> *word, int hi, int lo) : word_(word), hi_(hi), lo_(lo) {
    if (hi < 0 || hi >= W) fail("range() index", hi, W);
    if (lo < 0 || lo >= W) fail("range() index", lo, W);
  }
  int length() const { return (hi_ >= lo_ ? hi_ - lo_ : lo_ - hi_) + 1; }
  typename carrier<W>::u bits() const {
    typedef typename carrier<W>::u U;
    const U word = word_->template as<U>();
    if (hi_ >= lo_) return wrap_bits<U>(word >> lo_, length(), false);
    U r = 0;
    for (int j = 0; j < length(); j++) r |= ((word >> (lo_ - j)) & 1) << j;
    return r;
  }
  operator unsigned long long() const { return (unsigned long long)bits(); }
  unsigned long long to_uint64() const { return (unsigned long long)bits(); }
  long long to_int64() const { return (long long)bits(); }
  int to_int() const { return (int)bits(); }
  unsigned to_uint() const { return (unsigned)bits(); }
  long to_long() const { return (long)bits(); }
  unsigned long to_ulong() const { return (unsigned long)bits(); }

  range_ref(const range_ref &) = default;
  range_ref &operator=(const range_ref &x) { return assign(x.bits()); }
  template <class T>
  range_ref &operator=(const T &x) {
    static_assert(operand<T>::ok, "ap_int shim: a range() is assigned from an ap_int, ap_uint, a range() or a C integer type");
    return assign(operand<T>::template get<typename carrier<W>::u>(x));
  }

private:
  range_ref &assign(typename carrier<W>::u x) {
    typedef typename carrier<W>::u U;
    U word = word_->template as<U>();
    if (hi_ >= lo_) {
      const U mask = wrap_bits<U>(~(U)0, length(), false) << lo_;
      word_->set_bits((word & ~mask) | ((x << lo_) & mask));
      return *this;
    }
    for (int j = 0; j < length(); j++) {
      const int at = hi_ >= lo_ ? lo_ + j : lo_ - j;
      word = (word & ~((U)1 << at)) | (((x >> j) & 1) << at);
    }
    word_->set_bits(word);
    return *this;
  }
  base<W, S> *word_;
  int hi_;
  int lo_;
};

// One bit of an ap value: reads as bool; assigning converts the value to bool first, as the
// real types do (x[i] = 2 sets the bit).
template <int W, bool S>
class bit_ref {
public:
  bit_ref(base<W, S> *word, int i) : word_(word), i_(i) {
    if (i < 0 || i >= W) fail("bit index", i, W);
  }
  operator bool() const { return (word_->template as<typename carrier<W>::u>() >> i_) & 1; }
  bit_ref(const bit_ref &) = default;
  bit_ref &operator=(const bit_ref &x) { return *this = (bool)x; }
  bit_ref &operator=(bool x) {
    typedef typename carrier<W>::u U;
    const U word = word_->template as<U>();
    word_->set_bits((word & ~((U)1 << i_)) | ((U)x << i_));
    return *this;
  }

private:
  base<W, S> *word_;
  int i_;
};

// ---- binary operators ----

#define M3VIT_SHIM_ARITH(OP, RW, RS, CW)                                                              \
  template <class A, class B>                                                                         \
  inline typename calc<when_ap<A, B>::K::RW, (when_ap<A, B>::K::RS), when_ap<A, B>::K::CW>::R      \
  operator OP(const A &a, const B &b) {                                                               \
    typedef rtype<A, B> K;                                                                            \
    static_assert(!K::range_with_ap, "ap_int shim: arithmetic between a range() of an ap_int and an ap_int/ap_uint is not modelled (the real types give it the word's signedness); convert the range() with ap_uint<W>(...) first"); \
    typedef calc<K::RW, (K::RS), K::CW> C;                                                            \
    typename C::R r;                                                                                  \
    r.set_bits(operand<A>::template get<typename C::U>(a) OP operand<B>::template get<typename C::U>(b)); \
    return r;                                                                                         \
  }
// Computed modulo 2^carrier bits in unsigned arithmetic (no signed overflow), then wrapped to
// the result width, which holds the exact result by construction.
M3VIT_SHIM_ARITH(+, plus_w, any_s, hold_w)
M3VIT_SHIM_ARITH(-, plus_w, minus_s, hold_w)
M3VIT_SHIM_ARITH(*, mult_w, any_s, hold_w)
M3VIT_SHIM_ARITH(&, logic_w, any_s, hold_w)
M3VIT_SHIM_ARITH(|, logic_w, any_s, hold_w)
M3VIT_SHIM_ARITH(^, logic_w, any_s, hold_w)
#undef M3VIT_SHIM_ARITH

// Truncating division on the exact values (C's rule). By -1 the quotient is the negation and
// the remainder 0, computed so (the carrier's minimum / -1 would trap). A division by zero is
// C's (undefined), as in the real types.
template <class U, bool SIGNED>
inline U quotient(U x, U y) {
  typedef typename signed_of<U>::type Sg;
  if (!SIGNED) return x / y;
  return (Sg)y == -1 ? (U)0 - x : (U)((Sg)x / (Sg)y);
}
template <class U, bool SIGNED>
inline U remainder(U x, U y) {
  typedef typename signed_of<U>::type Sg;
  if (!SIGNED) return x % y;
  return (Sg)y == -1 ? (U)0 : (U)((Sg)x % (Sg)y);
}
#define M3VIT_SHIM_DIV(OP, RW, RS, FN)                                                                \
  template <class A, class B>                                                                         \
  inline typename calc<when_ap<A, B>::K::RW, (when_ap<A, B>::K::RS), when_ap<A, B>::K::hold_w>::R  \
  operator OP(const A &a, const B &b) {                                                               \
    typedef rtype<A, B> K;                                                                            \
    static_assert(K::S1 == K::S2, "ap_int shim: / and % between signed and unsigned operands are not modelled (the real types follow neither C's nor the exact rule); give both sides the same signedness (e.g. 3u for an ap_uint)"); \
    static_assert(!K::range_with_ap, "ap_int shim: arithmetic between a range() of an ap_int and an ap_int/ap_uint is not modelled (the real types give it the word's signedness); convert the range() with ap_uint<W>(...) first"); \
    typedef calc<K::RW, (K::RS), K::hold_w> C;                                                        \
    typename C::R r;                                                                                  \
    r.set_bits(FN<typename C::U, K::any_s>(operand<A>::template get<typename C::U>(a), operand<B>::template get<typename C::U>(b))); \
    return r;                                                                                         \
  }
M3VIT_SHIM_DIV(/, div_w, any_s, quotient)
M3VIT_SHIM_DIV(%, mod_w, S1, remainder)
#undef M3VIT_SHIM_DIV

// Comparisons follow the C-simulation model, which applies C's usual conversions rather than
// comparing values when the signedness differs:
//   ==, !=: each side extended by its own signedness to E = max(W1, W2) bits (at least 32 when
//     the left side has at most 64 bits), then the bit patterns compared: ap_uint<64>(~0) ==
//     ap_int<64>(-1) holds;
//   <, <=, >, >=: by value, except that a negative signed operand counts as greater than every
//     unsigned one when the unsigned operand is at least as wide (and, for a left side of at
//     most 64 bits, not both narrower than 32 bits): ap_uint<32>(1) < -1 holds, as in C.
template <class A, class B>
inline bool equal(const A &a, const B &b) {
  typedef rtype<A, B> K;
  enum { E = max_of(max_of(K::W1, K::W2), K::W1 <= 64 ? 32 : 1) };
  typedef typename carrier<E>::u U;
  return wrap_bits<U>(operand<A>::template get<U>(a), E, false) == wrap_bits<U>(operand<B>::template get<U>(b), E, false);
}
template <class A, class B>
inline int order(const A &a, const B &b) {
  typedef rtype<A, B> K;
  typedef typename carrier<max_of(K::W1, K::W2)>::u U;
  typedef typename signed_of<U>::type Sg;
  enum {
    mixed = K::S1 != K::S2,
    c_like = mixed && !(K::W1 <= 64 && K::W1 < 32 && K::W2 < 32) && (K::S1 ? K::W2 >= K::W1 : K::W1 >= K::W2)
  };
  const U x = operand<A>::template get<U>(a);
  const U y = operand<B>::template get<U>(b);
  const bool xneg = K::S1 && (Sg)x < 0;
  const bool yneg = K::S2 && (Sg)y < 0;
  if (xneg != yneg) return (xneg ? -1 : 1) * (c_like ? -1 : 1);
  if (K::S1 && K::S2) return (Sg)x < (Sg)y ? -1 : (Sg)x > (Sg)y;
  return x < y ? -1 : x > y;
}
#define M3VIT_SHIM_CMP(OP, CMP)                                                                            \
  template <class A, class B>                                                                         \
  inline typename std::enable_if<involves_ap<A, B>::value, bool>::type operator OP(const A &a, const B &b) { \
    return CMP;                                                                                       \
  }
M3VIT_SHIM_CMP(==, equal(a, b))
M3VIT_SHIM_CMP(!=, !equal(a, b))
M3VIT_SHIM_CMP(<, order(a, b) < 0)
M3VIT_SHIM_CMP(<=, order(a, b) <= 0)
M3VIT_SHIM_CMP(>, order(a, b) > 0)
M3VIT_SHIM_CMP(>=, order(a, b) >= 0)
#undef M3VIT_SHIM_CMP

// A shift amount as a signed count (negative: shift the other way).
template <class T>
inline long long shift_amount(const T &x) {
  typedef operand<T> P;
  static_assert(P::ok, "ap_int shim: a shift amount must be a C integer type, an ap_int/ap_uint or a range()");
  static_assert(!P::ap || P::W <= 32, "ap_int shim: an ap_int/ap_uint shift amount wider than 32 bits is not modelled (the real types use its low 32 bits)");
  typedef typename carrier<P::W>::u U;
  typedef typename carrier<P::W>::s Sg;
  const U u = P::template get<U>(x);
  const bool neg = P::S && (Sg)u < 0;
  if (neg ? (Sg)u < -(Sg)0x7fffffff : u > (U)0x7fffffff) {
    fprintf(stderr, "ERROR: ap_int shim: shift amount out of range\n");
    abort();
  }
  return neg ? (long long)(Sg)u : (long long)u;
}
// x shifted left by n (n < 0: right), in x's width: vacated bits are 0 or copies of the sign.
template <int W, bool S>
inline typename ap_of<W, S>::type shifted(const base<W, S> &x, long long n) {
  typedef typename base<W, S>::U U;
  typename ap_of<W, S>::type r;
  const U v = x.template as<U>();
  const int bits = (int)sizeof(U) * 8;
  if (n >= 0) r.set_bits(n >= W ? (U)0 : (U)(v << n));
  else if (-n >= bits) r.set_bits(x.negative() ? ~(U)0 : (U)0);
  else r.set_bits(S ? (U)((typename base<W, S>::Sg)v >> -n) : (U)(v >> -n));
  return r;
}
template <class A>
struct shift_lhs {}; // not an ap value: no shift operator (C's applies, as for the real types)
template <int W, bool S>
struct shift_lhs<base<W, S> > {
  typedef typename ap_of<W, S>::type type;
  static const base<W, S> &of(const base<W, S> &x) { return x; }
};
template <int W>
struct shift_lhs<ap_int<W> > {
  typedef ap_int<W> type;
  static const base<W, true> &of(const ap_int<W> &x) { return x; }
};
template <int W>
struct shift_lhs<ap_uint<W> > {
  typedef ap_uint<W> type;
  static const base<W, false> &of(const ap_uint<W> &x) { return x; }
};
// A slice shifts as the unsigned value of the whole word's width.
template <int W, bool S>
struct shift_lhs<range_ref<W, S> > {
  typedef ap_uint<W> type;
  static ap_uint<W> of(const range_ref<W, S> &x) { return ap_uint<W>(x); }
};

template <int W, bool S>
template <class T>
base<W, S> &base<W, S>::operator/=(const T &x) {
  return *this = base(*this / x);
}
template <int W, bool S>
template <class T>
base<W, S> &base<W, S>::operator%=(const T &x) {
  return *this = base(*this % x);
}
template <int W, bool S>
template <class T>
base<W, S> &base<W, S>::operator<<=(const T &x) {
  return *this = shifted(*this, shift_amount(x));
}
template <int W, bool S>
template <class T>
base<W, S> &base<W, S>::operator>>=(const T &x) {
  return *this = shifted(*this, -shift_amount(x));
}

// Shifts keep the left operand's type; a C integer on the left shifts as C does (the real types
// define no such operator either: the ap value on the right converts to long long).
template <class A, class B>
inline typename shift_lhs<A>::type operator<<(const A &a, const B &b) {
  static_assert(!(signed_range<A>::value && operand<B>::ap && !operand<B>::range), "ap_int shim: a range() of an ap_int shifted by an ap_int/ap_uint is not modelled (the real types give it the word's signedness); convert the range() with ap_uint<W>(...) first");
  return shifted(shift_lhs<A>::of(a), shift_amount(b));
}
template <class A, class B>
inline typename shift_lhs<A>::type operator>>(const A &a, const B &b) {
  static_assert(!(signed_range<A>::value && operand<B>::ap && !operand<B>::range), "ap_int shim: a range() of an ap_int shifted by an ap_int/ap_uint is not modelled (the real types give it the word's signedness); convert the range() with ap_uint<W>(...) first");
  return shifted(shift_lhs<A>::of(a), -shift_amount(b));
}

} // namespace m3vit_shim

template <int W>
class ap_int : public m3vit_shim::base<W, true> {
public:
  ap_int() {}
  ap_int(const m3vit_shim::base<W, true> &x) : m3vit_shim::base<W, true>(x) {} // not inherited: same type
  using m3vit_shim::base<W, true>::base;
};

template <int W>
class ap_uint : public m3vit_shim::base<W, false> {
public:
  ap_uint() {}
  ap_uint(const m3vit_shim::base<W, false> &x) : m3vit_shim::base<W, false>(x) {} // not inherited: same type
  using m3vit_shim::base<W, false>::base;
};

#endif // M3VIT_AP_INT_SHIM_H
