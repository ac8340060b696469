/** Progress lines: terminal form, one-line-per-step form off a terminal, and --quiet. */
import { progress } from '../generator/util/progress';

function run(opts: { tty: boolean; quiet?: boolean }): string {
  let out = '';
  let t = 1000;
  const p = progress({ ...opts, write: (s) => (out += s), now: () => t });
  p.step('weights');
  t += 1500;
  p.step('calibrating');
  t += 250;
  p.done();
  p.done(); // a second done prints nothing more
  return out;
}

describe('progress', () => {
  it('on a terminal shows the step while it runs and its time when it ends', () => {
    expect(run({ tty: true })).toBe('weights ... done (1.5 s)\ncalibrating ... done (0.3 s)\n');
  });

  it('off a terminal prints one whole line per step, with the step and the total seconds', () => {
    expect(run({ tty: false })).toBe('m3vit-gen: weights: 1.5 s (1.5 s in all)\nm3vit-gen: calibrating: 0.3 s (1.8 s in all)\n');
  });

  it('quiet prints nothing, on a terminal or not', () => {
    expect(run({ tty: true, quiet: true })).toBe('');
    expect(run({ tty: false, quiet: true })).toBe('');
  });
});
