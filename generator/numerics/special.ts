/**
 * Float64 special functions that JavaScript lacks. They define the float reference (exact
 * M³ViT semantics) and generate the integer tables, so they are written for accuracy near
 * double precision, not speed.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;

/**
 * erf(x). |x| < 2.5: erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)),
 * a series of positive terms (no cancellation, unlike the alternating Maclaurin series,
 * which lost ~17 ulp near 2.5). Otherwise 1 - erfc(x) with erfc's continued fraction
 * (Abramowitz & Stegun 7.1.14), evaluated bottom-up, which converges fast for x >= 2.5.
 * Accuracy: a few ulp against a correctly rounded erf (test/numerics-ops.test.ts).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    const x2 = x * x;
    let term = ax; // 2^n x^(2n+1) / (2n+1)!!
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    const r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    return x < 0 ? -r : r;
  }
  const r = 1 - erfcLarge(ax);
  return x < 0 ? -r : r;
}

/** erfc(x) for x >= 2.5: exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))). */
function erfcLarge(x: number): number {
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + k / 2 / f;
  return (Math.exp(-x * x) * ONE_OVER_SQRT_PI) / f;
}

/** GELU with the exact erf form (PyTorch nn.GELU() default): x * Phi(x). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}
