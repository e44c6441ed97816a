import { describe, expect, it, vi } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { moduleAddress } from '../../chain/codec/address.js';
import { btc, eventsOf, place, pricesMsg, usd } from '../helpers/orders.js';
import { deposit, ETH, eth, liquidationChain, trade, type LiquidationChainOptions } from '../helpers/liquidation.js';
import type { FinalizeBlockResult } from '../../chain/types.js';

/**
 * The hand-worked scenarios of modules/liquidation/README.md. Trading fees
 * are zero here so every figure is a round number; BTC-USD has IMF 5%,
 * MMF 3%, tick $1; liquidation fee 1.5%, spread 1.5 × MMF.
 */
const keys = testKeys(10, 'liq');
const [authority, feeder, alice, bob, carol, dave, erin] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey, TestKey, TestKey];
/** Seed the fund directly through genesis balances: MsgSend to a module account is refused by design. */
async function setupFund(fund: bigint, o: Pick<LiquidationChainOptions, 'liquidation' | 'clob' | 'auth'> = {}) {
  return Promise.resolve(liquidationChain(keys, { authority, feeder, fund, ...o }));
}

async function price(c: TestChain, market: number, p: bigint): Promise<FinalizeBlockResult> {
  return c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[market, p]])])]);
}
const sub = (c: TestChain, k: TestKey, n = 0) => c.queryJson(`subaccounts/subaccount/${k.address}/${n}`);
const fund = (c: TestChain) => BigInt(c.queryJson('liquidation/status').insurance_fund);

