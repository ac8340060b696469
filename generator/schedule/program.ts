/**
 * The kernel program: what one inference of one task runs, op by op (an op is an IR layer
 * as the kernels execute it), as the iterations of every pipelined loop (by its label in
 * src/m3vit_top.cpp and src/kernels/*.h), the starts of every pipelined loop (entries that run an iteration: one pipeline fill and drain
 * each), and the 128-bit bus words moved on every m_axi channel. C simulation
 * counts the same things (csim_result.json `counters`), the estimator turns them into
 * bytes, and test/csim.test.ts holds csim and this model equal, key by key.
 */
import { expectedExpertStreaming, type ExpertStreaming } from '../estimate/formulas';
import { expertRowFeed, expertTermFeed, qkvFeed, qkvGroupCols, slotLanes, words16, words32, type Schedule, type TaskSchedule, type UpStage } from './schedule';

export const CSIM_CHANNELS = [
  'gmem_w.read',
  'gmem_w.write',
  'gmem_s.read',
  'gmem_s.write',
  'gmem_i.read',
  'gmem_i.write',
  'gmem_o.read',
  'gmem_o.write',
] as const;
export type CsimChannel = (typeof CSIM_CHANNELS)[number];

/** Counters of one op: iterations of its pipelined loops (and their sum), starts of each
 * pipelined loop (M3VIT_LOOP_START: entries that run an iteration), bus words per channel. */
export interface OpCounters {
  iterations: number;
  loops: Record<string, number>;
  starts: Record<string, number>;
  words: Partial<Record<CsimChannel, number>>;
}
/** Op name (IR layer) -> counters; one inference of one task, without debug dumps. */
export type ProgramCounters = Record<string, OpCounters>;

/** Which experts each token chose, rank order (golden `blocks.B.gate.experts`), per MoE block. */
export type TaskRouting = Record<number, number[][]>;


/** Accumulates one op's loop iterations, loop entries and bus words. */
class OpCount {
  readonly loops: Record<string, number> = {};
  readonly starts: Record<string, number> = {};
  readonly words: Partial<Record<CsimChannel, number>> = {};
  /** `n` iterations of pipelined loop `label` over `entries` starts of it (entries that run
   * at least one iteration: pipeline fills, as M3VIT_LOOP_START with M3VIT_COUNT count them). */
  loop(label: string, n: number, entries = 1): void {
    if (n > 0) this.loops[label] = (this.loops[label] ?? 0) + n;
    if (entries > 0) this.starts[label] = (this.starts[label] ?? 0) + entries;
  }
  word(ch: CsimChannel, n: number): void {
    if (n > 0) this.words[ch] = (this.words[ch] ?? 0) + n;
  }
  done(): OpCounters {
    return { iterations: Object.values(this.loops).reduce((a, b) => a + b, 0), loops: this.loops, starts: this.starts, words: this.words };
  }
}

/** Bus words load_expert reads for one expert: W1 and W2 blocks (a burst each), then b1 and
 * b2 one word per element (load_vec32 reads the element's word every iteration). */
export function expertLoadWords(s: Schedule): number {
  const w1Blocks = (s.moe!.hidden * s.D) / (s.pe * s.simd);
  return 2 * w1Blocks * s.blockWords + s.moe!.hidden + s.D;
}

/** Steps of one expert MAC job (FC1 or FC2): W1_BLOCKS blocks of BLOCK_PARTS parts. */
export function expertJobSteps(s: Schedule): number {
  return ((s.moe!.hidden * s.D) / (s.pe * s.simd)) * s.ws!.parts;
}
/** Words of one expert's W1/W2 burst (EXPERT_W_WORDS). */
export function expertBurstWords(s: Schedule): number {
  return ((2 * s.moe!.hidden * s.D) / (s.pe * s.simd)) * s.blockWords;
}

/** Words an ElemReader reads for `n` int16 elements from element `first` of a word-aligned array. */
export function elemReaderWords(first: number, n: number): number {
  return Math.max(1, Math.ceil(((first % 8) + n) / 8));
}

/** Words load_vec32 reads for elements [first, first + n): its first word, then one per 4. */
export function vec32Words(first: number, n: number): number {
  return Math.max(1, Math.ceil(((first % 4) + n) / 4));
}

/** Words of a weight tile a job loads, and whether MAC_STEPS packs them on chip (Kh / Vh)
 * rather than taking them from the weight reader's DDR burst. */
interface TileWords {
  words: number;
  onchip: boolean;
}
const NO_TILE: TileWords = { words: 0, onchip: false };

/**
 * The kernel functions of src/m3vit_top.cpp and src/kernels/*.h, each adding to the op being counted what its
 * pipelined loops iterate and what it moves on the bus. Mirrors the C++ function of the same
 * name; the names of loops are the C++ labels.
 */
class KernelCounts {
  private readonly ops = new Map<string, OpCount>();
  private cur!: OpCount;
  constructor(private readonly s: Schedule) {}

  op(name: string): void {
    let c = this.ops.get(name);
    if (!c) {
      c = new OpCount();
      this.ops.set(name, c);
    }
    this.cur = c;
  }
  result(): ProgramCounters {
    const out: ProgramCounters = {};
    for (const [k, v] of this.ops) out[k] = v.done();
    return out;
  }

