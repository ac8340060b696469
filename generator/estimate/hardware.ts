/**
 * The hardware the estimator models, read from the kernels' own schedule
 * (generator/schedule/schedule.ts: the numbers model_config.h and the pragmas of
 * m3vit_top.cpp are emitted from) plus the few timing figures that only synthesis knows
 * exactly (pipeline depths, operator latencies), which are stated here as assumptions.
 */
import type { BuildConfig } from '../config/types';
import type { ModelIR, TaskIR } from '../ir/types';
import { hwInterface, type BundleRole } from '../schedule/interface';
import { buildSchedule, type BufferSpec as ScheduleBuffer, type Schedule } from '../schedule/schedule';
import { AXI_LATENCY_CYCLES, dotPipelineDepth, divLatency, physicalMemories, portBytesPerCycle, type Storage } from './formulas';

/** One on-chip array as the estimator sizes it (see physicalMemories in ./formulas.ts). */
export interface BufferSpec {
  name: string;
  purpose: string;
  group: ScheduleBuffer['group'];
  dims: number[];
  elemBits: number;
  /** Independent memories (product of the ARRAY_PARTITION factors). */
  memories: number;
  /** Elements per memory word (product of the ARRAY_RESHAPE factors). */
  wordElems: number;
  copies: number;
  copiesShareMemory: boolean;
  /** Storage bound by the kernels (bind_storage); undefined = Vitis HLS chooses. */
  storage?: Storage;
}

export interface PortSpec {
  role: BundleRole;
  bundle: string;
  widthBits: number;
  /** Bytes per kernel cycle when this port alone is active (port width vs DDR peak). */
  bytesPerCycle: number;
  /** Bytes per cycle when `n` ports are active at the same time (DDR peak shared). */
  sharedBytesPerCycle: (n: number) => number;
}

/** Timing figures of the generated loops that only synthesis knows exactly. */
export interface Timing {
  /** Pipeline depth of a DOT loop around pe_simd_dot (read, multiply, adder tree, accumulate). */
  dot: number;
  /** Depth of an element-wise pass (read, requant or add, write). */
  elementwise: number;
  /** A 64-bit integer division (div_round, floor_div): HLS's sequential divider. */
  div64: number;
  /** isqrt: 32 digit steps. */
  isqrt: number;
  /** m_axi round-trip latency (the kernels set latency=64). */
  axiLatency: number;
  /** Outstanding reads of the weights bundle (num_read_outstanding=16): single-beat reads
   * the HLS cannot merge into a burst proceed at one per axiLatency / outstanding cycles. */
  axiOutstanding: number;
}

export interface HardwarePlan {
  sched: Schedule;
  pe: number;
  simd: number;
  bits: { weight: number; bias: number; act: number; acc: number };
  timing: Timing;
  /** Words of one expert (W1, W2) and its biases (b1, b2). */
  expertWeightWords: number;
  expertBiasWords: number;
  buffers: BufferSpec[];
  ports: Record<BundleRole, PortSpec>;
  /** Where the groups of numbers come from, for the report. */
  sources: Array<{ what: string; source: 'kernels' | 'assumed' }>;
}

