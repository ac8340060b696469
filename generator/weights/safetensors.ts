/**
 * The safetensors file format, read and written without dependencies:
 *
 *     [8 bytes: header length n, unsigned little-endian]
 *     [n bytes: UTF-8 JSON object {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 *               "__metadata__": {string: string}}, possibly padded with spaces]
 *     [data: every tensor's bytes, C order, little-endian, offsets relative to the data start]
 *
 * The reader checks everything a truncated, corrupt or hand-edited file could get wrong
 * (header in range, known dtypes, shapes that match their byte ranges, ranges inside the
 * data, not overlapping and leaving no holes) and reports every problem in one UserError
 * naming the tensor. Tensors are decoded lazily, one at a time, into float64 (exact for all
 * float dtypes and for integers up to 2^53).
 */
import * as os from 'os';
import { isUserError, UserError } from '../util/errors';
import { parseJsonBytes } from '../util/json';
import { readUserFile } from '../util/read-file';

export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2'];

export function isDtype(s: string): s is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** The format's own limit on the header size (100 MB), which also stops a corrupt length from allocating gigabytes. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range inside the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  /** How the file is named in messages. */
  file: string;
  metadata: Record<string, string>;
  /** Tensors in header order. */
  entries: SafetensorsEntry[];
  bytes: Uint8Array;
  /** Offset of the data section in `bytes`. */
  dataStart: number;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Parses and validates the header; every problem found is reported at once. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  if (bytes.length < 8) {
    throw new UserError(file, [`truncated: ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`]);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(bytes.length - 8)) {
    throw new UserError(file, [
      `truncated or not a safetensors file: the header length field says ${headerLen} bytes but only ${bytes.length - 8} follow it`,
    ]);
  }
  const n = Number(headerLen);
  if (n > MAX_HEADER_BYTES) throw new UserError(file, [`not a safetensors file: header of ${n} bytes exceeds the format's limit of ${MAX_HEADER_BYTES}`]);
  if (n < 2) throw new UserError(file, [`not a safetensors file: header of ${n} bytes cannot hold a JSON object`]);
  let header: unknown;
  try {
    header = parseJsonBytes(bytes.subarray(8, 8 + n), 'header');
  } catch (e) {
    if (!isUserError(e)) throw e;
    throw new UserError(file, [`corrupt header (not UTF-8 JSON): ${e.message}`]);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new UserError(file, ['corrupt header: expected a JSON object of tensors']);
  }

  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const problems: string[] = [];
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      const m = parseMetadata(raw);
      if (typeof m === 'string') problems.push(`__metadata__: ${m}`);
      else metadata = m;
      continue;
    }
    const e = parseEntry(name, raw, dataLen);
    if (typeof e === 'string') problems.push(`${name}: ${e}`);
    else entries.push(e);
  }
  if (problems.length === 0) problems.push(...coverageProblems(entries, dataLen));
  if (problems.length > 0) throw new UserError(file, problems, `invalid safetensors file (${problems.length} problem${problems.length > 1 ? 's' : ''})`);
  return { file, metadata, entries, bytes, dataStart };
}

function parseMetadata(raw: unknown): Record<string, string> | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'expected an object of strings';
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') return `value of "${k}" is not a string`;
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, raw: unknown, dataLen: number): SafetensorsEntry | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'expected {"dtype", "shape", "data_offsets"}';
  const r = raw as Record<string, unknown>;
  const extra = Object.keys(r).filter((k) => !['dtype', 'shape', 'data_offsets'].includes(k));
  if (extra.length > 0) return `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')}`;
  if (typeof r.dtype !== 'string') return 'missing "dtype"';
  if (!isDtype(r.dtype)) return `unknown dtype "${r.dtype}" (known: ${Object.keys(DTYPE_BYTES).join(', ')})`;
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(r.shape) || !r.shape.every(isCount)) return `shape must be a list of non-negative integers (got ${JSON.stringify(r.shape)})`;
  const off = r.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount)) {
    return `data_offsets must be [begin, end] with non-negative integers (got ${JSON.stringify(off)})`;
  }
  const [begin, end] = off as number[];
  if (end < begin) return `data_offsets [${begin}, ${end}] end before they begin`;
  const shape = r.shape as number[];
  const need = numel(shape) * DTYPE_BYTES[r.dtype];
  if (end - begin !== need) {
    return `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape ${fmtShape(shape)} of ${r.dtype} needs ${need}`;
  }
  if (end > dataLen) return `data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes): the file is truncated`;
  return { name, dtype: r.dtype, shape: [...shape], begin, end };
}

