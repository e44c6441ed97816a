/**
 * The recheck after each Commit runs the messages' read-only prechecks too, not just the ante handler: a tx the
 * block would surely refuse now leaves the mempool before it costs its sender a fee. Here the sender's other
 * node got a different tx with the same sequence into the block (this node never saw it), spending the balance
 * a pending send here needs; that send's sequence is now the right one, so only the precheck catches it.
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
    const s0 = chain.nextSequence(a.address);
    const first = await chain.send(a, b.address, 1_000n, { sequence: s0 });
    const second = await chain.send(a, c.address, 6_000_000n, { sequence: s0 + 1n }); // fits the 10 USDC with `first`
    const elsewhere = await chain.send(a, b.address, 9_000_000n, { sequence: s0 }); // from the sender's other node
    const small = await chain.send(b, c.address, 1_000n);
    const pool = new Mempool(chain.app, { maxTxs: 100, maxBytes: 1 << 20 });
    expect(pool.add(first).code).toBe(0);
    expect(pool.add(second).code).toBe(0);
    expect(pool.add(small).code).toBe(0);
    const heard: unknown[] = [];
    pool.onInclusion(txHash(second), (r) => heard.push(r));

    // another proposer's block holds the other node's tx
    const r = chain.block([elsewhere]);
    expect(r.txResults[0]!.code).toBe(0);
    pool.update(chain.app.height, [txHash(elsewhere)], r.txResults);

    // `first` fails its recheck on the sequence; `second` has the right sequence now, and fails on the balance
    expect(heard).toEqual([{ hash: txHash(second), dropped: expect.stringMatching(/^failed recheck: .*(insufficient|balance)/i) }]);
    expect(pool.reap(1 << 30, -1n)).toEqual([small]);
  });
});
