/**
 * The hardware schedule: every size, tile and on-chip array of the generated kernels,
 * decided here once from the IR and the config. The kernel emitter turns it into the
 * constants of model_config.h (same names as `constants`), the estimator reads the buffers
 * and tiles from it, and the testbench reads the scratch map. docs/architecture.md is the
 * prose of this file.
 */
import type { BoardResources, BuildConfig, Scheduler } from '../config/types';
import type { ModelIR, TaskIR } from '../ir/types';
import { checkParallelism, hasDenseBlock } from './parallelism';
import { bindStorage, bufferBlocks } from './storage';
import { UserError } from '../util/errors';
import { attentionKeyTile } from '../numerics/plan';
import { exp2TableValues, GELU_SEGMENTS } from '../numerics/tables';
import { modelWidths, tableWidths } from '../numerics/widths';

/** 128-bit words: 8 int16 lanes or 4 int32 lanes. */
export const WORD_BITS = 128;
export const LANES16 = 8;
export const LANES32 = 4;

export const words16 = (n: number): number => Math.ceil(n / LANES16);
export const words32 = (n: number): number => Math.ceil(n / LANES32);
const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

/** SLOT_LANES: int32 lanes per iteration of the ES loads and stores (TERM_LOAD, TERM_STORE),
 * gcd(IO_LANES, 4): a bus word holds 4 int32 lanes. */
export function slotLanes(s: Schedule): number {
  return gcd(s.patchEmbed.tokenLanes, LANES32);
}

/**
 * The row feed (token-tiled, expert-major): an expert group's LayerNorm-2 rows arrive in Y
 * during the FC2 job before it, through mac_engine's row reader, a word per MAC step, so only
 * a layer's first group is gathered apart. On when a group's row words (BLOCK_PARTS x D_WORDS)
 * fit in an FC2 job's steps (W1_BLOCKS x BLOCK_PARTS): mac_run takes them within the job's
 * steps, and the job runs no longer.
 */
export function expertRowFeed(s: Pick<Schedule, 'tiled' | 'moe' | 'D' | 'pe' | 'simd'>): boolean {
  if (!s.tiled || !s.moe || s.moe.scheduler !== 'expert-major') return false;
  return words16(s.D) <= (s.moe.hidden * s.D) / (s.pe * s.simd);
}

/**
 * The term feed (with the row feed, PE a multiple of 4): an expert group's combine terms,
 * staged in ACC rows by its FC2 job, leave for ES during the next group's FC1 job (which
 * touches no ACC): mac_run reads a PE-lane ACC word every PE / 4 steps and streams its bus
 * words to mac_engine's scratch writer, each added to the word of the token's ES row (its
 * running sum) that the row reader brings, idle in FC1 jobs (none for a token's first
 * expert, which writes the row). Only a layer's last group is stored apart. On when a
 * group's term words (BLOCK_PARTS x E_WORDS) fit in an FC1 job's steps with a step to spare
 * (a word leaves in a step after its read).
 */
export function expertTermFeed(s: Pick<Schedule, 'tiled' | 'moe' | 'D' | 'pe' | 'simd'>): boolean {
  return expertRowFeed(s) && s.pe % LANES32 === 0 && words32(s.D) < (s.moe!.hidden * s.D) / (s.pe * s.simd);
}

/**
 * The q/k/v feed (token-tiled, PE a multiple of 8 dividing HD): a q, k or v job's outputs
 * leave for QKVS as its epilogue makes them. A token's PE outputs are PE / 8 bus words, which
 * mac_run streams to mac_engine's scratch writer over the steps after them, so no store
 * follows the job. QKVS then holds each head's q, k and v in column groups of PE columns
 * ([HD / PE][N_TOK][PE / 8] words), each job's rows one run. On when a token's words fit in
 * its steps (D / SIMD blocks), so the words of one token are out before the next token's.
 */
export function qkvFeed(s: Pick<Schedule, 'tiled' | 'hd' | 'D' | 'pe' | 'simd'>): boolean {
  return !!s.tiled && s.pe % LANES16 === 0 && s.hd % s.pe === 0 && s.pe / LANES16 <= Math.ceil(s.D / s.simd);
}

/** Columns of a QKVS column group: PE with the q/k/v feed, else the whole head (rows of HD). */
export function qkvGroupCols(s: Pick<Schedule, 'tiled' | 'hd' | 'D' | 'pe' | 'simd'>): number {
  return qkvFeed(s) ? s.pe : s.hd;
}

export interface UpStage {
  /** Conv3x3 input (and output) resolution and input channels. */
  h: number;
  w: number;
  cin: number;
  /** Channels per pixel of the input map in scratch (cin rounded up to MAP_LANES, zeros). */
  cinStride: number;
  /** A 2x upsample follows (every stage but the last). */
  upsample: boolean;
  /** Output channels per group (CONV_GROUPS): the group's weights stay on chip (CW) for
   * every output row, and the input map is read once per group. */
  group: number;
}

export interface TaskSchedule {
  name: string;
  /** Index in the model's task list (the checkpoint's gate index). */
  modelIndex: number;
  /** Index in the built task list: the `task` argument of the top function. */
  id: number;
  head: 'linear' | 'uphead';
  /** Output channels C and C rounded up to PE (rows of the last layer's weights). */
  channels: number;
  channelsPadded: number;
  outputShape: number[];
  outputCount: number;
  /** UpHead only. */
  upChannels: number;
  /** Channels per pixel of the UpHead maps in scratch (upChannels rounded up to MAP_LANES). */
  upStride: number;
  stages: UpStage[];
  /** Resolution of the conv1x1 (half the image). */
  lastH: number;
  lastW: number;
}

export type DumpLayout = 'rows' | 'hwc' | 'chw';

/** A debug-dump slot in scratch (options bit 0): the kernel copies a layer output there. */
export interface DumpEntry {
  /** Checkpoint name of the reference (golden) this slot is compared with. */
  name: string;
  /** Golden shape ([C, H, W] for feature maps). */
  shape: number[];
  /** 'rows': C order of `shape`; 'hwc': a [C][H][W] map stored channels-last. */
  layout: DumpLayout;
  lanes: 16 | 32;
  offsetWords: number;
  words: number;
  /** Task name for head dumps (only present in that task's runs). */
  task?: string;
}

/**
 * WS [banks][depth][PE / parts][SIMD]: the on-chip weight store of the MAC array for the
 * experts (expert-major: banks 0 and 1 are the ping-pong halves; token-major: one bank per
 * cache slot) and, in the head, the conv3x3 channel groups (all banks as one store). A
 * PE x SIMD block is `parts` words of PE/parts rows, so the memory is `partBits` wide and
 * `parts` times deeper than a block-wide one: its blocks follow the weights it holds, not
 * the MAC array's width. The array still takes a whole block per cycle by reusing each block
 * for `parts` tokens (experts) or pixels (conv) while the next block's parts are read.
 */
export interface WeightStore {
  /** Words (parts) per block = tokens or pixels that share a block (BLOCK_PARTS). */
  parts: number;
  /** Weights of one part: PE / parts rows of SIMD. */
  partRows: number;
  /** Bits of one part (the memory width). */
  partBits: number;
  /** Bus words of one part in the image (PART_WORDS). */
  partWords: number;
  banks: number;
  /** Parts per bank: a multiple of `parts` holding one expert (and its share of the smallest
   * conv group), the banks together rounded up to the URAM depth (they are one memory; more
   * depth costs no more URAM). */
  depth: number;
  /** Blocks the conv3x3 may keep (all banks). */
  convBlocks: number;
}

/** Token tiles of the DDR-resident backbone (Schedule.tiled). */
export interface TokenTiling {
  /** Token rows per tile (TOK_TILE); the last tile has lastRows. */
  rows: number;
  tiles: number;
  lastRows: number;
  /** Patch embedding and the head work on the N_PATCH patch tokens in tiles of `rows`. */
  patchTiles: number;
  patchLastRows: number;
  /** Why: 'config' (placement ddr) or 'budget' (auto: the on-chip activations do not fit). */
  reason: 'config' | 'budget';
}

export interface BufferSpec {
  /** C++ name in m3vit_top.cpp. */
  name: string;
  purpose: string;
  group: 'activations' | 'linear weights' | 'expert weights' | 'head buffers' | 'small';
  dims: number[];
  elemBits: number;
  /** C++ element type (act_t, wgt_t, bias_t, acc_t, int). */
  cType: string;
  /** array_partition pragmas (separate memories). */
  partition: Array<{ dim: number; type: 'cyclic' | 'complete'; factor?: number }>;
  /** array_reshape pragmas (lanes packed into one wide word). */
  reshape: Array<{ dim: number; type: 'cyclic' | 'complete'; factor?: number }>;
  /** bind_storage impl set by the kernels; 'auto' leaves it to Vitis HLS. */
  storage: 'bram' | 'uram' | 'lutram' | 'auto';
  /** Copies of `dims` (ping-pong halves are written as two arrays of `dims`). */
  copies: number;
  /** Holds weights (counted in onchip_weight_buffer_bytes). */
  weights: boolean;
  /** URAM or BRAM, whichever leaves more of the board's budget (storage.ts bindStorage). */
  flexible?: boolean;
  /** A constant table, declared with its initializer by the kernels (not in the buffer list). */
  rom?: boolean;
}

