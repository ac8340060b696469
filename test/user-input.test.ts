/**
 * Reading user files (issue 13): only regular files, with a size limit per kind; JSON
 * through one reader (UTF-8, nesting, duplicate keys, syntax without recursion). Inputs are
 * devices, FIFOs, symlinks and hand-written byte strings in temporary folders; expected
 * messages are written out from the inputs (byte offsets and lines counted by hand).
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig } from '../generator/config/load';
import { readNpy } from '../generator/io/npy';
import { parseJsonText } from '../generator/util/json';
import { readSafetensorsFile, parseSafetensors } from '../generator/weights/safetensors';
import { BIN, ensureBuilt, ROOT, zcu104Board } from './helpers/cli';
import { userErrorMessage } from './helpers/user-error';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm3vit-input-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A config with the required fields, as text with each field on its own line. */
function configText(): string {
  const c = { name: 'demo', model: 'models/demo.ts', board: zcu104Board(), clockMHz: 300, numerics: { weights: { bits: 16 }, activations: { bits: 16 } }, parallelism: { pe: 8, simd: 16 } };
  return JSON.stringify(c, null, 2);
}

describe('only regular files are read', () => {
  it('refuses /dev/zero as the config at once (it used to grow without end)', () => {
    const t0 = Date.now();
    expect(userErrorMessage(() => loadConfig('/dev/zero'))).toBe('/dev/zero: is a character device; expected a regular file (a JSON config file)');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('refuses a weights path that is a symlink to /dev/zero, naming the target', () => {
    const link = path.join(tmp, 'w.safetensors');
    fs.symlinkSync('/dev/zero', link);
    expect(userErrorMessage(() => readSafetensorsFile(link, 'w.safetensors'))).toBe(
      'w.safetensors: is a character device (a symbolic link to /dev/zero); expected a regular file (a .safetensors weights file)',
    );
  });

  it('refuses a FIFO as the config without waiting for a writer (CLI: exit 2, within seconds)', () => {
    ensureBuilt();
    const fifo = path.join(tmp, 'cfg.json');
    execFileSync('mkfifo', [fifo]);
    const r = spawnSync(process.execPath, [BIN, 'inspect', '--config', fifo], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.error).toBeUndefined(); // a timeout (the old blocking open) would be reported here
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`${fifo}: is a FIFO (named pipe); expected a regular file (a JSON config file)\n`);
  });

  it('refuses a folder as an .npy input', () => {
    expect(userErrorMessage(() => readNpy(tmp))).toBe(`${tmp}: is a folder; expected a .npy file`);
  });

  it('refuses a config over 4 MiB, stating the limit', () => {
    const file = path.join(tmp, 'big.json');
    fs.writeFileSync(file, configText().replace('{', `{${' '.repeat(5 * 2 ** 20)}`));
    expect(userErrorMessage(() => loadConfig(file))).toBe(`${file}: is 5.0 MiB; a JSON config file may be at most 4 MiB`);
  });
});

describe('JSON: one reader for every JSON input', () => {
  it('200,000 unclosed [ is one message, exit 2, no stack trace (CLI)', () => {
    ensureBuilt();
    const file = path.join(tmp, 'deep.json');
    fs.writeFileSync(file, '['.repeat(200_000));
    const r = spawnSync(process.execPath, [BIN, 'inspect', '--config', file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    // The 65th '[' is the first beyond 64 levels: column 65.
    expect(r.stderr).toBe(`${file}:1:65: invalid JSON: nested deeper than 64 arrays and objects\n`);
  });

  it('refuses a duplicate key, naming the key, its JSON path and both lines', () => {
    const text = configText().replace('"part":', '"name": "zcu104-other",\n    "part":');
    const file = path.join(tmp, 'dup.json');
    fs.writeFileSync(file, text);
    // Line 5 is the board's first "name", line 6 the repeated one (column 5 after 4 spaces).
    expect(text.split('\n')[5]).toBe('    "name": "zcu104-other",');
    expect(userErrorMessage(() => loadConfig(file))).toBe(
      `${file}:6:5: /board/name: duplicate key "name" (first written at line 5); each key may appear once in an object`,
    );
  });

  it('accepts the same key in different objects', () => {
    expect(parseJsonText('x.json', '{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 3}, {"k": 4}]}')).toEqual({ a: { k: 1 }, b: { k: 2 }, c: [{ k: 3 }, { k: 4 }] });
  });

  it('names the array index in the path of a duplicate key', () => {
    expect(userErrorMessage(() => parseJsonText('x.json', '{"c": [{"k": 3}, {"k": 4, "k": 5}]}'))).toBe(
      'x.json:1:27: /c/1/k: duplicate key "k" (first written at line 1); each key may appear once in an object',
    );
  });

  it('refuses a Latin-1 config, naming the line and byte offset', () => {
    const text = configText().replace('"name": "demo"', '"name": "caf\u00e9"');
    const file = path.join(tmp, 'latin1.json');
    fs.writeFileSync(file, Buffer.from(text, 'latin1'));
    // `{\n  "name": "caf` is 16 bytes: the é (0xE9) is byte offset 16, the 15th byte of line 2.
    expect(userErrorMessage(() => loadConfig(file))).toBe(
      `${file}:2: not UTF-8 text: byte 0xE9 at byte offset 16 (line 2, byte 15 of the line) is not valid UTF-8; save the file as UTF-8 (Latin-1 and other 8-bit encodings are not accepted)`,
    );
  });

  it('accepts UTF-8 text beyond ASCII', () => {
    expect(parseJsonText('x.json', '{"name": "café ✓ 𝄞"}')).toEqual({ name: 'café ✓ 𝄞' });
  });

  it('refuses a safetensors header with a duplicate tensor name', () => {
    const json = Buffer.from('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}');
    const bytes = Buffer.concat([Buffer.from([json.length, 0, 0, 0, 0, 0, 0, 0]), json, Buffer.alloc(4)]);
    expect(userErrorMessage(() => parseSafetensors(bytes, 'w.safetensors'))).toBe(
      'w.safetensors: corrupt header (not UTF-8 JSON): header:1:63: /a: duplicate key "a" (first written at line 1); each key may appear once in an object',
    );
  });
});
