/**
 * The safetensors reader and writer. Expected values come from hand-assembled bytes (IEEE
 * encodings written out below), not from the writer under test.
 */
import { decodeTensor, e4m3ToNumber, encodeSafetensors, halfToNumber, parseSafetensors, type SafetensorsFile } from '../generator/weights/safetensors';
import { UserError } from '../generator/util/errors';

/** A file from a header object and raw data bytes, assembled by hand. */
function assemble(header: Record<string, unknown>, data: number[], pad = 0): Uint8Array {
  const json = Buffer.from(JSON.stringify(header) + ' '.repeat(pad), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  out[0] = json.length & 0xff;
  out[1] = (json.length >> 8) & 0xff;
  out[2] = (json.length >> 16) & 0xff;
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function values(f: SafetensorsFile, name: string): number[] {
  return [...decodeTensor(f, f.entries.find((e) => e.name === name)!)];
}

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('safetensors decoding (hand-assembled bytes)', () => {
  const le = (bytes: number[]): number[] => bytes;
  const f = parseSafetensors(
    assemble(
      {
        __metadata__: { format: 'pt', note: 'hand-made' },
        f32: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        f16: { dtype: 'F16', shape: [2, 3], data_offsets: [8, 20] },
        bf16: { dtype: 'BF16', shape: [3], data_offsets: [20, 26] },
        i64: { dtype: 'I64', shape: [1], data_offsets: [26, 34] },
        i8: { dtype: 'I8', shape: [2], data_offsets: [34, 36] },
        u8: { dtype: 'U8', shape: [1], data_offsets: [36, 37] },
        i16: { dtype: 'I16', shape: [1], data_offsets: [37, 39] },
        i32: { dtype: 'I32', shape: [1], data_offsets: [39, 43] },
        u16: { dtype: 'U16', shape: [1], data_offsets: [43, 45] },
        u32: { dtype: 'U32', shape: [1], data_offsets: [45, 49] },
        bool: { dtype: 'BOOL', shape: [2], data_offsets: [49, 51] },
        e4m3: { dtype: 'F8_E4M3', shape: [3], data_offsets: [51, 54] },
        e5m2: { dtype: 'F8_E5M2', shape: [2], data_offsets: [54, 56] },
        empty: { dtype: 'F32', shape: [0, 4], data_offsets: [56, 56] },
        f64: { dtype: 'F64', shape: [1], data_offsets: [56, 64] },
        u64: { dtype: 'U64', shape: [1], data_offsets: [64, 72] },
      },
      [
        ...le([0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x20, 0xc1]), // F32 1.5, -10
        ...le([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x55, 0x35, 0x00, 0x7c]), // F16 1, -2, 65504, 2^-24, 0x3555, +inf
        ...le([0x80, 0x3f, 0xa0, 0xc0, 0x49, 0x40]), // BF16 1, -5, 3.140625
        ...le([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // I64 -2
        0x80, 0x7f, // I8 -128, 127
        0xff, // U8 255
        0xd4, 0xfe, // I16 -300
        0x00, 0x00, 0x00, 0x80, // I32 -2^31
        0xff, 0xff, // U16 65535
        0xff, 0xff, 0xff, 0xff, // U32 2^32 - 1
        0x00, 0x02, // BOOL false, true
        0x38, 0x7e, 0x01, // E4M3 1, 448, 2^-9
        0x3c, 0x7b, // E5M2 1, 57344
        ...le([0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f]), // F64 0.1
        ...le([0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]), // U64 2^32
      ],
    ),
    'hand.safetensors',
  );

  it('reads the metadata and every entry in header order', () => {
    expect(f.metadata).toEqual({ format: 'pt', note: 'hand-made' });
    expect(f.entries.map((e) => e.name)).toEqual(['f32', 'f16', 'bf16', 'i64', 'i8', 'u8', 'i16', 'i32', 'u16', 'u32', 'bool', 'e4m3', 'e5m2', 'empty', 'f64', 'u64']);
    expect(f.entries[1].shape).toEqual([2, 3]);
  });

  it('decodes float dtypes exactly', () => {
    expect(values(f, 'f32')).toEqual([1.5, -10]);
    expect(values(f, 'f16')).toEqual([1, -2, 65504, 2 ** -24, 0.333251953125, Infinity]);
    expect(values(f, 'bf16')).toEqual([1, -5, 3.140625]);
    expect(values(f, 'f64')).toEqual([0.1]);
    expect(values(f, 'e4m3')).toEqual([1, 448, 2 ** -9]);
    expect(values(f, 'e5m2')).toEqual([1, 57344]);
    expect(values(f, 'empty')).toEqual([]);
  });

  it('decodes integer dtypes', () => {
    expect(values(f, 'i64')).toEqual([-2]);
    expect(values(f, 'i8')).toEqual([-128, 127]);
    expect(values(f, 'u8')).toEqual([255]);
    expect(values(f, 'i16')).toEqual([-300]);
    expect(values(f, 'i32')).toEqual([-(2 ** 31)]);
    expect(values(f, 'u16')).toEqual([65535]);
    expect(values(f, 'u32')).toEqual([2 ** 32 - 1]);
    expect(values(f, 'u64')).toEqual([2 ** 32]);
    expect(values(f, 'bool')).toEqual([0, 1]);
  });

  it('decodes half and fp8 special values', () => {
    expect(halfToNumber(0x8000)).toBe(-0);
    expect(Number.isNaN(halfToNumber(0x7e00))).toBe(true);
    expect(halfToNumber(0xfc00)).toBe(-Infinity);
    expect(halfToNumber(0x0400)).toBe(2 ** -14); // smallest normal
    expect(Number.isNaN(e4m3ToNumber(0x7f))).toBe(true);
    expect(e4m3ToNumber(0xb8)).toBe(-1);
  });

  it('reads tensors whose data is not aligned (header without padding)', () => {
    // A 3-byte header {} plus padding 0 puts the data at offset 11: not a multiple of 4.
    const g = parseSafetensors(assemble({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0x80, 0xbf]), 'x');
    expect(g.dataStart % 4).not.toBe(0);
    expect(values(g, 'a')).toEqual([-1]);
  });
});

describe('safetensors writer', () => {
  it('writes what the reader reads back, F32 rounded, F64 exact, data aligned to 8 bytes', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'w', shape: [2, 2], data: [1, -2.5, 0.1, 3e38] },
        { name: 'd', shape: [1], data: [0.1], dtype: 'F64' },
        { name: 'z', shape: [0], data: [] },
      ],
      { format: 'pt' },
    );
    const f = parseSafetensors(bytes, 'w');
    expect(f.dataStart % 8).toBe(0);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(values(f, 'w')).toEqual([1, -2.5, Math.fround(0.1), Math.fround(3e38)]);
    expect(values(f, 'd')).toEqual([0.1]);
    expect(f.entries.map((e) => e.dtype)).toEqual(['F32', 'F64', 'F32']);
    // The header field is the little-endian u64 length of the JSON.
    const len = new DataView(bytes.buffer).getUint32(0, true);
    expect(JSON.parse(Buffer.from(bytes.subarray(8, 8 + len)).toString('utf8')).w).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    // 1.0f as bytes at the start of the data.
    expect([...bytes.subarray(f.dataStart, f.dataStart + 4)]).toEqual([0, 0, 0x80, 0x3f]);
  });

  it('is deterministic', () => {
    const t = [{ name: 'a', shape: [3], data: [1, 2, 3] }];
    expect(Buffer.from(encodeSafetensors(t, { k: 'v' })).equals(Buffer.from(encodeSafetensors(t, { k: 'v' })))).toBe(true);
  });
});

