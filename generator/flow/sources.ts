/**
 * What the flow takes from the kernels emitter and the golden vectors: the synthesised
 * sources, the testbench and its arguments, the data files. Kept in this one place so that
 * when the kernel emitter's file list changes, adjusting the Tcl, the Makefile stamps and
 * the deploy folder is one edit.
 */
import * as path from 'path';
import { KERNEL_HEADERS, LAYOUT } from '../emit/layout';

export interface FlowSources {
  /** Synthesised C++ sources (relative to the project folder). */
  hls: string[];
  /** Include folders of the synthesised sources. The g++-only shim folder is deliberately
   * absent: Vitis HLS runs use the real Vitis headers. */
  includeDirs: string[];
  /** Testbench sources (csim and cosim, never synthesised). */
  testbench: string[];
  /** Folders every testbench run reads (golden vectors, the weight image). */
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
    testbenchData: [LAYOUT.goldenDir, path.posix.dirname(LAYOUT.weightImage)],
    // tb/testbench.cpp takes <golden-dir> [<weights.bin> [<csim_result.json>]]; the Vitis
    // runs write their own result file so that they never overwrite `make csim`'s.
    csimArgs: [LAYOUT.goldenDir, LAYOUT.weightImage, `${LAYOUT.buildDir}/hls_csim_result.json`],
    cosimArgs: [LAYOUT.goldenDir, LAYOUT.weightImage, `${LAYOUT.buildDir}/cosim_result.json`],
    headers: [LAYOUT.topHeader, LAYOUT.numericsHeader, LAYOUT.configHeader, ...KERNEL_HEADERS],
    weightImage: LAYOUT.weightImage,
    weightManifest: LAYOUT.weightManifest,
    quantPlan: LAYOUT.quantPlanJson,
    goldenDir: LAYOUT.goldenDir,
    goldenManifest: LAYOUT.goldenManifest,
  };
}

