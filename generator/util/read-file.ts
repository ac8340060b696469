/**
 * Reading a user's input file: only a regular file (a FIFO would block, /dev/zero or a
 * symlink to it would grow without end, a folder is a mistake), and at most the size a file
 * of that kind can sensibly have, so that a wrong path fails at once with a message
 * instead of filling memory.
 */
import { isUtf8 } from 'buffer';
import * as fs from 'fs';
import { UserError } from './errors';

const MiB = 2 ** 20;

/** Kinds of input and the largest file of each that is read. */
export const INPUT_KINDS = {
  config: { noun: 'config file', what: 'JSON config file', maxBytes: 4 * MiB },
  model: { noun: 'model description', what: 'TypeScript model description', maxBytes: 4 * MiB },
  weights: { noun: 'weights file', what: '.safetensors weights file', maxBytes: 4 * 1024 * MiB },
  npy: { noun: 'file', what: '.npy file', maxBytes: 1024 * MiB },
  report: { noun: 'report', what: 'tool report', maxBytes: 256 * MiB },
  json: { noun: 'file', what: 'JSON file', maxBytes: 64 * MiB },
} as const;

export type InputKind = keyof typeof INPUT_KINDS;

/** The contents of `file`, or a UserError naming `shown` (the path as the user wrote it). */
export function readUserFile(file: string, kind: InputKind, shown = file): Buffer {
  const { noun, what, maxBytes } = INPUT_KINDS[kind];
  let fd: number;
  try {
    // Non-blocking, so that opening a FIFO returns at once instead of waiting for a writer;
    // the check below then refuses it.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new UserError(shown, [describeOpenError(e as NodeJS.ErrnoException, noun, what)]);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new UserError(shown, [`is a folder; expected a ${what}`]);
    if (!st.isFile()) throw new UserError(shown, [`is ${describeKind(st)}${symlinkNote(file)}; expected a regular file (a ${what})`]);
    if (st.size > maxBytes) throw new UserError(shown, [tooLarge(st.size, maxBytes, what)]);
    return readAtMost(fd, maxBytes, shown, what);
  } finally {
    fs.closeSync(fd);
  }
}

/** The contents of a text file (UTF-8). */
export function readUserText(file: string, kind: InputKind, shown = file): string {
  return decodeUtf8(readUserFile(file, kind, shown), shown);
}

/** The bytes as text, or a UserError naming the line and byte offset of the first invalid byte. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    const byte = `0x${bytes[at].toString(16).padStart(2, '0').toUpperCase()}`;
    throw new UserError(`${file}:${line}`, [
      `not UTF-8 text: byte ${byte} at byte offset ${at} (line ${line}, byte ${at - lineStart + 1} of the line) is not valid UTF-8; save the file as UTF-8 (Latin-1 and other 8-bit encodings are not accepted)`,
    ]);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > b.length) return i;
    let cp = c & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      if ((b[i + k] & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    const overlong = (len === 3 && cp < 0x800) || (len === 4 && cp < 0x10000);
    if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += len;
  }
  return b.length;
}

/** Reads to the end, refusing a file that grows beyond `maxBytes` while it is read. */
function readAtMost(fd: number, maxBytes: number, shown: string, what: string): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * MiB, maxBytes + 1 - total));
    const n = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw new UserError(shown, [tooLarge(total, maxBytes, what)]);
    chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

function tooLarge(size: number, maxBytes: number, what: string): string {
  return `is ${formatBytes(size)}${size > maxBytes ? '' : ' or more'}; a ${what} may be at most ${formatBytes(maxBytes)}`;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * MiB) return `${(n / (1024 * MiB)).toFixed(n % (1024 * MiB) === 0 ? 0 : 1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB`;
  return `${n} bytes`;
}

function describeKind(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function symlinkNote(file: string): string {
  try {
    return fs.lstatSync(file).isSymbolicLink() ? ` (a symbolic link to ${fs.realpathSync(file)})` : '';
  } catch {
    return '';
  }
}

function describeOpenError(e: NodeJS.ErrnoException, noun: string, what: string): string {
  switch (e.code) {
    case 'ENOENT': return `${noun} not found`;
    case 'EACCES': case 'EPERM': return `cannot be read (permission denied); expected a readable ${what}`;
    case 'ENOTDIR': return `not found (a part of the path is not a folder); expected a ${what}`;
    case 'ELOOP': return `is a symbolic link that loops; expected a ${what}`;
    default: return `cannot be read (${e.code ?? e.message}); expected a ${what}`;
  }
}
