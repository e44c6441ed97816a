/**
 * Crash recovery with real processes and SIGKILL (lib/crash.ts): a node
 * process executing a fixed file of traffic blocks on a sqlite home is killed
 *
 *   - inside FinalizeBlock (all txs of the block executed, end-block running),
 *   - inside Commit (mid sqlite transaction: state rows written, height and
 *     app hash not yet),
 *   - after Commit, before the next block,
 *   - inside the checkpoint after Commit (the logged change set being merged
 *     into the kv table, mid sqlite transaction),
 *   - at random moments while it runs blocks back to back,
 *
 * and after each kill the store must open at the implied committed height
 * with the reference app hash, hold every committed block's txs unchanged in
 * its block log, and the next process must re-execute the uncommitted block
 * to the same hash. The long version (hundreds of kills) is
 * scripts/reliability/crash.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrashHarness, prepareBlocks, type KillPoint } from './lib/crash.js';
import { Rng } from '../helpers/rng.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-rel-crash-'));
let harness: CrashHarness | undefined;
afterAll(async () => {
  await harness?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('crash recovery: SIGKILL a node process at every kind of point, restart, compare with a reference', () => {
  it('mid-FinalizeBlock, mid-Commit, between Commit and the next block, and at random: nothing committed is lost, nothing uncommitted survives', async () => {
    const ref = prepareBlocks(tmp, 36, 11, 8);
    harness = new CrashHarness(ref, join(tmp, 'node.db'), new Rng(2026));
    const plan: KillPoint[] = ['finalize', 'commit', 'after', 'checkpoint', 'random', 'commit'];
    for (const point of plan) {
      const r = await harness.cycle(point, 3);
      expect(r.problems, `${point} at ${r.atHeight} (last line "${r.lastLine}")`).toEqual([]);
    }
    expect(await harness.finish()).toEqual([]);
    expect(harness.kills).toBe(plan.length);
    // the targeted kills landed where they were meant to
    for (const r of harness.results.filter((x) => x.point !== 'random')) expect(r.lastLine).toBe(`at ${r.point} ${r.atHeight}`);
    // a block finalized by a killed process (mid-Commit kills) was re-executed to the same hash
    expect(harness.reexecuted).toBeGreaterThanOrEqual(2);
  });
});
