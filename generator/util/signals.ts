/**
 * The write phase of a run is short and synchronous; a Ctrl-C in it used to kill the
 * process between two renames, stranding a hidden temporary folder. While `fn` runs,
 * SIGINT, SIGTERM and SIGHUP are held (Node delivers them to these listeners only once the
 * synchronous code has finished), then the process exits as interrupted: the folder is
 * either fully written or as it was. The long computation before it stays interruptible,
 * as the listeners are removed again afterwards.
 */
const HELD = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type HeldSignal = (typeof HELD)[number];
const EXIT_CODES: Record<HeldSignal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

const listeners = new Map<HeldSignal, () => void>(
  HELD.map((sig) => [
    sig,
    (): void => {
      process.stderr.write(`m3vit-gen: ${sig} received; stopping now that the write phase has finished (the output folder is either fully written or as it was)\n`);
      process.exit(EXIT_CODES[sig]);
    },
  ]),
);
let holders = 0;
let installed = false;

export function withSignalsHeld<T>(fn: () => T): T {
  if (!installed) {
    for (const [sig, l] of listeners) process.on(sig, l);
    installed = true;
  }
  holders++;
  try {
    return fn();
  } finally {
    holders--;
    // Removed on the next turn of the event loop, after a signal that arrived during `fn`
    // has been delivered to them (removing them now would drop it).
    setImmediate(() => {
      if (holders > 0 || !installed) return;
      for (const [sig, l] of listeners) process.removeListener(sig, l);
      installed = false;
    });
  }
}
