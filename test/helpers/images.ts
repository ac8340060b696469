/** Small images for tests and benches, written with pngjs: hand-made pixels or natural-ish scenes. */
import { PNG } from 'pngjs';
import { rng } from './cpp';

export interface Pixels {
  width: number;
  height: number;
  /** RGBA, row-major. */
  rgba: Uint8Array;
}

/** PNG bytes of RGBA pixels (colour type 6, 8 bits) or, with `gray`, of their R channel (colour type 0). */
export function encodePng(p: Pixels, opts: { gray?: boolean; alpha?: boolean } = {}): Buffer {
  const png = new PNG({ width: p.width, height: p.height });
  png.data = Buffer.from(p.rgba);
  // pngjs packs RGBA to gray as the mean of R, G, B over a white background: give it R = G = B, opaque.
  if (opts.gray) for (let i = 0; i < png.data.length; i += 4) png.data.set([png.data[i], png.data[i], png.data[i], 255], i);
  const colorType = opts.gray ? 0 : opts.alpha === false ? 2 : 6;
  return PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true });
}

/**
 * A natural-ish scene in [0, 255]: two colour gradients at a seeded angle, a soft bright
 * blob, and seeded pixel noise, clipped to 8 bits (opaque).
 */
export function naturalish(width: number, height: number, seed: number): Pixels {
  const r = rng(seed);
  const angle = r.next() * Math.PI;
  const [cx, cy, rad] = [r.next() * width, r.next() * height, (0.15 + 0.3 * r.next()) * Math.min(width, height)];
  const base = [0, 1, 2].map(() => [40 + 150 * r.next(), 40 + 150 * r.next()]);
  const rgba = new Uint8Array(4 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = ((x - width / 2) * Math.cos(angle) + (y - height / 2) * Math.sin(angle)) / Math.max(width, height) + 0.5;
      const blob = 90 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * rad * rad));
      for (let c = 0; c < 3; c++) {
        const v = base[c][0] * (1 - t) + base[c][1] * t + blob + (r.next() - 0.5) * 40;
        rgba[4 * (y * width + x) + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
      rgba[4 * (y * width + x) + 3] = 255;
    }
  }
  return { width, height, rgba };
}