/** Byte ranges must tile the data section exactly: no overlap, no hole, nothing after the last tensor. */
function coverageProblems(entries: SafetensorsEntry[], dataLen: number): string[] {
  const problems: string[] = [];
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: SafetensorsEntry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) problems.push(`${e.name}: bytes [${e.begin}, ${e.end}) overlap ${prev!.name} [${prev!.begin}, ${prev!.end})`);
    else if (e.begin > pos) problems.push(`${e.name}: bytes [${pos}, ${e.begin}) before it belong to no tensor`);
    if (e.end > pos) {
      pos = e.end;
      prev = e;
    }
  }
  if (pos < dataLen) problems.push(`${dataLen - pos} bytes after the last tensor belong to no tensor`);
  return problems;
}

export function readSafetensorsFile(path: string, displayName = path): SafetensorsFile {
  return parseSafetensors(readUserFile(path, 'weights', displayName), displayName);
}

const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

/** Decodes one tensor into float64, C order. */
export function decodeTensor(f: SafetensorsFile, e: SafetensorsEntry): Float64Array {
  const n = numel(e.shape);
  const start = f.dataStart + e.begin;
  const out = new Float64Array(n);
  const bytes = f.bytes;
  /** The range as an array of `size`-byte elements: a view when aligned, else an aligned copy (typed arrays need aligned offsets). */
  const elements = (size: number): { buffer: ArrayBufferLike; offset: number } => {
    const at = bytes.byteOffset + start;
    return at % size === 0 ? { buffer: bytes.buffer, offset: at } : { buffer: bytes.slice(start, start + n * size).buffer, offset: 0 };
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, n * DTYPE_BYTES[e.dtype]);
  switch (e.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN_HOST) {
        const { buffer, offset } = elements(4);
        out.set(new Float32Array(buffer, offset, n));
      } else {
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      }
      break;
    case 'F64':
      if (LITTLE_ENDIAN_HOST) {
        const { buffer, offset } = elements(8);
        out.set(new Float64Array(buffer, offset, n));
      } else {
        for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      }
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToNumber(dv.getUint16(2 * i, true));
      break;
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        tmp.setUint32(0, dv.getUint16(2 * i, true) << 16);
        out[i] = tmp.getFloat32(0);
      }
      break;
    }
    case 'F8_E4M3':
      for (let i = 0; i < n; i++) out[i] = e4m3ToNumber(dv.getUint8(i));
      break;
    case 'F8_E5M2':
      for (let i = 0; i < n; i++) out[i] = halfToNumber(dv.getUint8(i) << 8);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
      break;
    case 'U64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigUint64(8 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      break;
    case 'U32':
      for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
      break;
    case 'U16':
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      break;
    case 'U8':
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
      break;
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i) !== 0 ? 1 : 0;
      break;
  }
  return out;
}

/** IEEE 754 binary16. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** OCP FP8 E4M3 ("fn": no infinities, S.1111.111 is NaN), bias 7. */
export function e4m3ToNumber(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 3) & 0xf;
  const frac = b & 0x7;
  if (exp === 0xf && frac === 0x7) return NaN;
  if (exp === 0) return sign * frac * 2 ** -9;
  return sign * (1 + frac / 8) * 2 ** (exp - 7);
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  /** C order. Written as F32 (values are rounded to float32) unless dtype says F64. */
  data: ArrayLike<number>;
  dtype?: 'F32' | 'F64';
}

/**
 * Encodes tensors (in the order given) and string metadata as a safetensors file. The
 * header is padded with spaces to a multiple of 8 bytes so that every tensor of a
 * well-formed file starts aligned, as the reference implementation does.
 */
export function encodeSafetensors(tensors: TensorToWrite[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const seen = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    if (seen.has(t.name) || t.name === '__metadata__') throw new Error(`duplicate or reserved tensor name ${t.name}`);
    seen.add(t.name);
    const dtype = t.dtype ?? 'F32';
    if (t.data.length !== numel(t.shape)) throw new Error(`${t.name}: ${t.data.length} values for shape ${fmtShape(t.shape)}`);
    const size = t.data.length * DTYPE_BYTES[dtype];
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const headerBytes0 = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + headerBytes0) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors) {
    const dtype = t.dtype ?? 'F32';
    const n = t.data.length;
    if (dtype === 'F32') {
      if (LITTLE_ENDIAN_HOST && pos % 4 === 0) new Float32Array(out.buffer, pos, n).set(t.data);
      else for (let i = 0; i < n; i++) dv.setFloat32(pos + 4 * i, t.data[i], true);
      pos += 4 * n;
    } else {
      for (let i = 0; i < n; i++) dv.setFloat64(pos + 8 * i, t.data[i], true);
      pos += 8 * n;
    }
  }
  return out;
}
