import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { btc, eventsOf, place, pricesMsg, usd } from '../helpers/orders.js';
import { deposit, liquidationChain } from '../helpers/liquidation.js';

/**
 * The size of the portion a liquidation closes in one block (modules/liquidation/README.md §2 step 3):
 * max(⌈|size|·position_fraction_ppm/10⁶⌉, min_liquidation_notional's worth at the oracle, rounded UP), then
 * rounded down to the step. Both roundings up matter only when the exact figure lies just below a multiple of
 * the step: rounded up it reaches the step and the portion keeps it; rounded down it loses a whole step. Every
 * earlier test divided exactly or landed mid-step, so either rounding passed. BTC-USD: step 0.00001 BTC
 * (100,000 quantums), MMF 3%; trading fees 0; the oracle goes straight to $60,000.
 */
const keys = testKeys(5, 'liq-portion-rounding');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];

/** alice ($`dollars`) long `size` bought (IOC) from bob at $65,000; carol bids for all of it at $59,500; then the oracle falls to $60,000. */
async function liquidateAt60k(liquidation: Record<string, string>, dollars: number, size: bigint): Promise<Record<string, string>[]> {
  const c: TestChain = liquidationChain(keys, { authority, feeder, fund: 1_000_000_000n, liquidation });
  await deposit(c, alice, dollars);
  await deposit(c, bob, 100_000);
  await deposit(c, carol, 100_000);
  c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size })]).txResults.forEach(expectOk);
  // IOC: an account this small may not rest an order (the open-order tier needs $20 of net collateral)
  c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size, tif: 'ioc' })]).txResults.forEach(expectOk);
  expect(c.queryJson(`subaccounts/subaccount/${alice.address}/0`).positions[0].size).toBe(size.toString());
  c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(59_500), size })]).txResults.forEach(expectOk);
  const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(60_000)]])])]);
  expect(c.app.runInvariants()).toEqual([]);
  return eventsOf(r, 'liquidation.liquidated');
}

describe('portion sizing rounds up before it rounds down to the step', () => {
  it('the position fraction: 117,647 ppm of 0.00017 BTC is 199,999.9 quantums, rounded up to 200,000 = two steps', async () => {
    // alice: $1, long 0.00017 BTC (1,700,000 quantums) at $65,000. At $60,000: NC = $1 − $11.05 + $10.20 = $0.15 <
    // MMR $0.306; bankruptcy price ≈ $59,118, so carol's $59,500 bid takes what is offered.
    // min_liquidation_notional 1 uusdc: its worth (1 quantum) never decides the size here.
    const liq = await liquidateAt60k({ position_fraction_ppm: '117647', min_liquidation_notional: '1' }, 1, btc(0.00017));
    expect(liq).toHaveLength(1);
    // rounded down first (199,999 quantums) the step rounding would leave one step, 100,000
    expect(liq[0]).toMatchObject({ owner: alice.address, portion: '200000', size: '200000' });
  });

  it('the minimum notional: $1.199999 at $60,000 is 199,999.83 quantums, rounded up to 200,000 = two steps', async () => {
    // alice: $9, long 0.0015 BTC at $65,000 (IMR $4.875). At $60,000: NC = $9 − $7.50 = $1.50 < MMR $2.70;
    // bankruptcy price $60,000 · (1 − 1.5 · 3% / 2.7) = $59,000. The fraction, 1% = 150,000 quantums, is below
    // the minimum's worth, so the minimum decides: ⌈1,199,999 · 10⁹ / 6·10⁹⌉ = 200,000.
    const liq = await liquidateAt60k({ position_fraction_ppm: '10000', min_liquidation_notional: '1199999' }, 9, btc(0.0015));
    expect(liq).toHaveLength(1);
    // rounded down (199,999) the minimum's worth would shrink to one step, 100,000
    expect(liq[0]).toMatchObject({ owner: alice.address, portion: '200000', size: '200000' });
  });
});
