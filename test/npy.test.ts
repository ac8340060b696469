/**
 * .npy reading and writing (generator/io/npy.ts). Fixtures: files written by numpy 1.24.2
 * (np.lib.format.write_array, versions 1.0/2.0/3.0), base64 below, created when this test
 * was written.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatNpyFloat32, parseNpy, readNpy } from '../generator/io/npy';
import { userErrorOf } from './helpers/errors';

const NUMPY: Record<string, string> = {
  // np.array([[1.5, -2.25, 3.0], [0.1, 1e-3, -7.0]], dtype=np.float32)
  f4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAQwAAAQEDNzMw9bxKDOgAA4MA=',
  // np.array([0.1, -2.5, 1e300])
  f8: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqamZmZmZm5PwAAAAAAAATAnHUAiDzkN34=',
  // int8 [-128, 0, 127]
  i1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfGkxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqAAH8=',
  // uint8 [0, 200, 255]
  u1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAyP8=',
  // int16 [[-32768], [32767]]
  i2: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGkyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDEpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAgP9/',
  // int32 [-2^31, 2^31 - 1]
  i4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAACA////fw==',
  // int64 [-2^53, 2^53, 5]
  i8: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAADg/wAAAAAAACAABQAAAAAAAAA=',
  // np.arange(6, dtype=np.float32).reshape(2, 3), format 2.0 and 3.0
  v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=',
  v3: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=',
  // np.array(2.5, dtype=np.float32): shape ()
  scalar: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAACBA',
  // float16 [1, 2]
  f2: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPABA',
  // big-endian float32 [1, 2]
  be: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/gAAAQAAAAA==',
  // np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))
  fortran: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAABAQAAAgD8AAIBAAAAAQAAAoEA=',
  // int64 [2^60]
  i8big: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAEA==',
};
const bytes = (k: string): Buffer => Buffer.from(NUMPY[k], 'base64');


describe('parseNpy on numpy-written files', () => {
  it('reads every supported dtype, C order', () => {
    const f4 = parseNpy(bytes('f4'), 'a.npy');
    expect(f4.dtype).toBe('float32');
    expect(f4.shape).toEqual([2, 3]);
    expect(Array.from(f4.data)).toEqual([1.5, -2.25, 3.0, 0.1, 1e-3, -7.0].map(Math.fround));
    expect(Array.from(parseNpy(bytes('f8'), 'a.npy').data)).toEqual([0.1, -2.5, 1e300]);
    expect(Array.from(parseNpy(bytes('i1'), 'a.npy').data)).toEqual([-128, 0, 127]);
    expect(Array.from(parseNpy(bytes('u1'), 'a.npy').data)).toEqual([0, 200, 255]);
    const i2 = parseNpy(bytes('i2'), 'a.npy');
    expect([i2.shape, Array.from(i2.data)]).toEqual([[2, 1], [-32768, 32767]]);
    expect(Array.from(parseNpy(bytes('i4'), 'a.npy').data)).toEqual([-(2 ** 31), 2 ** 31 - 1]);
    expect(Array.from(parseNpy(bytes('i8'), 'a.npy').data)).toEqual([-(2 ** 53), 2 ** 53, 5]);
    const sc = parseNpy(bytes('scalar'), 'a.npy');
    expect([sc.shape, Array.from(sc.data)]).toEqual([[], [2.5]]);
  });

  it('reads format versions 2.0 and 3.0', () => {
    for (const k of ['v2', 'v3']) {
      const a = parseNpy(bytes(k), 'a.npy');
      expect([a.shape, Array.from(a.data)]).toEqual([[2, 3], [0, 1, 2, 3, 4, 5]]);
    }
  });

  it('refuses, naming the file and what is allowed: float16, big-endian, Fortran order, int64 beyond 2^53', () => {
    expect(userErrorOf(() => parseNpy(bytes('f2'), 'x.npy'))).toMatch(/^x\.npy: .*dtype '<f2' is not supported.*allowed: float32, float64/);
    expect(userErrorOf(() => parseNpy(bytes('be'), 'x.npy'))).toMatch(/big-endian/);
    expect(userErrorOf(() => parseNpy(bytes('fortran'), 'x.npy'))).toMatch(/Fortran order/);
    expect(userErrorOf(() => parseNpy(bytes('i8big'), 'x.npy'))).toMatch(/beyond 2\^53/);
  });

  it('refuses broken files: no magic, truncated header, truncated data, trailing bytes, bad header', () => {
    expect(userErrorOf(() => parseNpy(Buffer.from('{"json": true}'), 'x.npy'))).toMatch(/magic/);
    const f4 = bytes('f4');
    expect(userErrorOf(() => parseNpy(f4.subarray(0, 50), 'x.npy'))).toMatch(/runs past the end/);
    expect(userErrorOf(() => parseNpy(f4.subarray(0, f4.length - 1), 'x.npy'))).toMatch(/needs 24 data bytes, the file has 23/);
    expect(userErrorOf(() => parseNpy(Buffer.concat([f4, Buffer.from([0])]), 'x.npy'))).toMatch(/1 bytes after the data/);
    const bad = Buffer.from(f4);
    bad.write("{'descr': '<f4', 'shape': (2, 3), }", 10, 'latin1'); // no fortran_order
    expect(userErrorOf(() => parseNpy(bad, 'x.npy'))).toMatch(/'descr', 'fortran_order' and 'shape'/);
    const v9 = Buffer.from(f4);
    v9[6] = 9;
    expect(userErrorOf(() => parseNpy(v9, 'x.npy'))).toMatch(/format version 9/);
  });

  it('readNpy: a missing file or a folder is a UserError', () => {
    expect(userErrorOf(() => readNpy(path.join(os.tmpdir(), 'no-such-file-m3vit.npy')))).toMatch(/file not found/);
    expect(userErrorOf(() => readNpy(os.tmpdir()))).toMatch(/is a folder/);
  });
});

describe('formatNpyFloat32', () => {
  it('writes byte for byte what numpy writes', () => {
    const out = formatNpyFloat32([2, 3], [1.5, -2.25, 3.0, 0.1, 1e-3, -7.0]);
    expect(Buffer.from(out).equals(bytes('f4'))).toBe(true);
    const sc = formatNpyFloat32([], [2.5]);
    expect(Buffer.from(sc).equals(bytes('scalar'))).toBe(true);
  });

  it('round-trips through the reader, 1-D shapes included; header padded to 64 bytes', () => {
    const data = [0, -1, 3.25, 1e-8, 65504];
    const out = formatNpyFloat32([5], data);
    expect((10 + Buffer.from(out).readUInt16LE(8)) % 64).toBe(0);
    const a = parseNpy(out, 'rt.npy');
    expect(a.shape).toEqual([5]);
    expect(Array.from(a.data)).toEqual(data.map(Math.fround));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npy-'));
    fs.writeFileSync(path.join(tmp, 'a.npy'), out);
    expect(readNpy(path.join(tmp, 'a.npy')).shape).toEqual([5]);
    fs.rmSync(tmp, { recursive: true });
    expect(() => formatNpyFloat32([2, 2], [1, 2, 3])).toThrow(/4 elements, data has 3/);
  });
});