  /** load_vec32 of elements [first, first + n): an iteration per element, a word per 4. */
  loadVec32(n: number, first = 0): void {
    this.cur.loop('VEC32_LOAD', n);
    this.cur.word('gmem_w.read', vec32Words(first, n));
  }
  loadVec16(n: number): void {
    this.cur.loop('VEC16_LOAD', n);
    this.cur.word('gmem_w.read', elemReaderWords(0, n));
  }
  /** One mac_engine job of a linear product: `steps` MAC steps while the next tile's `load`
   * words arrive (MAC_STEPS takes one per iteration): from DDR (WEIGHT_READ) or packed from
   * Kh / Vh in MAC_STEPS itself. With the q/k/v feed (`stores` words), the scratch writer
   * stores the job's outputs (SCRATCH_WRITE), the last token's QKV_WORDS words in as many
   * iterations after the last step. */
  private engineJob(steps: number, load: TileWords, stores = 0): void {
    const tail = stores > 0 ? words16(this.s.pe) : 0;
    this.cur.loop('MAC_STEPS', Math.max(steps + tail, load.words), 1);
    if (stores > 0) {
      this.cur.loop('SCRATCH_WRITE', stores, 1);
      this.cur.word('gmem_s.write', stores);
    }
    if (load.words === 0 || load.onchip) return;
    this.cur.loop('WEIGHT_READ', load.words, 1);
    this.cur.word('gmem_w.read', load.words);
  }
  /** A product of a chain ([rows][k] against `tokens` rows, tile 0 already in): a job per row
   * tile, each loading the next tile, its own or, after the last, `next` (and with
   * `feed`, the q/k/v feed storing its outputs: a row of QKV_WORDS per token). */
  private chainProduct(rows: number, k: number, tokens: number, onchip: boolean, next: TileWords, feed = false): void {
    const tiles = rows / this.s.pe;
    const own = this.rowTile(k, onchip);
    const stores = feed ? tokens * words16(this.s.pe) : 0;
    for (let t = 0; t < tiles; t++) this.engineJob(tokens * (k / this.s.simd), t + 1 < tiles ? own : next, stores);
  }
  /** linear_engine: a mac_engine job that only loads tile 0, then the product alone. */
  linearEngine(rows: number, k: number, tokens: number): void {
    this.engineJob(0, this.rowTile(k, false));
    this.chainProduct(rows, k, tokens, false, NO_TILE);
  }
  /** A row tile's words of a [.][k] matrix (block_rows(PE, k)), from DDR or packed on chip. */
  private rowTile(k: number, onchip: boolean): TileWords {
    return { words: (k / this.s.simd) * this.s.blockWords, onchip };
  }
  layerNorm(rows: number): void {
    const steps = rows * (this.s.D / this.s.lnLanes);
    this.loadVec16(this.s.D);
    this.loadVec32(this.s.D);
    this.cur.loop('LN_SUM', steps);
    this.cur.loop('LN_MEAN', rows);
    this.cur.loop('LN_VAR', steps);
    this.cur.loop('LN_RSQRT', rows);
    this.cur.loop('LN_OUT', steps);
  }
  /** A row-by-row pass of `cols / lanes` iterations per row (label *_COLS), entered once per row. */
  pass(label: string, rows: number, cols: number, lanes = this.s.passLanes): void {
    this.cur.loop(label, rows * (cols / lanes), rows);
  }
  /** A pass over every row's columns in one pipelined loop (running row and column counters):
   * `rows x cols / lanes` iterations, entered once. */
  flatPass(label: string, rows: number, cols: number, lanes = this.s.passLanes): void {
    this.cur.loop(label, rows * (cols / lanes), 1);
  }
  /** The gate's routing (moe.h): ROUTE_SCAN, a window of E steps for each of N + 1 tokens
   * (a token's top-k in its window, its exp sum in the next) and TOPK steps for the last
   * token's weights; ROUTE_PREFIX, one step per expert; ROUTE_FILL, one per (token, rank)
   * slot; each entered once. */
  gateRouting(experts: number, topK: number): void {
    this.routeScan(this.s.N, experts, topK);
    this.routeQueues(experts, topK);
  }
  /** Writer16/Writer32: a word per full lane set, the partial last one at flush. */
  writer(ch: CsimChannel, elems: number, lanes: 8 | 4): void {
    this.cur.word(ch, Math.ceil(elems / lanes));
  }

