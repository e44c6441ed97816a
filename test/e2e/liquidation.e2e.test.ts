/**
 * Liquidations reach the feed: an over-leveraged long is liquidated after an
 * oracle drop, and the account channels of both sides (the liquidated owner,
 * and the ADL counterparty named as counterparty_owner) and the risk channel
 * report it — the generic "any attribute equal to the address" rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Long from 'long';
import { PerpchainClient, Trader, type ChannelMessage, type AccountUpdateData, type RiskJson } from '../../client/index.js';
import { startTestNode, waitFor, type TestNode } from './node.js';

describe('liquidation events on the feed', () => {
  let t: TestNode;
  let c: PerpchainClient;

  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 25 });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks');
    c = await PerpchainClient.connect({ url: t.url });
  });

  afterAll(async () => {
    c?.close();
    await t?.stop();
  });

  it('reports liquidation.* events to the liquidated account, to its ADL counterparty and in the risk figures', async () => {
    const long = await Trader.create({ client: c, signer: t.keys[1]! });
    const short = await Trader.create({ client: c, signer: t.keys[2]! });
    const feeder = await Trader.create({ client: c, signer: t.feeder });
    await Promise.all([long.deposit('1000'), short.deposit('100000')]);

    const seen = { long: [] as ChannelMessage<AccountUpdateData>[], short: [] as ChannelMessage<AccountUpdateData>[], risk: [] as ChannelMessage<RiskJson>[] };
    await c.subscribe<AccountUpdateData>(`account:${long.address}`, (m) => seen.long.push(m));
    await c.subscribe<AccountUpdateData>(`account:${short.address}`, (m) => seen.short.push(m));
    await c.subscribe<RiskJson>('risk', (m) => seen.risk.push(m));

    // ~19.5x long against a resting short; nothing else on the book
    await short.placeOrder({ market: 'BTC-USD', side: 'sell', price: '65000', size: '0.3' });
    const fill = await long.placeOrder({ market: 'BTC-USD', side: 'buy', price: '65000', size: '0.3', timeInForce: 'ioc' });
    expect(fill.filled).toBe(3_000_000_000n);

    // the oracle drops 10% in one block: the long is insolvent and the book has no bids,
    // so it is deleveraged against the profitable short at its bankruptcy price
    await feeder.execute([{ typeUrl: '/perpchain.prices.v1.MsgUpdatePrices', value: { feeder: t.feeder.address, prices: [{ marketId: 0, price: Long.fromString('5850000000', true) }] } }], 100_000n);

    const liqEvents = (ms: ChannelMessage<AccountUpdateData>[]) => ms.filter((m) => m.type === 'update').flatMap((m) => m.data.liquidations);
    await waitFor(() => liqEvents(seen.long).length > 0, 10_000, 'liquidation events on the long account');
    const types = liqEvents(seen.long).map((e) => e.type);
    expect(types.every((x) => x.startsWith('liquidation.'))).toBe(true);
    expect(liqEvents(seen.long).some((e) => e.attributes.owner === long.address)).toBe(true);

    // with no bids on the book the position is deleveraged against the profitable short
    await waitFor(() => seen.risk.some((m) => m.data.liquidations_total > 0), 5_000, 'risk figures');
    const last = seen.risk.at(-1)!.data;
    expect(Object.keys(last.liquidation_events).length).toBeGreaterThan(0);
    expect(Object.keys(last.liquidation_events).every((k) => k.startsWith('liquidation.'))).toBe(true);
    expect(types).toContain('liquidation.adl');
    await waitFor(() => liqEvents(seen.short).some((e) => e.type === 'liquidation.adl' && e.attributes.counterparty_owner === short.address), 5_000, 'ADL on the counterparty account');
    await waitFor(() => (seen.risk.at(-1)?.data.adl_total ?? 0) > 0, 5_000, 'ADL count');
    // the long's margin figures came with the update
    const withSubs = seen.long.filter((m) => m.type === 'update' && m.data.liquidations.length > 0).at(-1)!;
    expect(withSubs.data.subaccounts?.length).toBeGreaterThan(0);
  });
});
