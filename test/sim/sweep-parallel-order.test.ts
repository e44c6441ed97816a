/**
 * runSweepParallel (--jobs N): the grid points finish in whatever order the
 * worker threads get through them, but the rows, the numbered directories and
 * the progress line must still describe the grid. Tiny scenario, 3 points on
 * 2 workers per test (a few seconds, mostly worker start-up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSweepParallel } from '../../sim/sweep.js';
import { tinyConfig } from './tiny.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-sweep-par-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('parallel sweep', () => {
  it('keeps grid order when a later point finishes first', async () => {
    // point 1 runs the whole series (120 scenario blocks), points 2 and 3 only 2 blocks each: on two workers,
    // point 2 (and usually 3) finishes before point 1
    const axes = { blocks: [0, 2, 3] };
    const finishedOrder: number[] = [];
    const r = await runSweepParallel(tinyConfig(), axes, { jobs: 2, outDir: join(tmp, 'order'), onRunDone: (i) => finishedOrder.push(i) });
    expect(r.rows.map((row) => row.values)).toEqual([{ blocks: 0 }, { blocks: 2 }, { blocks: 3 }]);
    expect(r.rows.map((row) => row.summary.blocks.scenario)).toEqual([120, 2, 3]);
    expect(r.rows.map((row) => basename(row.dir))).toEqual(['01-blocks=0', '02-blocks=2', '03-blocks=3']);
    // every point reported done exactly once (in whatever order the workers finished them)
    expect([...finishedOrder].sort()).toEqual([0, 1, 2]);
  });

  it('reports progress over the whole grid: every line counts all 3 runs, names the running points, never goes back', async () => {
    const axes = { seed: [3, 4, 5] }; // equal lengths: each run's total is the same
    const seen: Array<{ block: number; total: number; label: string; doneSoFar: number[] }> = [];
    const done: number[] = [];
    const r = await runSweepParallel(tinyConfig(), axes, {
      jobs: 2,
      outDir: join(tmp, 'progress'),
      onProgress: (p, label) => seen.push({ block: p.block, total: p.total, label, doneSoFar: [...done] }),
      onRunDone: (i) => done.push(i),
    });
    const perRun = r.rows[0]!.summary.blocks.total;
    expect(r.rows.map((row) => row.summary.blocks.total)).toEqual([perRun, perRun, perRun]);
    expect(seen.length).toBeGreaterThan(3);
    for (const [k, s] of seen.entries()) {
      // the grid's blocks from the first report on, not only those of the runs started so far
      expect(s.total).toBe(3 * perRun);
      const m = /^\[(\d+)\/3 done, running ([\d,]*)\] $/.exec(s.label);
      expect(m, s.label).not.toBeNull();
      // "n/3 done" is the runs finished so far
      expect(Number(m![1])).toBe(s.doneSoFar.length);
      // a report comes from a running point, and a finished point is not "running"
      const running = m![2]!.split(',').filter(Boolean).map(Number);
      expect(running.length).toBeGreaterThan(0);
      for (const i of s.doneSoFar) expect(running).not.toContain(i + 1);
      if (k > 0) expect(s.block).toBeGreaterThanOrEqual(seen[k - 1]!.block);
    }
    expect(seen.at(-1)!.block).toBe(3 * perRun);
    // the numbered directories follow the grid, whichever worker ran the point
    expect(r.rows.map((row) => basename(row.dir))).toEqual(['01-seed=3', '02-seed=4', '03-seed=5']);
  });

  it("a point that fails in its worker rejects the sweep with the point's label and the run's own error", async () => {
    // the config validates, but the run finds that the 2-minute price window has only 120 blocks
    await expect(runSweepParallel(tinyConfig(), { blocks: [2, 100_000] }, { jobs: 2, outDir: join(tmp, 'fail') })).rejects.toThrow(
      /^sweep point 2 \(blocks=100000\): blocks 100000 is more than the price series gives/,
    );
  });
});
