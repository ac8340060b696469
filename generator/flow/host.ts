/**
 * m3vit_meta.json: what the host driver needs to know about this accelerator besides the
 * register offsets (from the .hwh) and the fraction bits (from the quantization plan):
 * the IP, its arguments, the input and every task's output shape, buffer sizes, and the
 * names of the files `make package` puts next to it.
 */
import * as path from 'path';
import type { LoadedProject } from '../project';
import { hwInterface, OPTION_DEBUG_DUMP } from '../schedule/interface';
import type { FlowModel } from './model';
import { scratchWords } from './sources';

export interface HostMeta {
  name: string;
  ip: { vlnv: string; cell: string };
  bundles: Array<{ arg: string; bundle: string; role: string }>;
  scalars: Array<{ arg: string; cType: string }>;
  options: { debugDump: number };
  wordBits: number;
  lanes: number;
  input: { site: string; shape: number[]; elements: number; words: number };
  tasks: Array<{ name: string; index: number; head: string; outputSite: string; outputShape: number[]; outputElements: number; outputWords: number }>;
  scratchWords: number;
  files: { bit: string; hwh: string; weights: string; quantPlan: string; goldenManifest: string };
}

export function hostMeta(project: LoadedProject, flow: FlowModel): HostMeta {
  const iface = hwInterface(project.config);
  const d = project.ir.dims;
  const inShape = [d.inChannels, d.imageH, d.imageW];
  const count = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  // int16 lanes per m_axi word (8 on 128-bit ports); buffers hold whole words.
  const LANES = project.config.board.hpPortWidthBits / 16;
  return {
    name: flow.name,
    ip: { vlnv: flow.hls.ip.vlnv, cell: flow.vivado.ipCell },
    bundles: iface.bundles.map((b) => ({ arg: b.arg, bundle: b.bundle, role: b.role })),
    scalars: iface.scalars.map((s) => ({ arg: s.arg, cType: s.cType })),
    options: { debugDump: OPTION_DEBUG_DUMP },
    wordBits: project.config.board.hpPortWidthBits,
    lanes: LANES,
    input: { site: 'input', shape: inShape, elements: count(inShape), words: Math.ceil(count(inShape) / LANES) },
    // `task` is the index in the built task list (architecture.md), not in the model.
    tasks: project.tasks.map((t, index) => ({
      name: t.name,
      index,
      head: t.head.kind,
      outputSite: `head.${t.name}.out`,
      outputShape: [...t.outputShape],
      outputElements: count(t.outputShape),
      outputWords: Math.ceil(count(t.outputShape) / LANES),
    })),
    scratchWords: scratchWords(project.ir, project.tasks),
    // The deploy folder is flat: every file under its own name, the golden folder as a folder.
    files: {
      bit: path.posix.basename(flow.vivado.bit),
      hwh: path.posix.basename(flow.vivado.hwh),
      weights: path.posix.basename(flow.host.weightImage),
      quantPlan: path.posix.basename(flow.host.quantPlan),
      goldenManifest: `${path.posix.basename(flow.host.goldenDir)}/${path.posix.basename(flow.host.goldenManifest)}`,
    },
  };
}
