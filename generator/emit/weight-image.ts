/**
 * data/weights.bin and data/weights.json: the quantized weights packed in the layout of
 * generator/schedule/weight-layout.ts (little-endian lanes; lane i of a 128-bit word is
 * bits [16i+15:16i] or [32i+31:32i]), and a manifest of every segment's offset and format.
 */
import { createHash } from 'crypto';
import type { QuantWeights } from '../weights/types';
import { LANES16, words16 } from '../schedule/schedule';
import type { WeightLayout } from '../schedule/weight-layout';

export const WORD_BYTES = 16;

export function packWeightImage(layout: WeightLayout, quant: QuantWeights): Uint8Array {
  const bytes = new Uint8Array(layout.totalWords * WORD_BYTES);
  const view = new DataView(bytes.buffer);
  for (const s of layout.segments) {
    const t = quant.get(s.tensor);
    if (!t) throw new Error(`quantized weights have no tensor ${s.tensor}`);
    const base = s.offsetWords * WORD_BYTES;
    const rowBytes = s.kind === 'rows16' ? words16(s.cols) * WORD_BYTES : 0;
    const blockBytes = layout.blockWords * WORD_BYTES;
    const { pe, simd } = layout;
    for (let r = 0; r < s.rows; r++) {
      for (let c = 0; c < s.cols; c++) {
        const i = s.pick(r, c);
        if (i < 0) continue; // padding stays zero
        const v = t.data[i];
        if (s.kind === 'vec32') view.setInt32(base + 4 * c, v, true);
        else if (s.kind === 'blocks16') {
          // Block (r / PE, c / SIMD), lane (r % PE) * SIMD + c % SIMD inside it.
          const block = Math.floor(r / pe) * (s.cols / simd) + Math.floor(c / simd);
          view.setInt16(base + block * blockBytes + 2 * ((r % pe) * simd + (c % simd)), v, true);
        } else view.setInt16(base + r * rowBytes + 2 * c, v, true);
      }
    }
  }
  return bytes;
}

export function weightManifest(layout: WeightLayout, image: Uint8Array, generation: string): string {
  const json = {
    format: 'm3vit-gen weight image 1',
    // The generation (config, model, weights) the image belongs to; golden/manifest.json carries the same.
    generation,
    wordBytes: WORD_BYTES,
    lanes: { int16: LANES16, int32: WORD_BYTES / 4 },
    totalWords: layout.totalWords,
    bytes: image.length,
    sha256: createHash('sha256').update(image).digest('hex'),
    block: { pe: layout.pe, simd: layout.simd, words: layout.blockWords, order: 'blocks16: [rows/PE][cols/SIMD] blocks of [PE][SIMD] int16 lanes, row-major inside' },
    expertParts: layout.expertParts,
    segments: layout.segments.map((s) => ({
      tensor: s.tensor,
      ...(s.expert !== undefined ? { expert: s.expert } : {}),
      kind: s.kind,
      rows: s.rows,
      cols: s.cols,
      offsetWords: s.offsetWords,
      words: s.words,
      bits: s.bits,
      frac: s.frac,
      order: s.order,
    })),
  };
  return `${JSON.stringify(json, null, 1)}\n`;
}
