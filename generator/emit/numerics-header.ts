/**
 * src/numerics.h: the C++ twins of generator/numerics (fixed.ts, ops.ts) with the tables
 * and constants of tables.ts emitted verbatim. It depends on no model or config, so the
 * C++/TypeScript equivalence test (test/cpp-numerics.test.ts) renders it alone.
 */
import { FRAC_MAX, FRAC_MIN } from '../numerics/fixed';
import * as T from '../numerics/tables';
import { tableWidths } from '../numerics/widths';
import { cIntRows, renderTemplate } from './render';

/** GELU_PAIRS: per segment j, entry j in the low 32 bits and entry j + 1 in the high 32 (as
 * an int64: entry j + 1 x 2^32 + entry j mod 2^32; every entry is below 2^20 in magnitude, so
 * the words are exact doubles). */
export function geluPairs(table: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let j = 0; j + 1 < table.length; j++) out.push(table[j + 1] * 2 ** 32 + (table[j] >>> 0));
  return out;
}

export function numericsHeader(): string {
  const gelu = T.geluTableValues();
  const exp2 = T.exp2TableValues();
  return renderTemplate('hls/numerics.h.hbs', {
    geluLo: T.GELU_LO,
    geluHi: T.GELU_HI,
    geluStepBits: T.GELU_STEP_BITS,
    geluTableFrac: T.GELU_TABLE_FRAC,
    geluSegments: T.GELU_SEGMENTS,
    exp2IndexBits: T.EXP2_INDEX_BITS,
    exp2TableFrac: T.EXP2_TABLE_FRAC,
    log2eQ16: T.LOG2E_Q16,
    probFrac: T.PROB_FRAC,
    probOne: T.PROB_ONE,
    attnScaleFrac: T.ATTN_SCALE_FRAC,
    lnRsqrtFrac: T.LN_RSQRT_FRAC,
    lnNormFrac: T.LN_NORM_FRAC,
    fracMin: FRAC_MIN,
    fracMax: FRAC_MAX,
    geluPairRows: cIntRows(geluPairs(gelu), 6),
    exp2Length: exp2.length,
    exp2Rows: cIntRows(exp2, 10),
    ...tableWidths(),
  });
}
