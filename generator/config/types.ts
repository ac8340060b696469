/**
 * The board/build configuration after schema validation, with defaults filled in and
 * paths made absolute. Field meanings are documented once, in schema/m3vit-gen.schema.json.
 */

export type HpPort = 'HPC0' | 'HPC1' | 'HP0' | 'HP1' | 'HP2' | 'HP3';
export type Scheduler = 'expert-major' | 'token-major';
export type RandomInit = 'm3vit' | 'exercise';

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
  calibrationImages: number;
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
  /** Absolute path of a weights file, when given. */
  weightsFile?: string;
  /** What a weights file without some task's head gets instead (the CLI's --heads; not a config field). */
  missingHeads?: MissingHeads;
  seed: number;
  randomInit: RandomInit;
}

/** Heads for tasks a (backbone-only) weights file lacks: seeded random (the config's seed and randomInit) or another file's decoders.<task>.*. */
export type MissingHeads = { kind: 'random' } | { kind: 'file'; file: string };
