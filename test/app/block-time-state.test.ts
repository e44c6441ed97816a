import { describe, expect, it } from 'vitest';
import { LAST_BLOCK_TIME_KEY, lastBlockTimeSec } from '../../chain/block-time.js';
import { GENESIS_TIME_NS, TestChain } from '../helpers/chain.js';

/**
 * Every block writes its time into the state (LAST_BLOCK_TIME_KEY), under the app hash: CheckTx contexts take
 * their time from it, the prices queries judge staleness by it, and a restarted devnet node continues its
 * block times from it. A block that did not write it left all of them at the genesis time.
 */
describe('the latest block time in the state', () => {
  it('is each committed block\'s own time, not the genesis time', () => {
    const c = TestChain.create({ accounts: 1 });
    const stored = () => {
      const r = c.app.query({ path: `store/${LAST_BLOCK_TIME_KEY}`, data: new Uint8Array(), height: 0n, prove: false });
      expect(r.code, r.log).toBe(0);
      return BigInt(Buffer.from(r.value).toString());
    };
    c.block([], 1_000_000_000n);
    expect(c.timeNs).toBe(GENESIS_TIME_NS + 1_000_000_000n);
    expect(stored()).toBe(c.timeNs);
    c.block([], 90_000_000_000n); // a block 90 s later
    expect(stored()).toBe(GENESIS_TIME_NS + 91_000_000_000n);
    expect(lastBlockTimeSec(c.app.state)).toBe((GENESIS_TIME_NS + 91_000_000_000n) / 1_000_000_000n);
  });
});
