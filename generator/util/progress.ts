/**
 * Progress lines for long steps: shown on a terminal only, so CI logs and redirected
 * output stay quiet (stderr is checked, as that is where progress goes).
 */
export interface Progress {
  step(label: string): void;
  done(): void;
}

export function progress(enabled = Boolean(process.stderr.isTTY)): Progress {
  let started = 0;
  let current = '';
  const finish = (): void => {
    if (current) process.stderr.write(` done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    current = '';
  };
  return {
    step(label: string): void {
      if (!enabled) return;
      finish();
      current = label;
      started = Date.now();
      process.stderr.write(`${label} ...`);
    },
    done(): void {
      if (enabled) finish();
    },
  };
}
