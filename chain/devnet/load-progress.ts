import type { LoadProgress } from '../app.js';

/**
 * What a node prints while App.open loads a large state (a million accounts
 * take seconds): a line at most every `everyMs` once the load has run that
 * long, and a closing line if it ran that long at all. A small state loads
 * silently. `now` is injectable for tests.
 */
export function loadProgressPrinter(log: (line: string) => void, everyMs = 1000, now: () => number = () => performance.now()): (p: LoadProgress) => void {
  const t0 = now();
  let last = t0;
  return (p) => {
    const t = now();
    const secs = ((t - t0) / 1000).toFixed(1);
    if (p.done) {
      if (t - t0 >= everyMs) log(`loaded the state: ${p.entries.toLocaleString('en-US')} entries in ${secs} s, Merkle root equal to the committed app hash`);
      return;
    }
    if (t - last < everyMs) return;
    last = t;
    log(`loading the state… ${p.entries.toLocaleString('en-US')} entries (${secs} s)`);
  };
}
