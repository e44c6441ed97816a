/**
 * BackgroundMerger (chain/devnet/merger.ts): a Commit that lands just as a
 * run takes its last slice (after the slice said "nothing more", before the
 * run has finished) must still be merged: the run is marked to go again.
 * test/unit/merger.test.ts covers a Commit during a run that still has
 * slices to take, which the run picks up by itself.
 */
import { describe, expect, it } from 'vitest';
import { BackgroundMerger } from '../../chain/devnet/merger.js';

describe('BackgroundMerger: a Commit at the end of a run', () => {
  it('is merged by another run, not left in the log until the next block', async () => {
    let left = 1_000;
    let late = true;
    const app = {
      checkpointSlice(rows: number) {
        const n = Math.min(rows, left);
        left -= n;
        if (left === 0 && late) {
          late = false;
          // a block commits right after this last slice, while the run is still finishing (a microtask later)
          queueMicrotask(() => {
            left += 500;
            m.kick(); // m is set before the first slice runs
          });
        }
        return { rows: n, blocks: 0, more: left > 0 };
      },
    };
    const m = new BackgroundMerger(app, () => {}, 1_000);
    m.kick();
    await m.idle(); // waits for the follow-up run too
    expect(late).toBe(false); // the late Commit happened
    expect(left).toBe(0);
  });
});
