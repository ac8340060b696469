// The case loop of the numerics test drivers (test/cpp-numerics*.test.ts): one case per line of
// stdin, "<function> <args...>"; `eval(fn, in, out)` parses the arguments from `in`, writes the
// result to `out` and returns false for a function it does not know. Prints one result line
// per case; exits 2 on an unknown function or an argument that does not parse.
#ifndef M3VIT_TEST_CASE_DRIVER_H
#define M3VIT_TEST_CASE_DRIVER_H

#include <stdint.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

static std::vector<int64_t> read_ints(std::istringstream &in, size_t n) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; i++) in >> v[i];
  return v;
}

template <typename Eval>
int run_cases(Eval eval) {
  std::string line;
  std::ostringstream out;
  long cases = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::istringstream in(line);
    std::string fn;
    in >> fn;
    cases++;
    if (!eval(fn, in, out)) {
      std::fprintf(stderr, "unknown function %s\n", fn.c_str());
      return 2;
    }
    if (!in) {
      std::fprintf(stderr, "case %ld: could not parse \"%s\"\n", cases, line.c_str());
      return 2;
    }
    out << "\n";
  }
  std::cout << out.str();
  return 0;
}

#endif
