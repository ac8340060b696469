/**
 * m3vit-gen command line. User errors (bad config, model, weights, vectors) print one
 * message and exit 2; anything else is a bug and keeps its stack trace (exit 1).
 */
import * as path from 'path';
import yargs from 'yargs';
import { renderReportMd } from './estimate/report';
import { loadRouting } from './estimate/routing';
import { estimateJson, estimateProject } from './estimate/stage';
import { generate, NOT_YET_GENERATED } from './generate';
import { inspectJson, inspectText } from './inspect/format';
import { displayPath, loadProject, type LoadedProject } from './project';
import { goldenCommand } from './golden/stage';
import { goldenImage } from './golden/vectors';
import { predictCommand } from './reference/predict';
import { reportCommand } from './report/command';
import { checkStructureProject } from './structure/check';
import { formatStructure } from './structure/format';
import { isUserError, USER_ERROR_EXIT_CODE } from './util/errors';
import { exportWeightsCommand, quantReportCommand } from './weights/commands';
import { progress } from './util/progress';
import { closest } from './util/suggest';
import { cliWeightsFile, HEADS_OPTION, setMissingHeads } from './weights/source';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const run = (fn: () => void | Promise<void>) => async (): Promise<void> => {
    await fn();
  };
  const parser = yargs(argv)
    .scriptName('m3vit-gen')
    .usage('$0 --config FILE [--out DIR]\n\nCompile an M³ViT model and a board config into a Vitis HLS project.')
    .option('quiet', { type: 'boolean', default: false, global: true, describe: 'no progress lines on stderr (off a terminal the long commands print one line per step)' })
    .command(
      '$0',
      'generate the project (the main job)',
      (y) =>
        y
          .option('config', { type: 'string', demandOption: true, describe: 'board/build config (JSON)' })
          .option('out', { type: 'string', describe: 'output folder (overrides the config)' })
          .option('weights', { type: 'string', describe: 'weights file (.safetensors) for the weight image and golden vectors (overrides the config\'s "weights")' })
          .option('input', { type: 'string', describe: GOLDEN_INPUT_HELP })
          .option('heads', HEADS_OPTION)
          .option('force', { type: 'boolean', default: false, describe: 'replace an output folder m3vit-gen did not write' })
          .option('allow-overfit', { type: 'boolean', default: false, describe: 'generate even when the estimate says the design does not fit the board budget' }),
      async (args) =>
        run(() => {
          const project = loadProject(args.config, { outDir: args.out });
          applyGoldenOverrides(project, args);
          setMissingHeads(project, args.heads);
          const summary = generate(project, { force: args.force, allowOverfit: args.allowOverfit, progress: progress({ quiet: args.quiet }) });
          console.log(`wrote ${displayPath(project.config.outDir)}/`);
          for (const s of summary) console.log(`  ${s}`);
          if (NOT_YET_GENERATED.length > 0) {
            console.log('not yet generated (this version of m3vit-gen does not build them yet):');
            for (const s of NOT_YET_GENERATED) console.log(`  - ${s}`);
          }
        })(),
    )
    .command(
      'inspect',
      'print the model IR: layers, shapes, parameters and MACs per task pathway',
      (y) =>
        y
          .option('config', { type: 'string', demandOption: true, describe: 'board/build config (JSON)' })
          .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
      async (args) =>
        run(() => {
          const project = loadProject(args.config);
          if (args.json) console.log(JSON.stringify(inspectJson(project.ir, project.tasks), null, 2));
          else console.log(inspectText(project.ir, project.tasks));
        })(),
    )
    .command(
      'estimate',
      'estimate resources, latency per task, DDR traffic and energy before synthesis, with the fit check',
      (y) =>
        y
          .option('config', { type: 'string', demandOption: true, describe: 'board/build config (JSON)' })
          .option('json', { type: 'boolean', default: false, describe: 'print estimate.json instead of the summary' })
          .option('routing', { type: 'string', describe: 'golden/manifest.json of a generated project: count the MoE queues of that run instead of the routing model (estimate.json "counters")' }),
      async (args) =>
        run(() => {
          const project = loadProject(args.config);
          const est = estimateProject(project, args.routing === undefined ? undefined : loadRouting(path.resolve(args.routing)));
          if (args.json) process.stdout.write(estimateJson(est));
          else process.stdout.write(renderReportMd(est));
        })(),
    )
    .command(
      'report <folder>',
      'after `make csynth` (and cosim, bitstream): latency, interval, clock and resources against the board, next to the estimate',
      (y) =>
        y
          .positional('folder', { type: 'string', demandOption: true, describe: 'generated project folder (hls-out/<name>)' })
          .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
      async (args) =>
        run(() => {
          console.log(reportCommand(args.folder as string, args.json));
        })(),
    )
    .command(
      'predict',
      'run the reference model on one image for one task and write the task output (.npy, float32)',
      (y) =>
        y
          .option('config', { type: 'string', demandOption: true, describe: 'board/build config (JSON)' })
          .option('task', { type: 'string', demandOption: true, describe: 'task name (any task of the model)' })
          .option('input', { type: 'string', demandOption: true, describe: 'a PNG/JPEG image (preprocessed as the config says) or a normalised image [C, H, W] (.npy, float32 or float64)' })
          .option('out', { type: 'string', demandOption: true, describe: 'output .npy: [C, H, W] for an UpHead, [patches, C] for a linear head' })
          .option('weights', { type: 'string', describe: 'weights file (.safetensors) instead of the config\'s weights' })
          .option('heads', HEADS_OPTION)
          .option('mode', { choices: ['int', 'float'] as const, default: 'int' as const, describe: 'int: bit-exact hardware arithmetic (dequantized); float: float64 M³ViT' })
          .option('report', { type: 'boolean', default: false, describe: 'print the per-layer error of int against float and the saturation counts' })
          .option('trace', { type: 'string', describe: 'write every checkpointed layer of the run (backbone features included) as .npy into this folder (with --report also the error table)' })
          .option('force', { type: 'boolean', default: false, describe: 'with --trace: replace a folder m3vit-gen did not write' }),
      async (args) => run(() => predictCommand(args))(),
    )
    .command(
      'golden',
      'write the quantization plan and the golden vectors of every built task into the output folder',
      (y) =>
        y
          .option('config', { type: 'string', demandOption: true, describe: 'board/build config (JSON)' })
          .option('out', { type: 'string', describe: 'output folder (overrides the config)' })
          .option('weights', { type: 'string', describe: 'weights file (.safetensors) instead of the config\'s "weights"' })
          .option('input', { type: 'string', describe: GOLDEN_INPUT_HELP })
          .option('force', { type: 'boolean', default: false, describe: 'write into a folder m3vit-gen did not write' }),
      async (args) =>
        run(() => {
          const project = loadProject(args.config, { outDir: args.out });
          applyGoldenOverrides(project, args);
          const summary = goldenCommand(project, { force: args.force, progress: progress({ quiet: args.quiet }) });
          console.log(`wrote ${displayPath(project.config.outDir)}/`);
          console.log(`  ${summary}`);
        })(),
    )
    .command(
      'check-structure <folder>',
      'what Vitis HLS would build from the generated kernels, without Vitis: instances, multipliers, pipelined loops, violations',
      (y) =>
        y
          .positional('folder', { type: 'string', demandOption: true, describe: 'generated project folder (hls-out/<name>)' })
          .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
      async (args) =>
        run(() => {
          const r = checkStructureProject(args.folder as string, progress());
          process.stdout.write(args.json ? `${JSON.stringify(r, null, 2)}\n` : formatStructure(r));
        })(),
    )
    .command(exportWeightsCommand)
    .command(quantReportCommand)
    .middleware(checkSingleValues, true)
    .strict()
    .help()
    .version()
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });
  try {
    checkCommandName(argv);
    await parser.parseAsync();
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`${e.message}\n`);
      exitCode = USER_ERROR_EXIT_CODE;
    } else if (e instanceof UsageError) {
      process.stderr.write(`m3vit-gen: ${e.message}\nRun m3vit-gen --help for usage.\n`);
      exitCode = USER_ERROR_EXIT_CODE;
    } else {
      throw e;
    }
  }
  return exitCode;
}

