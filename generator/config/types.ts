/**
 * The board/build configuration after schema validation, with defaults filled in and
 * paths made absolute. Field meanings are documented once, in schema/m3vit-gen.schema.json.
 */

export type HpPort = 'HPC0' | 'HPC1' | 'HP0' | 'HP1' | 'HP2' | 'HP3';
export type Scheduler = 'expert-major' | 'token-major';
export type RandomInit = 'm3vit' | 'exercise';
export type ActivationPlacement = 'auto' | 'onchip' | 'ddr';

export interface BoardResources {
  LUT: number;
  FF: number;
  DSP: number;
  BRAM_18K: number;
  URAM: number;
}

export type ResourceClass = keyof BoardResources;
export const RESOURCE_CLASSES: ResourceClass[] = ['LUT', 'FF', 'DSP', 'BRAM_18K', 'URAM'];

export interface BoardConfig {
  name: string;
  part: string;
  boardPart: string;
  resources: BoardResources;
  ddr: { bandwidthGBps: number; sizeMiB: number };
  hpPorts: HpPort[];
  hpPortWidthBits: 32 | 64 | 128;
  powerW: number;
}

export interface NumericsConfig {
  weightBits: number;
  biasBits: number;
  activationBits: number;
  accumulatorBits: number;
  headroomBits: number;
  /** Seeded random images to calibrate on when `calibrationData` is absent. */
  calibrationImages: number;
  /** Absolute paths of calibration files and folders (config order), when given. */
  calibrationData?: string[];
  /** Absent: "max". */
  calibrationStatistic?: CalibrationStatistic;
}

/** What an activation format must hold: the largest |x| seen, or a percentile of |x|. */
export type CalibrationStatistic = { kind: 'max' } | { kind: 'percentile'; percent: number };

/** How a PNG/JPEG image becomes the model input (schema: "preprocess"). */
export interface PreprocessConfig {
  resize: 'refuse' | 'bilinear';
  normalize: 'imagenet' | 'none' | 'mean-std';
  /** Per channel; for "imagenet" and "none" filled in with the values they stand for. */
  mean: number[];
  std: number[];
}

export interface BuildConfig {
  /** Absolute path of the config file (for messages). */
  configFile: string;
  name: string;
  /** Absolute path of the model description. */
  modelFile: string;
  /** Absolute output folder. */
  outDir: string;
  board: BoardConfig;
  clockMHz: number;
  numerics: NumericsConfig;
  parallelism: { pe: number; simd: number };
  /** Tasks to build; undefined means all tasks of the model. */
  tasks?: string[];
  moe: { scheduler: Scheduler; expertCacheSlots: number };
  /** Where the backbone activations live (schema: "activations"); tokenTile and queryTile
   * only when given. Absent (configs built in code): auto. */
  activations?: { placement: ActivationPlacement; tokenTile?: number; queryTile?: number };
  /** Absolute path of a weights file, when given. */
  weightsFile?: string;
  preprocess: PreprocessConfig;
  /** The image the golden vectors are computed from (--input, as given: relative to the working folder); absent: a seeded image. */
  goldenInputFile?: string;
  /** What a weights file without some task's head gets instead (the CLI's --heads; not a config field). */
  missingHeads?: MissingHeads;
  seed: number;
  randomInit: RandomInit;
}

/** Heads for tasks a (backbone-only) weights file lacks: seeded random (the config's seed and randomInit) or another file's decoders.<task>.*. */
export type MissingHeads = { kind: 'random' } | { kind: 'file'; file: string };
