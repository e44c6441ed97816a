/**
 * A retried placement after the node restarted: the node's memory of client ids starts empty, so
 * `client_order` answers from the chain's client-id record (market, side, placement height, release
 * height), and the Trader still tells its own retry (already placed, closed) from an id reused for another
 * side (a collision). Before the record kept market and side, the reuse was reported as already placed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { DevnetNode } from '../../chain/devnet/node.js';
import { PerpchainClient, Trader, TxError } from '../../client/index.js';
import { startTestNode, waitFor, type TestNode } from './node.js';

describe('Trader client ids across a node restart', () => {
  let t: TestNode;
  let node: DevnetNode | undefined;
  let c: PerpchainClient | undefined;
  let placed: { orderId: bigint; height: number };

  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 20, accounts: 2 });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks'); // genesis accounts are queryable once committed
    const c0 = await PerpchainClient.connect({ url: t.url });
    try {
      const tr = await Trader.create({ client: c0, signer: t.keys[1]! });
      await tr.deposit('10000');
      placed = await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60000', size: '0.001', clientId: 7 });
      await tr.cancelOrder({ clientId: 7 });
    } finally {
      c0.close();
    }
    await t.node.stop();
    node = await DevnetNode.start({ home: t.home, apiPort: 0, blockIntervalMs: 20, log: () => {} });
    c = await PerpchainClient.connect({ url: `ws://127.0.0.1:${node.apiAddress.port}` });
    await waitFor(() => node!.app.height > BigInt(placed.height) + 2n, 10_000, 'blocks after the restart');
  });

  afterAll(async () => {
    c?.close();
    await node?.stop();
    rmSync(t.home, { recursive: true, force: true });
  });

  it('client_order answers from the chain record: the closed order, its market and side, and when the id is free', async () => {
    const info = await c!.clientOrder(t.keys[1]!.address, 0, 7);
    expect(info).toMatchObject({ order_id: placed.orderId.toString(), open: false, market_id: 0, side: 'buy', placed_height: placed.height });
    expect(info.release_height).toBeGreaterThan(placed.height);
    expect(info.order).toBeUndefined();
  });

  it('a retry of the same placement is already placed; the id reused for the other side is a collision', async () => {
    const tr = await Trader.create({ client: c!, signer: t.keys[1]! });
    const again = await tr.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60000', size: '0.001', clientId: 7 });
    expect(again).toMatchObject({ alreadyPlaced: true, orderId: placed.orderId, status: 'closed', height: placed.height });
    const reused = await tr.placeOrder({ market: 'BTC-USD', side: 'sell', price: '70000', size: '0.001', clientId: 7 }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(TxError);
    expect((reused as TxError).message).toMatch(/holds order \d+: buy in market 0, not this sell in market 0/);
    // nothing was placed by either attempt
    expect((await c!.orders(t.keys[1]!.address, 0)).length).toBe(0);
  });
});
