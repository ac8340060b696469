/**
 * The synthesised sources of a project: src/model_config.h (sizes, formats, offsets),
 * src/numerics.h, src/m3vit_top.h, src/m3vit_top.cpp and the kernel family headers
 * src/kernels/*.h, plus the g++-only shim. The view-models are prepared here; the templates
 * under templates/hls only loop over them.
 */
import { isMoeBlock } from '../ir/build';
import type { ModelIR } from '../ir/types';
import { layerNormConsts, type LayerNormConsts } from '../numerics/ops';
import type { QuantPlan } from '../numerics/plan';
import { attnScaleQ, probWordFrac } from '../numerics/tables';
import { gateWidths, modelWidths } from '../numerics/widths';
import type { BuildConfig } from '../config/types';
import { hwInterface, OPTION_DEBUG_DUMP } from '../schedule/interface';
import { expertRowFeed, expertTermFeed, qkvFeed, slotLanes, words16, type BufferSpec, type Schedule } from '../schedule/schedule';
import type { WeightLayout } from '../schedule/weight-layout';
import type { OutputFile } from '../util/output';
import { KERNEL_FAMILIES, LAYOUT } from './layout';
import { numericsHeader } from './numerics-header';
import { cInt, cString, packageText, renderTemplate } from './render';
import { CSIM_CHANNELS } from '../schedule/program';

export interface KernelInputs {
  ir: ModelIR;
  config: BuildConfig;
  plan: QuantPlan;
  sched: Schedule;
  layout: WeightLayout;
}

type Field = { name: string; type: string; doc: string };

function lnInit(k: LayerNormConsts): string {
  return `{${[k.dim, k.inFrac, k.extraBits, k.epsQ, k.sqrtDimQ, k.gammaFrac, k.betaFrac, k.outFrac, k.bits].map(cInt).join(', ')}}`;
}
const u = (v: number): string => `${cInt(v)}u`;
const linW = (w: number, b: number, wf: number, bf: number): string => `{${u(w)}, ${u(b)}, ${cInt(wf)}, ${cInt(bf)}}`;
const LN_ZERO = '{1, 0, 0, 1, 1, 0, 0, 0, 16}';

/** Builds a struct's field list and each row's initialisers from one table, so the two cannot drift. */
function structRows<T>(fields: Array<[string, string, string, (x: T) => string | number]>, rows: T[]): { fields: Field[]; rows: string[][] } {
  return {
    fields: fields.map(([name, type, doc]) => ({ name, type, doc })),
    rows: rows.map((r) => fields.map(([name, , , f]) => {
      const v = f(r);
      return `${typeof v === 'number' ? cInt(v) : v} /* ${name} */`;
    })),
  };
}

