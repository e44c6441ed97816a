/**
 * `client_order` for a client-id record written before records kept market, side and placement height (a
 * home from an earlier perpchain), mutation round: the answer takes them from the open order (also on a node
 * started after the placement), else from what this node saw of the order, else leaves them out (never
 * market 0 / an undefined side); a closed record's release height and the reason this node saw are kept.
 * The old record is simulated by stripping the three fields from the chain's answer to `clob/client_id/...`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ApiServer, MempoolSubmitter } from '../../chain/api/index.js';
import { Mempool } from '../../chain/devnet/mempool.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { PerpchainClient } from '../../client/index.js';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { cancelMsg, depositMsg, place } from '../helpers/orders.js';

const keys = testKeys(3, 'cid-old-record');
const [authority, feeder, alice] = keys as [TestKey, TestKey, TestKey];

/** The App answers `clob/client_id/...` as a record from before market, side and height were kept. */
function oldRecords(chain: TestChain): void {
  const app = chain.app;
  const query = app.query.bind(app);
  app.query = (req) => {
    const r = query(req);
    if (!req.path.startsWith('clob/client_id/') || r.code !== 0) return r;
    const { market_id: _m, side: _s, placed_height: _h, ...old } = JSON.parse(Buffer.from(r.value).toString('utf8')) as Record<string, unknown>;
    return { ...r, value: Buffer.from(JSON.stringify(old)) };
  };
}

describe('client_order on a record from before market and side were kept', () => {
  const closers: Array<() => unknown> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });
  const serve = async (chain: TestChain) => {
    const api = new ApiServer({ app: chain.app, submitter: new MempoolSubmitter(new Mempool(chain.app)), host: '127.0.0.1', port: 0, serveWeb: false });
    const { port } = await api.listen();
    closers.push(() => api.close());
    const c = await PerpchainClient.connect({ url: `ws://127.0.0.1:${port}` });
    closers.push(() => c.close());
    return c;
  };

  it('takes them from the open order, then from this node\'s memory, else leaves them out', async () => {
    const appState = { ...marketsAppState(authority.address, [feeder.address]), clob: { params: { client_id_retention_blocks: '20' } } };
    const chain = TestChain.create({ keys, balance: 10_000_000_000_000n, appState });
    chain.block();
    oldRecords(chain);
    const c = await serve(chain);
    expectOk(chain.block([await chain.sign(alice, [depositMsg(alice.address, 100_000_000_000n)])]).txResults[0]!);
    expectOk(chain.block([await place(chain, alice, { clientId: 5, market: 1, side: 'buy', price: 290_000_000n, size: 1_000_000_000n })]).txResults[0]!);
    const placedAt = Number(chain.app.height);
    chain.block();
    chain.block();
    expect(chain.queryJson(`clob/client_id/${alice.address}/0/5`)).not.toHaveProperty('side'); // (the simulation works)

    const open = await c.clientOrder(alice.address, 0, 5);
    expect(open).toMatchObject({ open: true, market_id: 1, side: 'buy', placed_height: placedAt, order: { client_id: 5 } });
    // a node started after the placement has no memory of it: all three come from the open order
    const late = await serve(chain);
    expect(await late.clientOrder(alice.address, 0, 5)).toMatchObject({ open: true, market_id: 1, side: 'buy', placed_height: placedAt, order: { client_id: 5 } });

    expectOk(chain.block([await chain.sign(alice, [cancelMsg(alice.address, { clientId: 5 })])]).txResults[0]!);
    const closedAt = Number(chain.app.height);
    expect(await c.clientOrder(alice.address, 0, 5)).toEqual({
      order_id: open.order_id,
      placed_height: placedAt,
      open: false,
      market_id: 1,
      side: 'buy',
      release_height: closedAt + 20,
      closed_reason: 'user_cancel',
    });

    // a node started after the order closed has neither the order nor a memory of it
    const fresh = await serve(chain);
    expect(await fresh.clientOrder(alice.address, 0, 5)).toEqual({ order_id: open.order_id, placed_height: 0, open: false, release_height: closedAt + 20 });
  });
});
