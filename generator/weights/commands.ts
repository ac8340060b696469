/**
 * Weight commands of the CLI:
 *   export-weights  the WeightSet a config resolves to (seeded random or imported) as a
 *                   .safetensors file with M³ViT checkpoint names, for PyTorch
 *   quant-report    per-tensor quantization table (range, format, max error, saturations)
 */
import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { displayPath, loadProject, type LoadedProject } from '../project';
import { prepareModel } from '../reference/prepare';
import { checkOutputFile, writeUserFile } from '../util/output';
import { NO_PROGRESS, progress, type Progress } from '../util/progress';
import { UserError } from '../util/errors';
import { exportWeightSet } from './export';
import { parseSafetensors } from './safetensors';
import { formatQuantReport } from './quant-report';
import { cliWeightsFile, HEADS_OPTION, setMissingHeads, resolveWeights, weightsOrigin } from './source';

/** Where the weights came from, without absolute paths (it goes into generated files). */
export function describeOrigin(project: LoadedProject, weightsFile?: string): string {
  const o = weightsOrigin(project, weightsFile);
  if (o.kind === 'random') return `seeded random (seed ${o.seed}, init ${o.init})`;
  const h = o.heads;
  const heads = h === undefined ? '' : h.kind === 'random' ? `, missing heads seeded random (seed ${h.seed}, init ${h.init})` : `, missing heads from ${path.basename(h.file)}`;
  return `${path.basename(o.file!)}${heads}`;
}

interface ExportArgs {
  config: string;
  out: string;
  weights?: string;
  heads?: string;
}

export const exportWeightsCommand: CommandModule<object, ExportArgs> = {
  command: 'export-weights',
  describe: 'write the weights the config resolves to (random or imported) as .safetensors with M³ViT checkpoint names (BatchNorm folded)',
  builder: (y: Argv) =>
    y
      .option('config', { type: 'string', demandOption: true, describe: 'board/build config (JSON)' })
      .option('out', { type: 'string', demandOption: true, describe: 'the .safetensors file to write' })
      .option('weights', { type: 'string', describe: 'weights file (.safetensors) instead of the config\'s "weights" or random weights' })
      .option('heads', HEADS_OPTION) as unknown as Argv<ExportArgs>,
  handler: async (args) => {
    if (!/\.safetensors$/i.test(args.out)) throw new UserError(args.out, ['--out: the file name must end in .safetensors']);
    const outFile = checkOutputFile(args.out);
    const project = loadProject(args.config);
    const weightsFile = cliWeightsFile(args.weights);
    setMissingHeads(project, args.heads, weightsFile);
    const weights = resolveWeights(project, weightsFile);
    const bytes = exportWeightSet(weights, project.ir, { 'm3vit.source': `m3vit-gen export-weights: ${describeOrigin(project, weightsFile)}` });
    writeUserFile(outFile, bytes, args.out);
    // The file's count: the identity BatchNorm tensors are written besides the model's own.
    const tensors = parseSafetensors(bytes, args.out).entries.length;
    console.log(`wrote ${displayPath(path.resolve(args.out))}: ${tensors} tensors of ${project.ir.dims.name} (${describeOrigin(project, weightsFile)}), ${(bytes.length / 2 ** 20).toFixed(1)} MiB`);
    console.log('  BatchNorm is folded into decoders.<task>.conv_<s>; syncbn_fc_<s> are identity. In PyTorch: model.load_state_dict(tensors, strict=False)');
  },
};

interface QuantReportArgs {
  config: string;
  quiet?: boolean;
  weights?: string;
  heads?: string;
  out?: string;
}

export function quantReport(project: LoadedProject, weightsFile?: string, p: Progress = NO_PROGRESS): string {
  const prepared = prepareModel(project, { weightsFile, progress: p });
  return formatQuantReport(prepared.quantStats, { model: project.ir.dims.name, weights: describeOrigin(project, weightsFile), bits: prepared.plan.bits });
}

export const quantReportCommand: CommandModule<object, QuantReportArgs> = {
  command: 'quant-report',
  describe: 'print each weight tensor\'s range, chosen fixed-point format, max quantization error and saturation count',
  builder: (y: Argv) =>
    y
      .option('config', { type: 'string', demandOption: true, describe: 'board/build config (JSON)' })
      .option('weights', { type: 'string', describe: 'weights file (.safetensors) instead of the config\'s "weights" or random weights' })
      .option('heads', HEADS_OPTION)
      .option('out', { type: 'string', describe: 'write the report (markdown) to this file instead of stdout' }) as unknown as Argv<QuantReportArgs>,
  handler: async (args) => {
    const outFile = args.out !== undefined ? checkOutputFile(args.out) : undefined;
    const project = loadProject(args.config);
    const weightsFile = cliWeightsFile(args.weights);
    setMissingHeads(project, args.heads, weightsFile);
    const report = quantReport(project, weightsFile, progress({ quiet: args.quiet }));
    if (outFile !== undefined && args.out !== undefined) {
      writeUserFile(outFile, report, args.out);
      console.log(`wrote ${displayPath(path.resolve(args.out))}`);
    } else {
      process.stdout.write(report);
    }
  },
};
