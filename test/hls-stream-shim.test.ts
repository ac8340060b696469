/**
 * The hls::stream shim (testbench/shim/hls_stream_shim.h) against the real C-simulation model
 * (the vendored hls_stream.h): the common API on a producer -> transform -> consumer chain and
 * the status calls (test/cpp/stream_diff.cpp), same output line by line under g++ and clang++.
 * Then the one deliberate difference: reading an empty stream aborts naming the stream, where the
 * real model warns and carries on with a default value.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compile, haveCompiler, runExe as run, SHIM_DIR, tempDir, vendorInclude } from './helpers/cpp';

const CPP = path.join(__dirname, 'cpp');
const FLAGS = ['-std=c++14', '-O1', '-Wall', '-Wextra', '-Werror', `-I${SHIM_DIR}`];
const COMPILERS = ['g++', 'clang++'].filter(haveCompiler);


const EMPTY_READ = `#include "hls_stream_shim.h"
#include "ap_int_shim.h"
int main() {
  hls::stream<ap_int<16> > weights("weights");
  weights.write(1);
  (void)weights.read();
  (void)weights.read();
  return 0;
}
`;

describe('hls::stream shim', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('stream');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('behaves as the real C-simulation model on the common API (g++ and clang++)', () => {
    const vendor = vendorInclude();
    if (!vendor) return;
    expect(COMPILERS).toEqual(['g++', 'clang++']);
    const src = path.join(CPP, 'stream_diff.cpp');
    compile([src], path.join(dir, 'real'), ['-DM3VIT_DIFF_REAL', ...FLAGS, '-isystem', vendor], 'clang++');
    const want = run(path.join(dir, 'real'));
    expect(want.status).toBe(0);
    expect(want.stdout).toMatch(/consume 49: /);
    for (const cxx of COMPILERS) {
      compile([src], path.join(dir, `shim-${cxx}`), FLAGS, cxx);
      const got = run(path.join(dir, `shim-${cxx}`));
      expect(got.status).toBe(0);
      expect(got.stdout.split('\n')).toEqual(want.stdout.split('\n'));
      expect(got.stderr).toBe('');
    }
  });

  it('aborts on a read from an empty stream, naming the stream', () => {
    const src = path.join(dir, 'empty.cpp');
    fs.writeFileSync(src, EMPTY_READ);
    for (const cxx of COMPILERS) {
      compile([src], path.join(dir, `empty-${cxx}`), FLAGS, cxx);
      const r = run(path.join(dir, `empty-${cxx}`));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/hls::stream 'weights' is read while empty/);
    }
  });

  it('where the real model only warns and returns a default value (why the shim is stricter)', () => {
    const vendor = vendorInclude();
    if (!vendor) return;
    const src = path.join(dir, 'empty-real.cpp');
    fs.writeFileSync(src, EMPTY_READ.replace('#include "hls_stream_shim.h"\n#include "ap_int_shim.h"', '#include <ap_int.h>\n#include <hls_stream.h>'));
    compile([src], path.join(dir, 'empty-real'), [...FLAGS, '-isystem', vendor], 'clang++');
    const r = run(path.join(dir, 'empty-real'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/WARNING: Hls::stream 'weights' is read while empty/);
  });

  it('warns about data left in a stream at its end', () => {
    const src = path.join(dir, 'leftover.cpp');
    fs.writeFileSync(src, '#include "hls_stream_shim.h"\nint main() {\n  hls::stream<int> s("tail");\n  s << 1;\n  s << 2;\n  return 0;\n}\n');
    compile([src], path.join(dir, 'leftover'), FLAGS);
    const r = run(path.join(dir, 'leftover'));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/hls::stream 'tail' contains leftover data \(2 elements\)/);
  });
});
