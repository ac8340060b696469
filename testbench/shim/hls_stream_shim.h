// hls_stream_shim.h: a stand-in for the Vitis HLS hls::stream C-simulation model, so that
// kernels with DATAFLOW regions build and run their csim with g++ or clang++ alone (m3vit-gen
// copies it into src/shim/ of every project; with <hls_stream.h> on the include path and
// M3VIT_USE_SHIM undefined the real model is used instead).
//
// Written for m3vit-gen from the documented C-simulation behaviour (UG1399, "HLS Stream
// Library"); it does not copy the Vitis header. test/hls-stream-shim.test.ts runs the same
// program with this shim and with the real header and compares the outputs.
//
// The model: a FIFO of unbounded depth (in C simulation the depth pragma means nothing; a
// DATAFLOW region's processes run one after the other, each to completion), so full() is always
// false and every write succeeds. This is the csim model only: it is never synthesised, which is
// why it may use <deque> although kernels use no STL.
//
// One deliberate difference: reading an empty stream is an error here. The real model prints a
// warning and returns a default-constructed value (and the RTL would hang, or read garbage in
// cosim), so csim would go on with a wrong value; this shim prints the stream's name and aborts,
// so a producer/consumer mismatch fails the csim at the read that exposes it.
#ifndef M3VIT_HLS_STREAM_SHIM_H
#define M3VIT_HLS_STREAM_SHIM_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <deque>
#include <string>

namespace hls {

template <typename T>
class stream {
public:
  stream() : name_(default_name()) {}
  explicit stream(const char *name) : name_(name) {}
  explicit stream(const std::string &name) : name_(name) {}
  // Leftover data is legal C++ but means a consumer read fewer elements than its producer wrote
  // (the RTL would stall): warned, as the real model does.
  ~stream() {
    if (!data_.empty()) fprintf(stderr, "WARNING: hls::stream '%s' contains leftover data (%zu elements)\n", name_.c_str(), data_.size());
  }

  bool empty() const { return data_.empty(); }
  bool full() const { return false; }
  size_t size() const { return data_.size(); }

  void write(const T &x) { data_.push_back(x); }
  bool write_nb(const T &x) {
    write(x);
    return true;
  }
  T read() {
    if (data_.empty()) {
      fprintf(stderr, "ERROR: hls::stream '%s' is read while empty (its producer wrote fewer elements than are read)\n", name_.c_str());
      abort();
    }
    T x = data_.front();
    data_.pop_front();
    return x;
  }
  void read(T &x) { x = read(); }
  // Non-blocking read: false (and x default-constructed, as in the real model) when empty.
  bool read_nb(T &x) {
    if (data_.empty()) {
      x = T();
      return false;
    }
    x = read();
    return true;
  }

  void operator>>(T &x) { read(x); }
  void operator<<(const T &x) { write(x); }

  const char *name() const { return name_.c_str(); }

private:
  // Streams are channels between processes: never copied, as in the real model.
  stream(const stream &);
  stream &operator=(const stream &);

  static std::string default_name() {
    static unsigned count = 0;
    char buf[32];
    snprintf(buf, sizeof buf, "hls_stream.%u", ++count);
    return buf;
  }

  std::string name_;
  std::deque<T> data_;
};

} // namespace hls

#endif // M3VIT_HLS_STREAM_SHIM_H