  patchEmbed(): void {
    const { image: im, patchEmbed: pe } = this.s;
    for (let c = 0; c < pe.chunks; c++) {
      for (let gy = 0; gy < im.gridH; gy++) {
        this.band(gy);
        this.cur.loop('PATCH_GATHER', im.gridW * (pe.chunk / pe.gatherLanes), im.gridW);
      }
      this.linearEngine(this.s.D, pe.chunk, this.s.NP);
    }
  }
  /** The patch bias, the class token (load_vec16 into LN_G), then TOKENS: every token's
   * columns in one loop, a word of the positional embedding per 8 columns (its rows start a
   * word: row_words(D) words each). */
  clsPos(): void {
    const { D, N } = this.s;
    this.loadVec32(D);
    this.loadVec16(D);
    this.cur.word('gmem_w.read', N * elemReaderWords(0, D));
    this.flatPass('TOKENS', N, D, this.s.patchEmbed.tokenLanes);
  }
  /**
   * attention(): per head the q, k, v calls (ops attn.qkv) and the key tiles' Q.K^T and P.V
   * (attn.core), as one chain over the layer: only the layer's first q tile loads alone, each
   * product's last job loads the next product's tile 0 (v's: the first Q.K^T's, packed from
   * Kh; the head's last P.V: the next head's q, from DDR); then each head's output.
   */
  attention(qkvOp: string, coreOp: string): void {
    const { heads, hd, D, N, attention: a } = this.s;
    const qkvTile = this.rowTile(D, false);
    const qkTile = this.rowTile(a.hdK, true);
    for (let h = 0; h < heads; h++) {
      this.op(qkvOp);
      if (h === 0) this.engineJob(0, qkvTile);
      for (let g = 0; g < 3; g++) {
        this.loadVec32(hd, (h * 3 + g) * hd);
        this.chainProduct(hd, D, N, false, g < 2 ? qkvTile : qkTile); // requant into Qh / Kh / Vh: the epilogue
      }
      this.op(coreOp);
      this.keyTiles(h + 1 < heads ? qkvTile : NO_TILE);
      this.cur.loop('ATT_OUT', N * (hd / this.s.qkvLanes));
    }
  }
  /** load_rows / store_rows: `rows` rows of `cols` columns between scratch and an on-chip
   * array, IO_LANES per iteration, a word per row's 8 columns (rows start a word). */
  tileLoad(rows: number, cols: number): void {
    this.cur.loop('TILE_LOAD', rows * (cols / this.s.patchEmbed.tokenLanes), 1);
    this.cur.word('gmem_s.read', rows * Math.ceil(cols / 8));
  }
  tileStore(rows: number, cols: number): void {
    this.cur.loop('TILE_STORE', rows * (cols / this.s.patchEmbed.tokenLanes), 1);
    this.cur.word('gmem_s.write', rows * Math.ceil(cols / 8));
  }
  /** Token-tiled patch embedding (patch_embed.h, TILED): the patch bias and class token, then
   * per tile of patches the chunks over the patch rows the tile touches, and TOKENS for the
   * tile's tokens into XS. */
  patchEmbedTiled(opPatch: string, opTokens: string): void {
    const { image: im, patchEmbed: pe, D } = this.s;
    const t = this.s.tiled!;
    this.op(opTokens);
    this.loadVec32(D);
    this.loadVec16(D);
    for (let i = 0, p0 = 0; i < t.patchTiles; i++, p0 += t.rows) {
      const rows = i + 1 < t.patchTiles ? t.rows : t.patchLastRows;
      this.op(opPatch);
      for (let c = 0; c < pe.chunks; c++) {
        for (let gy = 0; gy < im.gridH; gy++) {
          const first = Math.max(gy * im.gridW, p0);
          const end = Math.min((gy + 1) * im.gridW, p0 + rows);
          if (end <= first) continue;
          this.band(gy);
          this.cur.loop('PATCH_GATHER', (end - first) * (pe.chunk / pe.gatherLanes), end - first);
        }
        this.linearEngine(D, pe.chunk, rows);
      }
      this.op(opTokens);
      const tokens = i === 0 ? rows + 1 : rows;
      this.cur.word('gmem_w.read', tokens * elemReaderWords(0, D));
      this.flatPass('TOKENS', tokens, D, pe.tokenLanes);
      this.cur.word('gmem_s.write', tokens * Math.ceil(D / 8));
    }
  }
  /** load_band of patch row gy: a word of 8 pixels per iteration (rows of whole words), else
   * a pixel per iteration through an ElemReader. */
  private band(gy: number): void {
    const im = this.s.image;
    const band = im.patch * im.w;
    if (this.s.patchEmbed.bandWords) {
      this.cur.word('gmem_i.read', im.c * (band / 8));
      this.cur.loop('BAND_PIXELS', im.c * (band / 8), im.c);
    } else {
      for (let ch = 0; ch < im.c; ch++) this.cur.word('gmem_i.read', elemReaderWords((ch * im.h + gy * im.patch) * im.w, band));
      this.cur.loop('BAND_PIXELS', im.c * band, im.c);
    }
  }
  /** attention_qkv_tile: one chain of every head's q, k, v calls over `rows` token rows,
   * their outputs to QKVS by the q/k/v feed, else each head's three stored after its calls. */
  qkvTile(rows: number): void {
    const { heads, hd, D } = this.s;
    const qkvTile = this.rowTile(D, false);
    const feed = qkvFeed(this.s);
    this.engineJob(0, qkvTile);
    for (let h = 0; h < heads; h++) {
      for (let g = 0; g < 3; g++) {
        this.loadVec32(hd, (h * 3 + g) * hd);
        this.chainProduct(hd, D, rows, false, h === heads - 1 && g === 2 ? NO_TILE : qkvTile, feed);
      }
      if (!feed) for (let g = 0; g < 3; g++) this.tileStore(rows, hd);
    }
  }
  /** load_head_cols: `rows` rows of a head's q, k or v, a load_rows per QKVS column group. */
  private headLoad(rows: number): void {
    const cols = qkvGroupCols(this.s);
    for (let c0 = 0; c0 < this.s.hd; c0 += cols) this.tileLoad(rows, cols);
  }
  /** attention_heads: per head its k and v from QKVS, then per query tile its q, the key
   * tiles (a chain over the head's query tiles) and its output into AS. */
  attentionHeads(): void {
    const { heads, hd, attention: a } = this.s;
    const q = a.query;
    const qkTile = this.rowTile(a.hdK, true);
    for (let h = 0; h < heads; h++) {
      // load_head_rows: K's K_ROWS rows, then its K_TAIL (KhL); V's N_ATT, then the last
      // token's (VhL) when apart.
      this.headLoad(a.kRows);
      if (a.kTail > 0) this.headLoad(a.kTail);
      this.headLoad(a.rows);
      if (a.lastApart) this.headLoad(1);
      this.engineJob(0, qkTile);
      for (let t = 0; t < q.tiles; t++) {
        const last = t === q.tiles - 1;
        const rows = last ? q.lastRows : q.tile;
        this.headLoad(rows);
        this.keyTiles(last ? NO_TILE : qkTile, rows);
        this.cur.loop('ATT_OUT', rows * (hd / this.s.qkvLanes));
        this.cur.word('gmem_s.write', rows * Math.ceil(hd / 8));
      }
    }
  }
  /** attention_core: Q.K^T then P.V per key tile over `queries` query rows, the last P.V
   * loading `after`. */
  private keyTiles(after: TileWords, queries = this.s.N): void {
    const { attention: a } = this.s;
    const qkTile = this.rowTile(a.hdK, true);
    for (let t = 0; t < a.tiles; t++) {
      const last = t === a.tiles - 1;
      const cols = last ? a.lastCols : a.keyTile;
      this.chainProduct(last ? a.lastRows : a.keyTile, a.hdK, queries, true, this.rowTile(cols, true));
      this.chainProduct(a.hdR, cols, queries, true, !last ? qkTile : after);
    }
  }
  /** dense_mlp over `rows` token rows: per hidden tile fc1 (bias, then GELU into H in its
   * epilogue) and fc2 (the last tile's bias; the residual in its epilogue). */
  denseMlp(blk: (n: string) => string, rows: number): void {
    const { D } = this.s;
    const dense = this.s.dense!;
    for (let j = 0; j < dense.tiles; j++) {
      this.op(blk('mlp.fc1'));
      this.loadVec32(dense.tile, j * dense.tile);
      this.linearEngine(dense.tile, D, rows);
      this.op(blk('mlp.fc2'));
      if (j === dense.tiles - 1) this.loadVec32(D);
      this.linearEngine(D, dense.tile, rows);
    }
  }
  /** load_parts: `count` blocks into the weight store, a word per iteration. */
  loadParts(count: number): void {
    this.cur.loop('PARTS_LOAD', count * this.s.blockWords);
    this.cur.word('gmem_w.read', count * this.s.blockWords);
  }
  loadExpert(): void {
    const w1Blocks = (this.s.moe!.hidden * this.s.D) / (this.s.pe * this.s.simd);
    this.loadParts(w1Blocks);
    this.loadVec32(this.s.moe!.hidden);
    this.loadParts(w1Blocks);
    this.loadVec32(this.s.D);
  }
  /** expert_group: an FC1 and an FC2 job of W1_BLOCKS x BLOCK_PARTS steps each (token-major:
   * their loader reads nothing); token-tiled, the group's `n` rows gathered and terms stored
   * (`adds` of them added to their tokens' running sums). */
  expertGroup(n = 1, adds = 0): void {
    this.cur.loop('MAC_STEPS', 2 * expertJobSteps(this.s), 2);
    this.groupIo(n, adds);
  }
  /** Token-tiled, without the feeds: gather_tokens (a load_rows of one YS row per token) and
   * store_terms (a TERM_STORE loop per ES row) of an expert group of n tokens. (With the row
   * feed only the layer's first group is gathered apart, gather_first_group; with the term
   * feed only its last is stored apart: expertMajor and expertMajorExpected count those.) */
  private groupIo(n: number, adds: number): void {
    if (!this.s.tiled || n === 0) return;
    if (!expertRowFeed(this.s)) this.gatherRows(n);
    if (!expertTermFeed(this.s)) this.storeTerms(n, adds);
  }
  /** store_terms: `n` ES rows, a TERM_STORE loop each, `adds` of them after a TERM_ADD loop
   * (the running sum read first). */
  private storeTerms(n: number, adds: number): void {
    const { D } = this.s;
    const iterations = D / this.slotLanes();
    this.cur.loop('TERM_ADD', adds * iterations, adds);
    this.cur.word('gmem_s.read', adds * words32(D));
    this.cur.loop('TERM_STORE', n * iterations, n);
    this.cur.word('gmem_s.write', n * words32(D));
  }
  /** The term feed: an FC1 job's term writer stores the group before's `n` term rows
   * (SCRATCH_WRITE, one loop over their words, beside MAC_STEPS), its row reader bringing the
   * running sums of the `adds` that add to one (ROW_READ, one loop over their words). */
  private termFeed(n: number, adds: number): void {
    if (n === 0) return;
    const words = n * words32(this.s.D);
    this.cur.loop('SCRATCH_WRITE', words, 1);
    this.cur.word('gmem_s.write', words);
    if (adds === 0) return;
    this.cur.loop('ROW_READ', adds * words32(this.s.D), 1);
    this.cur.word('gmem_s.read', adds * words32(this.s.D));
  }
  /** `n` YS rows into Y by load_rows, one call (one TILE_LOAD start) per row. */
  private gatherRows(n: number): void {
    const { D } = this.s;
    this.cur.loop('TILE_LOAD', n * (D / this.s.patchEmbed.tokenLanes), n);
    this.cur.word('gmem_s.read', n * words16(D));
  }
  /** The row feed: an FC2 job's row reader gathers the next group's `n` rows (ROW_READ, one
   * loop over their words, beside MAC_STEPS). */
  private rowFeed(n: number): void {
    if (n === 0) return;
    const words = n * words16(this.s.D);
    this.cur.loop('ROW_READ', words, 1);
    this.cur.word('gmem_s.read', words);
  }
  private slotLanes(): number {
    return slotLanes(this.s);
  }
  /** add_terms: a tile's `rows` tokens' ES rows (their sums of terms) into their ACC rows,
   * SLOT_LANES per iteration, in one loop. */
  addTerms(rows: number): void {
    this.cur.loop('TERM_LOAD', rows * (this.s.D / this.slotLanes()), 1);
    this.cur.word('gmem_s.read', rows * words32(this.s.D));
  }
  /** route_scan over `rows` tokens: a window of E steps per token and one more, then TOPK. */
  routeScan(rows: number, experts: number, topK: number): void {
    this.cur.loop('ROUTE_SCAN', (rows + 1) * experts + topK, 1);
  }
  /** route_queues: ROUTE_PREFIX, a step per expert; ROUTE_FILL, one per (token, rank) slot. */
  routeQueues(experts: number, topK: number): void {
    this.cur.loop('ROUTE_PREFIX', experts, 1);
    this.cur.loop('ROUTE_FILL', this.s.N * topK, 1);
  }
  /** One engine job's slice of an expert's W1/W2 burst: `n` words through WEIGHT_READ. */
  private expertSlice(n: number): void {
    if (n === 0) return;
    this.cur.loop('WEIGHT_READ', n, 1);
    this.cur.word('gmem_w.read', n);
  }
  /** load_expert_words: a job without compute for `n` words of the burst. */
  private expertWordsAlone(n: number): void {
    this.cur.loop('MAC_STEPS', n, 1);
    this.expertSlice(n);
  }
  /** load_expert_biases: b1 and b2, a word per element. */
  private expertBiases(): void {
    this.loadVec32(this.s.moe!.hidden);
    this.loadVec32(this.s.D);
  }
  /**
   * expert_major: the used experts in ascending order, each loaded once: the first alone,
   * every next one sliced over the previous expert's jobs (each job its steps' worth of words:
   * it runs no longer), the rest in one job after them; the biases after each load.
   */
  expertMajor(queues: boolean[][]): void {
    const usedQueues = queues.filter((q) => q.length > 0);
    const used = usedQueues.map((q) => q.length);
    if (used.length === 0) return;
    // Slots of expert i's group g that add to their tokens' running sums.
    const adds = (i: number, g: number): number => usedQueues[i].slice(g * this.s.ws!.parts, (g + 1) * this.s.ws!.parts).filter((a) => a).length;
    const W = expertBurstWords(this.s);
    const S = expertJobSteps(this.s);
    const parts = this.s.ws!.parts;
    const feed = expertRowFeed(this.s);
    const terms = expertTermFeed(this.s);
    this.expertWordsAlone(W);
    this.expertBiases();
    if (feed) this.gatherRows(Math.min(parts, used[0]));
    let prevRows = 0; // the term feed: the group before's rows, stored by the next FC1 job
    let prevAdds = 0; // and how many of them add to a running sum
    used.forEach((q, i) => {
      let left = i + 1 < used.length ? W : 0;
      const groups = Math.ceil(q / parts);
      this.cur.loop('EXPERT_GROUP_TOKENS', groups * parts, groups);
      for (let g = 0; g < groups; g++) this.groupIo(Math.min(parts, q - g * parts), adds(i, g));
      // The row feed's next group after group g: the queue's next, else the next expert's first.
      const nextRows = (g: number): number => ((g + 1) * parts < q ? Math.min(parts, q - (g + 1) * parts) : i + 1 < used.length ? Math.min(parts, used[i + 1]) : 0);
      for (let g = 0; g < 2 * groups; g++) {
        const n = Math.min(left, S);
        this.cur.loop('MAC_STEPS', S, 1);
        this.expertSlice(n);
        if (feed && g % 2 === 1) this.rowFeed(nextRows((g - 1) / 2));
        if (terms && g % 2 === 0) {
          this.termFeed(prevRows, prevAdds);
          prevRows = Math.min(parts, q - (g / 2) * parts);
          prevAdds = adds(i, g / 2);
        }
        left -= n;
      }
      if (left > 0) this.expertWordsAlone(left);
      if (i + 1 < used.length) this.expertBiases();
    });
    // The term feed: the layer's last group, stored after it.
    if (terms) this.storeTerms(prevRows, prevAdds);
  }
  /** expert_major under the routing model (formulas.ts expectedExpertStreaming). */
  expertMajorExpected(e: ExpertStreaming): void {
    const W = expertBurstWords(this.s);
    const S = expertJobSteps(this.s);
    this.repeat(e.used, () => this.expertBiases());
    this.repeat(e.groups, () => this.cur.loop('EXPERT_GROUP_TOKENS', this.s.ws!.parts, 1));
    this.repeat(2 * e.groups, () => this.cur.loop('MAC_STEPS', S, 1));
    // Words: every used expert's burst once; starts: the jobs that carry or load words.
    this.cur.loop('WEIGHT_READ', e.used * W, e.loadingJobs);
    this.cur.word('gmem_w.read', e.used * W);
    this.cur.loop('MAC_STEPS', e.aloneWords, e.aloneJobs);
    if (this.s.tiled) {
      // Every (token, rank) slot's row gathered once (with the row feed: the first group's
      // apart, every other group's by an FC2 job's row reader, one ROW_READ start each) and
      // its terms stored once (a TERM_STORE entry per row: its own burst; with the term feed,
      // the next group's FC1 job's term writer). Every token's k - 1 slots after its first
      // (smallest) expert add to its running sum: read first by a TERM_ADD loop, or by the
      // term feed's row reader (one ROW_READ start per FC1 job that stores such a row: every
      // job but those storing the smallest expert's groups, about N k / E / BLOCK_PARTS).
      const { N, D } = this.s;
      const { topK, experts } = this.s.moe!;
      const parts = this.s.ws!.parts;
      const slots = N * topK;
      const adds = N * (topK - 1);
      if (expertRowFeed(this.s)) {
        const first = Math.min(this.s.ws!.parts, slots);
        this.gatherRows(first);
        this.cur.loop('ROW_READ', (slots - first) * words16(D), Math.max(0, e.groups - 1));
        this.cur.word('gmem_s.read', (slots - first) * words16(D));
      } else {
        this.gatherRows(slots);
      }
      if (expertTermFeed(this.s)) {
        // Every group's terms by the next group's FC1 job (one SCRATCH_WRITE start each), the
        // last group's after the layer.
        // The last group is the largest expert's: every slot but a token's only one adds.
        const last = Math.min(parts, slots);
        const lastAdds = topK > 1 ? last : 0;
        this.cur.loop('SCRATCH_WRITE', (slots - last) * words32(D), Math.max(0, e.groups - 1));
        this.cur.word('gmem_s.write', (slots - last) * words32(D));
        const sumStarts = topK > 1 ? Math.max(0, e.groups - 1 - Math.ceil((N * topK) / experts / parts)) : 0;
        this.cur.loop('ROW_READ', (adds - lastAdds) * words32(D), sumStarts);
        this.cur.word('gmem_s.read', (adds - lastAdds) * words32(D));
        this.storeTerms(last, lastAdds);
      } else {
        this.storeTerms(slots, adds);
      }
    }
  }
  /** The experts of MoE block b under either scheduler: the golden routing's queues, or the
   * routing model's expectations (experts used, groups of BLOCK_PARTS tokens over
   * Binomial(N, k / E) queues and the words their jobs have no steps for:
   * generator/estimate/formulas.ts; token-major: expectedMisses cache misses). */
  experts(b: number, routing: TaskRouting | undefined, expectedMisses: number | undefined): void {
    const s = this.s;
    const m = s.moe!;
    const chosen = routing?.[b];
    if (m.scheduler === 'token-major') {
      if (chosen) this.tokenMajor(chosen);
      else this.tokenMajorExpected(expectedMisses ?? 0, s.N * m.topK);
    } else if (chosen) {
      this.expertMajor(expertQueues(chosen, m.experts));
    } else {
      this.expertMajorExpected(expectedExpertStreaming(m.experts, m.topK, s.N, s.ws!.parts, 2 * expertJobSteps(s), expertBurstWords(s)));
    }
  }
  /** token_major: tokens in order, a token's experts in rank order, an LRU cache of slots. */
  tokenMajor(chosen: number[][]): void {
    const slots: Array<{ expert: number; stamp: number }> = Array.from({ length: this.s.moe!.cacheSlots }, () => ({ expert: -1, stamp: 0 }));
    let stamp = 0;
    for (const row of chosen) {
      for (const [rank, e] of row.entries()) {
        let hit = slots.findIndex((x) => x.expert === e);
        if (hit < 0) {
          hit = slots.reduce((v, x, i) => (x.stamp < slots[v].stamp ? i : v), 0);
          this.loadExpert();
          slots[hit].expert = e;
        }
        slots[hit].stamp = ++stamp;
        this.expertGroup(1, rank > 0 ? 1 : 0); // rank 0 writes the token's ES row, the rest add
      }
    }
  }
  /** token_major under a routing model: `misses` expert loads and one group per (token, rank). */
  tokenMajorExpected(misses: number, pairs: number): void {
    const topK = this.s.moe!.topK;
    this.repeat(misses, () => this.loadExpert());
    this.repeat(pairs, () => this.expertGroup(1, (topK - 1) / topK));
  }
  /** `fn`'s counts added `n` times (n may be an expected, fractional count). */
  private repeat(n: number, fn: () => void): void {
    const outer = this.cur;
    this.cur = new OpCount();
    fn();
    const once = this.cur;
    this.cur = outer;
    for (const [label, v] of Object.entries(once.loops)) outer.loop(label, n * v, 0);
    for (const [label, v] of Object.entries(once.starts)) outer.loop(label, 0, n * v);
    for (const [ch, v] of Object.entries(once.words) as Array<[CsimChannel, number]>) outer.word(ch, n * v);
  }
  /** load_conv_group: `blocks` blocks into the weight store, bank by bank. */
  loadConvGroup(blocks: number): void {
    const ws = this.s.ws!;
    const perBank = ws.depth / ws.parts;
    for (let bk = 0; bk < ws.banks; bk++) {
      const n = Math.min(blocks - bk * perBank, perBank);
      if (n > 0) this.loadParts(n);
    }
  }
  loadRow(w: number, stride: number): void {
    this.cur.loop('LB_LOAD', (w * stride) / this.s.head.mapLanes);
    this.cur.word('gmem_s.read', (w * stride) / 8);
  }
  conv3x3(t: TaskSchedule, sp: UpStage): void {
    const ch = t.upChannels;
    const { pe, simd } = this.s;
    const parts = this.s.ws!.parts;
    this.loadVec32(ch);
    for (let c0 = 0; c0 < ch; c0 += sp.group) {
      this.loadConvGroup((sp.group / pe) * ((9 * sp.cin) / simd));
      for (let y = 0; y < sp.h; y++) this.loadRow(sp.w, sp.cinStride);
      const nblk = (sp.group / pe) * 9 * (sp.cin / simd);
      this.cur.loop('MAC_STEPS', sp.h * Math.ceil(sp.w / parts) * nblk * parts, sp.h);
      const rowWords = sp.w * ((sp.group === ch ? t.upStride : sp.group) / 8);
      this.cur.loop('CONV_WRITE', sp.h * rowWords, sp.h);
      this.cur.word('gmem_s.write', sp.h * rowWords);
    }
  }
  upsample2x(h: number, w: number, stride: number): void {
    for (let y = 0; y < h; y++) this.loadRow(w, stride);
    const steps = 2 * w * (stride / this.s.head.mapLanes);
    this.cur.loop('UP_STEPS', h * 2 * steps, h * 2);
    this.cur.word('gmem_s.write', h * 2 * steps * (this.s.head.mapLanes / 8));
  }
  /** uphead_stages: the conv3x3 / upsample stages, then conv1x1 and the output rows. */
  upheadStages(task: TaskSchedule, head: (n: string) => string): void {
    task.stages.forEach((sp, i) => {
      this.op(head(`conv_${i}`));
      this.conv3x3(task, sp);
      if (sp.upsample) {
        this.op(head(`up_${i}`));
        this.upsample2x(sp.h, sp.w, task.upStride);
      }
    });
    this.op(head(`conv_${task.stages.length}`));
    this.conv1x1Out(task, head(`conv_${task.stages.length}`), head('up_out'));
  }
  /** put_row: OUTROW[c] to elements e .. e + n - 1 of the result. */
  putRow(e: number, n: number): void {
    if (e % 8 === 0) {
      const words = Math.ceil(n / 8);
      this.cur.loop('PUT_WORDS', words);
      this.cur.word('gmem_o.write', words);
      if (n % 8 !== 0) this.cur.word('gmem_o.read', 1); // the last word's other lanes are kept
    } else {
      this.cur.word('gmem_o.read', n); // put16 per element: read, then write the word
      this.cur.word('gmem_o.write', n);
    }
  }
  conv1x1Out(t: TaskSchedule, opConv: string, opUp: string): void {
    const { pe, simd } = this.s;
    const parts = this.s.ws!.parts;
    const lh = t.lastH;
    const lw = t.lastW;
    const tiles = t.channelsPadded / pe;
    const nblk = tiles * (t.upChannels / simd);
    this.loadVec32(t.channelsPadded);
    this.loadConvGroup(nblk);
    for (let y = 0; y <= lh; y++) {
      if (y < lh) {
        this.op(opConv);
        this.loadRow(lw, t.upStride);
        this.cur.loop('MAC_STEPS', Math.ceil(lw / parts) * nblk * parts);
      }
      // emit_row: output rows 2y - 1 (y >= 1) and 2y (y < lh).
      this.op(opUp);
      for (const oy of [2 * y - 1, 2 * y]) {
        if (oy < 0 || oy >= 2 * lh) continue;
        this.cur.loop('UP_OUT_COLS', tiles * 2 * lw);
        for (let c = 0; c < t.channels; c++) this.putRow((c * 2 * lh + oy) * 2 * lw, 2 * lw);
      }
    }
  }
}

