import { describe, expect, it } from 'vitest';
import type { TestChain } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { btc, eventsOf, place, pricesMsg, usd } from '../helpers/orders.js';
import { deposit, liquidationChain, trade } from '../helpers/liquidation.js';
import type { FinalizeBlockResult } from '../../chain/types.js';

/**
 * A liquidation cancels the account's open orders. One of them may already be past its expiry and only still
 * open because the block's expiries were capped (max_expiries_per_block): it is closed as `expired`, what it
 * is, not as `liquidation`. Setting as scenario 6 of modules/liquidation/README.md (alice long 0.2 BTC at
 * $65,000 with $1,000, liquidated at $61,000 into carol's bid), with the cap at 1 and two orders due at the
 * same height: bob's (older, closed by the cap) and alice's (left open, out of the book).
 */
const keys = testKeys(6, 'expiry-liq');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];

async function price(c: TestChain, p: bigint): Promise<FinalizeBlockResult> {
  return c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, p]])])]);
}

describe('liquidation of an account with an order the expiry cap left open', () => {
  it('closes that order as expired and the others as liquidation', async () => {
    const c = liquidationChain(keys, { authority, feeder, fund: 1_000_000_000n, clob: { max_expiries_per_block: 1 } });
    await deposit(c, alice, 1_000);
    await deposit(c, bob, 100_000);
    await deposit(c, carol, 100_000);
    await trade(c, bob, alice, { price: usd(65_000), size: btc(0.2), makerSide: 'sell' }, 1);
    c.block([await place(c, carol, { clientId: 9, side: 'buy', price: usd(60_900), size: btc(0.2) })]);
    // block p: bob's and then alice's order, both good til p + 1; alice also rests one without expiry
    const p = c.app.height + 1n;
    c.block([
      await place(c, bob, { clientId: 7, side: 'sell', price: usd(90_000), size: btc(0.001), gtb: p + 1n }),
      await place(c, alice, { clientId: 5, side: 'sell', price: usd(80_000), size: btc(0.001), gtb: p + 1n }),
      await place(c, alice, { clientId: 6, side: 'sell', price: usd(70_000), size: btc(0.05) }),
    ]).txResults.forEach((r) => expect(r.code).toBe(0));
    c.block(); // p + 1: both still good
    // p + 2: the cap closes bob's order only; the price then puts alice under water
    const r = await price(c, usd(61_000));
    const cancels = eventsOf(r, 'clob.order_cancelled').map((e) => ({ owner: e.owner, client_id: e.client_id, reason: e.reason }));
    expect(cancels).toEqual([
      { owner: bob.address, client_id: '7', reason: 'expired' },
      { owner: alice.address, client_id: '5', reason: 'expired' },
      { owner: alice.address, client_id: '6', reason: 'liquidation' },
    ]);
    expect(eventsOf(r, 'liquidation.liquidated')).toHaveLength(1);
    expect(c.app.runInvariants()).toEqual([]);
  });
});