export function modelConfigView(inp: KernelInputs): object {
  const { ir, config, plan, sched, layout } = inp;
  const d = ir.dims;
  const A = plan.bits.activation;
  const act = (s: string): number => {
    const f = plan.act[s];
    if (f === undefined) throw new Error(`quantization plan has no site ${s}`);
    return f;
  };
  const tf = (t: string): number => {
    const f = plan.tensors[t];
    if (!f) throw new Error(`quantization plan has no tensor ${t}`);
    return f.frac;
  };
  const dump = (name: string): number => sched.scratch.dumps.find((x) => x.name === name)?.offsetWords ?? 0;
  const ln = (inFrac: number, g: string, b: string, site: string): LayerNormConsts =>
    layerNormConsts(d.embedDim, d.layerNormEps, inFrac, tf(g), tf(b), act(site), A);

  const moeIdx = (b: number): number => (sched.moe ? sched.moe.blocks.indexOf(b) : -1);
  const blocks = Array.from({ length: d.depth }, (_, b) => b);
  const fIn = (b: number): number => (b === 0 ? act('tokens') : act(`blocks.${b - 1}.res2`));
  const pre = (b: number): string => `backbone.blocks.${b}`;
  const s = (b: number, n: string): number => act(`blocks.${b}.${n}`);
  const moe = (b: number): boolean => isMoeBlock(d, b);
  const lo = (b: number) => layout.blocks[b];
  const blockTable = structRows<number>(
    [
      ['moe', 'int', 'MoE layer index, -1 for a dense block', (b) => moeIdx(b)],
      ['f_in', 'int', 'x at the block input', fIn],
      ['ln1', 'LayerNormConsts', 'norm1', (b) => lnInit(ln(fIn(b), `${pre(b)}.norm1.weight`, `${pre(b)}.norm1.bias`, `blocks.${b}.norm1`))],
      ['ln1_g', 'unsigned', 'norm1 gamma [D] (16-bit lanes)', (b) => u(lo(b).ln1G)],
      ['ln1_b', 'unsigned', 'norm1 beta [D] (32-bit lanes)', (b) => u(lo(b).ln1B)],
      ['qkv', 'LinearW', 'qkv, rows head-major', (b) => linW(lo(b).qkvW, lo(b).qkvB, tf(`${pre(b)}.attn.qkv.weight`), tf(`${pre(b)}.attn.qkv.bias`))],
      ['f_qkv', 'int', 'q, k, v and the attention output', (b) => s(b, 'qkv')],
      ['f_scores', 'int', 'attention scores', (b) => s(b, 'scores')],
      ['proj', 'LinearW', 'attention projection', (b) => linW(lo(b).projW, lo(b).projB, tf(`${pre(b)}.attn.proj.weight`), tf(`${pre(b)}.attn.proj.bias`))],
      ['f_proj', 'int', 'proj output', (b) => s(b, 'proj')],
      ['f_res1', 'int', 'first residual', (b) => s(b, 'res1')],
      ['ln2', 'LayerNormConsts', 'norm2', (b) => lnInit(ln(s(b, 'res1'), `${pre(b)}.norm2.weight`, `${pre(b)}.norm2.bias`, `blocks.${b}.norm2`))],
      ['ln2_g', 'unsigned', 'norm2 gamma', (b) => u(lo(b).ln2G)],
      ['ln2_b', 'unsigned', 'norm2 beta', (b) => u(lo(b).ln2B)],
      ['f_norm2', 'int', 'norm2 output (MLP / gate / expert input)', (b) => s(b, 'norm2')],
      ['fc1', 'LinearW', 'dense fc1 [hidden][D]', (b) => (moe(b) ? linW(0, 0, 0, 0) : linW(lo(b).fc1W, lo(b).fc1B, tf(`${pre(b)}.mlp.fc1.weight`), tf(`${pre(b)}.mlp.fc1.bias`)))],
      ['f_fc1', 'int', 'dense fc1 output', (b) => (moe(b) ? 0 : s(b, 'fc1'))],
      ['f_gelu', 'int', 'dense GELU output', (b) => (moe(b) ? 0 : s(b, 'gelu'))],
      ['fc2', 'LinearW', 'dense fc2, [tile][D][TH]', (b) => (moe(b) ? linW(0, 0, 0, 0) : linW(lo(b).fc2W, lo(b).fc2B, tf(`${pre(b)}.mlp.fc2.weight`), tf(`${pre(b)}.mlp.fc2.bias`)))],
      ['f_fc2', 'int', 'dense fc2 output', (b) => (moe(b) ? 0 : s(b, 'fc2'))],
      ['experts', 'unsigned', 'expert 0 of the MoE layer (expert e at + EXPERT_OFFSET[e])', (b) => u(moe(b) ? lo(b).experts : 0)],
      ['e1_wf', 'int', 'expert W1', (b) => (moe(b) ? tf(`${pre(b)}.mlp.experts.htoh4.weight`) : 0)],
      ['e1_bf', 'int', 'expert b1', (b) => (moe(b) ? tf(`${pre(b)}.mlp.experts.htoh4.bias`) : 0)],
      ['e2_wf', 'int', 'expert W2', (b) => (moe(b) ? tf(`${pre(b)}.mlp.experts.h4toh.weight`) : 0)],
      ['e2_bf', 'int', 'expert b2', (b) => (moe(b) ? tf(`${pre(b)}.mlp.experts.h4toh.bias`) : 0)],
      ['f_gate', 'int', 'gate logits', (b) => (moe(b) ? s(b, 'gate') : 0)],
      ['f_efc1', 'int', 'expert fc1 output', (b) => (moe(b) ? s(b, 'expert_fc1') : 0)],
      ['f_egelu', 'int', 'expert GELU output', (b) => (moe(b) ? s(b, 'expert_gelu') : 0)],
      ['f_efc2', 'int', 'expert fc2 output', (b) => (moe(b) ? s(b, 'expert_fc2') : 0)],
      ['f_moe', 'int', 'MoE output', (b) => (moe(b) ? s(b, 'moe') : 0)],
      ['f_res2', 'int', 'second residual (block output)', (b) => s(b, 'res2')],
      ['dump_norm1', 'unsigned', 'debug dump slot', (b) => u(dump(`blocks.${b}.norm1`))],
      ['dump_attn', 'unsigned', 'debug dump slot', (b) => u(dump(`blocks.${b}.attn`))],
      ['dump_res1', 'unsigned', 'debug dump slot', (b) => u(dump(`blocks.${b}.res1`))],
      ['dump_norm2', 'unsigned', 'debug dump slot', (b) => u(dump(`blocks.${b}.norm2`))],
      ['dump_gate', 'unsigned', 'debug dump slot', (b) => u(dump(`blocks.${b}.gate`))],
      ['dump_gate_experts', 'unsigned', 'debug dump slot (32-bit lanes)', (b) => u(dump(`blocks.${b}.gate.experts`))],
      ['dump_gate_weights', 'unsigned', 'debug dump slot (32-bit lanes)', (b) => u(dump(`blocks.${b}.gate.weights`))],
      ['dump_moe', 'unsigned', 'debug dump slot', (b) => u(dump(`blocks.${b}.moe`))],
      ['dump_res2', 'unsigned', 'debug dump slot', (b) => u(dump(`blocks.${b}.res2`))],
    ],
    blocks,
  );

  const lastXFrac = act(`blocks.${d.depth - 1}.res2`);
  const parts = sched.ws?.parts ?? 1;
  const c1x1Blocks = (t: (typeof sched.tasks)[number]): number => (t.head === 'uphead' ? (t.channelsPadded / sched.pe) * (t.upChannels / sched.simd) : 0);
  const taskTable = structRows<(typeof sched.tasks)[number]>(
    [
      ['linear', 'int', '1: linear head, 0: UpHead', (t) => (t.head === 'linear' ? 1 : 0)],
      ['channels', 'int', 'output channels C', (t) => t.channels],
      ['channels_padded', 'int', 'C rounded up to PE (weight rows)', (t) => t.channelsPadded],
      ['ln', 'LayerNormConsts', 'head norm', (t) => lnInit(ln(lastXFrac, `decoders.${t.name}.norm.weight`, `decoders.${t.name}.norm.bias`, `head.${t.name}.norm`))],
      ['ln_g', 'unsigned', 'head norm gamma', (t) => u(layout.heads[t.id].normG)],
      ['ln_b', 'unsigned', 'head norm beta', (t) => u(layout.heads[t.id].normB)],
      ['f_norm', 'int', 'head norm output', (t) => act(`head.${t.name}.norm`)],
      ['out', 'LinearW', 'linear head, or the UpHead conv1x1', (t) => {
        const w = t.head === 'linear' ? `decoders.${t.name}.linear` : `decoders.${t.name}.conv_${t.stages.length}`;
        return linW(layout.heads[t.id].outW, layout.heads[t.id].outB, tf(`${w}.weight`), tf(`${w}.bias`));
      }],
      ['f_out_in', 'int', 'input of the last layer', (t) => (t.head === 'linear' ? act(`head.${t.name}.norm`) : act(`head.${t.name}.conv_${t.stages.length - 1}`))],
      ['f_out', 'int', 'task output', (t) => act(`head.${t.name}.out`)],
      ['stages', 'int', 'UpHead conv3x3 stages', (t) => t.stages.length],
      ['up_channels', 'int', 'UpHead channels', (t) => t.upChannels],
      ['up_stride', 'int', 'channels per pixel of the UpHead maps in scratch (zero padded)', (t) => t.upStride],
      ['last_h', 'int', 'conv1x1 resolution', (t) => t.lastH],
      ['last_w', 'int', 'conv1x1 resolution', (t) => t.lastW],
      ['output_count', 'int', 'output elements', (t) => t.outputCount],
      // Products of the head's sizes, so the kernels need no multiplier for them.
      ['c1x1_blocks', 'int', 'conv1x1 weight blocks: (C_pad / PE) * (up_channels / SIMD)', (t) => c1x1Blocks(t)],
      ['c1x1_steps', 'int', 'conv1x1 MAC job steps per row: pixel groups x blocks x BLOCK_PARTS', (t) => Math.ceil(t.lastW / parts) * c1x1Blocks(t) * parts],
      ['last_pixels', 'int', 'conv1x1 pixels per channel: last_h * last_w', (t) => t.lastH * t.lastW],
      ['out_pixels', 'int', 'output pixels per channel: 2 last_h * 2 last_w', (t) => (t.head === 'uphead' ? 4 * t.lastH * t.lastW : 0)],
      ['dump_norm', 'unsigned', 'debug dump slot', (t) => u(dump(`head.${t.name}.norm`))],
      ['dump_c1x1', 'unsigned', 'debug dump slot', (t) => u(dump(`head.${t.name}.conv1x1`))],
    ],
    sched.tasks,
  );

  const maxStages = Math.max(1, ...sched.tasks.map((t) => t.stages.length));
  const stageFields: Array<[string, string, string]> = [
    ['w_off', 'unsigned', 'conv3x3 weights [Co][9][Ci]'],
    ['b_off', 'unsigned', 'bias'],
    ['wf', 'int', 'weights'],
    ['bf', 'int', 'bias'],
    ['f_in', 'int', 'input map'],
    ['f_out', 'int', 'output map (after ReLU; the upsample keeps it)'],
    ['h', 'int', 'resolution'],
    ['w', 'int', 'resolution'],
    ['cin', 'int', 'input channels'],
    ['cin_stride', 'int', 'channels per pixel of the input map (zero padded)'],
    ['group', 'int', 'output channels per CONV_GROUPS group (weights on chip for every row)'],
    ['group_blocks', 'int', 'weight blocks of a group: (group / PE) * (9 cin / SIMD)'],
    ['group_words', 'unsigned', 'image words of a group\'s weights: group_blocks * BLOCK_WORDS'],
    ['conv_steps', 'int', 'MAC job steps per output row: pixel groups x group_blocks x BLOCK_PARTS'],
    ['out_row_words', 'unsigned', 'words of an output-map row: w * up_stride / 8'],
    ['pixels', 'int', 'h * w'],
    ['upsample', 'int', '1: a 2x upsample follows'],
    ['dump_conv', 'unsigned', 'debug dump slot'],
    ['dump_up', 'unsigned', 'debug dump slot'],
  ];
  const groupBlocks = (st: (typeof sched.tasks)[number]['stages'][number]): number => (st.group / sched.pe) * ((9 * st.cin) / sched.simd);
  const stageRows = sched.tasks.map((t) => ({
    id: t.id,
    stages: Array.from({ length: maxStages }, (_, i) => {
      const st = t.stages[i];
      if (!st) return stageFields.map(() => '0').join(', ');
      const w = `decoders.${t.name}.conv_${i}`;
      const fInMap = i === 0 ? act(`head.${t.name}.norm`) : act(`head.${t.name}.conv_${i - 1}`);
      return [
        u(layout.heads[t.id].convW[i]), u(layout.heads[t.id].convB[i]), tf(`${w}.weight`), tf(`${w}.bias`), fInMap, act(`head.${t.name}.conv_${i}`),
        st.h, st.w, st.cin, st.cinStride, st.group, groupBlocks(st), u(groupBlocks(st) * sched.blockWords), Math.ceil(st.w / parts) * groupBlocks(st) * parts,
        u((st.w * t.upStride) / 8), st.h * st.w, st.upsample ? 1 : 0, u(dump(`head.${t.name}.conv_${i}`)), u(dump(`head.${t.name}.up_${i}`)),
      ].map((v) => (typeof v === 'number' ? cInt(v) : v)).join(', ');
    }),
  }));

  const resultWords = Math.max(...sched.tasks.map((t) => words16(t.outputCount)));
  return {
    modelName: d.name,
    configName: config.name,
    constants: sched.constants,
    bits: plan.bits,
    scheduler: sched.moe?.scheduler ?? config.moe.scheduler,
    expertMajor: (sched.moe?.scheduler ?? config.moe.scheduler) === 'expert-major',
    weightWords: layout.totalWords,
    imageWords: words16(d.inChannels * d.imageH * d.imageW),
    resultWords,
    fInput: act('input'),
    wPatch: layout.patchW,
    wPatchB: layout.patchB,
    wfPatch: tf('backbone.patch_embed.proj.weight'),
    bfPatch: tf('backbone.patch_embed.proj.bias'),
    fPatch: act('patch_embed'),
    wCls: layout.cls,
    fCls: tf('backbone.cls_token'),
    wPos: layout.pos,
    fPos: tf('backbone.pos_embed'),
    fTokens: act('tokens'),
    attScaleQ: cInt(attnScaleQ(d.headDim)),
    widths: modelWidths({ keys: sched.N, dim: d.embedDim, actBits: plan.bits.activation, eps: d.layerNormEps }),
    gateWidths: gateWidths(sched.moe?.experts ?? 1),
    probWordFrac: probWordFrac(plan.bits.activation),
    blockFields: blockTable.fields,
    blocks: blockTable.rows.map((values, index) => ({ index, values })),
    moe: sched.moe !== undefined,
    gateOffsets: layout.gates.map((row) => row.map(u).join(', ')),
    gateFracs: (sched.moe?.blocks ?? []).map((b) => sched.tasks.map((t) => {
      const g = d.moe!.gate === 'shared' ? `backbone.blocks.${b}.mlp.gate.w_gate` : `backbone.blocks.${b}.mlp.gate.${t.modelIndex}.w_gate`;
      return cInt(tf(g));
    }).join(', ')),
    expertParts: layout.expertParts,
    expertOffsets: Array.from({ length: sched.moe?.experts ?? 0 }, (_, e) => u(e * sched.moe!.expertWords)).join(', '),
    taskFields: taskTable.fields,
    tasks: taskTable.rows.map((values, i) => ({ id: i, name: sched.tasks[i].name, values })),
    maxStages,
    stageFields: stageFields.map(([name, type, doc]) => ({ name, type, doc })),
    stageRows,
    dumpTokens: dump('tokens'),
  };
}