/**
 * Counters of one inference of task `task` (no debug dumps), with the MoE queues of
 * `routing` (the golden run's measured routing) or, without it, expected values of the
 * uniform routing model: experts used and token groups (expert-major) or `expectedMisses`
 * cache misses per MoE layer (token-major).
 */
export function programCounters(s: Schedule, task: TaskSchedule, gateShared: boolean, routing?: TaskRouting, expectedMisses?: number): ProgramCounters {
  const k = new KernelCounts(s);
  if (s.tiled) return tiledProgram(k, s, task, gateShared, routing, expectedMisses);
  const { N, NP, D } = s;
  k.op('patch_embed');
  k.patchEmbed();
  k.op('cls_pos_embed');
  k.clsPos();
  const moeBlocks = s.moe?.blocks ?? [];
  for (let b = 0; b < s.depth; b++) {
    const blk = (n: string): string => `blocks.${b}.${n}`;
    k.op(blk('norm1'));
    k.layerNorm(N);
    k.attention(blk('attn.qkv'), blk('attn.core'));
    k.op(blk('attn.proj')); // with residual1 in its epilogue
    k.loadVec32(D);
    k.linearEngine(D, D, N);
    k.op(blk('norm2'));
    k.layerNorm(N);
    if (moeBlocks.includes(b)) {
      const m = s.moe!;
      k.op(blk(gateShared ? 'mlp.gate' : `mlp.gate.${task.name}`));
      k.linearEngine(m.gateRows, D, N);
      k.gateRouting(m.experts, m.topK);
      k.op(blk('mlp.experts'));
      k.pass('MOE_CLEAR_WORDS', N, D, s.pe);
      k.experts(b, routing, expectedMisses);
      k.op(blk('residual2'));
      k.flatPass('MOE_RES2', N, D, s.resLanes);
    } else {
      k.denseMlp(blk, N);
    }
  }
  const head = (n: string): string => `head.${task.name}.${n}`;
  k.op(head('norm'));
  k.layerNorm(NP);
  if (task.head === 'linear') {
    k.op(head('linear'));
    k.linearEngine(task.channelsPadded, D, NP);
    k.loadVec32(task.channelsPadded);
    k.flatPass('LINEAR_HEAD_OUT', NP, task.channels, 1);
    k.writer('gmem_o.write', NP * task.channels, 8);
  } else {
    k.pass('UP_TOKENS_COLS', NP, s.head.dStride, 1);
    k.writer('gmem_s.write', NP * s.head.dStride, 8);
    k.upheadStages(task, head);
  }
  return k.result();
}

