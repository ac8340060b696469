/**
 * The kernels stage of the main job: schedule (with the parallelism check, before any
 * slow work), then the quantized model, the packed weight image and its manifest, the
 * synthesised sources, the testbench and the project Makefile.
 */
import { GOLDEN_NAMES, sha256 } from '../golden/vectors';
import type { LoadedProject } from '../project';
import { prepareModel } from '../reference/prepare';
import { buildSchedule } from '../schedule/schedule';
import { weightLayout } from '../schedule/weight-layout';
import type { OutputFile } from '../util/output';
import type { Progress } from '../util/progress';
import { checkDdrFits } from './ddr-budget';
import { kernelFiles } from './kernels';
import { LAYOUT } from './layout';
import { makefileSource } from './makefile';
import { testbenchSource } from './testbench';
import { packWeightImage, weightManifest } from './weight-image';

export function runKernelStage(project: LoadedProject, p?: Progress): { files: OutputFile[]; summary: string } {
  const { ir, config, tasks } = project;
  const sched = buildSchedule(ir, tasks, config);
  const prepared = prepareModel(project, { progress: p });
  p?.step('HLS kernels and weight image');
  const layout = weightLayout(ir, sched, prepared.plan);
  checkDdrFits(config, layout.totalWords, sched.scratch.totalWords);
  const image = packWeightImage(layout, prepared.quant);
  const files: OutputFile[] = [
    ...kernelFiles({ ir, config, plan: prepared.plan, sched, layout }),
    { path: LAYOUT.weightImage, contents: image },
    { path: LAYOUT.weightManifest, contents: weightManifest(layout, image, prepared.generation) },
    { path: LAYOUT.testbench, contents: testbenchSource(sched, ir.dims.name, GOLDEN_NAMES, { generation: prepared.generation, weightsSha256: sha256(image) }) },
    { path: LAYOUT.makefile, contents: makefileSource(config.name) },
  ];
  const mib = (image.length / 1048576).toFixed(2);
  const sched_ = sched.moe ? `, MoE ${sched.moe.scheduler}` : '';
  return {
    files,
    summary: `${LAYOUT.srcDir}/, ${LAYOUT.testbench}, ${LAYOUT.makefile}: PE ${sched.pe} x SIMD ${sched.simd}${sched_}; ${LAYOUT.weightImage}: ${mib} MiB`,
  };
}
