import { describe, expect, it } from 'vitest';
import { TestChain } from '../helpers/chain.js';

/**
 * Commit's retain_height tells CometBFT which blocks it may prune: every height below it. With retainBlocks = N
 * a node keeps exactly the last N blocks, so after committing height h it answers h − N + 1 (N = 3 at height
 * 10: keep 8, 9, 10), and 0 (prune nothing) while there are not yet more than N blocks.
 */
describe('Commit retain_height with retainBlocks = 3', () => {
  it('is 0 up to height 3, then height − 2: the last 3 blocks are kept', () => {
    const c = TestChain.create({ accounts: 1, retainBlocks: 3n });
    const retain: bigint[] = [];
    for (let h = 1n; h <= 5n; h++) {
      c.timeNs += 1_000_000_000n;
      c.app.finalizeBlock({ txs: [], height: h, timeNs: c.timeNs, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
      retain.push(c.app.commit().retainHeight);
    }
    expect(retain).toEqual([0n, 0n, 0n, 2n, 3n]);
  });

  it('is always 0 without retainBlocks (keep everything)', () => {
    const c = TestChain.create({ accounts: 1 });
    c.timeNs += 1_000_000_000n;
    c.app.finalizeBlock({ txs: [], height: 1n, timeNs: c.timeNs, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
    expect(c.app.commit().retainHeight).toBe(0n);
  });
});
