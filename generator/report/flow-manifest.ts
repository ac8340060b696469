/**
 * tcl/flow.json as `m3vit-gen report` reads it, checked field by field: a damaged or
 * hand-edited file gets one message naming the field, not a TypeError from deep inside
 * the report.
 */
import { RESOURCE_CLASSES } from '../config/types';
import type { FlowManifest } from '../flow/stage';
import { UserError } from '../util/errors';

type Check = (v: unknown) => string | undefined;

const text: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
/** A path inside the project folder: relative, without "..". */
const relPath: Check = (v) =>
  text(v) ?? (/^(\/|[A-Za-z]:)|(^|[\\/])\.\.([\\/]|$)/.test(v as string) ? 'must be a path inside the project folder (relative, no "..")' : undefined);
const positive: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'must be a positive number');
const count: Check = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? undefined : 'must be a whole number >= 0');

const FIELDS: Array<[string, Check]> = [
  ['/name', text],
  ['/top', text],
  ['/board/name', text],
  ['/board/part', text],
  ...RESOURCE_CLASSES.map((c): [string, Check] => [`/board/resources/${c}`, count]),
  ['/clockMHz', positive],
  ['/hls/csynthXml', relPath],
  ['/hls/cosimReport', relPath],
  ['/vivado/utilizationReport', relPath],
  ['/vivado/timingReport', relPath],
  ['/vivado/bit', relPath],
  ['/vivado/hwh', relPath],
  ['/estimate', relPath],
];

function at(json: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((cur, k) => (cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>)[k] : undefined), json);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
}

export function checkFlowManifest(json: unknown, shown: string): FlowManifest {
  const problems = FIELDS.flatMap(([field, check]) => {
    const v = at(json, field);
    const why = check(v);
    return why ? [`${field}: ${why} (got ${describe(v)})`] : [];
  });
  if (problems.length > 0) {
    throw new UserError(shown, [...problems, 'regenerate the project with m3vit-gen to rewrite this file'], `not a flow manifest m3vit-gen wrote (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
  return json as FlowManifest;
}
