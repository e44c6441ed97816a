/**
 * The recheck after each Commit runs the messages' read-only prechecks too, not just the ante handler: a tx the
 * block would surely refuse now (here: a send that the sender's own earlier send, just committed, left no balance
 * for) leaves the mempool before it costs its sender a fee. CheckTx could not see it at entry: it does not apply
 * message effects, so both sends passed against the same balance.
 */
import { describe, expect, it } from 'vitest';
import { Mempool } from '../../chain/devnet/mempool.js';
import { txHash } from '../../chain/tx/decode.js';
import { TestChain } from '../helpers/chain.js';
import type { TestKey } from '../helpers/keys.js';

describe('devnet mempool: recheck runs the prechecks', () => {
  it('a send the committed block left no balance for is dropped at recheck (its waiter told why); one that still fits stays', async () => {
    const chain = TestChain.create({ accounts: 3, balance: 10_000_000n });
    chain.block();
    const [a, b, c] = chain.keys as [TestKey, TestKey, TestKey];
    const first = await chain.send(a, b.address, 6_000_000n); // sequence 0
    const second = await chain.send(a, c.address, 6_000_000n); // sequence 1: passes CheckTx against the same 10 USDC
    const small = await chain.send(b, c.address, 1_000n);
    const pool = new Mempool(chain.app, { maxTxs: 100, maxBytes: 1 << 20 });
    expect(pool.add(first).code).toBe(0);
    expect(pool.add(second).code).toBe(0);
    expect(pool.add(small).code).toBe(0);
    const heard: unknown[] = [];
    pool.onInclusion(txHash(second), (r) => heard.push(r));

    // a block holding only the first send (as if the proposer's block was full)
    const r = chain.block([first]);
    expect(r.txResults[0]!.code).toBe(0);
    pool.update(chain.app.height, [txHash(first)], r.txResults);

    expect(heard).toEqual([{ hash: txHash(second), dropped: expect.stringMatching(/^failed recheck: .*(insufficient|balance)/i) }]);
    expect(pool.reap(1 << 30, -1n)).toEqual([small]);
  });
});