export interface Schedule {
  pe: number;
  simd: number;
  /** Words of one PE x SIMD weight block (the unit of 'blocks16' matrices). */
  blockWords: number;
  /** Lanes of the element-wise passes (requant, residual, GELU, LayerNorm): the largest
   * divisor of gcd(PE, SIMD) up to 8, so a pass reads within one ACC word (PE columns) and
   * across SIMD banks of X/Y/H. */
  passLanes: number;
  /** GELU evaluations in one cycle (PE at the end of an expert FC1 tile, PASS_LANES in
   * DENSE_GELU): each lane reads two table entries, so each has its own copy of the table. */
  geluLanes: number;
  /** Lanes of LayerNorm's passes: the largest divisor of gcd(SIMD, D) up to LN_LANES_MAX, so
   * a pass reads and writes across the SIMD banks of X/Y (each lane carries the wide products
   * c * c, c * r and n * gamma). */
  lnLanes: number;
  /** Lanes of the MoE residual (MOE_RES2): within one ACC word (PE) and across the SIMD banks
   * of X and Y, up to RES_LANES_MAX. */
  resLanes: number;
  /** Lanes of the attention output (ATT_OUT: a pipelined o / l divider each, into A):
   * gcd(passLanes, hd). (q, k, v are requantized in the engine's epilogue, PE per cycle.) */
  qkvLanes: number;
  /** Attention on the engine, in tiles of keys (the int reference's plan.attention.keyTile). */
  attention: {
    /** Keys per tile: the scores of a tile are KEY_TILE engine rows, its P.V KEY_TILE inputs. */
    keyTile: number;
    /** Tiles over the N keys. */
    tiles: number;
    /** The last tile's keys up to a multiple of PE (its Q.K^T rows) and of SIMD (its P.V
     * columns): its jobs skip the rest of the tile. */
    lastRows: number;
    lastCols: number;
    /** Head dim padded to SIMD (the K of Q.K^T) and to PE (the rows of P.V). */
    hdK: number;
    hdR: number;
    /** Q.K^T jobs of a full tile (chunks of PE scores: keyTile / PE) and P.V row tiles
     * (hdR / PE). */
    scoreChunks: number;
    mergeChunks: number;
    /** The last token's row of Qh, Kh, Vh and O apart, in registers (QhL, KhL, VhL, OL), and
     * `rows` = N - 1 in memory: when N - 1 is a multiple of 512 (ViT at 512x512: 1024
     * patches + the class token), a bank of N words would take twice the BRAM of N - 1. */
    lastApart: boolean;
    rows: number;
    /** K's rows in Kh (K_ROWS) and apart in KhL (K_TAIL): N_ATT and the last token
     * (lastApart), or token-tiled, when N is just past a multiple of K_BANK_ROWS, that
     * multiple in Kh and the few rows past it (at most K_TAIL_MAX) in LUTRAM: at ViT-S NYUD
     * (1201 tokens) 1024 + 177, one BRAM_18K per bank rather than two. */
    kRows: number;
    kTail: number;
    /** The queries of a head in tiles (token-tiled only; on chip, one tile of every token):
     * `tile` rows each (Q_TILE), `tiles` of them, the last `lastRows`. Each query tile runs
     * every key tile against the head's K and V (on chip for all of a head's query tiles),
     * so a row's online softmax, and so its bits, do not depend on the query tiling.
     * `memRows`: rows of Qh and O (Q_ROWS: Q_TILE, at least TOK_TILE as Qh also stages a
     * token tile's q; on chip N_ATT); `stateRows`: rows of S and the softmax state (Q_ROWS;
     * on chip N). `apart`: Q's and o's last token in registers (on chip with lastApart). */
    query: { tile: number; tiles: number; lastRows: number; memRows: number; stateRows: number; apart: boolean };
  };
  N: number;
  NP: number;
  D: number;
  heads: number;
  hd: number;
  depth: number;
  image: { c: number; h: number; w: number; patch: number; gridH: number; gridW: number };
  /** Patch embedding: the C*P*P vector in `chunks` chunks of `chunk` (zero-padded). */
  patchEmbed: {
    k: number;
    chunk: number;
    chunks: number;
    /** Image rows are whole bus words (IMG_W % 8 == 0): a band loads a word of 8 pixels per
     * cycle, else a pixel per cycle. */
    bandWords: boolean;
    /** Patch-vector elements gathered per cycle: consecutive columns of one patch row
     * (gcd(PASS_LANES, PATCH): Y takes PASS_LANES columns per cycle). */
    gatherLanes: number;
    /** Columns per cycle of TOKENS (bias, class token, positional embedding into X):
     * gcd(PASS_LANES, 8), so a cycle takes lanes of one bus word of the positional embedding
     * (its rows start a word) and of one ACC word. */
    tokenLanes: number;
  };
  dense?: { hidden: number; tile: number; tiles: number };
  /** Backbone activations in DDR scratch (config `activations`), worked on in token tiles:
   * the residual stream X in scratch (XS), each block's q, k and v (QKVS) and attention output
   * (AS) too; on chip only a token tile of X, Y, A, H and ACC, and one head's Q, K, V for
   * the attention over all keys. Undefined: every activation on chip. */
  tiled?: TokenTiling;
  /** Rows of the on-chip activation arrays X, Y, A, H, ACC, LN_MU, LN_R (ACT_ROWS): N, or
   * the token tile. */
  actRows: number;
  moe?: {
    experts: number;
    topK: number;
    hidden: number;
    /** Gate rows: E rounded up to PE. */
    gateRows: number;
    blocks: number[];
    scheduler: Scheduler;
    cacheSlots: number;
    /** Image words of one expert (W1, W2, b1, b2). */
    expertWords: number;
  };
  /** Columns of the engine's accumulator array ACC: the widest summed engine output. */
  accCols: number;
  /** Rows of the bias buffer: the widest biased engine output. */
  biasRows: number;
  /** Widest K streamed through the linear engine's weight tile: D, the UpHead channels (the
   * conv1x1 tile uses the same buffer), or the attention's key tile (P.V's K). */
  kMax: number;
  /** The weight store WS (expert weights; conv3x3 channel groups in the head). */
  ws: WeightStore | undefined;
  tasks: TaskSchedule[];
  head: {
    any: boolean;
    /** Line buffer [3][lbW][lbC] (lbC: the widest map stride, so padding lanes are legal
     * addresses), conv output row [lbW][groupMax], conv1x1 output rows [2][lastW][cPadMax]. */
    lbW: number;
    lbC: number;
    chMax: number;
    /** The widest conv3x3 channel group (ROW's columns; at most ROW_BANK_WORDS per bank). */
    groupMax: number;
    cinMax: number;
    /** Widest conv1x1 output row (half the image width) and its padded task channels. */
    lastW: number;
    cPadMax: number;
    /** Columns of the conv1x1 weight tile (CH_MAX). */
    cwK: number;
    /** Channels per iteration of the word-wide map streams (line buffer loads, row writes):
     * lcm(SIMD, 8), so an iteration is whole bus words and whole line-buffer words. */
    mapLanes: number;
    /** Channels per pixel of the token map (D rounded up to mapLanes). */
    dStride: number;
    /** Widest map stride (channels per pixel) of any UpHead map. */
    strideMax: number;
  };
  scratch: {
    /** Two feature-map regions (ping-pong between head stages), words each. */
    mapWords: number;
    mapA: number;
    mapB: number;
    /** Token-tiled activations (0 when on chip): XS [N][row_words(D)] the residual stream;
     * QKVS [HEADS][3][HD / QKV_COLS][N][row_words(QKV_COLS)] q, k, v of every head, in
     * column groups (qkvGroupCols: PE with the q/k/v feed, else one of HD); AS [HEADS][N][row_words(HD)]
     * the attention output. Rows start a word. */
    xs: number;
    qkvs: number;
    as: number;
    /** MoE blocks, tiled: YS [N][YS_STRIDE] the LayerNorm-2 output the experts gather their
     * tokens from (row_words(D) rounded up to a power of two); ES [N][E_WORDS] each token's
     * running sum of its combine terms (its experts add theirs in turn), int32 lanes, rows
     * contiguous. */
    ys: number;
    es: number;
    dumpBase: number;
    dumps: DumpEntry[];
    totalWords: number;
  };
  buffers: BufferSpec[];
  /** Named constants as emitted in model_config.h. */
  constants: Array<{ name: string; value: number; doc: string }>;
}

/** Target width of a weight-store part, bits: 1024 = 15 URAM columns (1080 bits, 95%
 * used). Narrower parts need more reuse (BLOCK_PARTS tokens or pixels per block). */
