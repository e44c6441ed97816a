import { describe, expect, it } from 'vitest';
import type { TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { btc, eventsOf, place, pricesMsg, usd } from '../helpers/orders.js';
import { deposit, liquidationChain, trade } from '../helpers/liquidation.js';
import type { FinalizeBlockResult } from '../../chain/types.js';

/**
 * Two rules of the liquidation engine met by a real account, through the App (BTC-USD: MMF 3%, tick $1;
 * trading fees 0; insurance fund $1,000; min_liquidation_notional $100,000, so positions close whole):
 *
 * 1. Exactly at the maintenance line (NC = MMR, to the uusdc, with no rounding anywhere) an account is NOT
 *    liquidated: "Liquidatable ⇔ MMR > 0 ∧ NC < MMR". There the index's exact surplus M is 0, inside the float
 *    screen's error bound, so the engine decides it in bigint (detect(): `m < 0`); $1 lower it is.
 *
 * 2. README step 8: an account left with no position and negative collateral is paid up by the insurance fund.
 *    A closed position can leave a few uusdc of deficit behind: the bankruptcy quote apportions NC by the
 *    portion's share of the (rounded-up) MMR, so with an inexact MMR the share is just under 1 and the
 *    bankruptcy quote covers slightly less than the whole deficit. The end-of-account write-off must pick that up.
 */
const keys = testKeys(5, 'liq-line-writeoff');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];

async function setup(aliceDollars: number, carolBid: bigint): Promise<TestChain> {
  const c = liquidationChain(keys, { authority, feeder, fund: 1_000_000_000n });
  await deposit(c, alice, aliceDollars);
  await deposit(c, bob, 100_000);
  await deposit(c, carol, 100_000);
  await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1); // alice long 0.2 BTC, collateral −$13,000 + deposit
  c.block([await place(c, carol, { clientId: 9, side: 'buy', price: carolBid, size: btc(0.2) })]);
  return c;
}
const oracle = async (c: TestChain, p: bigint): Promise<FinalizeBlockResult> => c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, p]])])]);
const sub = (c: TestChain) => c.queryJson(`subaccounts/subaccount/${alice.address}/0`);

describe('the maintenance line', () => {
  it('NC exactly equal to MMR is not liquidated; $1 lower it is', async () => {
    // alice deposits $1,360: at $60,000, NC = $1,360 − 0.2 · $5,000 = $360 = MMR 3% · $12,000, all exact
    // carol bids $60,000: a barely liquidatable account sells near the oracle (ABR ≈ 0, so the limit is the oracle
    // minus almost no spread), and at the line itself the limit would be the oracle exactly
    const c = await setup(1_360, usd(60_000));
    const r1 = await oracle(c, usd(60_000));
    expect([sub(c).net_collateral, sub(c).maintenance_margin_requirement, sub(c).liquidatable]).toEqual(['360000000', '360000000', false]);
    expect(eventsOf(r1, 'liquidation.liquidated')).toEqual([]);
    expect(c.queryJson('liquidation/liquidatable').accounts).toEqual([]);
    expect(sub(c).positions[0].size).toBe(btc(0.2).toString());

    // $59,999 (the smallest move the oracle takes is 10 ppm): NC $359.80 < MMR $359.994
    const r2 = await oracle(c, usd(59_999));
    expect(eventsOf(r2, 'liquidation.liquidated')).toMatchObject([{ owner: alice.address, size: btc(0.2).toString(), average_price: usd(60_000).toString() }]);
    expect(sub(c).positions).toEqual([]);
    // everyone flagged was processed under the cap: no carried event (it is for accounts left to the next block)
    expect(eventsOf(r2, 'liquidation.carried')).toEqual([]);
    expect(c.app.runInvariants()).toEqual([]);
  });
});

describe('the write-off after the close', () => {
  it('the few uusdc of deficit a closed position leaves are paid by the insurance fund; the collateral ends at 0', async () => {
    const c = await setup(1_000, usd(57_000));
    // oracle 5,800,000,017 (≈ $58,000.00017): value 11,600,000,034 uusdc, NC −399,999,966, and the exact MMR
    // 348,000,001.02 rounds up to 348,000,002, so the position's share of NC is 0.99999999718…:
    // bankruptcy quote ⌊11,600,000,034 + 399,999,966 · 348,000,001.02 / 348,000,002⌋ = 11,999,999,998, $2 millionths
    // short of the 12,000,000,000 that would bring the collateral (−$12,000) to 0.
    const r = await oracle(c, 5_800_000_017n);
    expect(eventsOf(r, 'liquidation.liquidated')).toMatchObject([
      { owner: alice.address, size: btc(0.2).toString(), quote: '11400000000', fee: '0', insurance_paid: '599999998' }, // 11,999,999,998 − 11,400,000,000
    ]);
    expect(eventsOf(r, 'liquidation.insurance_cover')).toMatchObject([{ owner: alice.address, market_id: '0', amount: '2' }]);
    expect(eventsOf(r, 'liquidation.bad_debt')).toEqual([]);
    expect(sub(c).positions).toEqual([]);
    expect(sub(c).collateral).toBe('0');
    expect(BigInt(c.queryJson('liquidation/status').insurance_fund)).toBe(1_000_000_000n - 600_000_000n);
    expect(c.app.runInvariants()).toEqual([]);
  });
});
