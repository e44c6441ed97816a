import { describe, expect, it, vi } from 'vitest';
import type { TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { btc, eventsOf, place, pricesMsg, usd } from '../helpers/orders.js';
import { deposit, ETH, eth, INSURANCE, liquidationChain, trade } from '../helpers/liquidation.js';

/**
 * Edges of auto-deleveraging (modules/liquidation/README.md §2.7) at exactly
 * NC = 0: a fill at the bankruptcy price may leave the counterparty at NC = 0
 * (solvent, so it goes ahead), and a holder already at NC = 0 is not a
 * counterparty (it is being liquidated itself), not even at the oracle.
 * Fees zero, BTC and ETH IMF 5% / MMF 3%, empty insurance fund and no bids,
 * so every liquidation goes straight to ADL.
 */
const keys = testKeys(8, 'adle');
const [authority, feeder, alice, erin, dave, carol, frank] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey, TestKey, TestKey];
function chain(liquidation: Record<string, unknown> = {}, fund = 0n) {
  const c = liquidationChain(keys, { authority, feeder, fund, liquidation });
  expect(BigInt(c.balance(INSURANCE))).toBe(fund);
  return c;
}
const sub = (c: TestChain, k: TestKey, n = 0) => c.queryJson(`subaccounts/subaccount/${k.address}/${n}`) as { collateral: string; net_collateral: string; liquidatable: boolean; positions: Array<{ market_id: number; size: string }> };
/** BTC to $40,000 and ETH to `ethPrice` in one block. */
const crash = async (c: TestChain, ethPrice: number) => c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(40_000)], [1, ETH(ethPrice)]])])]);

/**
 * Longs of 0.2 BTC bought at $65,000 with $1,000 each: at $40,000 each has
 * NC = 1,000 − 0.2·25,000 = −$4,000, MMR $240, bankruptcy price
 * 40,000·(1 + 4,000·0.03/240) = $60,000.
 * Dave, the only short, is short 0.2 BTC per long and long 20 ETH bought at
 * $3,000, with $10,000 deposited: at BTC $40,000 and ETH E his
 * NC = 10,000 + 25,000·(BTC short) − 20·(3,000 − E). Each 0.2 BTC
 * deleveraged at $60,000 costs him 0.2·(60,000 − 40,000) = $4,000 against
 * the mark; E is chosen so that he has exactly that before the fill.
 */
async function setup(longs: TestKey[]) {
  const c = chain();
  for (const k of longs) await deposit(c, k, 1_000);
  await deposit(c, dave, 10_000);
  await deposit(c, carol, 1_000_000);
  let cid = 1;
  for (const k of longs) await trade(c, dave, k, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, cid++);
  await trade(c, carol, dave, { price: ETH(3_000), size: eth(20), market: 1, makerSide: 'sell' } as never, cid++);
  return c;
}

