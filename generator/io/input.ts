/**
 * Model inputs from files: a normalised .npy [C, H, W] (or [1, C, H, W]) taken as it is, or a
 * PNG/JPEG image preprocessed as the config says. The kind is told by the file's first
 * bytes. Also the calibration set: the files and folders the config lists.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { PreprocessConfig } from '../config/types';
import { UserError } from '../util/errors';
import { decodeImage, imageFormatOf } from './image';
import { parseNpy } from './npy';
import { preprocessImage, type InputDims, type InputTensor } from './preprocess';

function readBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(file, [code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, expected an image (.png, .jpg) or a .npy file' : `cannot read: ${(e as Error).message}`]);
  }
}

/** A normalised image [C, H, W] (or [1, C, H, W]) of finite float32/float64 values. */
function npyInput(bytes: Uint8Array, dims: InputDims, file: string): InputTensor {
  const a = parseNpy(bytes, file);
  const { inChannels: C, imageH: H, imageW: W } = dims;
  if (a.dtype !== 'float32' && a.dtype !== 'float64') {
    throw new UserError(file, [`dtype ${a.dtype}: the input must be a normalised image of float32 or float64 values, shape [${C}, ${H}, ${W}]`]);
  }
  const shape = a.shape.length === 4 && a.shape[0] === 1 ? a.shape.slice(1) : a.shape;
  if (shape.length !== 3 || shape[0] !== C || shape[1] !== H || shape[2] !== W) {
    throw new UserError(file, [`shape (${a.shape.join(', ')}) does not match the model ${dims.name}: expected [${C}, ${H}, ${W}] (channels, height, width) or [1, ${C}, ${H}, ${W}]`]);
  }
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i])) throw new UserError(file, [`element ${i} is ${a.data[i]}; the input must be finite`]);
  }
  return { shape, data: a.data };
}

/** The model input a file holds: .npy as it is, PNG/JPEG preprocessed. */
export function readModelInput(file: string, dims: InputDims, prep: PreprocessConfig): InputTensor {
  const bytes = readBytes(file);
  if (imageFormatOf(bytes)) return preprocessImage(decodeImage(bytes, file), dims, prep, file);
  return npyInput(bytes, dims, file);
}

/** File endings a calibration folder contributes. */
export const CALIBRATION_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.npy'];

/**
 * The calibration files of the config's `numerics.calibration.data`: each entry a file, or a
 * folder whose image and .npy files count in name order (so the set, and the formats
 * chosen from it, do not depend on the file system's listing order).
 */
export function calibrationFiles(entries: string[], configFile: string): Array<{ file: string; field: string }> {
  const files: Array<{ file: string; field: string }> = [];
  entries.forEach((entry, i) => {
    const field = `/numerics/calibration/data/${i}`;
    const shown = path.relative(path.dirname(configFile), entry) || '.';
    if (!fs.existsSync(entry)) throw new UserError(configFile, [`${field}: ${shown} not found (a file or a folder, relative to the config)`]);
    if (!fs.statSync(entry).isDirectory()) {
      files.push({ file: entry, field });
      return;
    }
    const inFolder = fs
      .readdirSync(entry)
      .filter((n) => CALIBRATION_EXTENSIONS.includes(path.extname(n).toLowerCase()))
      .sort()
      .map((n) => path.join(entry, n))
      .filter((f) => fs.statSync(f).isFile());
    if (inFolder.length === 0) throw new UserError(configFile, [`${field}: the folder ${shown} has no ${CALIBRATION_EXTENSIONS.join(', ')} files`]);
    files.push(...inFolder.map((file) => ({ file, field })));
  });
  return files;
}