export function hardwarePlan(ir: ModelIR, tasks: TaskIR[], config: BuildConfig): HardwarePlan {
  const sched = buildSchedule(ir, tasks, config);
  const { pe, simd } = sched;
  const bits = {
    weight: config.numerics.weightBits,
    bias: config.numerics.biasBits,
    act: config.numerics.activationBits,
    acc: config.numerics.accumulatorBits,
  };
  const timing: Timing = {
    dot: dotPipelineDepth(simd),
    elementwise: 6,
    div64: divLatency(64),
    isqrt: 34,
    axiLatency: AXI_LATENCY_CYCLES,
    axiOutstanding: 16,
  };
  const He = ir.dims.moe?.hidden ?? 0;
  const D = ir.dims.embedDim;
  const iface = hwInterface(config);
  const ports = {} as Record<BundleRole, PortSpec>;
  for (const b of iface.bundles) {
    const per = (n: number): number => portBytesPerCycle(b.widthBits, config.board.ddr.bandwidthGBps, config.clockMHz, n);
    ports[b.role] = { role: b.role, bundle: b.bundle, widthBits: b.widthBits, bytesPerCycle: per(1), sharedBytesPerCycle: per };
  }
  return {
    sched,
    pe,
    simd,
    bits,
    timing,
    expertWeightWords: 2 * D * He,
    expertBiasWords: He + D,
    buffers: sched.buffers.map(fromSchedule),
    ports,
    sources: [
      { what: 'loop nests, trip counts, tiles (TH, patch chunks, gate rows), buffers and their pragmas: generator/schedule/schedule.ts and templates/hls/m3vit_top.cpp.hbs with its kernel headers templates/hls/kernels/*.h.hbs', source: 'kernels' },
      { what: `m_axi latency ${timing.axiLatency} cycles, ${timing.axiOutstanding} outstanding reads (interface pragmas)`, source: 'kernels' },
      { what: `DOT loop pipeline depth ${timing.dot} cycles (BRAM read 2, DSP 3, adder tree, accumulate, write)`, source: 'assumed' },
      { what: `attention: Q.K^T and P.V on the MAC array over key tiles of ${sched.attention.keyTile}; the online softmax in the two products' epilogues and input lanes (scores, row maximum and factor after Q.K^T; P words evaluated from the scores by SIMD exp lanes at P.V's input; o and l rescaled after P.V), so attention costs the engine's steps`, source: 'kernels' },
      { what: `64-bit divide ${timing.div64} cycles, isqrt ${timing.isqrt} cycles, element-wise pass depth ${timing.elementwise}`, source: 'assumed' },
      { what: 'arrays without bind_storage: LUTRAM when a memory is at most 64 deep or 1 Kb, else BRAM (what Vitis HLS does by default)', source: 'assumed' },
      { what: 'every loop that moves m_axi words bursts (its addresses run in order), so a port moves a word per cycle; Vitis infers a burst only when the address advances by one each iteration (UG1448 214-230, 214-232), and the loops that read a word every few iterations or jump at a row end (TILE_LOAD/STORE, TERM_LOAD/ADD, VEC32/16_LOAD, ROW_READ, SCRATCH_WRITE) may instead run at single-beat rate, about latency / outstanding cycles a word', source: 'assumed' },
      { what: 'the expert feeds (token-tiled expert-major): ROW_READ and SCRATCH_WRITE, processes of mac_engine\'s DATAFLOW region, move a group\'s rows within the FC2 / FC1 job beside them (the schedule turns them on only when the rows\' words fit in the job\'s steps), so each job pays one start of each and no iteration; an FC1 job\'s term words wait for the running sums its row reader reads (one round trip, the ROW_READ start it pays), and a sum word is read before the term word that overwrites it is written, so the read and write of one ES row in one job need no ordering beyond the data\'s; that their per-row bursts follow each other without a round trip each is the burst assumption above', source: 'assumed' },
      { what: 'the q/k/v feed (token-tiled, PE a multiple of 8 dividing HD): a q, k or v job\'s outputs leave for QKVS through mac_engine\'s scratch writer as the epilogue makes them (PE / 8 words per token, at most one every D / SIMD steps), so the job pays one SCRATCH_WRITE start and PE / 8 more MAC steps (its last token\'s words) and no store follows it; that the write channel takes a word per cycle while the weight reader reads is the burst assumption above', source: 'assumed' },
    ],
  };
}

/** A schedule buffer as physical memories: partition factors multiply the memories,
 * reshape factors the elements per word; `complete` takes the whole dimension (dim 0 = all). */
export function fromSchedule(b: ScheduleBuffer): BufferSpec {
  const factor = (p: { dim: number; type: 'cyclic' | 'complete'; factor?: number }): number => {
    if (p.type === 'cyclic') return p.factor ?? 1;
    return p.dim === 0 ? b.dims.reduce((a, x) => a * x, 1) : b.dims[p.dim - 1];
  };
  return {
    name: b.name,
    purpose: b.purpose,
    group: b.group,
    dims: b.dims,
    elemBits: b.elemBits,
    memories: b.partition.reduce((a, p) => a * factor(p), 1),
    wordElems: b.reshape.reduce((a, p) => a * factor(p), 1),
    copies: b.copies,
    copiesShareMemory: false,
    storage: b.storage === 'auto' ? undefined : b.storage,
  };
}

/** Physical memories of a buffer (all copies). */
export function bufferMemories(b: BufferSpec): { width: number; depth: number; count: number } {
  return physicalMemories({ elements: b.dims.reduce((a, x) => a * x, 1), elemBits: b.elemBits, memories: b.memories, wordElems: b.wordElems, copies: b.copies, copiesShareMemory: b.copiesShareMemory });
}

/** Bytes a buffer holds (all copies), by its logical size. */
export function bufferBytes(b: BufferSpec): number {
  return (b.dims.reduce((a, x) => a * x, 1) * b.elemBits * b.copies) / 8;
}
