/**
 * Devnet mode's tx path: MempoolSubmitter hands submissions that arrive in
 * the same event-loop turn to the mempool as one batch (signatures verified
 * on worker threads first). Every submission must get exactly the answer a
 * one-by-one CheckTx gives, in arrival order: a sender's consecutive
 * sequences within and across batches, duplicates, bad signatures.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MempoolSubmitter, type MempoolLike, type SubmitResult } from '../../chain/api/index.js';
import { VerifyPool } from '../../chain/crypto/verify-pool.js';
import { Mempool } from '../../chain/devnet/mempool.js';
import { TestChain } from '../helpers/chain.js';
import { signatureOf, withSignature } from '../helpers/rawtx.js';

const pool = new VerifyPool(2);
afterAll(() => pool.close());

describe('MempoolSubmitter (devnet mode)', () => {
  it('batches a burst, and answers each submission as one-by-one CheckTx would, in arrival order', async () => {
    const chain = TestChain.create({ accounts: 30, balance: 10_000_000n, verifyPool: pool });
    chain.block();
    const [a, b] = chain.keys as [typeof chain.keys[0], typeof chain.keys[0]];
    // a burst in one turn: 29 senders × 4 consecutive sequences (150+ txs: past the pool's threshold)
    const txs: Uint8Array[] = [];
    for (let s = 0; s < 4; s++) for (const k of chain.keys.slice(1)) txs.push(await chain.send(k, a!.address, 10n + BigInt(s)));
    const bad = Uint8Array.from(signatureOf(txs[0]!));
    bad[9] = bad[9]! ^ 1;
    const burst = [...txs, txs[3]!, withSignature(txs[5]!, bad)];
    // the answers one-by-one CheckTx gives, on a twin chain
    const twin = TestChain.create({ accounts: 30, balance: 10_000_000n });
    twin.block();
    const expected = burst.map((t) => twin.app.checkTx({ tx: t, type: 'new' })).map((r) => [r.codespace, r.code]);
    expect(expected.filter(([, c]) => c !== 0).length).toBe(2); // the duplicate is only refused by the mempool

    const mempool = new Mempool(chain.app);
    let batches = 0;
    const counting: MempoolLike = {
      get size() {
        return mempool.size;
      },
      add: (t) => mempool.add(t),
      addBatch: (t) => {
        batches++;
        return mempool.addBatch(t);
      },
      onInclusion: (h, l) => mempool.onInclusion(h, l),
    };
    const sub = new MempoolSubmitter(counting);
    const answers = await Promise.all(burst.map((t) => sub.submit(t)));
    expect(batches).toBe(1);
    expect(answers.map((r) => [r.codespace, r.code])).toEqual(expected.map(([cs, c], i) => (i === burst.length - 2 ? ['tx', 26] : [cs, c])));
    expect(mempool.size).toBe(txs.length);
    expect(sub.pending(answers[0]!.hash)).toBe(true);

    // a second burst from the same sender continues its sequence after the first batch
    const next = [await chain.send(b!, a!.address, 1n), await chain.send(b!, a!.address, 2n)];
    const more = await Promise.all(next.map((t) => sub.submit(t)));
    expect(more.map((r) => r.code)).toEqual([0, 0]);
    expect(batches).toBe(2);
  });

  it('falls back to one-by-one add when the mempool has no addBatch, and passes a failing batch on as rejections', async () => {
    const seen: string[] = [];
    const plain: MempoolLike = {
      size: 0,
      add: (t): SubmitResult => {
        seen.push(Buffer.from(t).toString());
        return { hash: Buffer.from(t).toString(), code: 0, codespace: '', log: '', gasWanted: 0n, gasUsed: 0n, events: [] };
      },
      onInclusion: () => {},
    };
    const s = new MempoolSubmitter(plain);
    await Promise.all(['x', 'y'].map((v) => s.submit(Buffer.from(v))));
    expect(seen).toEqual(['x', 'y']);

    const broken = new MempoolSubmitter({ ...plain, addBatch: () => Promise.reject(new Error('disk full')) });
    await expect(Promise.all([broken.submit(Buffer.from('p')), broken.submit(Buffer.from('q'))])).rejects.toThrow('disk full');
    // and the submitter keeps working for the next batch
    const ok = new MempoolSubmitter({ ...plain, addBatch: async (t) => t.map((x) => plain.add(x)) });
    expect((await ok.submit(Buffer.from('r'))).code).toBe(0);
  });
});
