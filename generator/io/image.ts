/**
 * PNG and JPEG files as 8-bit RGBA pixels, with pure-JS decoders from the npm registry
 * (pngjs, jpeg-js: no native code, nothing downloaded at install). The format is told by
 * the file's first bytes, not its name. pngjs gives every PNG colour type and depth as
 * 8-bit RGBA (16-bit samples rescaled, palettes expanded, grayscale repeated over R, G, B);
 * jpeg-js gives RGBA with A = 255. JPEG EXIF orientation is not applied.
 */
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../util/errors';

export type ImageFormat = 'png' | 'jpeg';

export interface RgbaImage {
  format: ImageFormat;
  width: number;
  height: number;
  /** Row-major, 4 bytes per pixel: R, G, B, A. */
  rgba: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

/** Which image format the bytes start with, if any. */
export function imageFormatOf(bytes: Uint8Array): ImageFormat | undefined {
  const starts = (magic: number[]): boolean => bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
  if (starts(PNG_MAGIC)) return 'png';
  if (starts(JPEG_MAGIC)) return 'jpeg';
  return undefined;
}

/** Larger images are refused before decoding: 64 megapixels is far above any ViT input. */
const MAX_MEGAPIXELS = 64;

/** Decodes PNG or JPEG bytes; `file` names the source in error messages. */
export function decodeImage(bytes: Uint8Array, file: string): RgbaImage {
  const format = imageFormatOf(bytes);
  if (!format) throw new UserError(file, ['not a PNG or JPEG image (the file does not start with a PNG or JPEG signature)']);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded =
      format === 'png'
        ? PNG.sync.read(buf)
        : // Not tolerant: a truncated or corrupt JPEG is an error, not a partly grey image.
          jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false, maxResolutionInMP: MAX_MEGAPIXELS });
  } catch (e) {
    // The decoders' own words ("read requests waiting on finished stream" for a short PNG) say little: lead with ours.
    throw new UserError(file, [`cannot decode the ${format === 'png' ? 'PNG' : 'JPEG'} image: the file is truncated or corrupt (decoder: ${(e as Error).message})`]);
  }
  const { width, height, data } = decoded;
  if (!(width > 0 && height > 0) || data.length !== 4 * width * height) {
    throw new UserError(file, [`cannot decode the ${format === 'png' ? 'PNG' : 'JPEG'} image: ${width}x${height} pixels with ${data.length} bytes of data`]);
  }
  return { format, width, height, rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
