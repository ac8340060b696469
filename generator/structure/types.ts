/**
 * The typed result of the structural check (generator/structure): what Vitis HLS would build
 * from the generated C++, read from clang's AST and the `#pragma HLS` lines, by the UG1399
 * rules of /work/shared/reference/zcu104-vitis.md. Plain data, sorted, so the same sources
 * give the same JSON.
 */

/** `inline`: `#pragma HLS inline`; `off`: `inline off`; `none`: no pragma (we assume not
 * inlined: Vitis may auto-inline small functions, but nothing may rely on it). */
export type InlineStatus = 'inline' | 'off' | 'none';

export interface Place {
  file: string; // as clang saw it (absolute)
  line: number;
}

export interface CallSite extends Place {
  callee: string;
  /** Copies of the call in one instance of the caller: the product of the trip counts of the
   * enclosing unrolled loops (a pipelined loop unrolls every loop inside it). */
  copies: number;
  /** The pipelined loop (or pipelined function) the call sits in, if any. */
  pipeline: string | null;
}

export interface Operand {
  bits: number;
  signed: boolean;
  constant: boolean;
}

/** Multipliers of one operand shape; `aBits >= bBits`. */
export interface MultiplierCount {
  aBits: number;
  bBits: number;
  /** Unsigned operands are counted with one more bit, as a signed multiplier needs it. */
  signedBits: [number, number];
  count: number;
  lines: number[];
}

export interface FunctionReport extends Place {
  name: string;
  inline: InlineStatus;
  pipelined: boolean;
  /** RTL instances (0 for an inlined function: it dissolves into its callers' modules). */
  instances: number;
  callers: string[];
  callSites: CallSite[];
  /** `allocation function instances=f limit=n` written in this function. */
  allocations: { callee: string; limit: number }[];
  /** Multipliers written in this function (syntactic x unroll copies), one instance. */
  multipliers: MultiplierCount[];
  /** Control multipliers of one call of this function: those outside every pipelined loop,
   * with the functions it inlines folded in (specialised on constant arguments, as HLS
   * folds them). For an inlined function, what each call adds to its caller's module. */
  control: ControlMultipliers[];
}

export interface ControlMultipliers {
  /** Operand widths as written (as MultiplierGroup), `aBits >= bBits`. */
  aBits: number;
  bBits: number;
  count: number;
  /** DSP48E2 slices of the `count` products. */
  dsp: number;
}

/** Per-cycle accesses an array allows: 2 per bank (1 for `ram_1p`), `registers` when
 * completely partitioned, `bus` for a pointer argument of the top function (an m_axi port). */
export type Ports = number | 'registers' | 'bus';

export interface ArrayAccess {
  variable: string;
  /** Accesses per iteration: syntactic accesses x unroll copies, a read-modify-write counting
   * as a read and a write; calls made inside the loop included. */
  accesses: number;
  ports: Ports;
}

export interface UnrolledLoop extends Place {
  name: string;
  copies: number;
}

export interface PipelineReport extends Place {
  name: string;
  function: string;
  kind: 'loop' | 'function';
  ii: number | null;
  unrolled: UnrolledLoop[];
  arrays: ArrayAccess[];
}

/** A divide, modulo or shift inside a pipelined loop whose divisor / amount is not a constant. */
export interface PipelineOp extends Place {
  pipeline: string;
  function: string;
  op: '/' | '%' | '<<' | '>>';
  /** Width of the dividend / shifted value, and of the divisor / shift amount. */
  bits: number;
  amountBits: number;
  copies: number;
}

export interface DependenceReport extends Place {
  function: string;
  variable: string;
  /** The dependence pragma acts on arrays and pointers only (UG1399 "Scalar Dependencies"). */
  target: 'array' | 'pointer' | 'scalar' | 'registers' | 'unknown';
  pragma: string;
}

export interface MultiplierGroup {
  aBits: number;
  bBits: number;
  count: number;
  /** Of `count`, inside pipelined loops (the datapath); the rest is control: job setup and
   * address arithmetic outside any pipeline. */
  pipelined: number;
  dspEach: number;
  dsp: number;
}

export type ViolationKind =
  | 'call-not-inlined'
  | 'array-ports'
  | 'runtime-divide'
  | 'dataflow-form'
  | 'dependence-on-register'
  | 'unroll-bound'
  | 'recursion';

export interface Violation extends Place {
  kind: ViolationKind;
  message: string;
}

export interface StructureReport {
  file: string;
  functions: FunctionReport[];
  pipelines: PipelineReport[];
  /** Over all instances. */
  multipliers: MultiplierGroup[];
  dsp: number;
  pipelineOps: PipelineOp[];
  /** Run-time divides inside pipelined loops: one pipelined divider per copy and instance. */
  dividers: DividerCount[];
  /** Functions with `#pragma HLS dataflow`, their processes in call order and channels. */
  dataflow: DataflowRegion[];
  dependences: DependenceReport[];
  violations: Violation[];
}

export interface DividerCount {
  pipeline: string;
  function: string;
  /** Signed bits of the dividend and the divisor. */
  dividend: number;
  divisor: number;
  count: number;
}

export interface DataflowChannel {
  name: string;
  kind: 'stream' | 'array';
  producers: string[];
  consumers: string[];
}

export interface DataflowRegion extends Place {
  function: string;
  processes: string[];
  channels: DataflowChannel[];
}
