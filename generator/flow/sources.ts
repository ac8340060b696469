/**
 * What the flow takes from the kernels emitter and the golden vectors: the synthesised
 * sources, the testbench and its arguments, the data files. Kept in this one place so that
 * when the kernel emitter's file list changes, adjusting the Tcl, the Makefile stamps and
 * the deploy folder is one edit.
 */
import { LAYOUT } from '../emit/layout';
import type { ModelIR, TaskIR } from '../ir/types';

export interface FlowSources {
  /** Synthesised C++ sources (relative to the project folder). */
  hls: string[];
  /** Include folders of the synthesised sources. The g++-only shim folder is deliberately
   * absent: Vitis HLS runs use the real Vitis headers. */
  includeDirs: string[];
  /** Testbench sources (csim and cosim, never synthesised). */
  testbench: string[];
  /** Folders every testbench run reads (golden vectors). */
  testbenchData: string[];
  /** Testbench argv, relative paths resolved against the project folder by the Tcl. */
  csimArgs: string[];
  cosimArgs: string[];
  /** Files that, when changed, invalidate a run (besides the sources and the Tcl). */
  headers: string[];
  weightImage: string;
  weightManifest: string;
  quantPlan: string;
  goldenDir: string;
  goldenManifest: string;
}

export function flowSources(): FlowSources {
  return {
    hls: [LAYOUT.topSource],
    includeDirs: [LAYOUT.srcDir],
    testbench: [LAYOUT.testbench],
    testbenchData: [LAYOUT.goldenDir],
    csimArgs: [LAYOUT.goldenDir],
    cosimArgs: [LAYOUT.goldenDir],
    headers: [LAYOUT.topHeader, LAYOUT.numericsHeader, LAYOUT.configHeader],
    weightImage: LAYOUT.weightImage,
    weightManifest: LAYOUT.weightManifest,
    quantPlan: LAYOUT.quantPlanJson,
    goldenDir: LAYOUT.goldenDir,
    goldenManifest: LAYOUT.goldenManifest,
  };
}

/**
 * Words of the `scratch` buffer the host allocates. Assumed until the kernel emitter
 * exports its figure: every debug dump (tokens, res1 and res2 of each block, int16
 * [N][D] each) followed by two of the largest head feature map (ping-pong in DDR).
 */
export function scratchWords(ir: ModelIR, tasks: TaskIR[]): number {
  const d = ir.dims;
  const dumps = (1 + 2 * d.depth) * d.tokens * d.embedDim;
  let largestMap = 0;
  for (const t of tasks) {
    if (t.head.kind !== 'uphead') continue;
    for (let s = 0; s < t.head.stages; s++) {
      const scale = 2 ** s;
      largestMap = Math.max(largestMap, t.head.channels * d.gridH * scale * d.gridW * scale);
    }
    largestMap = Math.max(largestMap, t.outputShape.reduce((a, b) => a * b, 1));
  }
  return Math.ceil((dumps + 2 * largestMap) / 8);
}
