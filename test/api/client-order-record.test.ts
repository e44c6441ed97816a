/**
 * `client_order` over a real socket on a real App (client_id_retention_blocks = 3): while an order is open it
 * answers with the order; once it closed, from the chain's client-id record (market, side, the height the id
 * is free from) with the reason this node saw; once the record is released, from the node's memory, marked
 * `released`; and an id never used is `not_found`, saying it is free.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ApiServer, MempoolSubmitter } from '../../chain/api/index.js';
import { Mempool } from '../../chain/devnet/mempool.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { ApiRequestError, PerpchainClient } from '../../client/index.js';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { btc, cancelMsg, depositMsg, place, usd } from '../helpers/orders.js';

const keys = testKeys(3, 'cid-api');
const [authority, feeder, alice] = keys as [TestKey, TestKey, TestKey];

describe('client_order', () => {
  const closers: Array<() => unknown> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('answers from the order, then the chain record, then the node\'s memory of a released id', async () => {
    const appState = { ...marketsAppState(authority.address, [feeder.address]), clob: { params: { client_id_retention_blocks: '3' } } };
    const chain = TestChain.create({ keys, balance: 10_000_000_000_000n, appState });
    chain.block();
    const api = new ApiServer({ app: chain.app, submitter: new MempoolSubmitter(new Mempool(chain.app)), host: '127.0.0.1', port: 0, serveWeb: false });
    const { port } = await api.listen();
    closers.push(() => api.close());
    const c = await PerpchainClient.connect({ url: `ws://127.0.0.1:${port}` });
    closers.push(() => c.close());

    expectOk(chain.block([await chain.sign(alice, [depositMsg(alice.address, 100_000_000_000n)])]).txResults[0]!);
    expectOk(chain.block([await place(chain, alice, { clientId: 5, market: 0, side: 'sell', price: usd(66_000), size: btc(0.1) })]).txResults[0]!);
    const placedAt = Number(chain.app.height);
    const open = await c.clientOrder(alice.address, 0, 5);
    expect(open).toMatchObject({ open: true, market_id: 0, side: 'sell', placed_height: placedAt, order: { client_id: 5, side: 'sell' } });
    expect(open.release_height).toBeUndefined();

    expectOk(chain.block([await chain.sign(alice, [cancelMsg(alice.address, { clientId: 5 })])]).txResults[0]!);
    const closedAt = Number(chain.app.height);
    expect(await c.clientOrder(alice.address, 0, 5)).toEqual({
      order_id: open.order_id,
      placed_height: placedAt,
      open: false,
      market_id: 0,
      side: 'sell',
      release_height: closedAt + 3,
      closed_reason: 'user_cancel',
    });

    while (Number(chain.app.height) < closedAt + 3) chain.block();
    expect(await c.clientOrder(alice.address, 0, 5)).toEqual({ order_id: open.order_id, placed_height: placedAt, open: false, market_id: 0, side: 'sell', released: true, closed_reason: 'user_cancel' });

    const free = await c.clientOrder(alice.address, 0, 6).catch((e: unknown) => e);
    expect(free).toBeInstanceOf(ApiRequestError);
    expect((free as ApiRequestError).message).toMatch(/not_found: client id 6 of .* is free/);
  });
});
