/**
 * Reading clang AST nodes: children, casts, compile-time constants and bit widths of types.
 */
import type { AstNode, QualType } from './clang';
import { signedBitsFor } from '../numerics/widths';
import type { Operand } from './types';

export function kids(n: AstNode): AstNode[] {
  return (n.inner ?? []).filter((c) => c.kind !== undefined);
}

/** Casts and wrappers that pass a value through (HLS narrows an operand to its narrowest
 * source: a cast from a narrow type keeps the operator narrow). */
const PASS_THROUGH = new Set([
  'ImplicitCastExpr',
  'CStyleCastExpr',
  'CXXStaticCastExpr',
  'CXXFunctionalCastExpr',
  'ParenExpr',
  'MaterializeTemporaryExpr',
  'CXXBindTemporaryExpr',
  'ExprWithCleanups',
  'ConstantExpr',
  'SubstNonTypeTemplateParmExpr',
]);

/** The expression under a pass-through node or a user-defined conversion (the shim's and the
 * Vitis types' `operator long long()`, or a one-argument constructor); null at a leaf. */
export function passedValue(n: AstNode): AstNode | null {
  const c = kids(n);
  if (PASS_THROUGH.has(n.kind ?? '')) return c.length > 0 ? c[c.length - 1] : null;
  if (n.kind === 'CXXMemberCallExpr' && c.length === 1 && c[0].kind === 'MemberExpr' && (c[0].name ?? '').startsWith('operator ')) {
    return kids(c[0])[0] ?? null;
  }
  if (n.kind === 'CXXConstructExpr' && c.length === 1) return c[0];
  return null;
}

export function stripCasts(n: AstNode): AstNode {
  let cur = n;
  for (let next = passedValue(cur); next; next = passedValue(cur)) cur = next;
  return cur;
}

/** Declarations by id for constant folding: variables (const ones with an initialiser fold)
 * and the values of enumerators. */
export type DeclIndex = Map<string, AstNode | number>;
/** What constValue reads: the program's declarations, or those with an inlined function's
 * parameters bound to the constants of one call site (DeclOverlay). */
export interface DeclLookup {
  get(id: string): AstNode | number | undefined;
}

/** Declarations with some parameters bound to constants. */
export class DeclOverlay implements DeclLookup {
  constructor(private readonly base: DeclLookup, private readonly bound: Map<string, number>) {}
  get(id: string): AstNode | number | undefined {
    return this.bound.get(id) ?? this.base.get(id);
  }
}

const BINARY: Partial<Record<string, (a: number, b: number) => number | null>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => (b === 0 ? null : Math.trunc(a / b)),
  '%': (a, b) => (b === 0 ? null : a % b),
  '<<': (a, b) => a * 2 ** b,
  '>>': (a, b) => Math.floor(a / 2 ** b),
  '&': (a, b) => Number(BigInt(a) & BigInt(b)),
  '|': (a, b) => Number(BigInt(a) | BigInt(b)),
  '^': (a, b) => Number(BigInt(a) ^ BigInt(b)),
  '<': (a, b) => Number(a < b),
  '>': (a, b) => Number(a > b),
  '<=': (a, b) => Number(a <= b),
  '>=': (a, b) => Number(a >= b),
  '==': (a, b) => Number(a === b),
  '!=': (a, b) => Number(a !== b),
  '&&': (a, b) => Number(a !== 0 && b !== 0),
  '||': (a, b) => Number(a !== 0 || b !== 0),
};

const UNARY: Partial<Record<string, (a: number) => number>> = {
  '-': (a) => -a,
  '+': (a) => a,
  '~': (a) => -a - 1,
  '!': (a) => Number(a === 0),
};

/** The value of an integer constant expression (literals, const variables with constant
 * initialisers, template arguments, arithmetic on those), or null. */
