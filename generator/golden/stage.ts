/**
 * Golden vectors as a stage of the main job and as the `m3vit-gen golden` command. The
 * command refreshes only the golden folder and the quantization plan of an output folder
 * (each replaced atomically), keeping whatever else a previous generation wrote there.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LAYOUT } from '../emit/layout';
import type { LoadedProject } from '../project';
import { prepareModel } from '../reference/prepare';
import { checkReplaceable, OUTPUT_MARKER, writeFileAtomic, type OutputFile } from '../util/output';
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
  const outDir = project.config.outDir;
  checkReplaceable(outDir, opts.force);
  const { files, summary } = runGoldenStage(project, opts.progress);
  opts.progress?.step('writing golden vectors');
  fs.mkdirSync(outDir, { recursive: true });
  const marker = path.join(outDir, OUTPUT_MARKER);
  if (!fs.existsSync(marker)) fs.writeFileSync(marker, 'This folder was written by m3vit-gen and is replaced when it regenerates.\n');
  // The golden folder: written beside, then swapped in.
  const goldenDir = path.join(outDir, LAYOUT.goldenDir);
  const tmp = fs.mkdtempSync(path.join(outDir, `.${path.basename(LAYOUT.goldenDir)}.tmp-`));
  try {
    const prefix = `${LAYOUT.goldenDir}/`;
    for (const f of files.filter((x) => x.path.startsWith(prefix))) {
      const dest = path.join(tmp, f.path.slice(prefix.length));
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, f.contents);
    }
    const old = `${tmp}.old`;
    if (fs.existsSync(goldenDir)) fs.renameSync(goldenDir, old);
    fs.renameSync(tmp, goldenDir);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const f of files.filter((x) => !x.path.startsWith(`${LAYOUT.goldenDir}/`))) writeFileAtomic(path.join(outDir, f.path), f.contents);
  opts.progress?.done();
  return summary;
}