export const WS_PART_BITS = 1024;
/** UltraRAM depth (72 x 4096): the weight store's depth is rounded up to it. */
export const URAM_WORDS = 4096;

/** Parts per block: the smallest divisor T of PE with a part of at most WS_PART_BITS that
 * is whole bus words (PE*SIMD/T lanes a multiple of 8); 1 when the block is narrow enough
 * or no divisor qualifies. */
export function blockParts(pe: number, simd: number, weightBits: number): number {
  for (let t = 1; t <= pe; t++) {
    if (pe % t !== 0) continue;
    const lanes = (pe * simd) / t;
    if (weightBits * lanes <= WS_PART_BITS && (t === 1 || lanes % LANES16 === 0)) return t;
  }
  return 1;
}

/** Legal conv3x3 group sizes: multiples of PE that divide ch and are whole bus words (a
 * multiple of 8) unless they are all of ch. */
function convGroups(ch: number, pe: number): number[] {
  const legal: number[] = [];
  for (let g = pe; g <= ch; g += pe) if (ch % g === 0 && (g === ch || g % LANES16 === 0)) legal.push(g);
  return legal;
}

/**
 * Output channels per CONV_GROUPS group of a conv3x3 with `ch` outputs and `cin` inputs: the
 * largest legal group (convGroups) whose blocks fit `capacity` and that is at most `most`
 * channels (ROW's bound), else the smallest.
 */
export function convGroup(ch: number, cin: number, pe: number, simd: number, capacity: number, most = Infinity): number {
  const blocksPerTile = (9 * cin) / simd;
  const legal = convGroups(ch, pe);
  const fitting = legal.filter((g) => (g / pe) * blocksPerTile <= capacity && g <= most);
  return fitting.length > 0 ? fitting[fitting.length - 1] : legal[0];
}

/** Most words of one ROW bank (an int16 per word): 2 BRAM_18K in 1K x 18 mode, 3 past it.
 * When the design's BRAM would not fit otherwise (buildSchedule's capRows), a conv3x3 group
 * is kept to the channels whose output row fits (ROW is [widest row][group], in max(PE, 8)
 * banks): groups of 128 at rows of 320 pixels and 256 channels, the input map read twice,
 * rather than 3 BRAM per bank. */
export const ROW_BANK_WORDS = 2048;

/** Most lanes of an element-wise pass: a bus word's worth (each lane carries its own requant,
 * GELU table and, in LayerNorm, wide multiplies). */
export const PASS_LANES_MAX = 8;
/** Most lanes of LayerNorm: 32 (SIMD of the default engine). Each lane carries the widest
 * products of the design (c * c, c * r with r of 40 fraction bits, n * gamma: 6 DSP48E2 per
 * lane at 16-bit words), which the estimate counts: 192 DSPs at 32 lanes. LayerNorm reads
 * no ACC word, so its lanes are not bound by PE or PASS_LANES; at 8 lanes the 25
 * LayerNorms took 150K cycles each on ViT-S (1025 tokens, D = 384): 12.5 ms of the backbone. */
export const LN_LANES_MAX = 32;
/** Most lanes of the MoE residual: a saturation and a shift-and-add each (no multiplier). At
 * PASS_LANES (8) it took 1.1 ms of ViT-S's backbone (6 layers x 1025 x 384 / 8 cycles). */
export const RES_LANES_MAX = 32;

/** The attention's key tiles for a PE x SIMD engine (see Schedule.attention). */
function attentionTiles(hd: number, N: number, pe: number, simd: number): Schedule['attention'] {
  const keyTile = attentionKeyTile(pe, simd, N);
  const hdK = roundUp(hd, simd);
  const hdR = roundUp(hd, pe);
  const tiles = Math.ceil(N / keyTile);
  // The last tile's real keys, as Q.K^T rows (PE) and P.V columns (SIMD): its jobs run no
  // steps for the padding past them.
  const lastKeys = N - (tiles - 1) * keyTile;
  const lastApart = N > 1 && (N - 1) % 512 === 0;
  const rows = lastApart ? N - 1 : N;
  const query = { tile: N, tiles: 1, lastRows: N, memRows: rows, stateRows: N, apart: lastApart };
  const kTail = lastApart ? 1 : 0;
  return { keyTile, tiles, lastRows: roundUp(lastKeys, pe), lastCols: roundUp(lastKeys, simd), hdK, hdR, scoreChunks: keyTile / pe, mergeChunks: hdR / pe, lastApart, rows, kRows: N - kTail, kTail, query };
}

/** Words of a 16-bit bank in one BRAM_18K (1K x 18 mode). */
export const K_BANK_ROWS = 1024;
/** Most K rows kept apart past a multiple of K_BANK_ROWS: LUTRAM of 16 LUTs per 64 rows and
 * bank, against a BRAM_18K per bank. */
export const K_TAIL_MAX = 256;

/** Token-tiled K rows in Kh and apart: N just past a multiple of K_BANK_ROWS (by at most
 * K_TAIL_MAX) keeps that multiple in Kh, when a packed word's lanes are one key row
 * (`wordRows` 1: the tail's reads are then distinct columns, as Kh's) and a token tile's
 * staging rows (`tokTile`) fit in it; else `whole`, the rows as on chip. */
function keyTailRows(N: number, wordRows: number, tokTile: number, whole: Pick<Schedule['attention'], 'kRows' | 'kTail'>): Pick<Schedule['attention'], 'kRows' | 'kTail'> {
  const tail = N % K_BANK_ROWS;
  if (wordRows !== 1 || N < K_BANK_ROWS || tail === 0 || tail > K_TAIL_MAX || tokTile > N - tail) return whole;
  return { kRows: N - tail, kTail: tail };
}

/** Most query rows per tile by default: o's lanes (about 43 bits) take 2 BRAM_18K each up to
 * 512 words deep (512 x 36 mode) and 3 past it (1K x 18), and Q's 16-bit lanes one BRAM up
 * to 1024, so tiles of at most 512 rows keep both at their smallest. */
export const QUERY_TILE_MAX = 512;

/** Token-tiled attention's query tiles: `given` rows (clamped to N), or the fewest equal
 * tiles of at most QUERY_TILE_MAX rows. Qh stages a token tile's q too: at least tokTile
 * rows in memory. */
export function queryTiling(N: number, tokTile: number, given: number | undefined): Schedule['attention']['query'] {
  const tile = Math.min(N, given ?? Math.ceil(N / Math.ceil(N / QUERY_TILE_MAX)));
  const tiles = Math.ceil(N / tile);
  const rows = Math.max(tile, tokTile);
  return { tile, tiles, lastRows: N - (tiles - 1) * tile, memRows: rows, stateRows: rows, apart: false };
}

/** Most block rows that 8 consecutive lanes of a PE x SIMD block's word span (lane = r *
 * SIMD + c): the rows of K or V that mac_run's packer (onchip_word) reads in one cycle. */
