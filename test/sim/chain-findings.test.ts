import { describe, expect, it } from 'vitest';
import { TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { btc, depositMsg, placeMsg, pricesMsg, usd } from '../helpers/orders.js';
import { marketsAppState } from '../../chain/devnet/markets.js';

/**
 * Findings of the risk simulator about the chain, kept as regression tests
 * (reproduced here with the smallest setup, outside the simulator).
 */
describe('chain findings from the risk simulator', () => {
  /*
   * An order that matches and then runs out of gas while the fill is written
   * (clob keeper matchTaker: `scratch.write()` charges gas through the tx's
   * GasKV and throws before `sctx.journal.mergeInto(ctx.journal)`) leaves the
   * liquidation RiskIndex holding the post-fill positions of both sides while
   * the tx's state is reverted: the index is out of step with the state
   * (invariant liquidation/index-complete) and a node that restarts rebuilds a
   * different index than one that did not. Fix: merge the scratch journal into
   * the parent before writing the scratch branch (same in nest().keep() and in
   * LiquidationKeeper.deleverage), and undo the scratch journal when the risk
   * checks after the fill run out of gas. Found by `perpchain sim` at height 79
   * of its first run (a taker tx whose gas limit was too small).
   */
  it('a taker order that runs out of gas after its fill leaves the liquidation index in step with the state', async () => {
    const keys = testKeys(4, 'oog');
    const [authority, feeder, maker, taker] = keys as [TestKey, TestKey, TestKey, TestKey];
    const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: { ...marketsAppState(authority.address, [feeder.address]) } });
    c.block([await c.sign(maker, [depositMsg(maker.address, 1_000_000_000_000n)]), await c.sign(taker, [depositMsg(taker.address, 1_000_000_000_000n)])]);
    c.block([await c.sign(maker, [placeMsg(maker.address, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })], { gas: 400_000n })]);
    // the same taker order with ever smaller gas limits: each fails and is reverted; the index must not move
    const ok = c.block([await c.sign(taker, [placeMsg(taker.address, { clientId: 2, side: 'buy', price: usd(65_000), size: btc(0.01), tif: 'ioc' })], { gas: 400_000n })]);
    const needed = ok.txResults[0]!.gasUsed;
    expect(ok.txResults[0]!.code).toBe(0);
    let broken: ReturnType<typeof c.app.runInvariants> = [];
    for (let gas = needed - 1_000n, cid = 3; gas > needed / 2n && broken.length === 0; gas -= 1_000n, cid++) {
      const price = await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(65_000)]])]); // keeps the oracle fresh
      const r = c.block([price, await c.sign(taker, [placeMsg(taker.address, { clientId: cid, side: 'buy', price: usd(65_000), size: btc(0.01), tif: 'ioc' })], { gas })]);
      expect(r.txResults[1]!.log).toMatch(/out of gas/);
      broken = c.app.runInvariants();
    }
    expect(broken).toEqual([]);
  });
});
