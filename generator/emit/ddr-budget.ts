/**
 * Whether the buffers the host allocates in DDR fit `board.ddr.sizeMiB`: the weight image
 * and the scratch (activations that do not stay on chip, checkpoints). Checked as soon as
 * the weight layout is known, before the image is packed.
 */
import type { BuildConfig } from '../config/types';
import { displayPath } from '../project';
import { UserError } from '../util/errors';
import { formatBytes } from '../util/read-file';
import { LAYOUT } from './layout';
import { WORD_BYTES } from './weight-image';

export function checkDdrFits(config: BuildConfig, weightWords: number, scratchWords: number): void {
  const weights = weightWords * WORD_BYTES;
  const scratch = scratchWords * WORD_BYTES;
  const available = config.board.ddr.sizeMiB * 2 ** 20;
  if (weights + scratch <= available) return;
  throw new UserError(displayPath(config.configFile), [
    `/board/ddr/sizeMiB: ${config.board.ddr.sizeMiB} MiB of DDR cannot hold the weight image (${LAYOUT.weightImage}, ${formatBytes(weights)}) and the scratch (${formatBytes(scratch)}): together ${formatBytes(weights + scratch)}; give the board's real DDR size, or a smaller model`,
  ]);
}
