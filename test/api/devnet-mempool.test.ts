/**
 * The devnet mempool's own rules (chain/devnet/mempool.ts), on a real App with
 * signed bank sends: the count and byte limits at their exact edges (and that
 * a refused or included tx gives its room back), FIFO reaping that stops at
 * the first tx over the gas budget instead of skipping it (which would put a
 * sender's later sequence in a block without the earlier one), and what
 * happens after a commit: included txs leave and their waiters hear the
 * result, the rest are rechecked and the ones that no longer pass are dropped.
 * test/api/mempool-submitter.test.ts covers batching and duplicates.
 */
import { describe, expect, it } from 'vitest';
import { Mempool } from '../../chain/devnet/mempool.js';
import { txHash } from '../../chain/tx/decode.js';
import { TestChain } from '../helpers/chain.js';
import type { TestKey } from '../helpers/keys.js';

/** A fresh chain at height 1 with four funded keys a, b, c, d. */
function setup() {
  const chain = TestChain.create({ accounts: 4, balance: 10_000_000n });
  chain.block();
  const [a, b, c, d] = chain.keys as [TestKey, TestKey, TestKey, TestKey];
  return { chain, a, b, c, d };
}

/** One block holding `txs` (not taken from the mempool: as if another proposer built it), then the mempool's update. */
function commitBlock(chain: TestChain, mempool: Mempool, txs: Uint8Array[]) {
  const r = chain.block(txs);
  mempool.update(chain.app.height, txs.map(txHash), r.txResults);
  return r;
}

describe('devnet mempool: admission limits', () => {
  it('holds at most max_txs: the last slot is usable, the next tx is refused with mempool_full', async () => {
    const { chain, a, b } = setup();
    const pool = new Mempool(chain.app, { maxTxs: 2, maxBytes: 1 << 30 });
    expect(pool.add(await chain.send(a, b.address, 1n)).code).toBe(0);
    expect(pool.add(await chain.send(a, b.address, 2n)).code).toBe(0);
    const r = pool.add(await chain.send(a, b.address, 3n));
    expect([r.codespace, r.code]).toEqual(['tx', 25]);
    expect(pool.size).toBe(2);
  });

  it('holds at most max_bytes: txs that fill it exactly are accepted, one byte more is refused', async () => {
    const { chain, a, b, c } = setup();
    const t1 = await chain.send(a, c.address, 1n);
    const t2 = await chain.send(b, c.address, 1n);
    const t3 = await chain.send(c, a.address, 1n);
    const pool = new Mempool(chain.app, { maxTxs: 100, maxBytes: t1.length + t2.length });
    expect(pool.add(t1).code).toBe(0);
    expect(pool.add(t2).code).toBe(0);
    expect(pool.add(t3).code).toBe(25);
  });

  it('a tx CheckTx refuses is not held and takes no room', async () => {
    const { chain, a, b } = setup();
    const pool = new Mempool(chain.app, { maxTxs: 1, maxBytes: 1 << 30 });
    const wrongSeq = await chain.send(a, b.address, 1n, { sequence: 5n });
    const r = pool.add(wrongSeq);
    expect([r.codespace, r.code]).toEqual(['tx', 12]);
    expect(pool.size).toBe(0);
    expect(pool.add(await chain.send(a, b.address, 1n)).code).toBe(0);
  });
});

describe('devnet mempool: reaping', () => {
  it('reaps in arrival order up to max bytes inclusive', async () => {
    const { chain, a, b } = setup();
    const pool = new Mempool(chain.app);
    const t = [await chain.send(a, b.address, 1n), await chain.send(a, b.address, 2n), await chain.send(a, b.address, 3n)];
    for (const x of t) expect(pool.add(x).code).toBe(0);
    expect(pool.reap(t[0]!.length + t[1]!.length, -1n)).toEqual([t[0], t[1]]);
    expect(pool.reap(t[0]!.length + t[1]!.length - 1, -1n)).toEqual([t[0]]);
  });

  it('stops at the first tx over the gas budget: a smaller later tx of the same sender is not taken without it', async () => {
    const { chain, a, b, c } = setup();
    const pool = new Mempool(chain.app);
    const a0 = await chain.send(a, c.address, 1n, { gas: 200_000n });
    const b0 = await chain.send(b, c.address, 1n, { gas: 300_000n });
    const b1 = await chain.send(b, c.address, 1n, { gas: 100_000n }); // b's next sequence: needs b0 first
    for (const x of [a0, b0, b1]) expect(pool.add(x).code).toBe(0);
    expect(pool.reap(1 << 30, 450_000n)).toEqual([a0]);
    expect(pool.reap(1 << 30, 600_000n)).toEqual([a0, b0, b1]);
    // max_gas -1 (or 0): no gas budget
    expect(pool.reap(1 << 30, -1n)).toEqual([a0, b0, b1]);
  });
});

describe('devnet mempool: after a commit', () => {
  it('an included tx leaves the mempool, its waiter gets the height and result, and its bytes are free again', async () => {
    const { chain, a, b, c, d } = setup();
    const A = await chain.send(a, d.address, 1n);
    const B = await chain.send(b, d.address, 1n);
    const pool = new Mempool(chain.app, { maxTxs: 100, maxBytes: A.length + B.length });
    expect(pool.add(A).code).toBe(0);
    expect(pool.add(B).code).toBe(0);
    const heard: unknown[] = [];
    pool.onInclusion(txHash(A), (r) => heard.push(r));
    commitBlock(chain, pool, [A]);
    expect(heard).toEqual([{ hash: txHash(A), height: 2n, result: expect.objectContaining({ code: 0 }) }]);
    expect(pool.size).toBe(1);
    expect(pool.reap(1 << 30, -1n)).toEqual([B]);
    // room for exactly one more tx of that size: A's bytes were given back once, not twice
    const C = await chain.send(c, d.address, 1n);
    const D = await chain.send(d, c.address, 1n);
    expect([C.length, D.length]).toEqual([A.length, A.length]);
    expect(pool.add(C).code).toBe(0);
    expect(pool.add(D).code).toBe(25);
  });

  it('a tx whose sequence another tx took in the block fails the recheck: dropped, its waiter told, its bytes freed', async () => {
    const { chain, a, b, c, d } = setup();
    const A = await chain.send(a, d.address, 1n);
    const B = await chain.send(b, d.address, 1n);
    const pool = new Mempool(chain.app, { maxTxs: 100, maxBytes: A.length + B.length });
    expect(pool.add(A).code).toBe(0);
    expect(pool.add(B).code).toBe(0);
    const heard: unknown[] = [];
    pool.onInclusion(txHash(B), (r) => heard.push(r));
    // b's sequence 0 is used by a different tx (another amount) in the block
    const Bprime = await chain.send(b, d.address, 2n, { sequence: 0n });
    commitBlock(chain, pool, [Bprime]);
    expect(heard).toEqual([{ hash: txHash(B), dropped: expect.stringMatching(/^failed recheck: .*sequence/) }]);
    expect(pool.size).toBe(1);
    expect(pool.reap(1 << 30, -1n)).toEqual([A]);
    const C = await chain.send(c, d.address, 1n);
    const D = await chain.send(d, c.address, 1n);
    expect(pool.add(C).code).toBe(0);
    expect(pool.add(D).code).toBe(25);
  });
});
