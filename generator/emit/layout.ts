/**
 * Where things go inside a generated project folder (hls-out/<name>/). Every emitter and
 * every consumer (Makefile, Tcl, testbench, driver, report) takes paths from here.
 */
export const LAYOUT = {
  makefile: 'Makefile',
  readme: 'README.md',
  /** Kernel sources (synthesised). */
  srcDir: 'src',
  topSource: 'src/m3vit_top.cpp',
  topHeader: 'src/m3vit_top.h',
  numericsHeader: 'src/numerics.h',
  configHeader: 'src/model_config.h',
  /** One header per kernel family (templates/hls/kernels/), included by topSource. */
  kernelsDir: 'src/kernels',
  /** Stand-ins for the Vitis headers when they are absent (csim with g++ only). */
  shimDir: 'src/shim',
  /** Testbench (never synthesised). */
  tbDir: 'tb',
  testbench: 'tb/testbench.cpp',
  /** Packed weight image and its manifest. */
  weightImage: 'data/weights.bin',
  weightManifest: 'data/weights.json',
  /** Golden vectors (m3vit-gen golden). */
  goldenDir: 'golden',
  goldenManifest: 'golden/manifest.json',
  /** Model IR and quantization plan, for people and tools. */
  irJson: 'model/ir.json',
  quantPlanJson: 'model/quant-plan.json',
  /** Per activation site: calibrated range, statistic, format and margin. */
  calibrationReport: 'model/calibration.md',
  /** Vitis HLS and Vivado scripts. */
  tclDir: 'tcl',
  /** Host code for the board (PYNQ driver, validate.py, optional C++ host). */
  hostDir: 'host',
  /** Estimator output. */
  reportDir: 'report',
  /** Written by the testbench after `make csim`. */
  csimResult: 'csim_result.json',
  /** Where `make csim` compiles the testbench. */
  csimBuildDir: 'csim-build',
  /** Makefile fragment with the Vitis HLS / Vivado targets (hls-csim ... package); the
   * project Makefile includes it. */
  flowMakefile: 'make/flow.mk',
  /** The flow's settings for tools (m3vit-gen report reads where the reports are). */
  flowManifest: 'tcl/flow.json',
  /** HLS and Vivado projects, stamps and logs (kept when the project is regenerated). */
  buildDir: 'build',
  /** What `make package` copies to the board: .bit, .hwh, weights, driver, golden vectors. */
  deployDir: 'deploy',
} as const;

/** The kernel family headers in include order (each includes the ones it builds on). A
 * family the model does not use is still emitted, holding only its guard, so that the file
 * list (Makefile and Tcl dependencies) does not depend on the model. */
export const KERNEL_FAMILIES = ['buffers', 'io', 'weight_store', 'engine', 'layernorm', 'patch_embed', 'attention', 'dense_mlp', 'moe', 'uphead'] as const;
export const KERNEL_HEADERS: string[] = KERNEL_FAMILIES.map((f) => `${LAYOUT.kernelsDir}/${f}.h`);

/** What `make` creates inside a project folder (compiled csim, HLS/Vivado runs, the board
 * package, Python caches): not the user's work, so it never stops a regeneration. */
export const BUILD_PRODUCTS: string[] = [LAYOUT.buildDir, LAYOUT.deployDir, LAYOUT.csimBuildDir, LAYOUT.csimResult, `${LAYOUT.hostDir}/__pycache__`];

/** Build products that regenerating must not throw away: hours of synthesis and
 * implementation (make/flow.mk), and what make package copied. */
export const KEEP_ON_REGENERATE: string[] = [LAYOUT.buildDir, LAYOUT.deployDir];