/** Trip counts of the kernels' loops (loop_tripcount pragmas). */
function tripCounts(inp: KernelInputs): Record<string, number> {
  const { sched } = inp;
  const m = sched.moe;
  const linear = sched.tasks.filter((t) => t.head === 'linear').map((t) => t.channels);
  const linearChannels = linear.length > 0 ? linear : [1];
  const t: Record<string, number> = {
    blockWordsMax: sched.blockWords * (sched.kMax / sched.simd),
    // Weights of one bus word that land in a tile (fewer than 8 when PE x SIMD < 8).
    loadLanes: Math.min(8, sched.pe * sched.simd),
    // load_parts: at most a bank's worth of blocks per call.
    partWordsMax: sched.ws ? sched.blockWords * (sched.ws.depth / sched.ws.parts) : 1,
    wsBanks: sched.ws?.banks ?? 1,
    blockParts: sched.ws?.parts ?? 1,
    // expert_group loops: W1 (or W2) blocks x BLOCK_PARTS.
    expertSteps: m ? ((m.hidden * sched.D) / (sched.pe * sched.simd)) * (sched.ws?.parts ?? 1) : 1,
    tokens: sched.N,
    kSteps: Math.max(sched.kMax, sched.head.cwK) / sched.simd,
    // (+ the q/k/v feed's last token's words, after its last step)
    engineSteps: sched.actRows * (sched.kMax / sched.simd) + (qkvFeed(sched) ? words16(sched.pe) : 0),
    passRows: sched.actRows * (sched.D / sched.passLanes),
    lnRows: sched.actRows * (sched.D / sched.lnLanes),
    // Tiled activations: a tile's rows of X / A (TILE_LOAD, TILE_STORE) or a head's N rows of
    // q, k, v, IO_LANES elements per iteration.
    tokenLoop: (sched.tiled ? sched.tiled.rows + 1 : sched.N) * (sched.D / sched.patchEmbed.tokenLanes),
    routeScan: (sched.actRows + 1) * (m?.experts ?? 1) + (m?.topK ?? 1),
    res2: sched.actRows * (sched.D / sched.resLanes),
    // TERM_STORE, TERM_ADD: one ES row of D / SLOT_LANES iterations; TERM_LOAD: a tile's
    // tokens' rows.
    termRow: sched.D / slotLanes(sched),
    // ROW_READ: an expert group's rows, D_WORDS words each.
    gatherWords: (sched.ws?.parts ?? 1) * words16(sched.D),
    // SCRATCH_WRITE: an expert group's term rows (E_WORDS words each) or a q / k / v job's
    // token rows (QKV_WORDS each).
    writeWords: Math.max(expertTermFeed(sched) ? (sched.ws?.parts ?? 1) * Math.ceil(sched.D / 4) : 0, qkvFeed(sched) ? sched.actRows * words16(sched.pe) : 0),
    termLoad: sched.actRows * (sched.D / slotLanes(sched)),
    tileIo: Math.max(sched.actRows * sched.D, sched.N * sched.hd) / sched.patchEmbed.tokenLanes,
    // LINEAR_HEAD_OUT: every patch's channels of a linear-head task (the fewest and the most).
    linearHeadMin: sched.NP * Math.min(...linearChannels),
    linearHeadMax: sched.NP * Math.max(...linearChannels),
    // conv_row: pixel groups x tiles of a group x 9 taps x input blocks x BLOCK_PARTS.
    convSteps: Math.max(1, ...sched.tasks.flatMap((t) => t.stages.map((s) => {
      const parts = sched.ws?.parts ?? 1;
      return Math.ceil(s.w / parts) * (s.group / sched.pe) * 9 * (s.cin / sched.simd) * parts;
    }))),
    convGroups: Math.max(1, ...sched.tasks.flatMap((t) => t.stages.map((s) => t.upChannels / s.group))),
    rowIters: Math.max(1, (sched.head.lbW * sched.head.strideMax) / sched.head.mapLanes),
    rowWords: Math.max(1, (sched.head.lbW * sched.head.strideMax) / 8),
    lbII: Math.max(sched.head.mapLanes / 8, sched.head.mapLanes / sched.simd),
    mapRows: Math.max(1, ...sched.tasks.flatMap((t) => t.stages.map((s) => s.h))),
    upII: Math.max((2 * sched.head.mapLanes) / sched.simd, sched.head.mapLanes / 8),
    upSteps: Math.max(1, (2 * sched.head.lbW * sched.head.strideMax) / sched.head.mapLanes),
    outWords: Math.ceil((2 * sched.head.lastW) / 8),
    outCols: (sched.head.cPadMax / sched.pe) * 2 * sched.head.lastW,
    lastRows: Math.max(1, ...sched.tasks.map((t) => t.lastH + 1)),
    c1x1Steps: Math.max(1, ...sched.tasks.filter((t) => t.head === 'uphead').map((t) => {
      const parts = sched.ws?.parts ?? 1;
      return Math.ceil(t.lastW / parts) * (t.channelsPadded / sched.pe) * (t.upChannels / sched.simd) * parts;
    })),
    rowTiles: Math.max(sched.accCols, sched.biasRows) / sched.pe,
    vecMax: Math.max(sched.biasRows, sched.D),
    attOut: sched.attention.query.tile * (sched.hd / sched.qkvLanes),
    queryTiles: sched.attention.query.tiles,
    onchipTiles: Math.max(sched.attention.keyTile, sched.attention.hdR) / sched.pe,
    onchipSteps: sched.attention.query.tile * (Math.max(sched.attention.hdK, sched.attention.keyTile) / sched.simd),
    experts: m?.experts ?? 0,
    expertGroups: m ? Math.ceil(sched.N / (sched.ws?.parts ?? 1)) : 1,
    stages: Math.max(1, ...sched.tasks.map((t) => t.stages.length)),  };
  // MAC_STEPS runs every engine job: the longest of them.
  t.macSteps = Math.max(t.engineSteps, t.onchipSteps, m ? t.expertSteps : 1, sched.head.any ? t.convSteps : 1, sched.head.any ? t.c1x1Steps : 1);
  return t;
}