describe('ADL at exactly NC = 0', () => {
  it('a fill at the bankruptcy price that leaves the counterparty at exactly NC = 0 goes ahead (solvent), not at the oracle', async () => {
    const c = await setup([alice]);
    // dave: 10,000 + 0.2·25,000 − 20·550 = $4,000, exactly what the fill at $60,000 costs him
    const r = await crash(c, 2_450);
    const adl = eventsOf(r, 'liquidation.adl');
    expect(adl.map((e) => [e.owner, e.counterparty_owner, e.size, e.price, e.at_oracle])).toEqual([[alice.address, dave.address, btc(0.2).toString(), usd(60_000).toString(), 'false']]);
    expect(sub(c, dave).net_collateral).toBe('0'); // exactly at the edge: not insolvent
    expect(eventsOf(r, 'liquidation.bad_debt')).toEqual([]);
    expect(sub(c, alice).positions).toEqual([]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('a holder left at exactly NC = 0 earlier in the block is no counterparty for the next account, not even at the oracle', async () => {
    // The ranking is made once per block, at the first ADL, while dave is solvent; alice (first by key or ratio:
    // both longs are identical) is deleveraged against 0.2 of his 0.4 short at $60,000, which leaves him at exactly
    // NC = 0 (10,000 + 0.4·25,000 − 20·800 = $4,000 before). The second long then finds him in the shared ranking
    // at NC = 0: he is skipped at the bankruptcy price and at the oracle alike, so it waits (no ADL, no bad debt).
    const c = await setup([alice, erin]);
    const r = await crash(c, 2_200);
    const adl = eventsOf(r, 'liquidation.adl');
    expect(adl).toHaveLength(1);
    expect(adl[0]).toMatchObject({ counterparty_owner: dave.address, size: btc(0.2).toString(), price: usd(60_000).toString(), at_oracle: 'false' });
    const first = adl[0]!.owner;
    const second = first === alice.address ? erin : alice;
    expect(sub(c, dave).net_collateral).toBe('0');
    expect(sub(c, dave).positions.find((p) => p.market_id === 0)?.size).toBe((-btc(0.2)).toString());
    expect(sub(c, second).positions.find((p) => p.market_id === 0)?.size).toBe(btc(0.2).toString()); // untouched this block
    expect(eventsOf(r, 'liquidation.bad_debt')).toEqual([]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('an opposite holder already at exactly NC = 0 when the ranking is made is left out of it (its leverage is undefined)', async () => {
    // frank: short 0.1 BTC (sold to carol at $65,000) and long 20 ETH at $3,000 with $8,500: at the crash
    // NC = 8,500 + 0.1·25,000 − 20·550 = 0 exactly. Leverage = notional / NC has no value for him; he must not
    // enter the ranking (nor stop it), and alice goes to dave as in the first case.
    const c = await setup([alice]);
    await deposit(c, frank, 8_500);
    await trade(c, frank, carol, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 20);
    await trade(c, carol, frank, { price: ETH(3_000), size: eth(20), market: 1, makerSide: 'sell' } as never, 21);
    const r = await crash(c, 2_450);
    expect(sub(c, frank).net_collateral).toBe('0');
    expect(eventsOf(r, 'liquidation.adl')).toMatchObject([{ owner: alice.address, counterparty_owner: dave.address, price: usd(60_000).toString(), at_oracle: 'false' }]);
    expect(c.app.runInvariants()).toEqual([]);
  });
});

describe('ADL ranking ties and the per-block attempt bound', () => {
  it('two counterparties with the same score and PnL go by key (owner/number), the lower first', async () => {
    // dave and frank: the same $10,000 and the same 0.1 BTC short at $65,000, so the same PnL × leverage at any
    // price. alice (long 0.1 with $500: NC −$2,000 at $40,000, bankruptcy $60,000) is deleveraged against one of them.
    const c = chain();
    await deposit(c, alice, 500);
    for (const k of [dave, frank]) await deposit(c, k, 10_000);
    await deposit(c, carol, 1_000_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 1);
    await trade(c, frank, carol, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 2);
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(40_000)]])])]);
    const [lower] = [dave, frank].map((k) => k.address).sort((a, b) => (`${a}/0` < `${b}/0` ? -1 : 1));
    expect(eventsOf(r, 'liquidation.adl')).toMatchObject([{ owner: alice.address, counterparty_owner: lower, size: btc(0.1).toString(), price: usd(60_000).toString() }]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('attempts that do nothing stop at 4 × max_liquidations_per_block: the account behind them is carried', async () => {
    // Four longs of 0.2 BTC at $65,000 with $900 (erin/0–3: NC $100 at $61,000, bankruptcy $60,500) come before
    // alice ($1,000: NC $200, bankruptcy $60,000) in liquidation order. The only bid, $60,000, is below their
    // bankruptcy price and they are solvent (no ADL): each attempt does nothing and uses no cap, but with cap 1
    // the block stops after 4 attempts, and alice, whom the bid could take, waits for the next block.
    const c = chain({ max_liquidations_per_block: 1 });
    await deposit(c, alice, 1_000);
    await deposit(c, carol, 100_000);
    let cid = 1;
    for (const n of [0, 1, 2, 3]) {
      await deposit(c, dave, 25_000, n); // the maker trades from the same subaccount number as the taker
      await deposit(c, erin, 900, n);
      await trade(c, dave, erin, { number: n, price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, cid++);
    }
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, cid++);
    c.block([await place(c, carol, { clientId: 99, side: 'buy', price: usd(60_000), size: btc(1) })]);
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(61_000)]])])]);
    expect(eventsOf(r, 'liquidation.liquidated')).toEqual([]);
    expect(eventsOf(r, 'liquidation.carried')).toMatchObject([{ count: '1', cap: '1' }]);
    expect(c.queryJson('liquidation/liquidatable').carried).toEqual([`${alice.address}/0`]);
    expect(sub(c, alice).positions).toHaveLength(1);
  });
});

describe('ADL price rounding', () => {
  it('a bankruptcy price off the price grid is rounded in the liquidated account\'s favour (a sell: up)', async () => {
    // alice: long 0.3 BTC at $65,000 with $1,000; at $40,000 NC = 1,000 − 0.3·25,000 = −$6,500, so the
    // bankruptcy price is 40,000 + 6,500/0.3 = $61,666.666…: 6,166,666,666.67 price units (10^-5 USD), rounded
    // up to …667 so that her sale covers at least her bankruptcy quote. frank (short 0.3, $100,000) bears it.
    const c = chain();
    await deposit(c, alice, 1_000);
    await deposit(c, frank, 100_000);
    await trade(c, frank, alice, { price: usd(65_000), size: btc(0.3), makerSide: 'sell' }, 1);
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(40_000)]])])]);
    expect(eventsOf(r, 'liquidation.adl')).toMatchObject([{ owner: alice.address, counterparty_owner: frank.address, size: btc(0.3).toString(), price: '6166666667', at_oracle: 'false' }]);
    expect(BigInt(sub(c, alice).collateral)).toBeGreaterThanOrEqual(0n); // nothing left to write off
    expect(eventsOf(r, 'liquidation.bad_debt')).toEqual([]);
    expect(c.app.runInvariants()).toEqual([]);
  });
});

