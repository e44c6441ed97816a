import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { btc, depositMsg, eventsOf, place, placeResponses, pricesMsg, usd } from '../helpers/orders.js';
import { marketToProto } from '../../modules/perpetuals/index.js';

/**
 * Two rules a trader relies on when not watching: a market order without a price is bounded by
 * oracle ± market_order_slippage_ppm (5%) taken outward to the tick grid (a buy rounds up, a sell down: the
 * bound never lands inside the slippage the trader accepted); and a stop whose trigger the oracle reaches
 * while its market is halted is cancelled, never executed. Devnet BTC-USD (tick $1).
 */
const keys = testKeys(5, 'clob-bound-halt');
const [authority, feeder, alice, bob] = keys as [TestKey, TestKey, TestKey, TestKey];

async function setup(): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: marketsAppState(authority.address, [feeder.address]) });
  c.block();
  c.block([await c.sign(alice, [depositMsg(alice.address, 100_000_000_000n)]), await c.sign(bob, [depositMsg(bob.address, 100_000_000_000n)])]).txResults.forEach(expectOk);
  return c;
}
async function oracle(c: TestChain, price: bigint) {
  const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, price]])])]);
  r.txResults.forEach(expectOk);
  return r;
}

describe('market order bound', () => {
  it('oracle $65,100.50 ± 5% is $68,355.525 / $61,845.475: a market buy reaches the $68,356 ask, a market sell the $61,845 bid, and no further', async () => {
    const c = await setup();
    await oracle(c, usd(65_100) + 50_000n); // $65,100.50, between ticks (a move of more than min_change_ppm)
    c.block([
      await place(c, bob, { clientId: 1, side: 'sell', price: usd(68_356), size: btc(0.01) }),
      await place(c, bob, { clientId: 2, side: 'sell', price: usd(68_357), size: btc(0.01) }),
      await place(c, bob, { clientId: 3, side: 'buy', price: usd(61_845), size: btc(0.01) }),
      await place(c, bob, { clientId: 4, side: 'buy', price: usd(61_844), size: btc(0.01) }),
    ]).txResults.forEach(expectOk);
    const buy = c.block([await place(c, alice, { clientId: 1, side: 'buy', type: 'market', size: btc(0.02) })]).txResults[0]!;
    expect(eventsOf(buy, 'clob.fill').map((f) => f.price)).toEqual([usd(68_356).toString()]);
    expect(placeResponses(buy)[0]).toMatchObject({ filled: btc(0.01), reason: 'market_order_unfilled_rest' });
    const sell = c.block([await place(c, alice, { clientId: 2, side: 'sell', type: 'market', size: btc(0.03) })]).txResults[0]!;
    expect(eventsOf(sell, 'clob.fill').map((f) => f.price)).toEqual([usd(61_845).toString()]);
  });
});

describe('conditional orders in a halted market', () => {
  it('a stop reached while its market is halted is cancelled (trigger_failed: market_halted) and takes nothing', async () => {
    const c = await setup();
    expectOk(c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(66_100), size: btc(1) })]).txResults[0]!);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', type: 'stop_market', size: btc(0.1), trigger: usd(66_000) })]).txResults[0]!);
    const m = c.app.keepers.perpetuals.market(c.app.state, 0)!;
    const halt = { typeUrl: '/perpchain.perpetuals.v1.MsgUpdateMarket', value: { authority: authority.address, market: marketToProto({ ...m, status: 'halted' }) } };
    expectOk(c.block([await c.sign(authority, [halt])]).txResults[0]!);
    const r = await oracle(c, usd(66_050));
    expect(eventsOf(r, 'clob.order_cancelled').map((e) => [e.owner, e.reason])).toEqual([[alice.address, 'trigger_failed: market_halted']]);
    expect(eventsOf(r, 'clob.fill')).toEqual([]);
    expect(c.queryJson(`subaccounts/subaccount/${alice.address}/0`).positions).toEqual([]);
    expect(c.queryJson(`clob/orders/${alice.address}/0`)).toEqual([]);
  });
});