export function topView(inp: KernelInputs): object {
  const { config, sched, ir } = inp;
  const trip = tripCounts(inp);
  const iface = hwInterface(config);
  const bundle = (role: string) => iface.bundles.find((b) => b.role === role)!;
  const m = sched.moe;
  return {
    modelName: ir.dims.name,
    top: iface.top,
    optionDebug: OPTION_DEBUG_DUMP,
    bundles: {
      weights: bundle('weights').bundle,
      scratch: bundle('scratch').bundle,
      image: bundle('input').bundle,
      result: bundle('output').bundle,
    },
    depths: {
      weights: inp.layout.totalWords,
      scratch: sched.scratch.totalWords,
      image: words16(ir.dims.inChannels * ir.dims.imageH * ir.dims.imageW),
      result: Math.max(...sched.tasks.map((t) => words16(t.outputCount))),
    },
    trip,

    geluLanes: sched.geluLanes,
    geluCopies: Array.from({ length: Math.ceil(sched.geluLanes / 2) }, (_, i) => i),
    exp2Copies: Array.from({ length: sched.simd }, (_, i) => i),
    // A key tile of several PE chunks: Q.K^T's row maximum waits in ATT_RUN between its jobs.
    scoreChunked: sched.attention.scoreChunks > 1,
    // csim counters (program.ts names): bus channels in M3VIT_PORT order, task names, the gate op.
    csimChannels: CSIM_CHANNELS,
    csimTaskNames: sched.tasks.map((t) => cString(t.name)),
    csimGateOp: cString(ir.dims.moe?.gate === 'shared' ? 'blocks.%b.mlp.gate' : 'blocks.%b.mlp.gate.%t'),
    weightBuffers: sched.buffers
      .filter((b) => b.weights)
      .map((b) => ({ name: b.name, cType: b.cType, bitsConst: b.cType === 'bias_t' ? 'B_BITS' : 'W_BITS', expert: b.group === 'expert weights' })),
    kernelHeaders: KERNEL_FAMILIES.map((f) => `kernels/${f}.h`),
    bandWords: sched.patchEmbed.bandWords,
    moe: m !== undefined,
    ws: sched.ws !== undefined,
    expertMajor: m !== undefined && m.scheduler === 'expert-major',
    tokenMajor: m !== undefined && m.scheduler === 'token-major',
    // load_parts: token-major's expert loads and the head's conv groups (expert-major streams
    // its experts through the engine's loader).
    partsLoad: (m !== undefined && m.scheduler === 'token-major') || sched.tasks.some((t) => t.head === 'uphead'),
    dense: sched.dense !== undefined,
    tiled: sched.tiled !== undefined,
    rowFeed: expertRowFeed(sched),
    termFeed: expertTermFeed(sched),
    qkvFeed: qkvFeed(sched),
    // mac_engine's scratch writer: the term feed's and the q/k/v feed's.
    scratchWriter: expertTermFeed(sched) || qkvFeed(sched),
    // mac_engine names its scratch port when a process of its region uses it.
    scratchPort: expertRowFeed(sched) || qkvFeed(sched),
    attApart: sched.attention.lastApart,
    qApart: sched.attention.query.apart,
    kApart: sched.attention.kTail > 0,
    uphead: sched.tasks.some((t) => t.head === 'uphead'),
    linearHead: sched.tasks.some((t) => t.head === 'linear'),
    buffers: sched.buffers.filter((b) => !b.rom).map((b) => ({
      name: b.name,
      cType: b.cType,
      decl: b.dims.map((x) => `[${x}]`).join(''),
      pragmas: bufferPragmas(b),
    })),
    // Constant tables are declared with their initializers; their pragmas go in run() too.
    romPragmas: sched.buffers.filter((b) => b.rom).flatMap(bufferPragmas),
  };
}

