import { describe, expect, it } from 'vitest';
import { TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { btc, depositMsg, place, usd } from '../helpers/orders.js';

/** The book is decided by the block: separate nodes fed the same blocks hold the same book and app hash. */
describe('the book is the same on every node', () => {
  it('two Apps fed the same blocks of orders end with identical books and hashes; a different tx order gives a different book', async () => {
    const keys = testKeys(6, 'det');
    const [auth, feeder, a, b, c2, d] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey, TestKey];
    const mk = () => TestChain.create({ keys, balance: 10_000_000_000_000n, appState: marketsAppState(auth.address, [feeder.address]) });
    const x = mk();
    const y = mk();
    const z = mk();
    const blocks: Uint8Array[][] = [[]];
    blocks.push(await Promise.all([a, b, c2, d].map((k) => x.sign(k, [depositMsg(k.address, 50_000_000_000n)]))));
    let cid = 1;
    for (let i = 0; i < 12; i++) {
      const txs: Uint8Array[] = [];
      for (const k of [a, b, c2, d]) {
        const side = (i + cid) % 2 === 0 ? 'buy' : 'sell';
        txs.push(await place(x, k, { clientId: cid++, side, price: usd(65_000 + ((cid * 37) % 11) - 5), size: btc(0.01 * (1 + (cid % 5))) }));
      }
      blocks.push(txs);
    }
    for (const txs of blocks) {
      x.block(txs);
      y.block(txs);
      z.block([...txs].reverse());
    }
    expect(y.queryJson('clob/book/0/100')).toEqual(x.queryJson('clob/book/0/100'));
    expect(Buffer.from(y.app.appHash).toString('hex')).toBe(Buffer.from(x.app.appHash).toString('hex'));
    expect(Buffer.from(z.app.appHash).toString('hex')).not.toBe(Buffer.from(x.app.appHash).toString('hex'));
    expect(x.app.runInvariants()).toEqual([]);
  });
});