/** The token-tiled program (m3vit_top.cpp with TILED; models without MoE blocks). */
function tiledProgram(k: KernelCounts, s: Schedule, task: TaskSchedule, gateShared: boolean, routing: TaskRouting | undefined, expectedMisses: number | undefined): ProgramCounters {
  const t = s.tiled!;
  const { D, hd, heads } = s;
  const tileRows = (i: number, tiles: number, last: number): number => (i + 1 < tiles ? t.rows : last);
  k.patchEmbedTiled('patch_embed', 'cls_pos_embed');
  const moeBlocks = s.moe?.blocks ?? [];
  for (let b = 0; b < s.depth; b++) {
    const isMoe = moeBlocks.includes(b);
    const gateOp = `blocks.${b}.${gateShared ? 'mlp.gate' : `mlp.gate.${task.name}`}`;
    const blk = (n: string): string => `blocks.${b}.${n}`;
    for (let i = 0; i < t.tiles; i++) {
      const rows = tileRows(i, t.tiles, t.lastRows);
      k.op(blk('norm1'));
      k.tileLoad(rows, D);
      k.layerNorm(rows);
      k.op(blk('attn.qkv'));
      k.qkvTile(rows);
    }
    k.op(blk('attn.core'));
    k.attentionHeads();
    for (let i = 0; i < t.tiles; i++) {
      const rows = tileRows(i, t.tiles, t.lastRows);
      k.op(blk('attn.proj'));
      k.tileLoad(rows, D);
      for (let h = 0; h < heads; h++) k.tileLoad(rows, hd);
      k.loadVec32(D);
      k.linearEngine(D, D, rows);
      k.op(blk('norm2'));
      k.layerNorm(rows);
      if (isMoe) {
        const m = s.moe!;
        k.op(gateOp);
        k.linearEngine(m.gateRows, D, rows);
        k.routeScan(rows, m.experts, m.topK);
        k.tileStore(rows, D); // Y to YS
        k.tileStore(rows, D); // X to XS
        continue;
      }
      k.denseMlp(blk, rows);
      k.tileStore(rows, D);
    }
    if (!isMoe) continue;
    const m = s.moe!;
    k.op(gateOp);
    k.routeQueues(m.experts, m.topK);
    k.op(blk('mlp.experts'));
    k.experts(b, routing, expectedMisses);
    for (let i = 0; i < t.tiles; i++) {
      const rows = tileRows(i, t.tiles, t.lastRows);
      k.op(blk('residual2'));
      k.tileLoad(rows, D);
      k.addTerms(rows);
      k.flatPass('MOE_RES2', rows, D, s.resLanes);
      k.tileStore(rows, D);
    }
  }
  const head = (n: string): string => `head.${task.name}.${n}`;
  const linear = task.head === 'linear';
  if (linear) {
    k.op(head('linear'));
    k.loadVec32(task.channelsPadded);
  }
  for (let i = 0; i < t.patchTiles; i++) {
    const rows = tileRows(i, t.patchTiles, t.patchLastRows);
    k.op(head('norm'));
    k.tileLoad(rows, D);
    k.layerNorm(rows);
    if (linear) {
      k.op(head('linear'));
      k.linearEngine(task.channelsPadded, D, rows);
      k.flatPass('LINEAR_HEAD_OUT', rows, task.channels, 1);
    } else {
      k.pass('UP_TOKENS_COLS', rows, s.head.dStride, 1);
    }
  }
  if (linear) {
    k.writer('gmem_o.write', s.NP * task.channels, 8);
  } else {
    k.writer('gmem_s.write', s.NP * s.head.dStride, 8);
    k.upheadStages(task, head);
  }
  return k.result();
}

/** Every expert's queue (route_queues: tokens ascending), a slot per entry: whether it adds to
 * its token's running sum of terms (true) or is the token's first, smallest, expert. */
export function expertQueues(chosen: number[][], experts: number): boolean[][] {
  const q: boolean[][] = Array.from({ length: experts }, () => []);
  for (const row of chosen) {
    const first = Math.min(...row);
    for (const e of row) q[e].push(e !== first);
  }
  return q;
}
