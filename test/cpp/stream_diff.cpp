// The hls::stream shim's differential test (test/hls-stream-shim.test.ts): the common API on a
// producer -> transform -> consumer chain (the shape of a DATAFLOW region) and on the stream
// status calls, printed line by line; built with the shim and with the real hls_stream.h.
#include <stdio.h>

#ifdef M3VIT_DIFF_REAL
#include <ap_int.h>
#include <hls_stream.h>
#else
#include "ap_int_shim.h"
#include "hls_stream_shim.h"
#endif

struct Pair {
  ap_int<48> acc;
  ap_uint<8> tag;
};

static void produce(hls::stream<ap_int<48> > &out, int n) {
  for (int i = 0; i < n; i++) {
    if (i % 2) out.write(ap_int<48>(i * 1000003 - 7));
    else out << ap_int<48>(-i * 77);
  }
}
static void transform(hls::stream<ap_int<48> > &in, hls::stream<Pair> &out, int n) {
  for (int i = 0; i < n; i++) {
    ap_int<48> x;
    if (i % 3 == 0) x = in.read();
    else if (i % 3 == 1) in.read(x);
    else in >> x;
    Pair p;
    p.acc = x * 3;
    p.tag = i;
    out << p;
  }
}
static void consume(hls::stream<Pair> &in, int n) {
  for (int i = 0; i < n; i++) {
    const Pair p = in.read();
    printf("consume %d: %lld tag %u size %d\n", i, (long long)p.acc, (unsigned)p.tag, (int)in.size());
  }
}

int main() {
  hls::stream<ap_int<48> > a("a");
  hls::stream<Pair> b("b");
  printf("empty %d %d full %d size %d\n", (int)a.empty(), (int)b.empty(), (int)a.full(), (int)a.size());
  produce(a, 50);
  printf("after produce: empty %d full %d size %d\n", (int)a.empty(), (int)a.full(), (int)a.size());
  transform(a, b, 50);
  printf("after transform: empty %d size %d; b size %d\n", (int)a.empty(), (int)a.size(), (int)b.size());
  consume(b, 50);
  printf("after consume: empty %d size %d\n", (int)b.empty(), (int)b.size());

  hls::stream<int> c;
  int v = 42;
  const bool got = c.read_nb(v);
  printf("read_nb on empty: %d value %d\n", (int)got, v);
  // (one call per statement: the order of printf's arguments is unspecified)
  const bool wrote = c.write_nb(5);
  printf("write_nb: %d size %d\n", (int)wrote, (int)c.size());
  c.write(6);
  printf("read_nb: %d", (int)c.read_nb(v));
  printf(" value %d size %d\n", v, (int)c.size());
  const int last = c.read();
  printf("read %d empty %d\n", last, (int)c.empty());
  for (int i = 0; i < 1000; i++) c.write(i * i);
  long long sum = 0;
  while (!c.empty()) sum += c.read();
  printf("1000 writes then reads: sum %lld\n", sum);
  return 0;
}
