import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { amendMsg, btc, cancelMsg, depositMsg, eventsOf, place, usd } from '../helpers/orders.js';
import { marketToProto } from '../../modules/perpetuals/index.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * Amend and cancel rules a trader meets (README "Amend"): an amend that changes nothing keeps its place in the
 * queue; an amend that adds risk (a buy moved up, a larger size) passes the placement margin rule and needs a
 * fresh oracle price, while one that only reduces risk needs neither; the amended size obeys the market's
 * minimum; an untriggered conditional order cannot be amended; and an order belongs to one subaccount, not
 * to every subaccount of its owner. Devnet BTC-USD, oracle $65,000, IMF 5%, taker fee 0.05%.
 */
const keys = testKeys(6, 'clob-amend');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

async function setup(deposits: Array<[TestKey, bigint]>): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: marketsAppState(authority.address, [feeder.address]) });
  c.block();
  const txs = [];
  for (const [k, amount] of deposits) txs.push(await c.sign(k, [depositMsg(k.address, amount)]));
  c.block(txs).txResults.forEach(expectOk);
  return c;
}
async function amend(c: TestChain, k: TestKey, sel: { orderId?: bigint; clientId?: number; number?: number }, price: bigint, size: bigint) {
  return c.block([await c.sign(k, [amendMsg(k.address, sel, price, size)])]).txResults[0]!;
}
const bids = (c: TestChain) => c.queryJson<{ bids: Array<[string, string, number]> }>('clob/book/0').bids;

