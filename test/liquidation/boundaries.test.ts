import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { btc, eventsOf, place, pricesMsg, usd } from '../helpers/orders.js';
import { deposit, liquidationChain } from '../helpers/liquidation.js';

/**
 * Liquidation boundaries a mutation review could move unnoticed.
 *
 * 1. The size of the portion closed in a block when 20% of the position is worth less than
 *    min_liquidation_notional (README step 3: at least the minimum notional's worth, rounded down to the step).
 *
 * 2. Which position closes first when two carry exactly the same MMR (README step 2: ties by lower market id).
 *
 * 3. The liquidation fee's cap, ⌈liquidation_fee_ppm · quote / 10⁶⌉, rounded up (README step 6).
 *
 * 4. The liquidation order's limit at net collateral exactly 0. The README (modules/liquidation, step 5): the
 * IOC's limit is the fillable price, bounded by the bankruptcy price only "while the account still has
 * equity (NC > 0)". At NC = 0 the bankruptcy price IS the oracle price, so bounding there would refuse every
 * bid below the oracle and leave a bankrupt account open (no ADL either: that needs NC < 0). Trading fees 0,
 * BTC-USD MMF 3%, spread 1.5 × MMF, tick $1, insurance fund $1,000.
 */
const keys = testKeys(5, 'liq-boundaries');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];
async function setup(minLiquidationNotional = '100000000000'): Promise<TestChain> {
  // default here $100,000: whole positions; the oracle may jump to $60,000 in one report
  const c = liquidationChain(keys, { authority, feeder, fund: 1_000_000_000n, liquidation: { min_liquidation_notional: minLiquidationNotional } });
  for (const [k, dollars] of [[alice, 1_000], [bob, 100_000], [carol, 100_000]] as const) await deposit(c, k, dollars);
  return c;
}

describe('portion closed per block', () => {
  it('20% of the position is below min_liquidation_notional: the portion is $10,000 worth at the oracle, rounded down to the step', async () => {
    const c = await setup('10000000000'); // $10,000 (the default)
    // alice: $1,000, long 0.3 BTC at $65,000 (notional $19,500, IMR $975)
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.3) })]).txResults.forEach(expectOk);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.3) })]).txResults.forEach(expectOk);
    c.block([await place(c, carol, { clientId: 1, side: 'buy', price: usd(61_900), size: btc(0.3) })]).txResults.forEach(expectOk);
    // at $62,000: NC $100 < MMR $558; the position ($18,600) is above the minimum, so it closes in portions
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(62_000)]])])]);
    const liq = eventsOf(r, 'liquidation.liquidated');
    expect(liq).toHaveLength(1);
    // 20% = 0.06 BTC ($3,720) < $10,000; ⌈$10,000 / $62,000⌉ = 1,612,903,226 quantums → step 100,000 → 0.16129 BTC
    const portion = 1_612_900_000n;
    expect(liq[0]).toMatchObject({ owner: alice.address, portion: portion.toString(), size: portion.toString() });
    expect(c.queryJson(`subaccounts/subaccount/${alice.address}/0`).positions[0].size).toBe((btc(0.3) - portion).toString());
    expect(c.app.runInvariants()).toEqual([]);
  });
});

describe('position choice', () => {
  it('two positions with exactly equal MMR: the lower market id (BTC-USD) is closed first', async () => {
    const c = await setup();
    const ETH = (dollars: number) => BigInt(dollars) * 1_000_000n; // ETH-USD price units (10^-6 USD)
    const eth = (n: number) => BigInt(n) * 1_000_000_000n; // ETH quantums (10^-9 ETH)
    expectOk(c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(60_000)]])])]).txResults[0]!);
    // alice ($1,000 deposited): long 0.1 BTC at $60,000 and long 2 ETH at $3,000, $6,000 notional each
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(60_000), size: btc(0.1) }), await place(c, bob, { clientId: 2, market: 1, side: 'sell', price: ETH(3_000), size: eth(2) })]).txResults.forEach(expectOk);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.1) }), await place(c, alice, { clientId: 2, market: 1, side: 'buy', price: ETH(3_000), size: eth(2) })]).txResults.forEach(expectOk);
    c.block([await place(c, carol, { clientId: 1, side: 'buy', price: usd(58_190), size: btc(0.1) }), await place(c, carol, { clientId: 2, market: 1, side: 'buy', price: ETH(2_909), size: eth(2) })]).txResults.forEach(expectOk);
    // $300 out leaves NC $700 ≥ IMR $600; after both fall 3%: NC $340 < MMR $349.20, $174.60 on each position.
    // carol's bids sit above both fillable prices (oracle − 0.12%), so either position could close.
    expectOk(c.block([await c.sign(alice, [{ typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw', value: { owner: alice.address, subaccountNumber: 0, amount: '300000000', recipient: '' } }])]).txResults[0]!);
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(58_200)], [1, ETH(2_910)]])])]);
    const s = c.queryJson(`subaccounts/subaccount/${alice.address}/0`);
    const liq = eventsOf(r, 'liquidation.liquidated');
    expect(liq).toHaveLength(1);
    expect(liq[0]).toMatchObject({ owner: alice.address, market_id: '0' });
    expect(s.positions.map((p: { market_id: number }) => p.market_id)).toEqual([1]);
  });
});

