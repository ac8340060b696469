/**
 * Golden vectors as a stage of the main job and as the `m3vit-gen golden` command. The
 * command refreshes only the golden folder and the quantization plan of an output folder
 * (each replaced atomically), keeping whatever else a previous generation wrote there.
 */
import { LAYOUT } from '../emit/layout';
import { outputGuard, type LoadedProject } from '../project';
import { prepareModel } from '../reference/prepare';
import { prepareOutputFolder, writeIntoOutputFolder, type OutputFile } from '../util/output';
import type { Progress } from '../util/progress';
import { calibrationSummary } from './calibration-report';
import { goldenFiles, goldenSummary } from './vectors';

export function runGoldenStage(project: LoadedProject, p?: Progress): { files: OutputFile[]; summary: string } {
  const prepared = prepareModel(project, { progress: p });
  const { files, manifest } = goldenFiles(project, prepared, p);
  return { files, summary: `${goldenSummary(manifest)}; ${calibrationSummary(project.ir, prepared)}` };
}

/** `m3vit-gen golden`: writes golden/ and model/quant-plan.json into the output folder. */
export function goldenCommand(project: LoadedProject, opts: { force: boolean; progress?: Progress }): string {
  const guard = outputGuard(project, opts.force);
  const out = prepareOutputFolder(project.config.outDir, guard);
  try {
    const { files, summary } = runGoldenStage(project, opts.progress);
    opts.progress?.step('writing golden vectors');
    writeIntoOutputFolder(out, files, [LAYOUT.goldenDir], guard);
    opts.progress?.done();
    return summary;
  } finally {
    out.release();
  }
}
