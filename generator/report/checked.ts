/**
 * Numbers read from tool reports, checked before they are printed: a report that says a
 * clock period is -3.3 ns or a resource count is -100 is refused naming the tag, instead of
 * printing "-303.0 MHz ... met".
 */

/** A report that is not what its file name says, or holds values no tool writes. */
export class ReportFormatError extends Error {}

/** What a field may hold, for the check and the message. */
export interface NumberRule {
  what: string;
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Exclude `min` itself. */
  exclusiveMin?: boolean;
}

/** Clock periods: above 0, at most 1 µs (1 MHz). */
export const PERIOD_NS: NumberRule = { what: 'a clock period in ns (> 0, at most 1000)', min: 0, max: 1000, exclusiveMin: true };
/** Clock uncertainty or other non-negative nanoseconds. */
export const NONNEG_NS: NumberRule = { what: 'a time in ns (0 to 1000)', min: 0, max: 1000 };
/** Slack: either sign, bounded. */
export const SLACK_NS: NumberRule = { what: 'a slack in ns (-1e6 to 1e6)', min: -1e6, max: 1e6 };
/** Cycle counts. */
export const CYCLES: NumberRule = { what: 'a cycle count (a whole number >= 0)', min: 0, max: Number.MAX_SAFE_INTEGER, integer: true };
/** Resource counts (used): above the largest device is nonsense too. */
export const COUNT: NumberRule = { what: 'a resource count (a whole number, 0 to 100,000,000)', min: 0, max: 1e8, integer: true };
/** Milliseconds of an estimate. */
export const MILLISECONDS: NumberRule = { what: 'a latency in ms (a number >= 0, below 1e9)', min: 0, max: 1e9 };
/** Frequencies. */
export const MHZ: NumberRule = { what: 'a frequency in MHz (> 0, at most 10000)', min: 0, max: 10000, exclusiveMin: true };

/** Whether `v` is a number `rule` allows. */
export function allowed(v: number, rule: NumberRule): boolean {
  if (!Number.isFinite(v) || v > rule.max || v < rule.min || (rule.exclusiveMin && v === rule.min)) return false;
  return !rule.integer || Number.isInteger(v);
}

/** `text` as a number `rule` allows; a ReportFormatError naming `where` otherwise. */
export function checkedNumber(text: string, where: string, rule: NumberRule): number {
  const t = text.trim();
  const v = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t) ? Number(t) : NaN;
  if (!allowed(v, rule)) throw new ReportFormatError(`${where}: ${JSON.stringify(t)} is not ${rule.what}`);
  return v;
}
