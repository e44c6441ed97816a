import { describe, expect, it } from 'vitest';
import { BackgroundMerger } from '../../chain/devnet/merger.js';

/** A stand-in store: `left` rows to merge; each slice takes up to `rows` of them. */
function fakeApp(left: number) {
  const calls: number[] = [];
  const app = {
    left,
    fail: false,
    checkpointSlice(rows: number) {
      if (app.fail) throw new Error('disk full');
      const n = Math.min(rows, app.left);
      app.left -= n;
      calls.push(n);
      return { rows: n, blocks: 0, more: app.left > 0 };
    },
  };
  return { app, calls };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('BackgroundMerger (the node merges the change log in slices between other work)', () => {
  it('takes one slice per event-loop turn until nothing is left, letting other work run in between', async () => {
    const { app, calls } = fakeApp(10_000);
    const m = new BackgroundMerger(app, () => {}, 2_000);
    const between: number[] = [];
    m.kick();
    for (let i = 0; i < 8; i++) {
      await turn();
      between.push(calls.length);
    }
    await m.idle();
    expect(calls).toEqual([2_000, 2_000, 2_000, 2_000, 2_000]);
    // other callbacks ran while the merge was under way (it did not take all five slices in one turn)
    expect(between.some((n) => n > 0 && n < 5)).toBe(true);
  });

  it('a Commit during a run is merged by it; one after the run ends starts another', async () => {
    const { app, calls } = fakeApp(3_000);
    const m = new BackgroundMerger(app, () => {}, 1_000);
    m.kick();
    await turn();
    app.left += 1_500; // a block committed meanwhile
    m.kick();
    await m.idle();
    expect(app.left).toBe(0);
    app.left = 500;
    m.kick();
    await m.idle();
    expect(app.left).toBe(0);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(5_000);
  });

  it('a failing slice is logged and retried at the next kick; after stop() nothing runs', async () => {
    const { app } = fakeApp(4_000);
    const lines: string[] = [];
    const m = new BackgroundMerger(app, (l) => lines.push(l), 1_000);
    app.fail = true;
    m.kick();
    await m.idle();
    expect(lines).toEqual(['checkpoint failed (the log keeps the data; retried after the next block): disk full']);
    app.fail = false;
    m.kick();
    await turn();
    await m.stop(); // stops after the slice under way, before the store closes
    const left = app.left;
    expect(left).toBeGreaterThan(0);
    m.kick();
    await turn();
    await turn();
    expect(app.left).toBe(left);
  });
});
