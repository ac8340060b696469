/**
 * The estimate as written to report/estimate.json (schema documented in
 * docs/estimate-format.md). Field names are snake_case because the file is read by tools
 * other than this package (the `report` command, Python scripts on the board).
 * Every number in it is an analytical ESTIMATE, not a synthesis or board measurement.
 */
import type { ResourceClass } from '../config/types';
import type { LayerKind } from '../ir/types';
import type { ProgramCounters } from '../schedule/program';

export const ESTIMATE_FORMAT = 'm3vit-gen-estimate/1';

export type SchedulerName = 'expert-major' | 'token-major' | 'all-on-chip';

export interface ResourceFigure {
  used: number;
  available: number;
  /** used / available. */
  utilization: number;
}

export interface Overflow {
  resource: ResourceClass;
  used: number;
  available: number;
  /** used - available. */
  over: number;
}

export interface BufferEstimate {
  name: string;
  purpose: string;
  group: string;
  dims: number[];
  elem_bits: number;
  /** ARRAY_PARTITION factor (independent memories per copy). */
  partition: number;
  /** ARRAY_RESHAPE factor (elements per memory word). */
  reshape: number;
  copies: number;
  copies_share_memory: boolean;
  /** Physical memories after the pragmas: count, width, depth. */
  memories: number;
  memory_width_bits: number;
  memory_depth: number;
  storage: 'bram' | 'uram' | 'lutram';
  /** `kernels`: bound by bind_storage; `hls-default`: Vitis HLS's own choice, as the estimator models it. */
  storage_from: 'kernels' | 'hls-default';
  /** Logical bytes (all copies). */
  bytes: number;
  BRAM_18K: number;
  URAM: number;
  LUT: number;
}

/** Multipliers of one shape in a unit: operands in signed bits (a >= b). `pipelined`: inside a
 * pipelined loop (the datapath the structural check compares, shape by shape). */
export interface MultiplierUse {
  a: number;
  b: number;
  count: number;
  pipelined: boolean;
  what: string;
}

/** A divider pipelined at II = 1 (a run-time divide in a pipelined loop), in signed bits. */
export interface DividerUse {
  dividend: number;
  divisor: number;
  count: number;
  what: string;
}

export interface UnitEstimate {
  unit: string;
  LUT: number;
  FF: number;
  /** Sum of the multipliers' DSP48E2 slices. */
  DSP: number;
  BRAM_18K: number;
  URAM: number;
  multipliers: MultiplierUse[];
  dividers: DividerUse[];
}

export type Bound = 'compute' | 'memory' | 'none';

export interface LayerEstimate {
  /** IR layer name (model/ir.json), e.g. "blocks.1.mlp.experts" or "head.semseg.conv_0". */
  layer: string;
  kind: LayerKind;
  /** "backbone" or "task:<name>". */
  scope: string;
  block?: number;
  /** Hardware engine that runs the layer. */
  engine: 'linear' | 'attention' | 'layernorm' | 'moe' | 'conv' | 'stream' | 'fused';
  /** For fused layers: the layer whose loop does this work (its cycles are counted there). */
  fused_into?: string;
  macs: number;
  cycles: number;
  /** Of `cycles`, the loops that move no bus words and the non-pipelined control. */
  compute_cycles: number;
  /** DDR transfer cycles alone, on the busiest port. */
  ddr_cycles: number;
  ddr_read_bytes: number;
  ddr_write_bytes: number;
  /** How loads and compute combine: ping-pong overlaps them, serial adds them. */
  overlap: 'ping-pong' | 'streamed' | 'serial' | 'none';
  /** Multipliers busy in this layer's inner loop (its compute roof). */
  macs_per_cycle: number;
  roofline: {
    compute_bound_cycles: number;
    memory_bound_cycles: number;
    bound: Bound;
    /** max of the two bounds / estimated cycles (1 = at the roof). */
    efficiency: number;
    /** MACs per DDR byte (null when the layer reads nothing from DDR). */
    intensity: number | null;
  };
  note?: string;
}

