/**
 * The project Makefile (csim, csim-asan, clean). The flow's targets live in the fragment
 * make/flow.mk, included at the end so that `csim` stays the default goal.
 */
import { KERNEL_HEADERS, LAYOUT } from './layout';
import { renderTemplate } from './render';

/** The sources the csim build compiles (synthesised kernels + testbench). */
export const CSIM_SOURCES = [LAYOUT.topSource, LAYOUT.testbench];
export const CSIM_HEADERS = [LAYOUT.topHeader, LAYOUT.numericsHeader, LAYOUT.configHeader, ...KERNEL_HEADERS, `${LAYOUT.shimDir}/ap_int_shim.h`, `${LAYOUT.shimDir}/hls_stream_shim.h`];

export function makefileSource(name: string): string {
  return renderTemplate('hls/Makefile.hbs', {
    name,
    sources: CSIM_SOURCES,
    headers: CSIM_HEADERS,
    goldenDir: LAYOUT.goldenDir,
    weightImage: LAYOUT.weightImage,
    csimResult: LAYOUT.csimResult,
    csimBuildDir: LAYOUT.csimBuildDir,
    shimDir: LAYOUT.shimDir,
  });
}
