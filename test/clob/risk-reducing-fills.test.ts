import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { btc, depositMsg, eventsOf, place, placeResponses, pricesMsg, usd } from '../helpers/orders.js';

/**
 * README "Per fill": a fill that leaves a side below its initial margin is still made when it reduces that
 * side's risk (MMR does not rise and NC/MMR does not fall). Without it, an account between its maintenance
 * and initial requirement could not trade its way out: its reduce-only sells would stop at the first fill,
 * and its resting asks would be removed just when a buyer comes.
 *
 * Alice (deposit $4,000) buys 1 BTC at $65,000 (fee $32.50). The oracle falls to $63,000: NC = $1,967.50,
 * IMR (5%) = $3,150, MMR (3%) = $1,890: below IMR, not liquidatable. Selling 0.1 BTC leaves NC ≈ $1,964–2,018
 * against IMR $2,835 (still below), with MMR down to $1,701 and NC/MMR up.
 */
const keys = testKeys(5, 'clob-risk-reducing');
const [authority, feeder, alice, bob] = keys as [TestKey, TestKey, TestKey, TestKey];

async function aliceUnderInitialMargin(): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: marketsAppState(authority.address, [feeder.address]) });
  c.block();
  c.block([await c.sign(alice, [depositMsg(alice.address, 4_000_000_000n)]), await c.sign(bob, [depositMsg(bob.address, 100_000_000_000n)])]).txResults.forEach(expectOk);
  expectOk(c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(1) })]).txResults[0]!);
  expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(1) })]).txResults[0]!);
  return c;
}
async function oracle(c: TestChain, dollars: number) {
  c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(dollars)]])])]).txResults.forEach(expectOk);
}
function risk(c: TestChain, k: TestKey) {
  const r = c.app.keepers.subaccounts.risk(c.app.state, c.app.keepers.subaccounts.get(c.app.state, { owner: k.address, number: 0 }));
  return { nc: r.nc, imr: r.imr, mmr: r.mmr };
}

describe('fills that reduce risk below the initial margin', () => {
  it('a taker below its initial margin may sell down its position (reduce-only IOC)', async () => {
    const c = await aliceUnderInitialMargin();
    await oracle(c, 63_000);
    const before = risk(c, alice);
    expect(before.nc < before.imr && before.nc > before.mmr).toBe(true);
    expectOk(c.block([await place(c, bob, { clientId: 2, side: 'buy', price: usd(63_000), size: btc(0.1) })]).txResults[0]!);
    const r = c.block([await place(c, alice, { clientId: 2, side: 'sell', tif: 'ioc', price: usd(63_000), size: btc(0.1), reduceOnly: true })]).txResults[0]!;
    expectOk(r);
    expect(placeResponses(r)[0]).toMatchObject({ status: 'filled', filled: btc(0.1) });
    const after = risk(c, alice);
    expect(after.nc < after.imr).toBe(true); // still below IMR: the fill was let through as risk-reducing
    expect(after.mmr < before.mmr).toBe(true);
  });

  it('a resting ask of a maker below its initial margin fills when a buyer comes (not removed as undercollateralised)', async () => {
    const c = await aliceUnderInitialMargin();
    // placed while alice is healthy, 2.3% under the oracle; nobody bids that high yet
    expectOk(c.block([await place(c, alice, { clientId: 2, side: 'sell', price: usd(63_500), size: btc(0.1) })]).txResults[0]!);
    await oracle(c, 63_000);
    expect(risk(c, alice).nc < risk(c, alice).imr).toBe(true);
    const r = c.block([await place(c, bob, { clientId: 2, side: 'buy', tif: 'ioc', price: usd(63_500), size: btc(0.1) })]).txResults[0]!;
    expectOk(r);
    expect(eventsOf(r, 'clob.order_cancelled')).toEqual([]);
    expect(eventsOf(r, 'clob.fill').map((f) => [f.maker_owner, f.size])).toEqual([[alice.address, btc(0.1).toString()]]);
    expect(risk(c, alice).nc < risk(c, alice).imr).toBe(true);
  });
});