describe('liquidation scenarios (README)', () => {
  it('1. a single-market long is liquidated on a price drop; the equity left above bankruptcy is the fee', async () => {
    const c = await setupFund(1_000_000_000n);
    await deposit(c, alice, 1_000);
    await deposit(c, bob, 100_000);
    await deposit(c, carol, 100_000);
    await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(60_900), size: btc(0.2) })]);
    expect(eventsOf(await price(c, 0, usd(62_000)), 'liquidation.liquidated')).toEqual([]); // above $61,855.67: safe
    const r = await price(c, 0, usd(61_000)); // NC $200 < MMR $366
    const liq = eventsOf(r, 'liquidation.liquidated');
    expect(liq).toHaveLength(1);
    expect(liq[0]).toMatchObject({
      owner: alice.address,
      side: 'sell',
      size: btc(0.2).toString(),
      average_price: usd(60_900).toString(),
      bankruptcy_price: usd(60_000).toString(),
      limit_price: usd(60_000).toString(),
      fee: '180000000', // received $12,180 − bankruptcy quote $12,000, under the 1.5% cap ($182.70)
      insurance_delta: '180000000',
    });
    expect(sub(c, alice).positions).toEqual([]);
    expect(sub(c, alice).collateral).toBe('0');
    expect(fund(c)).toBe(1_180_000_000n);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('1b. a liquidation fill pays its maker no rebate (no taker fee funds it), so an empty fee collector cannot cancel the bid it needs', async () => {
    // maker rebate as large as the taker fee, and no gas fees: the fee collector holds only what takers paid
    const c = await setupFund(1_000_000_000n, { clob: { taker_fee_ppm: 100, maker_fee_ppm: -100 }, auth: { min_gas_price_micro: '0' } });
    const collector = moduleAddress('fee_collector');
    await deposit(c, alice, 1_000);
    await deposit(c, bob, 100_000);
    await deposit(c, carol, 100_000);
    await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1); // taker fee 1,300,000 in, rebate 1,300,000 out
    const feesBefore = c.balance(collector); // only the txs' own fees: far below the 1,218,000 rebate the liquidation fill would pay
    expect(feesBefore).toBeLessThan(1_218_000n);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(60_900), size: btc(0.2) })]);
    const carolBefore = BigInt(sub(c, carol).collateral);
    const r = await price(c, 0, usd(61_000));
    expect(eventsOf(r, 'liquidation.liquidated')).toHaveLength(1); // (before the fix: carol's bid cancelled as maker_cannot_trade, alice not liquidated)
    expect(eventsOf(r, 'clob.order_cancelled').filter((e) => /maker_cannot_trade/.test(String(e.reason)))).toEqual([]);
    const fill = eventsOf(r, 'clob.fill')[0]!;
    expect(fill).toMatchObject({ taker_fee: '0', maker_fee: '0', price: usd(60_900).toString() });
    expect(BigInt(sub(c, carol).collateral)).toBe(carolBefore - 12_180_000_000n); // the quote, no rebate
    const feesAfter = c.balance(collector);
    expect(feesAfter >= feesBefore && feesAfter - feesBefore < 10_000n, `${feesBefore} → ${feesAfter}`).toBe(true); // only the price tx's fee came in
    expect(sub(c, alice).positions).toEqual([]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('2. a cross-margin account whose second position keeps it safe is not liquidated', async () => {
    const c = await setupFund(0n);
    for (const k of [alice, bob, carol, erin]) await deposit(c, k, 100_000);
    await deposit(c, dave, 1_000);
    await deposit(c, alice, 2_000, 1);
    // dave: the same 0.2 BTC long as scenario 1, alone; alice/1: the same long plus 2 ETH short
    await trade(c, bob, dave, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    c.block([await place(c, bob, { clientId: 2, side: 'sell', price: usd(65_000), size: btc(0.2) })]);
    c.block([await place(c, alice, { clientId: 2, side: 'buy', price: usd(65_000), size: btc(0.2), number: 1 })]).txResults.forEach(expectOk);
    c.block([await place(c, carol, { clientId: 3, side: 'buy', price: ETH(3_000), size: eth(2), market: 1 })]);
    c.block([await place(c, alice, { clientId: 4, side: 'sell', price: ETH(3_000), size: eth(2), market: 1, number: 1 })]).txResults.forEach(expectOk);
    c.block([await place(c, erin, { clientId: 9, side: 'buy', price: usd(60_900), size: btc(0.2) })]);
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(61_000)], [1, ETH(2_500)]])])]);
    const liq = eventsOf(r, 'liquidation.liquidated');
    expect(liq.map((e) => e.owner)).toEqual([dave.address]);
    const a = sub(c, alice, 1);
    expect(a.liquidatable).toBe(false);
    expect(a.positions.length).toBe(2);
  });

  it('3. a price gap through the bankruptcy price: the insurance fund pays the difference', async () => {
    const c = await setupFund(1_000_000_000n);
    await deposit(c, alice, 1_000);
    await deposit(c, bob, 100_000);
    await deposit(c, carol, 100_000);
    await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(58_500), size: btc(0.2) })]);
    const r = await price(c, 0, usd(59_000)); // NC −$200: bankrupt; bankruptcy price still $60,000
    const liq = eventsOf(r, 'liquidation.liquidated')[0]!;
    expect(liq).toMatchObject({ average_price: usd(58_500).toString(), bankruptcy_price: usd(60_000).toString(), limit_price: usd(56_345).toString(), fee: '0', insurance_delta: '-300000000' });
    expect(sub(c, alice).collateral).toBe('0');
    expect(fund(c)).toBe(700_000_000n);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('3b. a better bid whose maker fails its margin check takes none of the fund: the next bid gets all of it, no ADL', async () => {
    // found by a review: the approved-then-rejected fill kept its reservation, the good bid was cut, and a profitable
    // counterparty was auto-deleveraged while the fund kept $240 unspent
    const c = await setupFund(300_000_000n); // exactly the $300 that scenario 3 needs
    await deposit(c, alice, 1_000);
    await deposit(c, bob, 100_000);
    await deposit(c, carol, 100_000);
    await deposit(c, erin, 10_000);
    await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(58_500), size: btc(0.2) })]);
    c.block([await place(c, erin, { clientId: 9, side: 'buy', price: usd(58_800), size: btc(0.2) })]).txResults.forEach(expectOk);
    const withdraw = { typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw', value: { owner: erin.address, subaccountNumber: 0, amount: '9900000000', recipient: erin.address } };
    c.block([await c.sign(erin, [withdraw])]).txResults.forEach(expectOk); // erin's bid can no longer be margined
    const r = await price(c, 0, usd(59_000)); // NC −$200, bankruptcy price $60,000
    expect(eventsOf(r, 'clob.order_cancelled').some((e) => e.owner === erin.address && /maker_undercollateralized/.test(String(e.reason)))).toBe(true);
    expect(eventsOf(r, 'liquidation.adl')).toEqual([]);
    expect(eventsOf(r, 'liquidation.liquidated')[0]).toMatchObject({ size: btc(0.2).toString(), average_price: usd(58_500).toString(), insurance_delta: '-300000000' });
    expect(fund(c)).toBe(0n);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('4. the fund runs dry: the book takes what the fund can pay for, ranked ADL takes the rest at the bankruptcy price', async () => {
    const c = await setupFund(100_000_000n); // $100
    await deposit(c, alice, 1_000);
    await deposit(c, bob, 10_000); // lower leverage
    await deposit(c, dave, 1_000); // higher leverage
    await deposit(c, carol, 100_000);
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) }), await place(c, dave, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })]);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.2) })]).txResults.forEach(expectOk);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(58_500), size: btc(0.2) })]);
    const r = await price(c, 0, usd(59_000));
    const liq = eventsOf(r, 'liquidation.liquidated')[0]!;
    // $1,500/BTC below bankruptcy: $100 pays for 0.06666 BTC
    expect(liq).toMatchObject({ size: btc(0.06666).toString(), insurance_delta: '-99990000' });
    const adl = eventsOf(r, 'liquidation.adl');
    expect(adl.map((e) => [e.counterparty_owner, e.size, e.price])).toEqual([
      [dave.address, btc(0.1).toString(), usd(60_000).toString()],
      [bob.address, btc(0.03334).toString(), usd(60_000).toString()],
    ]);
    expect(sub(c, alice).positions).toEqual([]);
    expect(BigInt(sub(c, alice).collateral)).toBeGreaterThanOrEqual(0n);
    expect(fund(c)).toBe(10_000n);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('4b. two accounts deleveraged in one block share one ranking; each fill reads the counterparty\'s current position', async () => {
    const c = await setupFund(0n); // no fund, no bids: everything goes to ADL
    await deposit(c, alice, 1_000);
    await deposit(c, erin, 1_000);
    await deposit(c, bob, 10_000); // lower leverage
    await deposit(c, dave, 2_000); // higher leverage: ranked first
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 1); // alice long 0.1, dave short 0.1
    await trade(c, bob, erin, { price: usd(65_000), size: btc(0.1), makerSide: 'sell' }, 2); // erin long 0.1, bob short 0.1
    const rank = vi.spyOn(c.app.keepers.liquidation, 'rankCounterparties');
    const r = await price(c, 0, usd(50_000));
    expect(rank).toHaveBeenCalledTimes(1);
    const adl = eventsOf(r, 'liquidation.adl').map((e) => [e.owner, e.counterparty_owner, e.size]);
    // both longs are equally under water (ties by key); the first takes dave's whole short, the second finds dave
    // exhausted in the shared ranking and fills against bob
    const first = adl[0]![0];
    const second = first === alice.address ? erin.address : alice.address;
    expect(adl).toEqual([
      [first, dave.address, btc(0.1).toString()],
      [second, bob.address, btc(0.1).toString()],
    ]);
    expect(sub(c, alice).positions).toEqual([]);
    expect(sub(c, erin).positions).toEqual([]);
    expect(sub(c, dave).positions).toEqual([]);
    expect(sub(c, bob).positions).toEqual([]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('5. ADL exhausted: no counterparty can bear the bankruptcy price, the rest closes at the oracle, the fund pays, bad debt is recorded', async () => {
    const c = await setupFund(1_000_000_000n); // $1,000
    await deposit(c, alice, 1_000);
    await deposit(c, dave, 3_000);
    await deposit(c, carol, 100_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1); // dave short 0.2 BTC
    await trade(c, carol, dave, { price: ETH(3_000), size: eth(10), market: 1, makerSide: 'sell' } as never, 2); // dave long 10 ETH
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(40_000)], [1, ETH(2_500)]])])]);
    // alice: NC = $1,000 − 0.2 · $25,000 = −$4,000; bankruptcy $60,000; dave would lose $4,000 vs mark there, more than his $3,000 NC
    const adl = eventsOf(r, 'liquidation.adl');
    expect(adl).toHaveLength(1);
    expect(adl[0]).toMatchObject({ counterparty_owner: dave.address, size: btc(0.2).toString(), price: usd(40_000).toString(), at_oracle: 'true' });
    const bad = eventsOf(r, 'liquidation.bad_debt')[0]!;
    expect(bad).toMatchObject({ owner: alice.address, amount: '3000000000', insurance_paid: '1000000000' });
    expect(c.queryJson('liquidation/status')).toMatchObject({ insurance_fund: '0', bad_debt_total: '3000000000' });
    expect(sub(c, alice).collateral).toBe('0');
    expect(c.app.runInvariants()).toEqual([]);

    // The fund's next income repays the recorded bad debt before the fund builds up again (until then the pool
    // holds less than the claims on it, and the last to withdraw would bear the loss): erin is liquidated above
    // her bankruptcy price, and the liquidation fee goes straight on to the pool.
    await deposit(c, erin, 1_000);
    await trade(c, carol, erin, { price: usd(40_000), size: btc(0.2), makerSide: 'sell' }, 3); // erin long 0.2 BTC, bankrupt at $35,000
    c.block([await place(c, carol, { clientId: 4, side: 'buy', price: usd(35_900), size: btc(0.2) })]);
    const r2 = await price(c, 0, usd(36_000));
    // received $7,180 against the bankruptcy quote $7,000: fee min($180, 1.5% · $7,180 = $107.70)
    expect(eventsOf(r2, 'subaccounts.bad_debt_repaid')).toMatchObject([{ market_id: '0', amount: '107700000', remaining: '2892300000' }]);
    expect(c.queryJson('liquidation/status')).toMatchObject({ insurance_fund: '0', bad_debt_total: '2892300000' });
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('6. open orders are cancelled before the account is closed', async () => {
    const c = await setupFund(1_000_000_000n);
    await deposit(c, alice, 1_000);
    await deposit(c, bob, 100_000);
    await deposit(c, carol, 100_000);
    await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    c.block([await place(c, alice, { clientId: 5, side: 'sell', price: usd(70_000), size: btc(0.05) })]);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(60_900), size: btc(0.2) })]);
    const r = await price(c, 0, usd(61_000));
    const cancels = eventsOf(r, 'clob.order_cancelled');
    expect(cancels).toMatchObject([{ owner: alice.address, reason: 'liquidation' }]);
    const types = r.events.map((e) => e.type);
    expect(types.indexOf('clob.order_cancelled')).toBeLessThan(types.indexOf('liquidation.liquidated'));
    expect(c.queryJson(`clob/orders/${alice.address}/0`)).toEqual([]);
  });

  it('7. the per-block cap carries the rest to the next block, most under-collateralised first', async () => {
    const c = await setupFund(1_000_000_000n, { liquidation: { max_liquidations_per_block: 1 } });
    await deposit(c, alice, 1_000);
    await deposit(c, erin, 900);
    await deposit(c, bob, 100_000);
    await deposit(c, carol, 100_000);
    await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    await trade(c, bob, erin, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 2);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(60_900), size: btc(1) })]);
    const r1 = await price(c, 0, usd(61_000));
    expect(eventsOf(r1, 'liquidation.liquidated').map((e) => e.owner)).toEqual([erin.address]); // NC $100 vs alice's $200
    expect(eventsOf(r1, 'liquidation.carried')[0]).toMatchObject({ count: '1' });
    const r2 = c.block();
    expect(eventsOf(r2, 'liquidation.liquidated').map((e) => e.owner)).toEqual([alice.address]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('7c. behind the cap, the liquidatable list and the carried accounts are in full liquidation order', async () => {
    const c = await setupFund(1_000_000_000n, { liquidation: { max_liquidations_per_block: 1 } });
    // 18 longs of 0.2 BTC at $65,000 (six owners, subaccounts 0–2); at $61,000 each has NC = deposit − $800,
    // from $20 to $343, against MMR $366. The block orders its first 4 × cap exactly; the query, all of them.
    const longs = [alice, erin, dave, keys[7]!, keys[8]!, keys[9]!].flatMap((k, i) => [0, 1, 2].map((n) => ({ k, n, dollars: 820 + 19 * ((7 * (3 * i + n)) % 18) })));
    for (const n of [0, 1, 2]) await deposit(c, bob, 100_000, n);
    await deposit(c, carol, 100_000);
    let cid = 1;
    // in an order unrelated to their collateral, which is the order the index holds them in
    for (const { k, n, dollars } of longs) {
      await deposit(c, k, dollars, n);
      await trade(c, bob, k, { number: n, price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, cid++);
    }
    c.block([await place(c, carol, { clientId: 999, side: 'buy', price: usd(60_900), size: btc(2) })]);
    const r1 = await price(c, 0, usd(61_000));
    const byNc = [...longs].sort((a, b) => a.dollars - b.dollars).map(({ k, n }) => `${k.address}/${n}`);
    expect(eventsOf(r1, 'liquidation.liquidated').map((e) => `${e.owner}/${e.number}`)).toEqual(byNc.slice(0, 1));
    const q = c.queryJson('liquidation/liquidatable') as { accounts: Array<{ owner: string; number: number }>; carried: string[] };
    expect(q.accounts.map((a) => `${a.owner}/${a.number}`)).toEqual(byNc);
    expect(q.carried).toEqual(byNc.slice(1));
    // the counts (read every block by the status query and the simulator) match without completing the order
    expect((c.queryJson('liquidation/status') as { liquidatable_count: number }).liquidatable_count).toBe(byNc.length);
  });

  it('7b. an account the book cannot take (no bid within its bounds) does not starve the others under the cap', async () => {
    const c = await setupFund(1_000_000_000n, { liquidation: { max_liquidations_per_block: 1 } });
    await deposit(c, alice, 1_000);
    await deposit(c, erin, 900);
    await deposit(c, bob, 100_000);
    await deposit(c, carol, 100_000);
    await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    await trade(c, bob, erin, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 2);
    // erin (NC $100) may not sell below her bankruptcy price $60,500; alice's is $60,000
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(60_000), size: btc(1) })]);
    const r1 = await price(c, 0, usd(61_000));
    expect(eventsOf(r1, 'liquidation.liquidated').map((e) => e.owner)).toEqual([alice.address]);
    expect(c.queryJson('liquidation/liquidatable').carried).toEqual([]);
    expect(sub(c, erin).liquidatable).toBe(true);
  });

  it('8. one IOC with fills above and below the bankruptcy price settles once, on its net', async () => {
    // Regression: settled fill by fill, the fill above $60,000 paid a $93 fee while the fund paid $150 for the
    // fill below, and the insolvent account kept $107 of the fund's money.
    const c = await setupFund(1_000_000_000n);
    await deposit(c, alice, 1_000);
    await deposit(c, bob, 100_000);
    await deposit(c, carol, 100_000);
    await deposit(c, erin, 100_000);
    await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(62_000), size: btc(0.1) })]);
    c.block([await place(c, erin, { clientId: 9, side: 'buy', price: usd(58_500), size: btc(0.1) })]);
    const f0 = fund(c);
    const r = await price(c, 0, usd(59_000)); // NC −$200, bankruptcy $60,000
    // received $6,200 + $5,850 = $12,050 against the bankruptcy quote $12,000: a $50 fee (cap 1.5% = $180.75), no payout
    expect(eventsOf(r, 'liquidation.liquidated')).toMatchObject([{ size: btc(0.2).toString(), fee: '50000000', insurance_paid: '0', insurance_delta: '50000000' }]);
    expect(fund(c) - f0).toBe(50_000_000n);
    expect(sub(c, alice).collateral).toBe('0');
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('8b. a portion sold above its bankruptcy price pays no fee while the account stays insolvent', async () => {
    // Regression: the $186 fee came out of an account still $400 short, its next bankruptcy price worsened by it,
    // and the counterparty deleveraged next paid it ($59,732.50 instead of $59,500).
    const c = await setupFund(0n, { liquidation: { min_liquidation_notional: '1000000' } }); // portions of 20%
    await deposit(c, alice, 5_000);
    await deposit(c, dave, 20_000);
    await deposit(c, carol, 100_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(1), makerSide: 'sell' }, 1);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(62_000), size: btc(0.2) })]);
    const r = await price(c, 0, usd(59_000)); // NC −$1,000, bankruptcy $60,000
    expect(eventsOf(r, 'liquidation.liquidated')).toMatchObject([{ size: btc(0.2).toString(), fee: '0', insurance_paid: '0' }]);
    expect(fund(c)).toBe(0n);
    // selling 0.2 at $62,000 against the $59,000 mark lifts NC by $600 to −$400: the remaining 0.8 BTC is deleveraged
    // at 59,000 + 400/0.8 = $59,500 (with the fee taken it was $59,732.50)
    const r2 = c.block();
    const adl = eventsOf(r2, 'liquidation.adl');
    expect(adl.length).toBeGreaterThan(0);
    for (const e of adl) expect(e.price).toBe(usd(59_500).toString());
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('9. a slice closed by ADL at the oracle writes off its share of the deficit at once; the next counterparty pays the same bankruptcy price', async () => {
    // Regression: the share stayed with the account, the rest of its position's bankruptcy price worsened by it,
    // and a counterparty deleveraged in the next block paid $71,250 against a $60,000 bankruptcy price.
    const c = await setupFund(0n, { liquidation: { min_liquidation_notional: '1000000' } }); // $1: portions of 20%
    await deposit(c, alice, 5_000);
    await deposit(c, dave, 5_000);
    await deposit(c, carol, 1_000_000);
    await deposit(c, bob, 100_000);
    await trade(c, dave, alice, { price: usd(65_000), size: btc(1), makerSide: 'sell' }, 1); // alice long 1, dave short 1
    await trade(c, carol, dave, { price: ETH(3_000), size: eth(10), market: 1, makerSide: 'sell' } as never, 2); // dave long 10 ETH
    // BTC $40,000, ETH $300: alice NC −$20,000, bankruptcy $60,000; dave cannot bear it (closed at the oracle)
    const r1 = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(40_000)], [1, ETH(300)]])])]);
    expect(eventsOf(r1, 'liquidation.adl').map((e) => e.at_oracle)).toEqual(['true']);
    const bad1 = eventsOf(r1, 'liquidation.bad_debt');
    expect(bad1).toMatchObject([{ owner: alice.address, amount: '4000000000' }]); // 0.2 of the $20,000 deficit, the fund being empty
    c.block([await place(c, carol, { clientId: 7, side: 'buy', price: usd(40_000), size: btc(0.8) })]);
    const r2 = c.block([await place(c, bob, { clientId: 7, side: 'sell', price: usd(40_000), size: btc(0.8) })]);
    // the next ADL (bob's fresh short, or what dave can now bear) is at the same $60,000, not $60,000 + the oracle slice's share
    const adl = eventsOf(r2, 'liquidation.adl');
    expect(adl.length).toBeGreaterThan(0);
    for (const e of adl) expect([e.price, e.at_oracle]).toEqual([usd(60_000).toString(), 'false']);
    expect(c.app.runInvariants()).toEqual([]);
  });
});