describe('max_adl_fills_per_block', () => {
  it('caps the ADL fills of a block; the rest of the portion is deleveraged in the next block', async () => {
    // alice: long 0.2 BTC with $1,000, bought 0.1 from dave and 0.1 from frank; at $40,000 NC −$4,000, bankruptcy
    // $60,000, no fund, no bids. Closing her takes two ADL fills (one per short of 0.1); the cap allows one a block.
    const c = chain({ max_adl_fills_per_block: 1 });
    await deposit(c, alice, 1_000);
    for (const k of [dave, frank]) await deposit(c, k, 10_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 1);
    await trade(c, frank, alice, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 2);
    const r1 = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(40_000)]])])]);
    expect(eventsOf(r1, 'liquidation.adl')).toMatchObject([{ owner: alice.address, size: btc(0.1).toString(), price: usd(60_000).toString() }]);
    expect(sub(c, alice).positions).toMatchObject([{ market_id: 0, size: btc(0.1).toString() }]);
    const r2 = c.block();
    expect(eventsOf(r2, 'liquidation.adl')).toMatchObject([{ owner: alice.address, size: btc(0.1).toString(), price: usd(60_000).toString() }]);
    expect(sub(c, alice).positions).toEqual([]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('once the block\'s ADL fills are spent, a later account does not rank its market at all (wasted work)', async () => {
    // alice (long BTC) and erin (long ETH) both go to ADL in the crash block; with a cap of one fill, alice's
    // (ordered first: the lower ratio) uses it, and erin's market is not ranked in that block.
    const c = chain({ max_adl_fills_per_block: 1 });
    await deposit(c, alice, 900);
    await deposit(c, erin, 1_000);
    for (const k of [dave, frank]) await deposit(c, k, 100_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    await trade(c, frank, erin, { price: ETH(3_000), size: eth(5), market: 1, makerSide: 'sell' } as never, 2);
    const rank = vi.spyOn(c.app.keepers.liquidation, 'rankCounterparties');
    // alice: NC 900 − 0.2·25,000 = −$4,100; erin: 1,000 − 5·1,000 = −$4,000 (ratios −17.1 and −13.3 of MMR)
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(40_000)], [1, ETH(2_000)]])])]);
    expect(eventsOf(r, 'liquidation.adl').map((e) => e.owner)).toEqual([alice.address]);
    expect(rank.mock.calls.map((a) => a[1])).toEqual([0]);
  });
});

describe('max_adl_candidates', () => {
  it('bounds the counterparties considered at the bankruptcy price, a skipped one included; the rest closes at the oracle', async () => {
    // alice: long 0.1 BTC with $500, NC −$2,000 at $40,000, bankruptcy $60,000: each 0.1 at $60,000 costs its
    // counterparty $2,000 against the mark. dave (short 0.1 BTC, long 10 ETH from $3,000 with $8,000: at ETH $2,100
    // NC = 8,000 + 2,500 − 9,000 = $1,500, leverage 25,000/1,500) ranks first and cannot bear it; frank (short 0.1
    // with $100,000) could. With max_adl_candidates = 1 dave's skip ends the walk at the bankruptcy price, and
    // alice closes against dave at the oracle ($40,000), her $2,000 deficit written off (empty fund: bad debt).
    const c = chain({ max_adl_candidates: 1 });
    await deposit(c, alice, 500);
    await deposit(c, dave, 8_000);
    await deposit(c, frank, 100_000);
    await deposit(c, carol, 1_000_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 1);
    await trade(c, frank, carol, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 2);
    await trade(c, carol, dave, { price: ETH(3_000), size: eth(10), market: 1, makerSide: 'sell' } as never, 3);
    const r = await crash(c, 2_100);
    expect(sub(c, dave).liquidatable).toBe(false);
    expect(eventsOf(r, 'liquidation.adl')).toMatchObject([{ owner: alice.address, counterparty_owner: dave.address, size: btc(0.1).toString(), price: usd(40_000).toString(), at_oracle: 'true' }]);
    expect(eventsOf(r, 'liquidation.bad_debt')).toMatchObject([{ owner: alice.address, amount: '2000000000' }]);
    expect(c.app.runInvariants()).toEqual([]);
  });
});