describe('amend', () => {
  it('an amend to the same price and size keeps queue priority', async () => {
    const c = await setup([[alice, 100_000_000_000n], [bob, 100_000_000_000n], [carol, 100_000_000_000n]]);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) }), await place(c, carol, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) })]).txResults.forEach(expectOk);
    expectOk(await amend(c, alice, { clientId: 1 }, usd(64_000), 0n)); // price restated, size unchanged
    expectOk(await amend(c, alice, { clientId: 1 }, 0n, btc(0.1))); // size restated, price unchanged
    const r = c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(64_000), size: btc(0.05) })]).txResults[0]!;
    expect(eventsOf(r, 'clob.fill').map((f) => f.maker_owner)).toEqual([alice.address]);
  });

  it('an order amended down (keeping priority) fills no more than its new size', async () => {
    const c = await setup([[alice, 100_000_000_000n], [bob, 100_000_000_000n]]);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.2) })]).txResults[0]!);
    expectOk(await amend(c, alice, { clientId: 1 }, 0n, btc(0.1)));
    expect(bids(c)).toEqual([[usd(64_000).toString(), btc(0.1).toString(), 1]]);
    const r = c.block([await place(c, bob, { clientId: 1, side: 'sell', tif: 'ioc', price: usd(64_000), size: btc(0.2) })]).txResults[0]!;
    expect(eventsOf(r, 'clob.fill').map((f) => [f.maker_owner, f.size])).toEqual([[alice.address, btc(0.1).toString()]]);
    expect(c.queryJson(`subaccounts/subaccount/${alice.address}/0`).positions[0].size).toBe(btc(0.1).toString());
    expect(bids(c)).toEqual([]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('an amend that adds risk passes the placement margin rule: a buy moved up, or a larger size', async () => {
    // $2,000 each. A buy below the oracle is worth more than it costs (the position is valued at the oracle):
    // 0.65 BTC @ $60,000 leaves NC $5,230.50 ≥ IMR $2,112.50. Moved up to $65,000 NC is $1,978.875 < $2,112.50.
    const c = await setup([[alice, 2_000_000_000n], [bob, 2_000_000_000n]]);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.65) })]).txResults[0]!);
    const up = await amend(c, alice, { clientId: 1 }, usd(65_000), 0n);
    expect(code(up)).toBe('clob/15');
    expect(bids(c)).toEqual([[usd(60_000).toString(), btc(0.65).toString(), 1]]);
    // bob: 0.5 BTC @ $65,000 (NC $1,983.75, IMR $1,625); 0.7 BTC needs IMR $2,275 > NC $1,977.25; 0.6 BTC fits (IMR $1,950 ≤ $1,980.50)
    expectOk(c.block([await place(c, bob, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.5) })]).txResults[0]!);
    expect(code(await amend(c, bob, { clientId: 1 }, 0n, btc(0.7)))).toBe('clob/15');
    expectOk(await amend(c, bob, { clientId: 1 }, 0n, btc(0.6)));
  });

  it('with a stale oracle price an amend that adds risk is refused; one that reduces risk goes through', async () => {
    const c = await setup([[alice, 100_000_000_000n]]);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.1) })]).txResults[0]!);
    for (let i = 0; i < 7; i++) c.block([], 10_000_000_000n); // 70 s without an oracle report (threshold 60 s)
    expect(code(await amend(c, alice, { clientId: 1 }, 0n, btc(0.2)))).toBe('clob/14');
    expect(code(await amend(c, alice, { clientId: 1 }, usd(61_000), 0n))).toBe('clob/14');
    expectOk(await amend(c, alice, { clientId: 1 }, 0n, btc(0.05)));
    expectOk(await amend(c, alice, { clientId: 1 }, usd(59_000), 0n));
    expect(bids(c)).toEqual([[usd(59_000).toString(), btc(0.05).toString(), 1]]);
  });

  it('the amended size obeys min_order_size', async () => {
    const c = await setup([[alice, 100_000_000_000n]]);
    // raise BTC-USD's minimum to two steps
    const m = c.app.keepers.perpetuals.market(c.app.state, 0)!;
    const update = { typeUrl: '/perpchain.perpetuals.v1.MsgUpdateMarket', value: { authority: authority.address, market: marketToProto({ ...m, minOrderSize: 2n * m.stepSize }) } };
    expectOk(c.block([await c.sign(authority, [update])]).txResults[0]!);
    expect(code(c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(60_000), size: m.stepSize })]).txResults[0]!)).toBe('clob/5');
    expectOk(c.block([await place(c, alice, { clientId: 2, side: 'buy', price: usd(60_000), size: 3n * m.stepSize })]).txResults[0]!);
    expect(code(await amend(c, alice, { clientId: 2 }, 0n, m.stepSize))).toBe('clob/5');
    expectOk(await amend(c, alice, { clientId: 2 }, 0n, 2n * m.stepSize));
  });

  it('an untriggered stop order cannot be amended (cancel and place it again)', async () => {
    const c = await setup([[alice, 100_000_000_000n]]);
    expectOk(c.block([await place(c, alice, { clientId: 1, side: 'buy', type: 'stop_limit', price: usd(70_000), size: btc(0.1), trigger: usd(70_000) })]).txResults[0]!);
    const r = await amend(c, alice, { clientId: 1 }, usd(71_000), 0n);
    expect(code(r)).toBe('clob/2');
    expect(r.log).toMatch(/untriggered/);
    expect(c.queryJson(`clob/orders/${alice.address}/0`)[0]).toMatchObject({ price: usd(70_000).toString() });
  });
});

describe('an order belongs to its subaccount', () => {
  it('another subaccount of the same owner cannot cancel or amend it', async () => {
    const c = await setup([[alice, 100_000_000_000n]]);
    const placed = c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(60_000), size: btc(0.1) })]).txResults[0]!;
    const orderId = BigInt(eventsOf(placed, 'clob.order_placed')[0]!.order_id!);
    expect(code(c.block([await c.sign(alice, [cancelMsg(alice.address, { orderId, number: 1 })])]).txResults[0]!)).toBe('clob/8');
    expect(code(await amend(c, alice, { orderId, number: 1 }, usd(59_000), 0n))).toBe('clob/8');
    expect(code(c.block([await c.sign(alice, [cancelMsg(alice.address, { clientId: 1, number: 1 })])]).txResults[0]!)).toBe('clob/7'); // no such client id there
    expect(bids(c)).toEqual([[usd(60_000).toString(), btc(0.1).toString(), 1]]);
    expectOk(c.block([await c.sign(alice, [cancelMsg(alice.address, { orderId })])]).txResults[0]!);
    expect(bids(c)).toEqual([]);
  });
});
