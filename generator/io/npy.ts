/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0), enough for images in and task
 * outputs out: little-endian float32/float64/int8/int16/int32/int64/uint8, C order.
 * Anything else (Fortran order, big-endian, other dtypes, a truncated file) is a UserError
 * naming the file and what is allowed.
 *
 * Format: magic "\x93NUMPY", major, minor, header length (uint16 LE for 1.x, uint32 LE for
 * 2.x/3.x), then a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (..), }
 * (latin-1 in 1.x/2.x, UTF-8 in 3.x), padded with spaces and a final newline, then the data.
 */
import { readUserFile } from '../util/read-file';
import { UserError } from '../util/errors';

export type NpyDtype = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8';

const DESCR: Record<string, { dtype: NpyDtype; size: number }> = {
  '<f4': { dtype: 'float32', size: 4 },
  '<f8': { dtype: 'float64', size: 8 },
  '|i1': { dtype: 'int8', size: 1 },
  '<i1': { dtype: 'int8', size: 1 },
  '<i2': { dtype: 'int16', size: 2 },
  '<i4': { dtype: 'int32', size: 4 },
  '<i8': { dtype: 'int64', size: 8 },
  '|u1': { dtype: 'uint8', size: 1 },
  '<u1': { dtype: 'uint8', size: 1 },
};

const ALL_DTYPES: readonly NpyDtype[] = ['float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8'];

/** What messages say is allowed: the dtypes the caller accepts, not every dtype the parser reads. */
function allowed(dtypes: readonly NpyDtype[]): string {
  const list = dtypes.length > 1 ? `${dtypes.slice(0, -1).join(', ')} or ${dtypes[dtypes.length - 1]}` : dtypes[0];
  return `${list}, little-endian, C order`;
}
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Values in C order, converted to doubles (int64 values must be exact, |v| <= 2^53). */
  data: Float64Array;
}

/** Parses .npy bytes; `file` names the source in error messages, `accepts` are the dtypes the caller takes (for those messages). */
export function parseNpy(buf: Uint8Array, file: string, accepts: readonly NpyDtype[] = ALL_DTYPES): NpyArray {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (msg: string): never => {
    throw new UserError(file, [`not a readable .npy array: ${msg}; allowed: ${allowed(accepts)}`]);
  };
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) fail('missing the \\x93NUMPY magic (is it a .npy file?)');
  const major = b[6];
  if (major !== 1 && major !== 2 && major !== 3) fail(`format version ${major}.${b[7]} (allowed: 1.0, 2.0, 3.0)`);
  const lenBytes = major === 1 ? 2 : 4;
  if (b.length < 8 + lenBytes) fail('header truncated');
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const dataStart = 8 + lenBytes + hlen;
  if (b.length < dataStart) fail(`header of ${hlen} bytes runs past the end of the file`);
  const header = b.subarray(8 + lenBytes, dataStart).toString(major === 3 ? 'utf8' : 'latin1');

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`header is not a dict with 'descr', 'fortran_order' and 'shape': ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True') fail('the array is in Fortran order (save it with np.ascontiguousarray first)');
  const kind = DESCR[descr!];
  if (!kind) {
    const big = descr!.startsWith('>');
    fail(`dtype '${descr}'${big ? ' is big-endian (use arr.astype(arr.dtype.newbyteorder("<")))' : ' is not supported'}`);
  }
  const parts = shapeText!.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const shape = parts.map((s) => {
    if (!/^\d+$/.test(s)) fail(`shape (${shapeText}) is not a tuple of non-negative integers`);
    return Number(s);
  });
  const count = shape.reduce((a, c) => a * c, 1);
  const bytes = count * kind.size;
  if (b.length - dataStart < bytes) fail(`shape (${shape.join(', ')}) needs ${bytes} data bytes, the file has ${b.length - dataStart}`);
  if (b.length - dataStart > bytes) fail(`${b.length - dataStart - bytes} bytes after the data of shape (${shape.join(', ')})`);

  const data = new Float64Array(count);
  const dv = new DataView(b.buffer, b.byteOffset + dataStart, bytes);
  switch (kind.dtype) {
    case 'float32': for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true); break;
    case 'float64': for (let i = 0; i < count; i++) data[i] = dv.getFloat64(8 * i, true); break;
    case 'int8': for (let i = 0; i < count; i++) data[i] = dv.getInt8(i); break;
    case 'uint8': for (let i = 0; i < count; i++) data[i] = dv.getUint8(i); break;
    case 'int16': for (let i = 0; i < count; i++) data[i] = dv.getInt16(2 * i, true); break;
    case 'int32': for (let i = 0; i < count; i++) data[i] = dv.getInt32(4 * i, true); break;
    case 'int64':
      for (let i = 0; i < count; i++) {
        const v = dv.getBigInt64(8 * i, true);
        if (v > 9007199254740992n || v < -9007199254740992n) fail(`int64 element ${i} (${v}) is beyond 2^53`);
        data[i] = Number(v);
      }
      break;
  }
  return { dtype: kind.dtype, shape, data };
}

export function readNpy(file: string, accepts: readonly NpyDtype[] = ALL_DTYPES): NpyArray {
  return parseNpy(readUserFile(file, 'npy'), file, accepts);
}

/** float32 .npy bytes, format 1.0, header padded to a multiple of 64 bytes as numpy does. */
export function formatNpyFloat32(shape: number[], data: ArrayLike<number>): Uint8Array {
  return formatNpy(shape, data, 'float32');
}

const WRITE: Record<'float32' | 'float64' | 'int32', { descr: string; size: number; put: (b: Buffer, v: number, at: number) => void }> = {
  float32: { descr: '<f4', size: 4, put: (b, v, at) => b.writeFloatLE(v, at) },
  float64: { descr: '<f8', size: 8, put: (b, v, at) => b.writeDoubleLE(v, at) },
  int32: { descr: '<i4', size: 4, put: (b, v, at) => b.writeInt32LE(v, at) },
};

/** .npy bytes of one dtype, format 1.0, header padded to a multiple of 64 bytes as numpy does. */
export function formatNpy(shape: number[], data: ArrayLike<number>, dtype: keyof typeof WRITE): Uint8Array {
  const count = shape.reduce((a, c) => a * c, 1);
  if (count !== data.length) throw new Error(`formatNpy: shape (${shape.join(', ')}) has ${count} elements, data has ${data.length}`);
  const w = WRITE[dtype];
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${w.descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const out = Buffer.alloc(total + w.size * count);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(dict.length, 8);
  out.write(dict, 10, 'latin1');
  for (let i = 0; i < count; i++) w.put(out, data[i], total + w.size * i);
  return out;
}
