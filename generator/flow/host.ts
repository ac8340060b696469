/**
 * m3vit_meta.json: what the host driver needs to know about this accelerator besides the
 * register offsets (from the .hwh) and the fraction bits (from the quantization plan):
 * the IP, its arguments, the input and every task's output shape, buffer sizes, the debug
 * dump slots in scratch (to name the first differing layer, as the csim does), the run
 * order of the csim, and the names of the files `make package` puts next to the driver.
 */
import * as path from 'path';
import { runOrder } from '../emit/testbench';
import type { LoadedProject } from '../project';
import { buildSchedule } from '../schedule/schedule';
import { hwInterface, OPTION_DEBUG_DUMP } from '../schedule/interface';
import { WORD_BITS, type FlowModel } from './model';

export interface HostDump {
  name: string;
  /** Present for head dumps: only that task's runs write the slot. */
  task?: string;
  shape: number[];
  /** 'hwc': a [C][H][W] map stored channels-last; anything else: C order of `shape`. */
  layout: string;
  lanes: 16 | 32;
  offsetWords: number;
}

export interface HostMeta {
  name: string;
  ip: { vlnv: string; cell: string };
  bundles: Array<{ arg: string; bundle: string; role: string }>;
  scalars: Array<{ arg: string; cType: string }>;
  options: { debugDump: number };
  wordBits: number;
  /** int16 lanes per word. */
  lanes: number;
  input: { site: string; shape: number[]; elements: number; words: number };
  tasks: Array<{ name: string; index: number; head: string; outputSite: string; outputShape: number[]; outputElements: number; outputWords: number }>;
  scratchWords: number;
  dumps: HostDump[];
  /** Task indices in the order `make csim` runs them (A, B, A, ...: a switch and back). */
  runOrder: number[];
  files: { bit: string; hwh: string; weights: string; weightManifest: string; quantPlan: string; goldenManifest: string };
}

export function hostMeta(project: LoadedProject, flow: FlowModel): HostMeta {
  const iface = hwInterface(project.config);
  const sched = buildSchedule(project.ir, project.tasks, project.config);
  const d = project.ir.dims;
  const inShape = [d.inChannels, d.imageH, d.imageW];
  const count = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  // int16 lanes per wword_t; buffers hold whole words.
  const lanes = WORD_BITS / 16;
  return {
    name: flow.name,
    ip: { vlnv: flow.hls.ip.vlnv, cell: flow.vivado.ipCell },
    bundles: iface.bundles.map((b) => ({ arg: b.arg, bundle: b.bundle, role: b.role })),
    scalars: iface.scalars.map((s) => ({ arg: s.arg, cType: s.cType })),
    options: { debugDump: OPTION_DEBUG_DUMP },
    wordBits: WORD_BITS,
    lanes,
    input: { site: 'input', shape: inShape, elements: count(inShape), words: Math.ceil(count(inShape) / lanes) },
    // `task` is the index in the built task list (architecture.md), not in the model.
    tasks: project.tasks.map((t, index) => ({
      name: t.name,
      index,
      head: t.head.kind,
      outputSite: `head.${t.name}.out`,
      outputShape: [...t.outputShape],
      outputElements: count(t.outputShape),
      outputWords: Math.ceil(count(t.outputShape) / lanes),
    })),
    scratchWords: sched.scratch.totalWords,
    dumps: sched.scratch.dumps.map((x) => ({
      name: x.name,
      ...(x.task !== undefined ? { task: x.task } : {}),
      shape: [...x.shape],
      layout: x.layout,
      lanes: x.lanes,
      offsetWords: x.offsetWords,
    })),
    runOrder: runOrder(project.tasks.length),
    // The deploy folder is flat: every file under its own name, the golden folder as a folder.
    files: {
      bit: path.posix.basename(flow.vivado.bit),
      hwh: path.posix.basename(flow.vivado.hwh),
      weights: path.posix.basename(flow.host.weightImage),
      weightManifest: path.posix.basename(flow.host.weightManifest),
      quantPlan: path.posix.basename(flow.host.quantPlan),
      goldenManifest: `${path.posix.basename(flow.host.goldenDir)}/${path.posix.basename(flow.host.goldenManifest)}`,
    },
  };
}