function rowsPerWord(pe: number, simd: number): number {
  let most = 1;
  for (let w = 0; w * 8 < pe * simd; w++) {
    const first = Math.floor((w * 8) / simd);
    const last = Math.floor((Math.min(pe * simd, w * 8 + 8) - 1) / simd);
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** Largest divisor of n not above m. */
function largestDivisorAtMost(n: number, m: number): number {
  for (let v = Math.min(n, m); v >= 1; v--) if (n % v === 0) return v;
  return 1;
}

/**
 * The schedule of a model on a board. `capRows`: conv3x3 groups kept to ROW_BANK_WORDS per
 * ROW bank; first built without (the input map read once per group is faster), and again
 * with it when the buffers' BRAM_18K exceed the board's and the cap shrinks ROW.
 */
export function buildSchedule(ir: ModelIR, tasks: TaskIR[], config: BuildConfig, capRows = false): Schedule {
  checkParallelism(ir, tasks, config);
  const d = ir.dims;
  const { pe, simd } = config.parallelism;
  const N = d.tokens;
  const D = d.embedDim;
  const bits = config.numerics;

  // One PE x SIMD block of int16 weights, padded to whole words.
  const blockWords = Math.ceil((pe * simd) / LANES16);

  // Patch vector chunks: K of the engine is at most D (its input arrays are [N][D]).
  const k = d.inChannels * d.patch * d.patch;
  const kPad = roundUp(k, simd);
  let chunk: number;
  if (kPad <= D) chunk = kPad;
  else {
    chunk = 0;
    for (let c = D; c >= simd; c -= simd) if (c % simd === 0 && k % c === 0) { chunk = c; break; }
    if (chunk === 0) chunk = D - (D % simd);
  }
  const patchEmbedChunks = { k, chunk, chunks: Math.ceil(k / chunk) };

  // Dense hidden tile: a multiple of lcm(PE, SIMD) that divides the hidden width, at most D.
  let dense: Schedule['dense'];
  if (hasDenseBlock(ir)) {
    const L = lcm(pe, simd);
    let tile = L;
    for (let t = L; t <= Math.min(D, d.mlpHidden); t += L) if (d.mlpHidden % t === 0) tile = t;
    dense = { hidden: d.mlpHidden, tile, tiles: d.mlpHidden / tile };
  }

  let moe: Schedule['moe'];
  if (d.moe) {
    const m = d.moe;
    // W1 [He][D] and W2 [D][He] in PE x SIMD blocks, b1 and b2 in 32-bit lanes.
    const expertWords = 2 * ((m.hidden * D) / (pe * simd)) * blockWords + words32(m.hidden) + words32(D);
    moe = {
      experts: m.experts,
      topK: m.topK,
      hidden: m.hidden,
      gateRows: roundUp(m.experts, pe),
      blocks: [...m.blocks],
      scheduler: config.moe.scheduler,
      cacheSlots: config.moe.expertCacheSlots,
      expertWords,
    };
  }

  // UpHead maps are streamed a bus word at a time: MAP_LANES channels per iteration, each
  // pixel's channels padded with zeros to a multiple of MAP_LANES.
  const mapLanes = lcm(simd, LANES16);
  const dStride = roundUp(D, mapLanes);
  const ws = weightStore(ir, tasks, config, moe);
  const convCapacity = ws?.convBlocks ?? 0;
  // The widest conv3x3 output row (the last stage of an UpHead: the grid doubled per upsample).
  const rowW = Math.max(1, ...tasks.map((t) => (t.head.kind === 'uphead' ? d.gridW * 2 ** (t.head.stages - 1) : 1)));
  const rowGroupMost = capRows ? Math.floor((ROW_BANK_WORDS * Math.max(pe, LANES16)) / rowW) : Infinity;
  const taskScheds: TaskSchedule[] = tasks.map((t, id) => {
    const channelsPadded = roundUp(t.channels, pe);
    const stages: UpStage[] = [];
    let h = d.gridH;
    let w = d.gridW;
    let upChannels = 0;
    let upStride = 0;
    if (t.head.kind === 'uphead') {
      upChannels = t.head.channels;
      upStride = roundUp(upChannels, mapLanes);
      let cin = D;
      for (let s = 0; s < t.head.stages; s++) {
        const upsample = s < t.head.stages - 1;
        const group = convGroup(upChannels, cin, pe, simd, convCapacity, rowGroupMost);
        stages.push({ h, w, cin, cinStride: roundUp(cin, mapLanes), upsample, group });
        if (upsample) {
          h *= 2;
          w *= 2;
        }
        cin = upChannels;
      }
    }
    return {
      name: t.name,
      modelIndex: t.index,
      id,
      head: t.head.kind,
      channels: t.channels,
      channelsPadded,
      outputShape: [...t.outputShape],
      outputCount: t.outputShape.reduce((a, b) => a * b, 1),
      upChannels,
      upStride,
      stages,
      lastH: h,
      lastW: w,
    };
  });

  const linearHeadRows = Math.max(0, ...taskScheds.filter((t) => t.head === 'linear').map((t) => t.channelsPadded));
  const attention = attentionTiles(d.headDim, N, pe, simd);
  // ACC: the sums of patch embedding, fc2's hidden tiles, the MoE's combine and the linear
  // head (every other engine output leaves the array requantized, DST_ACT).
  const accCols = Math.max(D, linearHeadRows);
  // Biased engine/conv outputs: D-wide linears, head channels, conv1x1 rows.
  const biasRows = Math.max(D, ...taskScheds.map((t) => Math.max(t.channelsPadded, t.upChannels)));
  const ups = taskScheds.filter((t) => t.head === 'uphead');
  const head = {
    any: ups.length > 0,
    lbW: Math.max(1, ...ups.flatMap((t) => t.stages.map((s) => s.w))),
    lbC: Math.max(1, ...ups.flatMap((t) => t.stages.map((s) => Math.max(s.cinStride, t.upStride)))),
    chMax: Math.max(1, ...ups.map((t) => t.upChannels)),
    groupMax: Math.max(1, ...ups.flatMap((t) => t.stages.map((s) => s.group))),
    cinMax: Math.max(1, ...ups.flatMap((t) => t.stages.map((s) => s.cin))),
    lastW: Math.max(1, ...ups.map((t) => t.lastW)),
    cPadMax: Math.max(pe, ...ups.map((t) => t.channelsPadded)),
    cwK: Math.max(1, ...ups.map((t) => t.upChannels)),
    mapLanes,
    dStride,
    strideMax: Math.max(1, ...ups.flatMap((t) => t.stages.map((s) => Math.max(s.cinStride, t.upStride)))),
  };

  const passLanes = largestDivisorAtMost(gcd(pe, simd), PASS_LANES_MAX);
  const sched: Schedule = {
    pe,
    simd,
    blockWords,
    passLanes,
    geluLanes: moe || dense ? pe : 1, // the expert FC1 and dense fc1 epilogues' lanes
    lnLanes: largestDivisorAtMost(gcd(simd, D), LN_LANES_MAX),
    resLanes: largestDivisorAtMost(gcd(pe, simd), RES_LANES_MAX),
    qkvLanes: gcd(passLanes, d.headDim),
    attention,
    N,
    NP: d.patches,
    D,
    heads: d.heads,
    hd: d.headDim,
    depth: d.depth,
    image: { c: d.inChannels, h: d.imageH, w: d.imageW, patch: d.patch, gridH: d.gridH, gridW: d.gridW },
    patchEmbed: { ...patchEmbedChunks, bandWords: d.imageW % 8 === 0, gatherLanes: gcd(passLanes, d.patch), tokenLanes: gcd(passLanes, LANES16) },
    dense,
    moe,
    accCols,
    biasRows,
    // The attention's P.V takes a key tile's keys as its K (its tiles are the same WT_A / WT_B).
    kMax: Math.max(D, head.any ? head.chMax : 0, attention.keyTile, attention.hdK),
    ws,
    tasks: taskScheds,
    head,
    actRows: N,
    scratch: scratchMap(d, moe, taskScheds, false),
    buffers: [],
    constants: [],
  };
  const widths = modelWidths({ keys: N, dim: D, actBits: bits.activationBits, eps: d.layerNormEps });
  const build = (): BufferSpec[] => buffers(sched, bits.weightBits, bits.biasBits, bits.activationBits, bits.accumulatorBits, { softmaxOut: widths.softmaxOutBits, softmaxSum: widths.softmaxSumBits, prob: tableWidths().probBits });
  sched.buffers = build();
  const placement = config.activations?.placement ?? 'auto';
  const overBudget = activationBytes(sched.buffers) > onchipBudgetBytes(config.board.resources);
  if (placement === 'ddr' || (placement === 'auto' && overBudget)) {
    // An expert group's tokens are gathered into Y rows and its terms staged in ACC rows: a
    // tile holds at least BLOCK_PARTS rows.
    const parts = sched.ws?.parts ?? 1;
    const given = config.activations?.tokenTile;
    if (given !== undefined && given < parts && moe) {
      throw new UserError(config.configFile, [`/activations/tokenTile: ${given} rows is fewer than the ${parts} tokens an expert group gathers (BLOCK_PARTS at PE ${pe} x SIMD ${simd}); use at least ${parts}`]);
    }
    sched.tiled = tokenTiling(N, d.patches, Math.max(blockWords, parts), given, placement === 'ddr' ? 'config' : 'budget');
    // The q / k / v staging rows of a tile stay in Qh / Kh / Vh memory: a tile has fewer
    // rows than the attention arrays.
    if (sched.tiled.rows > attention.rows) sched.tiled = tokenTiling(N, d.patches, Math.max(blockWords, parts), attention.rows, sched.tiled.reason);
    sched.actRows = sched.tiled.rows;
    sched.attention = { ...attention, ...keyTailRows(N, Math.min(pe, rowsPerWord(pe, simd)), sched.tiled.rows, attention), query: queryTiling(N, sched.tiled.rows, config.activations?.queryTile) };
    sched.scratch = scratchMap(d, moe, taskScheds, true);
    sched.buffers = build();
  }
  bindStorage(sched.buffers, config.board.resources);
  sched.constants = constants(sched);
  if (!capRows && sched.head.any && bufferBlocks(sched.buffers).bram > config.board.resources.BRAM_18K) {
    const capped = buildSchedule(ir, tasks, config, true);
    if (capped.head.groupMax < sched.head.groupMax) return capped;
  }
  return sched;
}

/** Scratch: two feature-map regions (padded channel strides), the token-tiled activations
 * (when tiled), then the debug dumps. */
function scratchMap(d: ModelIR['dims'], moe: Schedule['moe'], taskScheds: TaskSchedule[], tiled: boolean): Schedule['scratch'] {
  const N = d.tokens;
  const D = d.embedDim;
  const ups = taskScheds.filter((t) => t.head === 'uphead');
  let mapElems = 0;
  for (const t of ups) {
    for (const s of t.stages) {
      mapElems = Math.max(mapElems, s.h * s.w * s.cinStride, s.h * s.w * t.upStride * (s.upsample ? 4 : 1));
    }
  }
  const mapWords = words16(mapElems);
  let at = 2 * mapWords;
  const region = (words: number): number => {
    const start = at;
    at += tiled ? words : 0;
    return tiled ? start : 0;
  };
  const xs = region(N * words16(D));
  const qkvs = region(d.heads * 3 * N * words16(d.headDim));
  const as = region(d.heads * N * words16(d.headDim));
  // YS rows, which the experts address by token index: a power-of-two stride, so the address
  // is a shift (no multiplier); the loads read only the row's words. ES rows are contiguous
  // (a tile's rows are one burst); their word offsets are running sums.
  const ys = region(moe ? N * pow2AtLeast(words16(D)) : 0);
  const es = region(moe ? N * words32(D) : 0);
  const dumps: DumpEntry[] = [];
  const dumpBase = at;
  const dump = (name: string, shape: number[], layout: DumpLayout, lanes: 16 | 32 = 16, task?: string): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const words = lanes === 16 ? words16(n) : words32(n);
    dumps.push({ name, shape, layout, lanes, offsetWords: at, words, ...(task !== undefined ? { task } : {}) });
    at += words;
  };
  dump('tokens', [N, D], 'rows');
  for (let b = 0; b < d.depth; b++) {
    dump(`blocks.${b}.norm1`, [N, D], 'rows');
    dump(`blocks.${b}.attn`, [N, D], 'rows');
    dump(`blocks.${b}.res1`, [N, D], 'rows');
    dump(`blocks.${b}.norm2`, [N, D], 'rows');
    if (moe && moe.blocks.includes(b)) {
      dump(`blocks.${b}.gate`, [N, moe.experts], 'rows');
      dump(`blocks.${b}.gate.experts`, [N, moe.topK], 'rows', 32);
      dump(`blocks.${b}.gate.weights`, [N, moe.topK], 'rows', 32);
      dump(`blocks.${b}.moe`, [N, D], 'rows');
    }
    dump(`blocks.${b}.res2`, [N, D], 'rows');
  }
  // Head dumps: one task runs per call, so every task's head dumps start at the same place.
  const headBase = at;
  let headEnd = at;
  for (const t of taskScheds) {
    at = headBase;
    dump(`head.${t.name}.norm`, [d.patches, D], 'rows', 16, t.name);
    if (t.head === 'uphead') {
      t.stages.forEach((s, i) => {
        dump(`head.${t.name}.conv_${i}`, [t.upChannels, s.h, s.w], 'hwc', 16, t.name);
        if (s.upsample) dump(`head.${t.name}.up_${i}`, [t.upChannels, 2 * s.h, 2 * s.w], 'hwc', 16, t.name);
      });
      dump(`head.${t.name}.conv1x1`, [t.channels, t.lastH, t.lastW], 'chw', 16, t.name);
    }
    headEnd = Math.max(headEnd, at);
  }
  return { mapWords, mapA: 0, mapB: mapWords, xs, qkvs, as, ys, es, dumpBase, dumps, totalWords: Math.max(1, headEnd) };
}

/** Bits of a token index 0 .. N - 1 (QTOK), at least 1. */
export function tokenBits(N: number): number {
  return Math.max(1, Math.ceil(Math.log2(N)));
}

/** Bits of an ES word offset, at most (N - 1) x E_WORDS (QES), at least 1. */
export function esOffsetBits(N: number, D: number): number {
  return Math.max(1, Math.ceil(Math.log2((N - 1) * words32(D) + 1)));
}

/** Bits of an expert index 0 .. E - 1: ceil(log2(E)), at least 1. */
export function expertBits(experts: number): number {
  return Math.max(1, Math.ceil(Math.log2(experts)));
}

/** The smallest power of two >= n. */
export function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Bytes of the on-chip activation arrays (group 'activations'). */
export function activationBytes(buffers: BufferSpec[]): number {
  return buffers.filter((b) => b.group === 'activations').reduce((a, b) => a + (b.dims.reduce((x, y) => x * y, 1) * b.elemBits * b.copies) / 8, 0);
}
/** Bytes of the board's BRAM and URAM (18 Kib and 288 Kib blocks). */
export function onchipBudgetBytes(r: Pick<BoardResources, 'BRAM_18K' | 'URAM'>): number {
  return (r.BRAM_18K * 18 * 1024 + r.URAM * 288 * 1024) / 8;
}

/**
 * Token tiles of the DDR-resident backbone: `rows` given, or the fewest equal tiles of at
 * least `minRows` (BLOCK_WORDS: a weight tile's burst of (K / SIMD) * BLOCK_WORDS words is
 * then covered by its T * K / SIMD MAC steps, so re-streaming the weights per token tile
 * keeps the linear layers compute-bound).
 */
export function tokenTiling(N: number, NP: number, minRows: number, rows: number | undefined, reason: TokenTiling['reason']): TokenTiling {
  let T = rows ?? 0;
  if (!rows) {
    const tiles = Math.max(1, Math.floor(N / Math.max(1, minRows)));
    T = Math.ceil(N / tiles);
  }
  T = Math.min(T, N);
  const tiles = Math.ceil(N / T);
  const patchTiles = Math.ceil(NP / T);
  return { rows: T, tiles, lastRows: N - (tiles - 1) * T, patchTiles, patchLastRows: NP - (patchTiles - 1) * T, reason };
}

/** The weight store's geometry (see WeightStore); undefined when nothing uses it (no MoE
 * block and no UpHead). */
function weightStore(ir: ModelIR, tasks: TaskIR[], config: BuildConfig, moe: Schedule['moe']): WeightStore | undefined {
  const { pe, simd } = config.parallelism;
  const D = ir.dims.embedDim;
  const ups = tasks.filter((t) => t.head.kind === 'uphead');
  if (!moe && ups.length === 0) return undefined;
  const parts = blockParts(pe, simd, config.numerics.weightBits);
  const banks = moe ? (moe.scheduler === 'expert-major' ? 2 : Math.max(1, moe.cacheSlots)) : 1;
  // Blocks a bank must hold: one expert, and its share of the smallest conv3x3 group of
  // every stage (stage 0 has D inputs, the others the UpHead channels).
  let need = moe ? (2 * moe.hidden * D) / (pe * simd) : 1;
  for (const t of ups) {
    if (t.head.kind !== 'uphead') continue;
    const ch = t.head.channels;
    for (let st = 0; st < t.head.stages; st++) {
      const cin = st === 0 ? D : ch;
      need = Math.max(need, Math.ceil(((convGroups(ch, pe)[0] / pe) * ((9 * cin) / simd)) / banks));
    }
  }
  // The banks are one memory (a read port for the feed, a write port for the loader: the
  // ping-pong needs no second memory), so its depth, not each bank's, is rounded up to the
  // URAM depth; the banks share what the rounding leaves (more conv blocks at no cost).
  const depthBlocks = Math.floor(roundUp(banks * need * parts, URAM_WORDS) / banks / parts);
  const lanes = (pe * simd) / parts;
  return {
    parts,
    partRows: pe / parts,
    partBits: config.numerics.weightBits * lanes,
    partWords: Math.ceil(lanes / LANES16),
    banks,
    depth: depthBlocks * parts,
    convBlocks: banks * depthBlocks,
  };
}

/** Bits of the attention's softmax state (generator/numerics/widths.ts). */
interface SoftmaxBits {
  softmaxOut: number;
  softmaxSum: number;
  prob: number;
}

function buffers(s: Schedule, wBits: number, bBits: number, aBits: number, accBits: number, modelWidthsBits: SoftmaxBits): BufferSpec[] {
  const out: BufferSpec[] = [];
  const cyc = (dim: number, factor: number): BufferSpec['partition'] => (factor > 1 ? [{ dim, type: 'cyclic', factor }] : []);
  const all = (...dims: number[]): BufferSpec['partition'] => dims.map((dim) => ({ dim, type: 'complete' as const }));
  const add = (b: Omit<BufferSpec, 'storage' | 'copies' | 'reshape'> & Partial<Pick<BufferSpec, 'storage' | 'copies' | 'reshape'>>): void => {
    out.push({ storage: 'auto', copies: 1, reshape: [], ...b });
  };
  const { N, D, pe, simd } = s;
  // Token rows of the activation arrays: all N on chip, a token tile when tiled.
  const R = s.actRows;
  const act = (name: string, purpose: string, dims: number[], partition: BufferSpec['partition']): void =>
    add({ name, purpose, group: 'activations', dims, elemBits: aBits, cType: 'act_t', partition, weights: false });
  // X: SIMD banks (LayerNorm's and the passes' lanes), at least PE (a residual job's epilogue
  // reads and writes PE columns per cycle).
  act('X', s.tiled ? 'residual stream, one token tile (the stream is XS in scratch)' : 'residual stream', [R, D], cyc(2, Math.min(D, Math.max(simd, pe))));
  // Y: SIMD banks (the engine's input lanes); with the row feed at least 8 (mac_run writes a
  // bus word of a gathered row per cycle).
  act('Y', 'LayerNorm output, patch chunks (engine input)', [R, D], cyc(2, expertRowFeed(s) ? Math.min(D, Math.max(simd, LANES16)) : simd));
  // A, then (dense blocks) the MLP's hidden tile [rows][TH] (TH <= D): A is dead once proj
  // has read it, so one array serves both. SIMD columns read (proj's and fc2's input) and,
  // for the hidden tile, PE written (fc1's epilogue) per cycle.
  const aPurpose = s.tiled ? 'attention output of all heads for one token tile (engine input of proj; loaded from AS)' : 'attention output of all heads (engine input of proj)';
  act('A', s.dense ? `${aPurpose}, then the dense MLP's hidden tile (fc1's output, fc2's input)` : aPurpose, [R, D], cyc(2, s.dense ? Math.min(D, Math.max(simd, pe)) : simd));
  // Q rows: SIMD columns per cycle (the engine's input). K and V: mac_run packs a block
  // word (8 lanes) per cycle from them, SIMD consecutive columns (K) or keys (V) of each of up
  // to rowsPerWord block rows; all three take PE columns per cycle from the qkv jobs' epilogue.
  const at = s.attention;
  const rows = Math.min(pe, rowsPerWord(pe, simd));
  const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;
  // Columns: PE written per cycle (the qkv jobs' epilogue), SIMD read (Q.K^T's input).
  const headBanks = Math.min(Math.max(simd, pe), s.hd);
  // A head narrower than SIMD + PE columns' worth of ports (2 per bank): Q's rows split too,
  // so the SIMD reads and the PE writes of one MAC_STEPS iteration have a port each.
  const q = at.query;
  const qRowBanks = Math.min(q.memRows, Math.ceil((simd + pe) / (2 * headBanks)));
  const NA = at.rows;
  const qPurpose = q.tiles > 1 ? `Q of one head, one query tile of ${q.tile} rows (engine input of Q.K^T)` : 'Q of one head (engine input of Q.K^T)';
  act('Qh', qPurpose, [q.memRows, s.hd], [...(qRowBanks > 1 ? cyc(1, qRowBanks) : []), ...cyc(2, headBanks)]);
  act('Kh', 'K of one head (weights of Q.K^T, packed a tile at a time)', [at.kRows, s.hd], [...cyc(1, rows), ...cyc(2, headBanks)]);
  if (at.kTail > 1) {
    add({ name: 'KhL', purpose: `K of the last ${at.kTail} tokens of one head (the rest in Kh)`, group: 'activations', dims: [at.kTail, s.hd], elemBits: aBits, cType: 'act_t', partition: cyc(2, headBanks), storage: 'lutram', weights: false });
  }
  // V's columns reshaped (a wide word per bank: the qkv jobs' epilogue writes PE columns, a
  // packed word reads a lane of it) rather than partitioned: a partition on both dims would
  // make SIMD x lanes small memories, a BRAM each at ViT-S sizes.
  add({ name: 'Vh', purpose: 'V of one head (weights of P.V as V^T, packed a tile at a time)', group: 'activations', dims: [NA, s.hd], elemBits: aBits, cType: 'act_t', partition: cyc(1, Math.min(simd, N)), reshape: cyc(2, Math.min(s.hd, lcm(pe, rows))), weights: false });
  // S: a bank per key of the tile (Q.K^T's epilogue writes PE of them per cycle, P.V's input
  // lanes read SIMD at any block), each N words of ACT_BITS: LUTRAM (a BRAM each would hold a
  // few percent of its bits).
  add({ name: 'S', purpose: `scores of one key tile, every query row${q.tiles > 1 ? ' of the query tile' : ''} (PE written, SIMD read per cycle: the P words are evaluated from them)`, group: 'activations', dims: [q.stateRows, at.keyTile], elemBits: aBits, cType: 'act_t', partition: [{ dim: 2, type: 'complete' }], storage: 'lutram', weights: false });
  // The last token's rows: registers (every element its own, read and written in one cycle).
  // Query-tiled, Q and o have a tile's rows and only K and V keep the last token apart.
  const apart = at.lastApart ? [...(q.apart ? [['QhL', 'Q'] as const] : []), ...(at.kTail === 1 ? [['KhL', 'K'] as const] : []), ['VhL', 'V'] as const] : [];
  for (const [name, what] of apart) {
    act(name, `${what} of the last token of one head (registers; the rest in ${name.slice(0, 2)})`, [1, s.hd], all(1, 2));
  }
  if (q.apart) add({ name: 'OL', purpose: 'o of the last token of one head (registers; the rest in O)', group: 'activations', dims: [1, at.hdR], elemBits: modelWidthsBits.softmaxOut, cType: 'att_o_t', partition: all(1, 2), weights: false });
  add({ name: 'O', purpose: `attention output accumulator o of one head${q.tiles > 1 ? ', one query tile' : ''} (PROB_FRAC + qkv format), PE per cycle`, group: 'activations', dims: [q.memRows, at.hdR], elemBits: modelWidthsBits.softmaxOut, cType: 'att_o_t', partition: cyc(2, pe), weights: false });
  // Token-tiled, the board's BRAM is short: the per-row softmax state (N words) and the
  // LayerNorm row sums (a tile's rows) go to LUTRAM (a BRAM or two each, mostly empty).
  const rowLutram: Partial<BufferSpec> = s.tiled ? { storage: 'lutram' } : {};
  add({ name: 'ATT_M', purpose: 'running score maximum of each query row', group: 'small', dims: [q.stateRows], elemBits: aBits, cType: 'act_t', partition: [], weights: false, ...rowLutram });
  add({ name: 'ATT_A', purpose: 'rescale factor of each query row for the current tile (PROB_FRAC)', group: 'small', dims: [q.stateRows], elemBits: modelWidthsBits.prob, cType: 'prob_t', partition: [], weights: false, ...rowLutram });
  add({ name: 'ATT_L', purpose: 'softmax sum l of each query row (PROB_FRAC)', group: 'small', dims: [q.stateRows], elemBits: modelWidthsBits.softmaxSum, cType: 'att_l_t', partition: [], weights: false, ...rowLutram });
  if (at.scoreChunks > 1) add({ name: 'ATT_RUN', purpose: 'score maximum of each query row over the key tile\'s chunks so far (a chunk per Q.K^T job)', group: 'small', dims: [q.stateRows], elemBits: aBits, cType: 'act_t', partition: [], weights: false, ...rowLutram });
  // URAM or BRAM by the board budget (storage.ts).
  // PE accumulators per word: the engine and the experts read and write PE columns at once.
  add({ name: 'ACC', purpose: 'exact sums of patch-embed, dense fc2 tiles, the MoE combine and the linear head, PE per word', group: 'activations', dims: [R, s.accCols], elemBits: accBits, cType: 'acc_t', partition: [], reshape: cyc(2, pe), storage: 'uram', flexible: true, weights: false });
  // Columns: 8 written per cycle (a bus word of pixels), gatherLanes read per cycle.
  const bandLanes = Math.max(s.patchEmbed.bandWords ? 8 : 1, s.patchEmbed.gatherLanes);
  add({ name: 'BAND', purpose: 'one band of P image rows (patch gather)', group: 'small', dims: [s.image.c, s.image.patch, s.image.w], elemBits: aBits, cType: 'act_t', partition: cyc(3, bandLanes), weights: false });
  // Weight tiles: [K/SIMD][PE][SIMD], one PE x SIMD block per address (every lane its own small memory).
  for (const h of ['A', 'B']) {
    add({ name: `WT_${h}`, purpose: `linear engine weight tile (${h === 'A' ? 'ping' : 'pong'}), blocks [KMAX/SIMD][PE][SIMD]`, group: 'linear weights', dims: [s.kMax / simd, pe, simd], elemBits: wBits, cType: 'wgt_t', partition: all(2, 3), weights: true });
  }
  add({ name: 'BIAS', purpose: 'biases of one engine call or conv', group: 'linear weights', dims: [s.biasRows], elemBits: bBits, cType: 'bias_t', partition: cyc(1, pe), weights: true });
  add({ name: 'LN_G', purpose: 'LayerNorm gamma', group: 'linear weights', dims: [D], elemBits: wBits, cType: 'wgt_t', partition: cyc(1, s.lnLanes), weights: true });
  add({ name: 'LN_B', purpose: 'LayerNorm beta', group: 'linear weights', dims: [D], elemBits: bBits, cType: 'bias_t', partition: cyc(1, s.lnLanes), weights: true });
  add({ name: 'LN_MU', purpose: 'LayerNorm: each row\'s sum, then its mean', group: 'small', dims: [R], elemBits: 64, cType: 'i64', partition: [], weights: false, ...rowLutram });
  add({ name: 'LN_R', purpose: 'LayerNorm: each row\'s sum of squares, then its reciprocal square root', group: 'small', dims: [R], elemBits: 64, cType: 'i64', partition: [], weights: false, ...rowLutram });
  if (s.moe) {
    const m = s.moe;
    const small = (name: string, purpose: string, dims: number[], cType = 'int', bits = 32): void =>
      add({ name, purpose, group: 'small', dims, elemBits: bits, cType, partition: [], weights: false });
    // Token-tiled, the board's BRAM is short: Z (a tile's logits) and EH (a group's hidden
    // vectors) are a few hundred words per bank, which LUTRAM holds (a BRAM each would sit
    // mostly empty).
    const tileLutram: Partial<BufferSpec> = s.tiled ? { storage: 'lutram' } : {};
    // Z: PE logits per cycle from the gate job's epilogue.
    add({ name: 'Z', purpose: s.tiled ? 'gate logits of one token tile [TOK_TILE][E_ROWS]' : 'gate logits [N][E_ROWS]', group: 'small', dims: [R, m.gateRows], elemBits: aBits, cType: 'act_t', partition: cyc(2, Math.min(m.gateRows, pe)), weights: false, ...tileLutram });
    // The queues at their values' widths (a token index, a gate weight of PROB_BITS, an ES
    // offset), not int: N x TOPK words each, 32 bits would take twice the BRAM of 16 to 18.
    small('QTOK', 'expert queues: token of each (token, rank) slot, bucketed by expert', [N * m.topK], 'tok_t', tokenBits(N));
    small('QGATE', 'expert queues: gate weight of each slot', [N * m.topK], 'prob_t', modelWidthsBits.prob);
    small('CHOSEN', 'the k experts of each token', [N, m.topK], 'expert_t', expertBits(m.experts));
    small('CGATE', 'the gate weight of each chosen expert (PROB_FRAC)', [N, m.topK], 'prob_t', modelWidthsBits.prob);
    small('QSTART', 'first queue slot of each expert (E + 1 entries)', [m.experts + 1]);
    if (s.tiled) small('QES', 'expert queues: the ES word offset of each slot\'s token (token x E_WORDS: its running sum of terms)', [N * m.topK], 'es_t', esOffsetBits(N, s.D));
    if (s.tiled && m.scheduler === 'expert-major') {
      // A token's first expert in ascending order writes its ES row; the others add to it.
      small('CMIN', 'the smallest of each token\'s k experts: its first in expert-major order', [N], 'expert_t', expertBits(m.experts));
      small('QADD', 'expert queues: whether a slot adds to its token\'s ES row (not the token\'s first expert)', [N * m.topK], 'bool', 1);
    }
    const parts = s.ws!.parts;
    // PE hidden values written per cycle (FC1), SIMD read per cycle (FC2).
    add({ name: 'EH', purpose: `hidden vectors of the ${parts} tokens of an expert group`, group: 'small', dims: [parts, m.hidden], elemBits: aBits, cType: 'act_t', partition: cyc(2, Math.max(pe, simd)), weights: false, ...tileLutram });
    const what = m.scheduler === 'expert-major' ? 'bank = ping-pong half' : 'bank = cache slot';
    add({ name: 'EB1', purpose: `expert b1 per weight-store bank (${what})`, group: 'expert weights', dims: [s.ws!.banks, m.hidden], elemBits: bBits, cType: 'bias_t', partition: [{ dim: 1, type: 'complete' }, ...cyc(2, pe)], weights: true });
    add({ name: 'EB2', purpose: `expert b2 per weight-store bank (${what})`, group: 'expert weights', dims: [s.ws!.banks, D], elemBits: bBits, cType: 'bias_t', partition: [{ dim: 1, type: 'complete' }, ...cyc(2, pe)], weights: true });
  }
  // The exp2 table once per P lane (SIMD lanes at the engine's input, each reading two
  // neighbouring entries: a ROM's two ports). 257 entries of 32 bits per copy: LUTROM (a BRAM
  // per copy would sit mostly empty).
  add({ name: 'EXP2_ROM', purpose: `exp2 table, one copy per attention P lane (${simd})`, group: 'small', dims: [simd, exp2TableValues().length], elemBits: 32, cType: 'int32_t', partition: [{ dim: 1, type: 'complete' }], storage: 'lutram', weights: false, rom: true });
  if (s.moe || s.dense) {
    add({ name: 'GELU_ROM', purpose: `GELU table as per-segment entry pairs, one copy per two parallel GELU lanes (${s.geluLanes})`, group: 'small', dims: [Math.ceil(s.geluLanes / 2), GELU_SEGMENTS], elemBits: 64, cType: 'int64_t', partition: [{ dim: 1, type: 'complete' }], weights: false, rom: true });
  }
  if (s.ws) {
    const w = s.ws;
    add({
      name: 'WS',
      purpose: `weight store: ${s.moe ? (s.moe.scheduler === 'expert-major' ? 'expert ping-pong halves' : 'expert cache slots') + (s.head.any ? ', conv3x3 channel groups' : '') : 'conv3x3 channel groups'}; a block is ${w.parts} part(s) of ${w.partRows} x ${simd}`,
      group: s.moe ? 'expert weights' : 'head buffers',
      dims: [w.banks, w.depth, w.partRows, simd],
      elemBits: wBits,
      cType: 'wgt_t',
      partition: [],
      reshape: all(3, 4),
      storage: 'uram',
      flexible: true,
      weights: true,
    });
  }
  if (s.head.any) {
    const h = s.head;
    add({ name: 'LB', purpose: '3-row line buffer of the conv3x3 / upsample input (SIMD channels per word)', group: 'head buffers', dims: [3, h.lbW, h.lbC], elemBits: aBits, cType: 'act_t', partition: [], reshape: cyc(3, simd), storage: 'uram', flexible: true, weights: false });
    // PE channels written per cycle by the conv, 8 (one bus word) read per cycle by CONV_WRITE.
    add({ name: 'ROW', purpose: 'one output row of a conv3x3 channel group', group: 'head buffers', dims: [h.lbW, h.groupMax], elemBits: aBits, cType: 'act_t', partition: cyc(2, Math.max(pe, LANES16)), weights: false });
    // Written a word of PE channels per cycle; the final upsample reads rows i and i +- 1 (separate memories).
    add({ name: 'C1ROW', purpose: '2 rows of conv1x1 outputs (final upsample input: the two rows an output row lies between), PE channels per word', group: 'head buffers', dims: [2, h.lastW, h.cPadMax], elemBits: aBits, cType: 'act_t', partition: [{ dim: 1, type: 'complete' }], reshape: cyc(3, pe), weights: false });
    // One output row of every channel in bus words: PE channels updated per cycle, read a word per cycle.
    // OUTROW: PE banks of bus words, each a few hundred deep at most (C_pad / PE channels x
    // 2 W / 8 words). LUTRAM: as BRAM, a 128-bit word takes 4 BRAM_18K side by side per
    // bank whatever its depth (128 at ViT-S NYUD, 640 output columns), mostly empty.
    add({ name: 'OUTROW', purpose: 'one final-upsampled output row of every task channel, bus words', group: 'head buffers', dims: [h.cPadMax, Math.ceil((2 * h.lastW) / LANES16)], elemBits: WORD_BITS, cType: 'wword_t', partition: cyc(1, pe), storage: 'lutram', weights: false });
  }
  return out;
}

function constants(s: Schedule): Schedule['constants'] {
  const c: Schedule['constants'] = [];
  const k = (name: string, value: number, doc: string): void => void c.push({ name, value, doc });
  k('PE', s.pe, 'output rows per cycle of the MAC array');
  k('SIMD', s.simd, 'inputs per PE per cycle');
  k('BLOCK_WORDS', s.blockWords, 'words of one PE x SIMD weight block in the image');
  k('PASS_LANES', s.passLanes, 'elements per cycle of the element-wise passes');
  k('LN_LANES', s.lnLanes, 'elements per cycle of the LayerNorm passes');
  k('RES_LANES', s.resLanes, 'elements per cycle of the MoE residual (MOE_RES2)');
  k('QKV_LANES', s.qkvLanes, 'elements per cycle of the attention output (ATT_OUT dividers)');
  k('KEY_TILE', s.attention.keyTile, 'keys per attention tile (a multiple of PE and SIMD)');
  k('KEY_TILES', s.attention.tiles, 'key tiles over N_TOK keys');
  k('KEY_ROWS_LAST', s.attention.lastRows, 'Q.K^T rows of the last key tile: its keys up to a multiple of PE');
  k('KEY_COLS_LAST', s.attention.lastCols, 'P.V columns of the last key tile: its keys up to a multiple of SIMD');
  k('HD_K', s.attention.hdK, 'head dim padded to SIMD (K of Q.K^T)');
  k('HD_R', s.attention.hdR, 'head dim padded to PE (rows of P.V)');
  k('K_ROWS', s.attention.kRows, 'rows of Kh in memory (the rest, K_TAIL, in KhL)');
  k('K_TAIL', s.attention.kTail, 'rows of K apart in KhL (registers for one; LUTRAM for more)');
  k('N_ATT', s.attention.rows, 'rows of Vh (and on chip Qh, Kh, O) in memory (N_TOK, or N_TOK - 1 with the last token\'s in registers)');
  k('N_TOK', s.N, 'tokens (patches + class token)');
  const q = s.attention.query;
  k('Q_TILE', q.tile, 'query rows per attention tile (N_TOK on chip)');
  k('Q_TILES', q.tiles, 'query tiles over N_TOK (each runs every key tile)');
  k('Q_TILE_LAST', q.lastRows, 'rows of the last query tile');
  k('Q_ROWS', q.memRows, 'rows of Qh and O (Q_TILE, or TOK_TILE when more: Qh stages a token tile\'s q; N_ATT on chip)');
  const t = s.tiled;
  k('IO_LANES', s.patchEmbed.tokenLanes, 'elements per cycle of the tile loads and stores (TILE_LOAD, TILE_STORE): gcd(PASS_LANES, 8)');
  k('TILED', t ? 1 : 0, 'backbone activations in DDR scratch, token tiles on chip');
  k('ACT_ROWS', s.actRows, 'rows of the on-chip activation arrays X, Y, A, H, ACC (N_TOK, or TOK_TILE)');
  k('TOK_TILE', t?.rows ?? s.N, 'token rows per tile');
  k('TOK_TILES', t?.tiles ?? 1, 'token tiles over N_TOK');
  k('TOK_TILE_LAST', t?.lastRows ?? s.N, 'rows of the last token tile');
  k('PATCH_TILES', t?.patchTiles ?? 1, 'tiles of TOK_TILE patch tokens (patch embedding, head)');
  k('PATCH_TILE_LAST', t?.patchLastRows ?? s.NP, 'rows of the last patch tile');
  k('D_WORDS', words16(s.D), 'bus words of one D-wide int16 row (XS rows)');
  k('HD_WORDS', words16(s.hd), 'bus words of one HD-wide int16 row (QKVS, AS rows)');
  k('XS_OFF', s.scratch.xs, 'scratch word of XS [N_TOK][D_WORDS] (tiled)');
  k('QKVS_OFF', s.scratch.qkvs, 'scratch word of QKVS [HEADS][3][HD / QKV_COLS][N_TOK][QKV_WORDS] (tiled)');
  k('QKV_COLS', qkvGroupCols(s), 'columns of a QKVS column group (PE with the q/k/v feed, else HD: rows of the whole head)');
  k('QKV_WORDS', words16(qkvGroupCols(s)), 'bus words of one row of a QKVS column group');
  k('AS_OFF', s.scratch.as, 'scratch word of AS [HEADS][N_TOK][HD_WORDS] (tiled)');
  k('YS_OFF', s.scratch.ys, 'scratch word of YS [N_TOK][D_WORDS]: LayerNorm-2 rows the experts gather (tiled MoE)');
  k('ES_OFF', s.scratch.es, 'scratch word of ES [N_TOK][E_WORDS]: each token\'s running sum of its combine terms, rows contiguous (tiled MoE)');
  k('E_WORDS', words32(s.D), 'bus words of one int32 row of D combine terms (ES rows)');
  k('YS_SHIFT', Math.log2(pow2AtLeast(words16(s.D))), 'log2 of the YS row stride (D_WORDS rounded up to a power of two)');
  k('YS_STRIDE', pow2AtLeast(words16(s.D)), 'words between YS rows');
  k('SLOT_LANES', slotLanes(s), 'int32 lanes per cycle of the ES loads and stores: gcd(IO_LANES, 4)');
  k('N_PATCH', s.NP, 'patch tokens');
  k('D', s.D, 'embedding width');
  k('HEADS', s.heads, 'attention heads');
  k('HD', s.hd, 'head dim');
  k('DEPTH', s.depth, 'transformer blocks');
  k('IMG_C', s.image.c, 'input channels');
  k('IMG_H', s.image.h, 'image height');
  k('IMG_W', s.image.w, 'image width');
  k('PATCH', s.image.patch, 'patch size');
  k('GRID_H', s.image.gridH, 'patch rows');
  k('GRID_W', s.image.gridW, 'patch columns');
  k('PATCH_K', s.patchEmbed.k, 'patch vector length C*P*P');
  k('PATCH_KC', s.patchEmbed.chunk, 'patch vector chunk streamed through the engine (multiple of SIMD, <= D)');
  k('PATCH_CHUNKS', s.patchEmbed.chunks, 'chunks of the patch vector');
  k('GATHER_LANES', s.patchEmbed.gatherLanes, 'patch-vector elements gathered per cycle (divides PATCH and PASS_LANES)');
  k('TOKEN_LANES', s.patchEmbed.tokenLanes, 'columns per cycle of TOKENS (class token and positional embedding): gcd(PASS_LANES, 8)');
  k('KMAX', s.kMax, 'widest engine input (weight tile columns)');
  k('ACC_COLS', s.accCols, 'columns of ACC: widest summed engine output');
  k('BIAS_ROWS', s.biasRows, 'widest biased engine output');
  k('TH', s.dense?.tile ?? 1, 'dense MLP hidden tile');
  k('DENSE_TILES', s.dense?.tiles ?? 0, 'hidden tiles of a dense MLP');
  k('DENSE_HIDDEN', s.dense?.hidden ?? 0, 'dense MLP hidden width');
  k('E', s.moe?.experts ?? 1, 'experts per MoE layer');
  k('EXPERT_BITS', expertBits(s.moe?.experts ?? 1), 'bits of an expert index (CHOSEN): ceil(log2(E)), at least 1');
  k('TOK_BITS', tokenBits(s.N), 'bits of a token index (QTOK): ceil(log2(N_TOK)), at least 1');
  k('ES_BITS', esOffsetBits(s.N, s.D), 'bits of an ES word offset (QES): (N_TOK - 1) x E_WORDS at most');
  k('E_ROWS', s.moe?.gateRows ?? 1, 'gate rows (E rounded up to PE)');
  k('TOPK', s.moe?.topK ?? 1, 'experts per token');
  k('HE', s.moe?.hidden ?? 1, 'expert hidden width');
  k('MOE_LAYERS', s.moe?.blocks.length ?? 0, 'MoE blocks');
  k('CACHE_SLOTS', s.moe?.cacheSlots ?? 1, 'token-major only: expert cache slots');
  k('EXPERT_WORDS', s.moe?.expertWords ?? 0, 'image words of one expert (W1, W2, b1, b2)');
  k('EXPERT_W_WORDS', s.moe ? (2 * s.moe.hidden * s.D * s.blockWords) / (s.pe * s.simd) : 0, 'image words of one expert\'s W1 and W2 (adjacent: one burst)');
  k('W1_BLOCKS', s.moe ? (s.moe.hidden * s.D) / (s.pe * s.simd) : 1, 'PE x SIMD blocks of one expert W1 (W2 has as many)');
  k('EXPERT_BLOCKS', s.moe ? (2 * s.moe.hidden * s.D) / (s.pe * s.simd) : 1, 'blocks of one expert in the on-chip buffer');
  k('KB', s.kMax / s.simd, 'blocks of a weight-tile row (KMAX / SIMD)');
  k('BLOCK_PARTS', s.ws?.parts ?? 1, 'weight-store words (parts) per PE x SIMD block = tokens or pixels sharing a block');
  k('PART_ROWS', s.ws?.partRows ?? s.pe, 'rows of a part (PE / BLOCK_PARTS)');
  k('PART_WORDS', s.ws?.partWords ?? s.blockWords, 'bus words of a part in the weight image');
  k('WS_BANKS', s.ws?.banks ?? 1, 'weight-store banks (expert ping-pong halves or cache slots)');
  k('WS_DEPTH', s.ws?.depth ?? 1, 'parts per weight-store bank');
  k('TASKS', s.tasks.length, 'built tasks');
  k('LB_W', s.head.lbW, 'line buffer width (widest conv input)');
  k('LB_C', s.head.lbC, 'line buffer channels');
  k('CH_MAX', s.head.chMax, 'widest UpHead channels');
  k('GROUP_MAX', s.head.groupMax, 'widest conv3x3 channel group (ROW columns)');
  k('CIN_MAX', s.head.cinMax, 'widest conv3x3 input channels');
  k('LAST_W', s.head.lastW, 'widest conv1x1 row (half the image width)');
  k('C_PAD_MAX', s.head.cPadMax, 'widest padded task channels of an UpHead');
  k('OUT_WORDS', Math.ceil((2 * s.head.lastW) / LANES16), 'bus words of one output row of one channel');
  k('CW_K', s.head.cwK, 'conv1x1 weight tile columns');
  k('MAP_LANES', s.head.mapLanes, 'channels per iteration of the word-wide map streams: lcm(SIMD, 8)');
  k('D_STRIDE', s.head.dStride, 'channels per pixel of the token map in scratch (D rounded up to MAP_LANES)');
  k('STRIDE_MAX', s.head.strideMax, 'widest channel stride of an UpHead map');
  k('MAP_WORDS', s.scratch.mapWords, 'scratch words of one feature-map region');
  k('SCRATCH_WORDS', s.scratch.totalWords, 'scratch words the host allocates');
  return c;
}