describe('corrupt safetensors files: one clear error naming the tensor', () => {
  const good = (): Uint8Array => encodeSafetensors([
    { name: 'a.weight', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
    { name: 'a.bias', shape: [2], data: [7, 8] },
  ]);

  it('refuses a file shorter than the length field', () => {
    expect(problemsOf(() => parseSafetensors(new Uint8Array(5), 'f.safetensors'))).toMatch(/^f\.safetensors: truncated: 5 bytes/);
  });

  it('refuses a header length past the end of the file', () => {
    const b = good().slice(0, 20);
    expect(problemsOf(() => parseSafetensors(b, 'f.safetensors'))).toMatch(/truncated or not a safetensors file: the header length field says \d+ bytes but only 12 follow/);
  });

  it('refuses data cut short, naming the tensors that run past the end', () => {
    const b = good();
    const msg = problemsOf(() => parseSafetensors(b.slice(0, b.length - 4), 'f.safetensors'));
    expect(msg).toContain('a.bias: data_offsets [24, 32] run past the end of the data (28 bytes): the file is truncated');
  });

  it('refuses a header that is not JSON', () => {
    const b = good();
    b[8] = 0x78; // "x" where the opening brace was
    expect(problemsOf(() => parseSafetensors(b, 'f.safetensors'))).toMatch(/corrupt header \(not UTF-8 JSON\)/);
  });

  it('refuses unknown dtypes, naming the tensor', () => {
    const b = assemble({ x: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Array(16).fill(0));
    expect(problemsOf(() => parseSafetensors(b, 'f.safetensors'))).toMatch(/x: unknown dtype "F128" \(known: F64, F32, F16, BF16/);
  });

  it('refuses a shape that does not match the byte range', () => {
    const b = assemble({ x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, new Array(12).fill(0));
    expect(problemsOf(() => parseSafetensors(b, 'f'))).toContain('x: data_offsets [0, 12] hold 12 bytes but shape [2, 2] of F32 needs 16');
  });

  it('refuses malformed shapes and offsets', () => {
    const b = assemble(
      {
        s: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] },
        o: { dtype: 'F32', shape: [1], data_offsets: [4] },
        r: { dtype: 'F32', shape: [1], data_offsets: [8, 4] },
        m: { shape: [1], data_offsets: [0, 4] },
        e: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 },
      },
      new Array(8).fill(0),
    );
    const msg = problemsOf(() => parseSafetensors(b, 'f'));
    expect(msg).toMatch(/^f: invalid safetensors file \(5 problems\)/);
    expect(msg).toContain('s: shape must be a list of non-negative integers (got [-1])');
    expect(msg).toContain('o: data_offsets must be [begin, end]');
    expect(msg).toContain('r: data_offsets [8, 4] end before they begin');
    expect(msg).toContain('m: missing "dtype"');
    expect(msg).toContain('e: unknown field "extra"');
  });

  it('refuses overlapping ranges, holes and unused trailing bytes', () => {
    const overlap = assemble({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Array(8).fill(0));
    expect(problemsOf(() => parseSafetensors(overlap, 'f'))).toContain('b: bytes [4, 8) overlap a [0, 8)');
    const hole = assemble({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Array(12).fill(0));
    expect(problemsOf(() => parseSafetensors(hole, 'f'))).toContain('b: bytes [4, 8) before it belong to no tensor');
    const trailing = assemble({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Array(6).fill(0));
    expect(problemsOf(() => parseSafetensors(trailing, 'f'))).toContain('2 bytes after the last tensor belong to no tensor');
  });

  it('refuses metadata that is not a map of strings', () => {
    const b = assemble({ __metadata__: { epoch: 3 }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]);
    expect(problemsOf(() => parseSafetensors(b, 'f'))).toContain('__metadata__: value of "epoch" is not a string');
  });
});
