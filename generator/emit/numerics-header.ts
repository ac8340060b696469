/**
 * src/numerics.h: the C++ twins of generator/numerics (fixed.ts, ops.ts) with the tables
 * and constants of tables.ts emitted verbatim. It depends on no model or config, so the
 * C++/TypeScript equivalence test (test/cpp-numerics.test.ts) renders it alone.
 */
import { FRAC_MAX, FRAC_MIN } from '../numerics/fixed';
import * as T from '../numerics/tables';
import { tableWidths } from '../numerics/widths';
import { cIntRows, renderTemplate } from './render';

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
    geluLength: gelu.length,
    geluRows: cIntRows(gelu, 10),
    exp2Length: exp2.length,
    exp2Rows: cIntRows(exp2, 10),
    ...tableWidths(),
  });
}