describe('liquidation fee cap', () => {
  it('a sale far above the bankruptcy price pays the capped fee, 1.5% of the quote rounded up', async () => {
    const c = await setup();
    const size = 2_000_100_000n; // 0.20001 BTC: quotes that are not whole multiples of 200 uusdc
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size })]).txResults.forEach(expectOk);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size })]).txResults.forEach(expectOk);
    // carol bids $61,501, above the oracle-to-be: alice (NC $199.96 at $61,000, bankruptcy ≈ $60,000) sells into it
    c.block([await place(c, carol, { clientId: 1, side: 'buy', price: usd(61_501), size })]).txResults.forEach(expectOk);
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(61_000)]])])]);
    const liq = eventsOf(r, 'liquidation.liquidated');
    expect(liq).toHaveLength(1);
    // quote 2.0001 · 6,150,100,000 = 12,300,815,010 uusdc; cap 1.5% = 184,512,225.15 → 184,512,226; the excess over
    // the bankruptcy quote (≈ $300) is larger, so the cap is the fee
    expect(liq[0]).toMatchObject({ owner: alice.address, size: size.toString(), quote: '12300815010', fee: '184512226', insurance_paid: '0' });
    expect(c.app.runInvariants()).toEqual([]);
  });
});

describe('liquidation at net collateral exactly 0', () => {
  it('the IOC is limited by the fillable price (oracle − 4.5%), not the bankruptcy price (= the oracle), and the fund pays the gap', async () => {
    const c = await setup();
    // alice: $1,000, long 0.2 BTC bought at $65,000 → collateral −$12,000; NC = 0 exactly at $60,000
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.2) })]).txResults.forEach(expectOk);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.2) })]).txResults.forEach(expectOk);
    // carol bids below the oracle-to-be but above the fillable price $57,300
    c.block([await place(c, carol, { clientId: 1, side: 'buy', price: usd(59_000), size: btc(0.2) })]).txResults.forEach(expectOk);

    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(60_000)]])])]);
    const liq = eventsOf(r, 'liquidation.liquidated');
    expect(liq).toHaveLength(1);
    expect(liq[0]).toMatchObject({
      owner: alice.address,
      size: btc(0.2).toString(),
      bankruptcy_price: usd(60_000).toString(), // NC 0: bankruptcy = oracle
      limit_price: usd(57_300).toString(), // $60,000 · (1 − 1.5 · 3% · ABR 100%)
      average_price: usd(59_000).toString(),
      fee: '0',
      insurance_paid: '200000000', // bankruptcy quote $12,000 − $11,800 received
    });
    const s = c.queryJson(`subaccounts/subaccount/${alice.address}/0`);
    expect(s.positions).toEqual([]);
    expect(s.collateral).toBe('0');
    expect(BigInt(c.queryJson('liquidation/status').insurance_fund)).toBe(800_000_000n);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('with no bid in reach, an account at NC exactly 0 is not deleveraged (ADL is for insolvent accounts, NC < 0)', async () => {
    const c = await setup();
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.2) })]).txResults.forEach(expectOk);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.2) })]).txResults.forEach(expectOk);
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(60_000)]])])]); // NC = 0, no bids at all
    expect(eventsOf(r, 'liquidation.adl')).toEqual([]);
    expect(eventsOf(r, 'liquidation.liquidated')).toEqual([]);
    expect(c.queryJson(`subaccounts/subaccount/${bob.address}/0`).positions[0].size).toBe((-btc(0.2)).toString()); // bob's short untouched
    const a = c.queryJson(`subaccounts/subaccount/${alice.address}/0`);
    expect([a.liquidatable, a.net_collateral, a.positions[0].size]).toEqual([true, '0', btc(0.2).toString()]); // still flagged, waiting for a bid
  });
});