class UsageError extends Error {}

/** Options that name one file or value: yargs makes an option given twice an array and an
 * option given without a value an empty string (which used to mean "the default" for --out,
 * silently replacing the config's output folder). */
const SINGLE_VALUED = ['config', 'out', 'weights', 'task', 'input', 'mode'];

function checkSingleValues(argv: Record<string, unknown>): void {
  for (const name of SINGLE_VALUED) {
    const v = argv[name];
    if (Array.isArray(v)) throw new UsageError(`--${name} given ${v.length} times (${v.map((x) => JSON.stringify(String(x))).join(', ')}); give it once`);
    if (v === '') throw new UsageError(`--${name} needs a value`);
  }
}

const GOLDEN_INPUT_HELP = 'image for the golden vectors (the csim input): PNG/JPEG (preprocessed as the config says) or a normalised .npy [C, H, W]; default a seeded image';

/** --weights and --input of the main job and `golden`; the input is checked now, before any long step. */
function applyGoldenOverrides(project: LoadedProject, args: { weights?: string; input?: string }): void {
  if (args.weights !== undefined) project.config.weightsFile = cliWeightsFile(args.weights);
  if (args.input !== undefined) {
    project.config.goldenInputFile = args.input;
    goldenImage(project);
  }
}

/** The subcommands; the main job is the default command (no name). */
export const COMMANDS = ['inspect', 'estimate', 'report', 'predict', 'golden', 'export-weights', 'quant-report', 'check-structure'];

/**
 * The default command takes no positional argument, so a first word that is not an option
 * is a subcommand: a mistyped one gets a suggestion instead of yargs' "Unknown argument".
 */
function checkCommandName(argv: string[]): void {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || COMMANDS.includes(first)) return;
  const guess = closest(first, COMMANDS);
  throw new UsageError(`unknown command "${first}"${guess ? `; did you mean "${guess}"?` : ''} (commands: ${COMMANDS.join(', ')}; without a command: the main job)`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
