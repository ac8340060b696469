/**
 * Which memory the large on-chip arrays are bound to (bind_storage): the weight store, the
 * accumulators and the UpHead line buffer can live in URAM or in BRAM. Each goes, largest
 * first, where it leaves the smaller share of the board's budget used (max of the URAM and
 * BRAM_18K utilizations), after the arrays Vitis HLS places itself (BRAM or LUTRAM by
 * size). The block counts are the estimator's (generator/estimate/formulas.ts, UG573), so
 * the choice and the estimate agree.
 */
import type { BoardResources } from '../config/types';
import { bram18Blocks, defaultStorage, physicalMemories, uramBlocks } from '../estimate/formulas';
import type { BufferSpec } from './schedule';

/** Width, depth and count of a buffer's memories after its partition and reshape pragmas. */
function memories(b: BufferSpec): { width: number; depth: number; count: number } {
  const factor = (p: { dim: number; type: 'cyclic' | 'complete'; factor?: number }): number =>
    p.type === 'cyclic' ? (p.factor ?? 1) : p.dim === 0 ? b.dims.reduce((a, x) => a * x, 1) : b.dims[p.dim - 1];
  return physicalMemories({
    elements: b.dims.reduce((a, x) => a * x, 1),
    elemBits: b.elemBits,
    memories: b.partition.reduce((a, p) => a * factor(p), 1),
    wordElems: b.reshape.reduce((a, p) => a * factor(p), 1),
    copies: b.copies,
    copiesShareMemory: false,
  });
}

const share = (used: number, available: number): number => (used === 0 ? 0 : available > 0 ? used / available : Infinity);

/** URAM and BRAM_18K blocks of the buffers, as bound (after bindStorage; 'auto' as Vitis
 * HLS places it by size). */
export function bufferBlocks(buffers: BufferSpec[]): { uram: number; bram: number } {
  let uram = 0;
  let bram = 0;
  for (const b of buffers) {
    const m = memories(b);
    const storage = b.storage === 'auto' ? defaultStorage(m.width, m.depth) : b.storage;
    if (storage === 'uram') uram += m.count * uramBlocks(m.width, m.depth);
    if (storage === 'bram') bram += m.count * bram18Blocks(m.width, m.depth);
  }
  return { uram, bram };
}

/** Sets `storage` of every `flexible` buffer to 'uram' or 'bram'. */
export function bindStorage(buffers: BufferSpec[], budget: Pick<BoardResources, 'URAM' | 'BRAM_18K'>): void {
  let { uram, bram } = bufferBlocks(buffers.filter((x) => !x.flexible));
  const cost = (b: BufferSpec): { uram: number; bram: number } => {
    const m = memories(b);
    return { uram: m.count * uramBlocks(m.width, m.depth), bram: m.count * bram18Blocks(m.width, m.depth) };
  };
  const flexible = buffers
    .filter((x) => x.flexible)
    .map((b) => ({ b, c: cost(b) }))
    .map((x) => ({ ...x, size: Math.max(share(x.c.uram, budget.URAM), share(x.c.bram, budget.BRAM_18K)) }))
    .sort((x, y) => y.size - x.size || x.b.name.localeCompare(y.b.name));
  for (const { b, c } of flexible) {
    const inUram = Math.max(share(uram + c.uram, budget.URAM), share(bram, budget.BRAM_18K));
    const inBram = Math.max(share(uram, budget.URAM), share(bram + c.bram, budget.BRAM_18K));
    if (inUram <= inBram) {
      b.storage = 'uram';
      uram += c.uram;
    } else {
      b.storage = 'bram';
      bram += c.bram;
    }
  }
}