describe('insurance fund draws', () => {
  it('a fund holding exactly the shortfall of a partial fill pays it all: the book takes that much, ADL the rest', async () => {
    // README scenario 4 with the fund at exactly $99.99: alice (long 0.2 BTC, NC −$200 at $59,000, bankruptcy
    // $60,000) sells into a bid at $58,500, $1,500/BTC short of bankruptcy; 0.06666 BTC costs the fund
    // 0.06666 · 1,500 = $99.99 to the uusdc, so exactly that fills and dave takes the remaining 0.13334 by ADL.
    const c = chain({}, 99_990_000n);
    await deposit(c, alice, 1_000);
    await deposit(c, dave, 10_000);
    await deposit(c, carol, 100_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(58_500), size: btc(0.2) })]);
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(59_000)]])])]);
    expect(eventsOf(r, 'liquidation.liquidated')).toMatchObject([{ size: btc(0.06666).toString(), insurance_paid: '99990000', insurance_delta: '-99990000' }]);
    expect(eventsOf(r, 'liquidation.adl')).toMatchObject([{ counterparty_owner: dave.address, size: btc(0.13334).toString(), price: usd(60_000).toString() }]);
    expect(BigInt(c.balance(INSURANCE))).toBe(0n);
    expect(c.app.runInvariants()).toEqual([]);
  });
});

describe('prorated bankruptcy quote of a partial fill (rounded down: the fund pays no more than owed)', () => {
  // alice: long 0.3 BTC at $65,000 with $1,000; at $40,000 NC −$6,500, bankruptcy quote of the whole 0.3
  // $18,500 (price $61,666.67). A bid takes 0.1 at $39,000: its share of the quote, 18,500,000,000 / 3 =
  // 6,166,666,666.67 uusdc, counts as …666, so the fund pays 6,166,666,666 − 3,900,000,000 = 2,266,666,666.
  async function partial(fund: bigint) {
    const c = chain({}, fund);
    await deposit(c, alice, 1_000);
    await deposit(c, dave, 100_000);
    await deposit(c, carol, 100_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.3), makerSide: 'sell' }, 1);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(39_000), size: btc(0.1) })]);
    return { c, r: c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(40_000)]])])]) };
  }

  it('the payout for the filled share is the floor of its prorated quote minus what it received', async () => {
    const { c, r } = await partial(10_000_000_000n);
    expect(eventsOf(r, 'liquidation.liquidated')).toMatchObject([{ size: btc(0.1).toString(), portion: btc(0.3).toString(), insurance_paid: '2266666666' }]);
    expect(BigInt(c.balance(INSURANCE))).toBe(10_000_000_000n - 2_266_666_666n);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('a fund holding exactly that payout lets the whole fill through (the limiter prorates the same way)', async () => {
    const { c, r } = await partial(2_266_666_666n);
    expect(eventsOf(r, 'liquidation.liquidated')).toMatchObject([{ size: btc(0.1).toString(), insurance_paid: '2266666666' }]);
    expect(BigInt(c.balance(INSURANCE))).toBe(0n);
    expect(c.app.runInvariants()).toEqual([]);
  });
});

describe('ADL at the oracle: the write-off of each slice', () => {
  it('writes off the floor of each slice\'s share, the last uusdc at the end: exactly the deficit in all, the account left at 0', async () => {
    // alice: long 0.3 BTC at $65,000 with $1,000; at $40,000 NC −$6,500, bankruptcy quote $18,500 ($61,666.67).
    // Neither short can bear that price (it costs $21,666.67/BTC against the mark): dave (short 0.1, NC $1,500)
    // and frank (short 0.2, NC $4,000), both also long 10 ETH bought at $3,000 now $2,100. Both slices close at
    // the oracle; their shares of the quote, 18,500,000,000·{1,2}/3, are fractional, and the empty fund leaves
    // all to bad debt: in total exactly 18,500 − 0.3·40,000 = $6,500, not a uusdc more.
    const c = chain();
    await deposit(c, alice, 1_000);
    await deposit(c, dave, 8_000);
    await deposit(c, frank, 8_000);
    await deposit(c, carol, 1_000_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 1);
    await trade(c, frank, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 2);
    await trade(c, carol, dave, { price: ETH(3_000), size: eth(10), market: 1, makerSide: 'sell' } as never, 3);
    await trade(c, carol, frank, { price: ETH(3_000), size: eth(10), market: 1, makerSide: 'sell' } as never, 4);
    const r = await crash(c, 2_100);
    expect(eventsOf(r, 'liquidation.adl').map((e) => e.at_oracle)).toEqual(['true', 'true']);
    const bad = eventsOf(r, 'liquidation.bad_debt').reduce((t, e) => t + BigInt(e.amount!), 0n);
    expect(bad).toBe(6_500_000_000n);
    expect(sub(c, alice)).toMatchObject({ collateral: '0', positions: [] });
    expect(c.app.runInvariants()).toEqual([]);
  });
});