export interface TaskEstimate {
  cycles: number;
  latency_ms: number;
  backbone_ms: number;
  head_ms: number;
  ddr_read_bytes: number;
  ddr_write_bytes: number;
  macs: number;
  /** Average MACs per cycle over the run / multipliers in the linear engine. */
  engine_utilization: number;
  energy_mj: number;
}

export interface SchedulerFigures {
  /** On-chip memory holding expert weights (W1, W2, b1, b2), bytes. */
  onchip_weight_bytes: number;
  /** Expert weights read from DDR per inference for this layer, bytes (expected, routing model). */
  expert_weight_ddr_bytes: number;
  /** Expert loads (expected under the routing model). */
  expert_loads: number;
  /** Cycles of the expert computation of this layer under this scheduler. */
  cycles: number;
}

export interface MoeLayerEstimate {
  layer: string;
  block: number;
  experts: number;
  top_k: number;
  tokens: number;
  expert_bytes: number;
  expected_experts_used: number;
  schedulers: Record<SchedulerName, SchedulerFigures>;
}

export interface PaperComparison {
  config: string;
  rows: Array<{ figure: string; paper: string; ours: string; note: string }>;
}

export interface Estimate {
  format: typeof ESTIMATE_FORMAT;
  /** Always true: these are analytical estimates, not synthesis results. */
  is_estimate: true;
  generator_version: string;
  model: string;
  board: string;
  part: string;
  clock_mhz: number;
  parallelism: { pe: number; simd: number };
  scheduler: 'expert-major' | 'token-major';
  expert_cache_slots: number;
  fits: boolean;
  overflows: Overflow[];
  resources: Record<ResourceClass, ResourceFigure>;
  units: UnitEstimate[];
  buffers: BufferEstimate[];
  onchip: {
    /** Logical bytes of every on-chip buffer. */
    total_bytes: number;
    activation_bytes: number;
    /** Bytes the activation buffers need vs the bytes all BRAM and URAM of the budget hold. */
    activations_fit: boolean;
    budget_bytes: number;
  };
  tasks: string[];
  latency_ms: Record<string, number>;
  per_task: Record<string, TaskEstimate>;
  task_switch: { extra_cycles: number; extra_ddr_bytes: number; note: string };
  power_w: number;
  energy_mj: Record<string, number>;
  layers: LayerEstimate[];
  /** Where the MoE queues of `counters` come from: the golden run's routing or the routing model. */
  counters_routing: string;
  /** Per task, per op (IR layer): iterations of every pipelined loop of the kernels and bus words
   * per m_axi channel of one inference (generator/schedule/program.ts); csim_result.json has the
   * same object, counted by C simulation. */
  counters: Record<string, ProgramCounters>;
  moe: {
    routing_model: string;
    layers: MoeLayerEstimate[];
    /** Sums over the MoE layers of one inference. */
    total: Record<SchedulerName, SchedulerFigures>;
    /** Token-major expert loads and traffic of ONE MoE layer as the cache grows (routing model). */
    token_major_by_slots: Array<{ slots: number; expert_loads: number; expert_weight_ddr_bytes: number }>;
  };
  roofline: {
    peak_macs_per_cycle: number;
    engine_macs_per_cycle: number;
    ddr_bytes_per_cycle: number;
    weights_port_bytes_per_cycle: number;
  };
  /** Timing figures the cycle model assumes (synthesis reports the real ones). */
  timing: {
    dot_depth: number;
    elementwise_depth: number;
    div64_cycles: number;
    isqrt_cycles: number;
    axi_latency: number;
    axi_outstanding: number;
  };
  paper?: PaperComparison;
  assumptions: string[];
  /** Per pipelined loop label: the II of its pragma, the cycles per iteration the model uses
   * (more than the II where the bus is slower), the assumed pipeline depth and why
   * (generator/schedule/timing.ts). Cycles of an op = sum of iterations x interval + starts x depth. */
  loop_timing: Record<string, { ii: number; interval: number; depth: number; reason: string }>;
}
