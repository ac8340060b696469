/**
 * tb/testbench.cpp: the C simulation testbench. Which golden file holds which checkpoint,
 * and where the kernel dumps it in scratch, is decided here (from the schedule's dump map
 * and the golden file naming), so the C++ only loops over tables.
 */
import * as path from 'path';
import type { Schedule } from '../schedule/schedule';
import { TOP_FUNCTION } from '../schedule/interface';
import { LAYOUT } from './layout';
import { renderTemplate } from './render';

/** Where the golden vectors keep each array (relative to the golden folder). */
export interface GoldenNames {
  input: string;
  output(task: string): string;
  checkpoint(task: string, name: string): string;
}

/** The run order: A, B, A (a task switch and back without reset), then every other task once. */
export function runOrder(tasks: number): number[] {
  if (tasks === 1) return [0, 0];
  return [0, 1, 0, ...Array.from({ length: tasks - 2 }, (_, i) => i + 2)];
}

/** What ties the testbench to its generation: the identity golden/manifest.json must carry, the weight image's sha256. */
export interface TestbenchIdentity {
  generation: string;
  weightsSha256: string;
}

export function testbenchView(sched: Schedule, modelName: string, names: GoldenNames, identity: TestbenchIdentity): object {
  const order = runOrder(sched.tasks.length);
  const tasks = sched.tasks.map((t) => {
    const checkpoints = sched.scratch.dumps
      .filter((d) => d.task === undefined || d.task === t.name)
      .map((d) => {
        const count = d.shape.reduce((a, b) => a * b, 1);
        const hwc = d.layout === 'hwc';
        return {
          name: d.name,
          file: names.checkpoint(t.name, d.name),
          lanes: d.lanes,
          count,
          offset: d.offsetWords,
          layout: hwc ? 1 : 0,
          c: hwc ? d.shape[0] : 0,
          h: hwc ? d.shape[1] : 0,
          w: hwc ? d.shape[2] : 0,
        };
      });
    return { id: t.id, name: t.name, outputFile: names.output(t.name), outputCount: t.outputCount, checkpoints, numCheckpoints: checkpoints.length };
  });
  return {
    top: TOP_FUNCTION,
    modelName,
    generation: identity.generation,
    weightsSha256: identity.weightsSha256,
    goldenManifest: path.posix.relative(LAYOUT.goldenDir, LAYOUT.goldenManifest),
    weightImage: LAYOUT.weightImage,
    csimResult: LAYOUT.csimResult,
    inputFile: names.input,
    runOrder: order.join(', '),
    runOrderText: order.map((i) => sched.tasks[i].name).join(', '),
    tasks,
    moeBlocks: (sched.moe?.blocks ?? []).map((block, index) => ({ block, index })),
  };
}

export function testbenchSource(sched: Schedule, modelName: string, names: GoldenNames, identity: TestbenchIdentity): string {
  return renderTemplate('tb/testbench.cpp.hbs', testbenchView(sched, modelName, names, identity));
}