export function constValue(n: AstNode, decls: DeclLookup, depth = 0): number | null {
  if (depth > 64) return null;
  const c = kids(n);
  const rec = (x: AstNode | undefined): number | null => (x ? constValue(x, decls, depth + 1) : null);
  switch (n.kind) {
    case 'IntegerLiteral':
    case 'CharacterLiteral':
      return Number(n.value);
    case 'CXXBoolLiteralExpr':
      return n.value ? 1 : 0;
    case 'ConstantExpr':
      return n.value !== undefined && /^-?\d+$/.test(String(n.value)) ? Number(n.value) : rec(c[c.length - 1]);
    case 'DeclRefExpr': {
      const d = n.referencedDecl ? decls.get(n.referencedDecl.id) : undefined;
      if (typeof d === 'number') return d;
      if (!d || !isConstType(d.type)) return null;
      return d.init !== undefined ? rec(kids(d)[kids(d).length - 1]) : null;
    }
    case 'UnaryOperator': {
      const f = UNARY[n.opcode ?? ''];
      const a = rec(c[0]);
      return f && a !== null ? f(a) : null;
    }
    case 'BinaryOperator': {
      const f = BINARY[n.opcode ?? ''];
      const a = rec(c[0]);
      const b = rec(c[1]);
      return f && a !== null && b !== null ? f(a, b) : null;
    }
    case 'ConditionalOperator': {
      const cond = rec(c[0]);
      return cond === null ? null : rec(cond !== 0 ? c[1] : c[2]);
    }
    default: {
      const inner = PASS_THROUGH.has(n.kind ?? '') ? passedValue(n) : null;
      return inner ? rec(inner) : null;
    }
  }
}

function isConstType(t: QualType | undefined): boolean {
  return t !== undefined && /\bconst\b/.test(t.qualType) && !t.qualType.includes('*');
}

const BUILTIN_BITS: Record<string, number> = {
  bool: 1,
  char: 8,
  'signed char': 8,
  short: 16,
  int: 32,
  long: 64,
  'long long': 64,
  __int128: 128,
};

/** Bit width and signedness of an integer type (builtin or ap_int / ap_uint / ap_fixed). */
export function typeWidth(t: QualType | undefined): { bits: number; signed: boolean } | null {
  if (!t) return null;
  const q = (t.desugaredQualType ?? t.qualType)
    .replace(/\b(const|volatile|class|struct)\b/g, '')
    .replace(/&/g, '')
    .trim();
  const ap = /(?:^|::)ap_(u?)(int|fixed)<\s*(\d+)/.exec(q);
  if (ap) return { bits: Number(ap[3]), signed: ap[1] !== 'u' };
  const unsigned = /^unsigned\b/.test(q);
  const base = q.replace(/^(unsigned|signed)\s*/, '').replace(/\s+int$/, '').trim() || 'int';
  const bits = q === 'signed char' ? 8 : BUILTIN_BITS[base];
  if (bits === undefined) return null;
  return { bits, signed: !unsigned && base !== 'bool' };
}

/** Bits of the smallest two's-complement number holding v. */
export function signedBitsOf(v: number): number {
  // -2^(b-1) <= v < 0 holds exactly when -v - 1 <= 2^(b-1) - 1.
  return signedBitsFor(v < 0 ? -v - 1 : v);
}

/** The operand as HLS sizes it: a constant by its value, else the narrowest type along its
 * chain of casts and conversions. */
export function operandOf(n: AstNode, decls: DeclLookup): Operand & { value: number | null } {
  const value = constValue(n, decls);
  if (value !== null) return { bits: signedBitsOf(value), signed: true, constant: true, value };
  let best = typeWidth(n.type);
  for (let cur: AstNode | null = n; cur; cur = passedValue(cur)) {
    const w = typeWidth(cur.type);
    if (w && (!best || w.bits < best.bits)) best = w;
  }
  return { bits: best?.bits ?? 64, signed: best?.signed ?? true, constant: false, value: null };
}

/** Array dimensions of a declared type: `act_t [129][192]` -> [129, 192]; a decayed parameter
 * `const wgt_t (*)[32]` -> [null, 32]; a pointer -> [null]; a scalar -> []. */
export function arrayDims(t: QualType | undefined): (number | null)[] {
  if (!t) return [];
  const q = t.desugaredQualType ?? t.qualType;
  const dims: (number | null)[] = [];
  if (/\(\*\)/.test(q) || /\*\s*$/.test(q.replace(/\bconst\b|\brestrict\b|__restrict/g, '').trim())) dims.push(null);
  for (const m of q.matchAll(/\[(\d*)\]/g)) dims.push(m[1] === '' ? null : Number(m[1]));
  return dims;
}
