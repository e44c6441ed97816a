/**
 * The API feed diffs every market's book at every commit; a book whose engine did not change since the last
 * block is not read again (a deep, quiet book used to cost a full copy every block). Checked against the
 * engine's `version` (bumped by every call that may change the book) and, end to end, against the book
 * the feed then serves: it must still follow every change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderBookEngine } from '../../modules/clob/engine/index.js';
import { PerpchainClient, Trader } from '../../client/index.js';
import { startTestNode, type TestNode } from '../e2e/node.js';
import { Feed } from '../../chain/api/feed.js';

describe('OrderBookEngine.version', () => {
  it('changes on every call that may change the book, including a rollback, and not on a mark or a commit', () => {
    const e = new OrderBookEngine();
    const seen = [e.version];
    const changed = () => {
      expect(e.version).not.toBe(seen.at(-1));
      seen.push(e.version);
    };
    const same = () => expect(e.version).toBe(seen.at(-1));
    e.add({ id: 1, owner: 1, side: 'sell', price: 100, quantity: 5 });
    changed();
    const m = e.mark();
    same();
    e.reduce(1, 3);
    changed();
    e.rollback(m);
    changed();
    e.amend(1, { price: 101 });
    changed();
    e.match({ owner: 2, side: 'buy', limitPrice: 101, quantity: 1, stp: 'cancel_resting' });
    changed();
    e.commit();
    same();
    e.cancel(1);
    changed();
    e.levels('buy');
    e.forEachLevel('sell', () => undefined);
    same();
  });
});

/** Produce blocks until `p` settles (a tx submitted over the socket reaches the mempool a moment later). */
async function settle<T>(t: TestNode, p: Promise<T>): Promise<T> {
  let done = false;
  const out = p.finally(() => (done = true));
  while (!done) {
    await t.node.produce();
    await new Promise((r) => setTimeout(r, 10));
  }
  return out;
}

describe('the feed and a quiet book', () => {
  let t: TestNode;
  let client: PerpchainClient;
  let trader: Trader;
  let reads = 0;
  let inFeed = false;
  let restore = () => {};

  beforeAll(async () => {
    t = await startTestNode({ autoProduce: false, accounts: 2 });
    for (let i = 0; i < 2; i++) await t.node.produce();
    client = await PerpchainClient.connect({ url: t.url });
    trader = await Trader.create({ client, signer: t.keys[1]! });
    await settle(t, trader.deposit('10000'));
    // count the feed's reads of market 0's book (its engine is made when the market first sees an order); the
    // keeper's impact-price walk for funding reads it too, every block: only reads inside the feed count
    const proto = Feed.prototype as unknown as { readBook: (...a: unknown[]) => unknown };
    const readBook = proto.readBook;
    restore = () => (proto.readBook = readBook);
    proto.readBook = function (this: unknown, ...a: unknown[]) {
      inFeed = true;
      try {
        return readBook.apply(this, a);
      } finally {
        inFeed = false;
      }
    };
    const clob = t.node.app.keepers.clob;
    const engineOf = clob.engine.bind(clob);
    const counted = new WeakSet<object>();
    clob.engine = (id: number) => {
      const e = engineOf(id);
      if (e && id === 0 && !counted.has(e)) {
        counted.add(e);
        const forEachLevel = e.forEachLevel.bind(e);
        e.forEachLevel = (side, cb) => {
          if (inFeed) reads++;
          forEachLevel(side, cb);
        };
      }
      return e;
    };
  });

  afterAll(async () => {
    restore();
    client?.close();
    await t?.stop();
  });

  it('reads nothing in blocks that do not touch the book, and serves every change of blocks that do', async () => {
    reads = 0;
    for (let i = 0; i < 3; i++) await t.node.produce();
    expect(reads).toBe(0);
    const placed = await settle(t, trader.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60000', size: '0.001' }));
    expect(placed.status).toBe('resting');
    expect(reads).toBe(2); // bids and asks, once: in the block that placed it (the others did not touch the book)
    const book = await client.book('BTC-USD');
    expect(book.bids).toEqual([['6000000000', '10000000', 1]]);
    reads = 0;
    await t.node.produce();
    expect(reads).toBe(0);
    expect((await client.book('BTC-USD')).bids).toEqual([['6000000000', '10000000', 1]]);
    await settle(t, trader.cancelOrder({ orderId: placed.orderId }));
    expect(reads).toBe(2);
    expect((await client.book('BTC-USD')).bids).toEqual([]);
  });
});
