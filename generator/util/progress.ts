/**
 * Progress lines for long steps, on stderr (stdout carries the results). On a terminal a
 * step shows while it runs ("label ..." then " done (1.2 s)"); off a terminal (a pipe,
 * `tee`, a CI log) each step prints one whole line when it ends, with its own and the
 * total elapsed seconds, so a log shows where the time went and half-lines never
 * interleave. `--quiet` (quiet: true) prints nothing.
 */
export interface Progress {
  step(label: string): void;
  done(): void;
}

export interface ProgressOptions {
  /** Print nothing (the CLI's --quiet). */
  quiet?: boolean;
  /** Terminal-style output; default: whether stderr is a terminal. */
  tty?: boolean;
  /** Where lines go; default stderr. */
  write?: (s: string) => void;
  /** Milliseconds clock; default Date.now (tests pass a fake one). */
  now?: () => number;
}

/** For library calls that did not ask for progress (tests, the API). */
export const NO_PROGRESS: Progress = { step: () => undefined, done: () => undefined };

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

export function progress(opts: ProgressOptions = {}): Progress {
  if (opts.quiet) return NO_PROGRESS;
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const now = opts.now ?? Date.now;
  const t0 = now();
  let started = 0;
  let current = '';
  const finish = (): void => {
    if (!current) return;
    const t = now();
    if (tty) write(` done (${seconds(t - started)} s)\n`);
    else write(`m3vit-gen: ${current}: ${seconds(t - started)} s (${seconds(t - t0)} s in all)\n`);
    current = '';
  };
  return {
    step(label: string): void {
      finish();
      current = label;
      started = now();
      if (tty) write(`${label} ...`);
    },
    done: finish,
  };
}
