/**
 * From decoded pixels to the model input [C, H, W], as the config's "preprocess" says:
 * channels (RGB, alpha dropped; a 1-channel model takes grayscale images only), pixels
 * scaled to [0, 1] (v / 255), the size checked or resized bilinearly, then normalised
 * (x - mean) / std per channel.
 */
import type { PreprocessConfig } from '../config/types';
import { UserError } from '../util/errors';
import type { RgbaImage } from './image';

export interface InputDims {
  name: string;
  inChannels: number;
  imageH: number;
  imageW: number;
}

export interface InputTensor {
  shape: number[];
  data: Float64Array;
}

/** Channel planes [C][h * w] in [0, 1]: R, G, B for 3 channels, the gray level for 1. */
export function channelPlanes(img: RgbaImage, channels: number, file: string): Float64Array[] {
  const n = img.width * img.height;
  if (channels !== 3 && channels !== 1) {
    throw new UserError(file, [`images can feed models with 3 (RGB) or 1 (grayscale) input channels; this model has ${channels}: give a .npy input instead`]);
  }
  const planes = Array.from({ length: channels }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const r = img.rgba[4 * i];
    const g = img.rgba[4 * i + 1];
    const b = img.rgba[4 * i + 2];
    if (channels === 1) {
      if (r !== g || g !== b) {
        throw new UserError(file, [`pixel (x ${i % img.width}, y ${Math.floor(i / img.width)}) is not gray (R ${r}, G ${g}, B ${b}); the model has 1 input channel and takes grayscale images only`]);
      }
      planes[0][i] = r / 255;
    } else {
      planes[0][i] = r / 255;
      planes[1][i] = g / 255;
      planes[2][i] = b / 255;
    }
  }
  return planes;
}

/**
 * Source index and weight of a half-pixel-centred linear resize (PyTorch's interpolate,
 * mode "bilinear", align_corners=False, no antialiasing): output pixel d samples the input
 * at (d + 0.5) * in / out - 0.5, clamped at 0, between the two neighbouring pixels.
 */
export function resizeTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w1: Float64Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(0, (d + 0.5) * scale - 0.5);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    w1[d] = src - lo;
  }
  return { i0, i1, w1 };
}

/** Bilinear resize of one plane of w x h to outW x outH. */
export function resizeBilinear(plane: Float64Array, w: number, h: number, outW: number, outH: number): Float64Array {
  const xs = resizeTaps(w, outW);
  const ys = resizeTaps(h, outH);
  const out = new Float64Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const r0 = ys.i0[y] * w;
    const r1 = ys.i1[y] * w;
    const wy = ys.w1[y];
    for (let x = 0; x < outW; x++) {
      const a = xs.i0[x];
      const b = xs.i1[x];
      const wx = xs.w1[x];
      const top = plane[r0 + a] * (1 - wx) + plane[r0 + b] * wx;
      const bottom = plane[r1 + a] * (1 - wx) + plane[r1 + b] * wx;
      out[y * outW + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** Mean and std of every channel ("none": 0 and 1; a single value serves every channel). */
export function channelStats(prep: PreprocessConfig, channels: number): { mean: number[]; std: number[] } {
  const pick = (v: number[], c: number): number => (v.length === 1 ? v[0] : v[c]);
  return {
    mean: Array.from({ length: channels }, (_, c) => pick(prep.mean, c)),
    std: Array.from({ length: channels }, (_, c) => pick(prep.std, c)),
  };
}

/** The model input of a decoded image, or a UserError naming the file and what to change. */
export function preprocessImage(img: RgbaImage, dims: InputDims, prep: PreprocessConfig, file: string): InputTensor {
  const { inChannels: C, imageH: H, imageW: W } = dims;
  let planes = channelPlanes(img, C, file);
  if (img.width !== W || img.height !== H) {
    if (prep.resize === 'refuse') {
      throw new UserError(file, [
        `the image is ${img.width}x${img.height} pixels (width x height); the model ${dims.name} takes ${W}x${H}: resize it, or set "preprocess": { "resize": "bilinear" } in the config`,
      ]);
    }
    planes = planes.map((p) => resizeBilinear(p, img.width, img.height, W, H));
  }
  const { mean, std } = channelStats(prep, C);
  const data = new Float64Array(C * H * W);
  for (let c = 0; c < C; c++) {
    const p = planes[c];
    for (let i = 0; i < H * W; i++) data[c * H * W + i] = (p[i] - mean[c]) / std[c];
  }
  return { shape: [C, H, W], data };
}