/** Partition, reshape and storage pragmas of one buffer (emitted in run()). */
function bufferPragmas(b: BufferSpec): string[] {
  return [
    ...b.partition.map((p) => `array_partition variable=${b.name} type=${p.type}${p.factor ? ` factor=${p.factor}` : ''} dim=${p.dim}`),
    ...b.reshape.map((p) => `array_reshape variable=${b.name} type=${p.type}${p.factor ? ` factor=${p.factor}` : ''} dim=${p.dim}`),
    ...(b.storage !== 'auto' ? [`bind_storage variable=${b.name} type=${b.rom ? 'rom_2p' : 'ram_2p'} impl=${b.storage}`] : []),
  ];
}

/** All synthesised sources and the shim. */
export function kernelFiles(inp: KernelInputs): OutputFile[] {
  // The kernels' key tiles are the int reference's (golden vectors follow the plan).
  if (inp.plan.attention.keyTile !== inp.sched.attention.keyTile) {
    throw new Error(`attention key tile: plan ${inp.plan.attention.keyTile}, schedule ${inp.sched.attention.keyTile}`);
  }
  const top = topView(inp);
  return [
    { path: LAYOUT.numericsHeader, contents: numericsHeader() },
    { path: LAYOUT.configHeader, contents: renderTemplate('hls/model_config.h.hbs', modelConfigView(inp)) },
    { path: LAYOUT.topHeader, contents: renderTemplate('hls/m3vit_top.h.hbs', topView(inp)) },
    { path: LAYOUT.topSource, contents: renderTemplate('hls/m3vit_top.cpp.hbs', top) },
    ...KERNEL_FAMILIES.map((f) => ({ path: `${LAYOUT.kernelsDir}/${f}.h`, contents: renderTemplate(`hls/kernels/${f}.h.hbs`, top) })),
    { path: `${LAYOUT.shimDir}/ap_int_shim.h`, contents: packageText('testbench/shim/ap_int_shim.h') },
    { path: `${LAYOUT.shimDir}/hls_stream_shim.h`, contents: packageText('testbench/shim/hls_stream_shim.h') },
  ];
}
