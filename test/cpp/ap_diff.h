// The operations of the ap_int shim's differential test (test/ap-int-shim.test.ts): each
// function runs one family of operations on one pair of types over a list of values and prints
// one line per result (the result's signedness and width, then its bits in hex), so that the
// output under the shim and under the real headers can be compared line by line.
#ifndef M3VIT_AP_DIFF_H
#define M3VIT_AP_DIFF_H

#include <stdio.h>

#include <type_traits>

#ifdef M3VIT_DIFF_REAL
#include <ap_int.h>
#else
#include "ap_int_shim.h"
#endif

struct V {
  unsigned long long hi, lo;
};

// A 128-bit pattern as a value of T (ap types wrap it, C types take the low word).
template <class T>
T mk(const V &v, std::true_type) {
  return (T)v.lo;
}
template <class T>
T mk(const V &v, std::false_type) {
  ap_uint<128> x = v.hi;
  x <<= 64;
  x |= v.lo;
  return T(x);
}
template <class T>
T mk(const V &v) {
  return mk<T>(v, std::is_arithmetic<T>());
}

static const char *g_case;
static int g_line;

template <class T>
void show(const char *op, const T &x) {
  const int w = T::width;
  const bool s = T(-1) < 0;
  const unsigned long long lo = x.range(w < 64 ? w - 1 : 63, 0).to_uint64();
  const unsigned long long hi = w > 64 ? x.range(w - 1, 64).to_uint64() : 0ull;
  printf("%s %d %s: %c%d %016llx%016llx\n", g_case, g_line, op, s ? 's' : 'u', w, hi, lo);
}
void show(const char *op, bool x) { printf("%s %d %s: bool %d\n", g_case, g_line, op, (int)x); }
void show(const char *op, int x) { printf("%s %d %s: int %d\n", g_case, g_line, op, x); }
void show(const char *op, unsigned x) { printf("%s %d %s: unsigned %u\n", g_case, g_line, op, x); }
void show(const char *op, long x) { printf("%s %d %s: long %ld\n", g_case, g_line, op, x); }
void show(const char *op, unsigned long x) { printf("%s %d %s: ulong %lu\n", g_case, g_line, op, x); }
void show(const char *op, long long x) { printf("%s %d %s: ll %lld\n", g_case, g_line, op, x); }
void show(const char *op, unsigned long long x) { printf("%s %d %s: ull %llu\n", g_case, g_line, op, x); }

#define FOR_VALUES(NAME)                         \
  g_case = NAME;                                 \
  for (g_line = 0; g_line < n; g_line++)

// + - * & | ^ and comparisons of a A with a B.
template <class A, class B>
void plus_logic(const char *name, const V *va, const V *vb, int n) {
  FOR_VALUES(name) {
    const A a = mk<A>(va[g_line]);
    const B b = mk<B>(vb[g_line]);
    show("+", a + b);
    show("-", a - b);
    show("&", a & b);
    show("|", a | b);
    show("^", a ^ b);
    show("==", a == b);
    show("!=", a != b);
    show("<", a < b);
    show("<=", a <= b);
    show(">", a > b);
    show(">=", a >= b);
  }
}
template <class A, class B>
void mult(const char *name, const V *va, const V *vb, int n) {
  FOR_VALUES(name) {
    const A a = mk<A>(va[g_line]);
    const B b = mk<B>(vb[g_line]);
    show("*", a * b);
  }
}
template <class A, class B>
void divide(const char *name, const V *va, const V *vb, int n) {
  FOR_VALUES(name) {
    const A a = mk<A>(va[g_line]);
    const B b = mk<B>(vb[g_line]);
    if (b == 0) continue;
    show("/", a / b);
    show("%", a % b);
    A c = a;
    c /= b;
    show("/=", c);
    c = a;
    c %= b;
    show("%=", c);
  }
}
// Compound assignment (wraps to A's width whatever B is).
template <class A, class B>
void compound(const char *name, const V *va, const V *vb, int n) {
  FOR_VALUES(name) {
    const A a = mk<A>(va[g_line]);
    const B b = mk<B>(vb[g_line]);
    A c = a;
    c += b;
    show("+=", c);
    c = a;
    c -= b;
    show("-=", c);
    c = a;
    c *= b;
    show("*=", c);
    c = a;
    c &= b;
    show("&=", c);
    c = a;
    c |= b;
    show("|=", c);
    c = a;
    c ^= b;
    show("^=", c);
  }
}

// What widens beyond A's width: negation (W + 1 bits) and arithmetic on a slice (a slice is a
// W-bit unsigned value): only while the shim's 128 bits hold the result.
template <class A>
void widening(const A &a, int hi, int lo, std::true_type) {
  show("-x", -a);
  show("range+1", a.range(hi, lo) + 1);
  show("range-range", a.range(hi, lo) - a.range(lo, hi));
}
template <class A>
void widening(const A &, int, int, std::false_type) {}

// Unary operators, conversions, shifts and slices of one type.
template <class A>
void unary(const char *name, const V *va, const int *k, int n) {
  FOR_VALUES(name) {
    const A a = mk<A>(va[g_line]);
    show("id", a);
    show("~x", ~a);
    show("!x", !a);
    show("+x", +a);
    A c = a;
    show("++x", ++c);
    show("x++", c++);
    show("x", c);
    show("--x", --c);
    show("x--", c--);
    show("x", c);
    show("ll", (long long)a);
    show("to_int", a.to_int());
    show("to_uint", a.to_uint());
    show("to_long", a.to_long());
    show("to_int64", a.to_int64());
    show("to_uint64", a.to_uint64());
    show("ap_int<7>", ap_int<7>(a));
    show("ap_uint<33>", ap_uint<33>(a));
    show("ap_int<64>", ap_int<64>(a));
    show("ap_uint<100>", ap_uint<100>(a));
    show("<<1", a << 1);
    show(">>1", a >> 1);
    show("<<3", a << 3);
    show(">>3", a >> 3);
    show("<<u2", a << 2u);
    show(">>ll2", a >> 2ll);
    const int s = k[g_line];
    show("<<k", a << s);
    show(">>k", a >> s);
    show("<<ap_int<8>", a << ap_int<8>(s));
    show(">>ap_int<8>", a >> ap_int<8>(s));
    if (s >= 0) {
      show("<<ap_uint<8>", a << ap_uint<8>(s));
      show(">>ap_uint<8>", a >> ap_uint<8>(s));
    }
    c = a;
    c <<= s;
    show("<<=k", c);
    c = a;
    c >>= s;
    show(">>=k", c);
    // a slice [hi:lo] and its reverse, read and written; one bit read and written
    const int w = A::width;
    const int hi = (s < 0 ? -s : s) % w;
    const int lo = (g_line * 7 + 3) % w;
    show("range", ap_uint<A::width>(a.range(hi, lo)));
    show("range_u64", (unsigned long long)a.range(hi, lo));
    c = a;
    c.range(hi, lo) = va[(g_line + 1) % n].lo;
    show("range=", c);
    c.range(lo, hi) = ap_int<5>(s);
    show("range=ap", c);
    c = a;
    c.range(hi, lo) = a.range(lo, hi);
    show("range=range", c);
    show("bit", (bool)a[lo]);
    c = a;
    c[hi] = !a[hi];
    show("bit=", c);
    show("range<<2", a.range(hi, lo) << 2);
    show("range==", a.range(hi, lo) == va[g_line].lo);
    widening(a, hi, lo, std::integral_constant<bool, (A::width <= 126)>());
  }
}

#endif // M3VIT_AP_DIFF_H
