/**
 * Which dimensions the linear engine's parallelism must divide, and the user error when it
 * does not. PE output rows and SIMD inputs are processed per cycle with no remainder
 * handling in the datapath, so every width a loop steps through by PE or SIMD must be a
 * multiple of it. Widths that are cheap to pad are padded instead (zero weights):
 *   - gate rows (experts E) and task output channels (linear head, conv1x1): rows padded to PE;
 *   - the patch vector C*P*P: padded to a multiple of SIMD (zero pixels, zero weights).
 * What must divide (docs/architecture.md "Parallelism"):
 *   PE:   D, head dim, dense hidden, expert hidden, UpHead channels
 *   SIMD: D, dense hidden, expert hidden, UpHead channels
 */
import type { BuildConfig } from '../config/types';
import type { ModelIR, TaskIR } from '../ir/types';
import { UserError } from '../util/errors';

export interface DividedDim {
  what: string;
  value: number;
}

export function peDims(ir: ModelIR, tasks: TaskIR[]): DividedDim[] {
  const d = ir.dims;
  const dims: DividedDim[] = [
    { what: 'the embedding width D', value: d.embedDim },
    { what: `the head dim (D/${d.heads} heads)`, value: d.headDim },
  ];
  if (hasDenseBlock(ir)) dims.push({ what: 'the dense MLP hidden width', value: d.mlpHidden });
  if (d.moe) dims.push({ what: 'the expert hidden width', value: d.moe.hidden });
  for (const t of tasks) {
    if (t.head.kind === 'uphead') dims.push({ what: `the UpHead channels of task ${t.name}`, value: t.head.channels });
  }
  return dims;
}

export function simdDims(ir: ModelIR, tasks: TaskIR[]): DividedDim[] {
  const d = ir.dims;
  const dims: DividedDim[] = [{ what: 'the embedding width D', value: d.embedDim }];
  if (hasDenseBlock(ir)) dims.push({ what: 'the dense MLP hidden width', value: d.mlpHidden });
  if (d.moe) dims.push({ what: 'the expert hidden width', value: d.moe.hidden });
  for (const t of tasks) {
    if (t.head.kind === 'uphead') dims.push({ what: `the UpHead channels of task ${t.name}`, value: t.head.channels });
  }
  return dims;
}

export function hasDenseBlock(ir: ModelIR): boolean {
  return ir.dims.moe === undefined || ir.dims.moe.blocks.length < ir.dims.depth;
}

/** Values from 1 to `max` that divide every dimension. */
export function legalValues(dims: DividedDim[], max = 256): number[] {
  const out: number[] = [];
  for (let v = 1; v <= max; v++) if (dims.every((d) => d.value % v === 0)) out.push(v);
  return out;
}

/** Throws a UserError naming /parallelism/pe or /parallelism/simd with the legal values. */
export function checkParallelism(ir: ModelIR, tasks: TaskIR[], config: BuildConfig): void {
  const problems: string[] = [];
  const check = (field: 'pe' | 'simd', value: number, dims: DividedDim[]): void => {
    const bad = dims.filter((d) => d.value % value !== 0);
    if (bad.length === 0) return;
    const list = bad.map((d) => `${d.what} (${d.value})`).join(', ');
    problems.push(`/parallelism/${field}: ${value} does not divide ${list}; allowed: ${legalValues(dims).join(', ')}`);
  };
  check('pe', config.parallelism.pe, peDims(ir, tasks));
  check('simd', config.parallelism.simd, simdDims(ir, tasks));
  if (problems.length > 0) throw new UserError(config.configFile, problems, problems.length > 1 ? 'invalid parallelism' : undefined);
}
