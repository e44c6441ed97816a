import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { amendMsg, btc, cancelMsg, depositMsg, eventsOf, place, placeMsg, placeResponses, pricesMsg, usd, type OrderSpec } from '../helpers/orders.js';
import type { ExecTxResult } from '../../chain/types.js';

const keys = testKeys(8, 'clob');
const [authority, feeder, alice, bob, carol, dave] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey, TestKey];

async function setup(clob: Record<string, unknown> = {}) {
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: { ...marketsAppState(authority.address, [feeder.address]), clob } });
  c.block();
  const txs = [];
  for (const k of [alice, bob, carol, dave]) txs.push(await c.sign(k, [depositMsg(k.address, 100_000_000_000n)])); // $100,000 each
  c.block(txs).txResults.forEach(expectOk);
  return c;
}

const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;
async function one(c: TestChain, k: TestKey, o: OrderSpec) {
  const r = c.block([await place(c, k, o)]).txResults[0]!;
  return { r, out: placeResponses(r)[0] };
}
function book(c: TestChain, market = 0) {
  return c.queryJson<{ bids: Array<[string, string, number]>; asks: Array<[string, string, number]> }>(`clob/book/${market}`);
}
function sub(c: TestChain, k: TestKey, n = 0) {
  return c.queryJson(`subaccounts/subaccount/${k.address}/${n}`);
}

describe('limit orders and matching', () => {
  it('rests makers, fills a taker across levels at the makers’ prices, charges taker fee and pays maker rebate', async () => {
    const c = await setup();
    expectOk((await one(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })).r);
    expectOk((await one(c, bob, { clientId: 2, side: 'sell', price: usd(65_010), size: btc(0.2) })).r);
    expect(book(c).asks).toEqual([[usd(65_000).toString(), btc(0.1).toString(), 1], [usd(65_010).toString(), btc(0.2).toString(), 1]]);
    const { r, out } = await one(c, alice, { clientId: 1, side: 'buy', price: usd(65_020), size: btc(0.25) });
    expectOk(r);
    expect(out).toMatchObject({ status: 'filled', filled: btc(0.25), remaining: 0n });
    const fills = eventsOf(r, 'clob.fill');
    expect(fills.map((f) => [f.price, f.size])).toEqual([
      [usd(65_000).toString(), btc(0.1).toString()],
      [usd(65_010).toString(), btc(0.15).toString()],
    ]);
    // quotes: $6,500 and $9,751.50; taker fee 0.05% rounded up, maker rebate 0.01% rounded down
    expect(fills.map((f) => [f.taker_fee, f.maker_fee])).toEqual([
      ['3250000', '-650000'],
      ['4875750', '-975150'],
    ]);
    const a = sub(c, alice);
    expect(a.positions[0].size).toBe(btc(0.25).toString());
    expect(a.collateral).toBe((100_000_000_000n - 6_500_000_000n - 9_751_500_000n - 3_250_000n - 4_875_750n).toString());
    const b = sub(c, bob);
    expect(b.positions[0].size).toBe((-btc(0.25)).toString());
    expect(b.collateral).toBe((100_000_000_000n + 6_500_000_000n + 9_751_500_000n + 650_000n + 975_150n).toString());
    expect(book(c).asks).toEqual([[usd(65_010).toString(), btc(0.05).toString(), 1]]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('price-time priority: the earlier of two bids at one price fills first', async () => {
    const c = await setup();
    const t1 = await place(c, alice, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) });
    const t2 = await place(c, carol, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) });
    c.block([t1, t2]).txResults.forEach(expectOk);
    const r = (await one(c, bob, { clientId: 1, side: 'sell', price: usd(64_000), size: btc(0.1) })).r;
    expect(eventsOf(r, 'clob.fill')[0]!.maker_owner).toBe(alice.address);
    expect(sub(c, carol).positions).toEqual([]);
  });

  it('amend: a size decrease keeps queue priority, a price change loses it', async () => {
    const c = await setup();
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.2) }), await place(c, carol, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.2) })]);
    expectOk(c.block([await c.sign(alice, [amendMsg(alice.address, { clientId: 1 }, 0n, btc(0.1))])]).txResults[0]!);
    let fill = eventsOf((await one(c, bob, { clientId: 1, side: 'sell', price: usd(64_000), size: btc(0.05) })).r, 'clob.fill');
    expect(fill[0]!.maker_owner).toBe(alice.address); // still first
    // alice moves away and back: now behind carol
    expectOk(c.block([await c.sign(alice, [amendMsg(alice.address, { clientId: 1 }, usd(63_999), 0n)])]).txResults[0]!);
    expectOk(c.block([await c.sign(alice, [amendMsg(alice.address, { clientId: 1 }, usd(64_000), 0n)])]).txResults[0]!);
    fill = eventsOf((await one(c, bob, { clientId: 2, side: 'sell', price: usd(64_000), size: btc(0.05) })).r, 'clob.fill');
    expect(fill[0]!.maker_owner).toBe(carol.address);
    // an amend that would cross is refused (amends never take liquidity)
    c.block([await place(c, bob, { clientId: 3, side: 'sell', price: usd(65_000), size: btc(0.01) })]);
    const cross2 = c.block([await c.sign(carol, [amendMsg(carol.address, { clientId: 1 }, usd(66_000), 0n)])]).txResults[0]!;
    expect(code(cross2)).toBe('clob/16');
  });
});

describe('time in force', () => {
  it('IOC cancels the rest; market orders respect their bound; FOK is all or nothing', async () => {
    const c = await setup();
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) }), await place(c, bob, { clientId: 2, side: 'sell', price: usd(65_100), size: btc(0.1) })]);
    let { out, r } = await one(c, alice, { clientId: 1, side: 'buy', tif: 'ioc', price: usd(65_050), size: btc(0.3) });
    expect(out).toMatchObject({ status: 'partially_filled', filled: btc(0.1), remaining: btc(0.2), reason: 'ioc_unfilled_rest' });
    expect(book(c).bids).toEqual([]);
    ({ out } = await one(c, alice, { clientId: 2, side: 'buy', tif: 'fok', price: usd(65_100), size: btc(0.2) }));
    expect(out).toMatchObject({ status: 'cancelled', filled: 0n, reason: 'fok_not_fillable' });
    expect(book(c).asks).toEqual([[usd(65_100).toString(), btc(0.1).toString(), 1]]);
    ({ out } = await one(c, alice, { clientId: 3, side: 'buy', tif: 'fok', price: usd(65_100), size: btc(0.1) }));
    expect(out).toMatchObject({ status: 'filled', filled: btc(0.1) });
    c.block([await place(c, bob, { clientId: 3, side: 'sell', price: usd(65_000), size: btc(0.1) }), await place(c, bob, { clientId: 4, side: 'sell', price: usd(80_000), size: btc(0.1) })]);
    ({ out, r } = await one(c, alice, { clientId: 4, side: 'buy', type: 'market', size: btc(0.2) })); // default bound oracle + 5%
    expect(out).toMatchObject({ status: 'partially_filled', filled: btc(0.1), reason: 'market_order_unfilled_rest' });
    ({ out } = await one(c, alice, { clientId: 5, side: 'buy', type: 'market', price: usd(80_000), size: btc(0.1) }));
    expect(out).toMatchObject({ status: 'filled' });
    expectOk(r);
  });

  it('post-only rests when it does not cross and is cancelled (not executed) when it would', async () => {
    const c = await setup();
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })]);
    let { out } = await one(c, alice, { clientId: 1, side: 'buy', tif: 'post_only', price: usd(65_000), size: btc(0.1) });
    expect(out).toMatchObject({ status: 'cancelled', reason: 'post_only_would_cross' });
    ({ out } = await one(c, alice, { clientId: 2, side: 'buy', tif: 'post_only', price: usd(64_999), size: btc(0.1) }));
    expect(out).toMatchObject({ status: 'resting' });
  });
});

describe('reduce-only, self-trade prevention, batches', () => {
  it('reduce-only is refused without a position and clipped to the position', async () => {
    const c = await setup();
    const bad = (await one(c, alice, { clientId: 1, side: 'sell', price: usd(60_000), size: btc(0.1), reduceOnly: true })).r;
    expect(code(bad)).toBe('clob/9');
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })]);
    c.block([await place(c, alice, { clientId: 2, side: 'buy', price: usd(65_000), size: btc(0.1) })]);
    c.block([await place(c, carol, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(1) })]);
    const { out } = await one(c, alice, { clientId: 3, side: 'sell', price: usd(64_000), size: btc(0.5), reduceOnly: true });
    expect(out).toMatchObject({ filled: btc(0.1) });
    expect(sub(c, alice).positions).toEqual([]);
  });

  it('self-trade prevention: cancel resting, cancel taking, cancel both', async () => {
    for (const [mode, makerLeft, takerStatus] of [
      ['cancel_resting', false, 'resting'],
      ['cancel_taking', true, 'cancelled'],
      ['cancel_both', false, 'cancelled'],
    ] as const) {
      const c = await setup();
      c.block([await place(c, alice, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })]);
      const { out, r } = await one(c, alice, { clientId: 2, side: 'buy', price: usd(65_000), size: btc(0.1), stp: mode });
      expectOk(r);
      expect(eventsOf(r, 'clob.fill')).toEqual([]);
      expect(out!.status, mode).toBe(takerStatus);
      expect(book(c).asks.length > 0, mode).toBe(makerLeft);
    }
  });

  it('a batch of places and cancels in one tx is atomic', async () => {
    const c = await setup();
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) })]);
    const ok = await c.sign(alice, [cancelMsg(alice.address, { clientId: 1 }), placeMsg(alice.address, { clientId: 2, side: 'buy', price: usd(64_100), size: btc(0.1) }), placeMsg(alice.address, { clientId: 3, side: 'sell', price: usd(66_000), size: btc(0.1) })], { gas: 800_000n });
    const r = c.block([ok]).txResults[0]!;
    expectOk(r);
    expect(placeResponses(r).map((x) => x.status)).toEqual(['resting', 'resting']);
    expect(book(c).bids).toEqual([[usd(64_100).toString(), btc(0.1).toString(), 1]]);
    // one bad message (size not a step multiple) → nothing of the batch happens
    const bad = await c.sign(alice, [cancelMsg(alice.address, { clientId: 2 }), placeMsg(alice.address, { clientId: 4, side: 'buy', price: usd(64_000), size: 12345n })], { gas: 800_000n });
    expect(code(c.block([bad]).txResults[0]!)).toBe('clob/4');
    expect(book(c).bids).toEqual([[usd(64_100).toString(), btc(0.1).toString(), 1]]);
  });
});

describe('expiry, triggers and margin', () => {
  it('good-til-block and good-til-time orders are removed at the start of the first block past their expiry', async () => {
    const c = await setup();
    const h = c.app.height + 1n;
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1), gtb: h + 1n })]);
    expect(book(c).bids.length).toBe(1);
    const r1 = c.block(); // height h+1: still valid
    expect(eventsOf(r1, 'clob.order_cancelled')).toEqual([]);
    expect(book(c).bids.length).toBe(1);
    const r2 = c.block(); // h+2: expired at begin block
    expect(eventsOf(r2, 'clob.order_cancelled')[0]).toMatchObject({ reason: 'expired', mode: 'BeginBlock' });
    expect(book(c).bids).toEqual([]);
    const now = c.timeNs / 1_000_000_000n;
    c.block([await place(c, alice, { clientId: 2, side: 'buy', price: usd(64_000), size: btc(0.1), gtt: now + 3n })]);
    c.block([], 2_000_000_000n);
    expect(book(c).bids.length).toBe(1);
    const r3 = c.block([], 2_000_000_000n);
    expect(eventsOf(r3, 'clob.order_cancelled')[0]).toMatchObject({ reason: 'expired' });
    // expiry in the past or too far ahead
    expect(code((await one(c, alice, { clientId: 3, side: 'buy', price: usd(64_000), size: btc(0.1), gtb: 1n })).r)).toBe('clob/10');
    expect(code((await one(c, alice, { clientId: 4, side: 'buy', price: usd(64_000), size: btc(0.1), gtb: c.app.height + 1_000_000n })).r)).toBe('clob/10');
  });

  it('stop and take-profit orders fire at the end of the block the oracle crosses their trigger', async () => {
    const c = await setup();
    // alice long 0.1 BTC from bob; carol bids below; alice sets a stop-loss sell at $60,000
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })]);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.1) }), await place(c, carol, { clientId: 1, side: 'buy', price: usd(59_000), size: btc(1) })]);
    const { out } = await one(c, alice, { clientId: 2, side: 'sell', type: 'stop_market', size: btc(0.1), trigger: usd(60_000), reduceOnly: true });
    expect(out).toMatchObject({ status: 'untriggered' });
    const r1 = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(61_000)]])])]);
    expect(eventsOf(r1, 'clob.order_triggered')).toEqual([]);
    const r2 = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(59_500)]])])]);
    expect(eventsOf(r2, 'clob.order_triggered')[0]).toMatchObject({ trigger_price: usd(60_000).toString(), oracle_price: usd(59_500).toString() });
    const fill = eventsOf(r2, 'clob.fill')[0]!;
    expect(fill).toMatchObject({ taker_owner: alice.address, price: usd(59_000).toString(), mode: 'EndBlock' });
    expect(sub(c, alice).positions).toEqual([]);
    // take-profit buy for carol (now long) is a no-op check: a TP sell above
    const tp = await one(c, carol, { clientId: 2, side: 'sell', type: 'take_profit_limit', price: usd(60_000), size: btc(0.1), trigger: usd(60_000) });
    expect(tp.out).toMatchObject({ status: 'untriggered' });
    const r3 = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(60_100)]])])]);
    expect(eventsOf(r3, 'clob.order_triggered').length).toBe(1);
    expect(book(c).asks).toEqual([[usd(60_000).toString(), btc(0.1).toString(), 1]]);
  });

  it('refuses an order that would break the initial margin, naming the shortfall', async () => {
    const c = await setup();
    // $100,000 at 5% IMF buys at most ~$2,000,000 of BTC: 40 BTC at $65,000 is $2.6M
    const { r } = await one(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(40) });
    expect(code(r)).toBe('clob/15');
    expect(r.log).toMatch(/shortfall/);
    // the worst case includes the other open orders on the same side
    expectOk((await one(c, alice, { clientId: 2, side: 'buy', price: usd(65_000), size: btc(20) })).r);
    expect(code((await one(c, alice, { clientId: 3, side: 'buy', price: usd(65_000), size: btc(15) })).r)).toBe('clob/15');
    // the other side is independent
    expectOk((await one(c, alice, { clientId: 4, side: 'sell', price: usd(70_000), size: btc(15) })).r);
  });

  it('refuses risk-increasing orders in halted, reduce-only and stale markets', async () => {
    const c = await setup();
    for (let i = 0; i < 7; i++) c.block([], 10_000_000_000n); // 70 s without oracle reports
    expect(code((await one(c, alice, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) })).r)).toBe('clob/14');
  });
});

describe('bad input', () => {
  it('CheckTx refuses what the market alone rules out (unknown market, price, trigger or size off the grid), before it costs a fee', async () => {
    const c = await setup();
    const cases: Array<[OrderSpec, string]> = [
      [{ clientId: 1, side: 'buy', market: 42, price: usd(64_000), size: btc(0.1) }, 'perpetuals/2'],
      [{ clientId: 1, side: 'buy', price: usd(64_000) + 1n, size: btc(0.1) }, 'clob/3'],
      [{ clientId: 1, side: 'sell', type: 'stop_market', size: btc(0.1), trigger: usd(60_000) + 1n }, 'clob/3'],
      [{ clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) + 1n }, 'clob/4'],
    ];
    const seq = BigInt(c.queryJson(`auth/account/${alice.address}`).sequence);
    for (const [o, want] of cases) {
      const r = c.app.checkTx({ tx: await c.sign(alice, [placeMsg(alice.address, o)], { sequence: seq }), type: 'new' });
      expect(`${r.codespace}/${r.code}`, JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(want);
    }
    // a valid one still passes CheckTx
    expect(c.app.checkTx({ tx: await c.sign(alice, [placeMsg(alice.address, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) })], { sequence: seq }), type: 'new' }).code).toBe(0);
  });

  it('each a typed error; nothing changes; other traders untouched', async () => {
    const c = await setup({ params: { max_open_orders: 2 } });
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(66_000), size: btc(0.1) })]);
    const before = book(c);
    const cases: Array<[OrderSpec, string]> = [
      [{ clientId: 1, side: 'buy', market: 42, price: usd(64_000), size: btc(0.1) }, 'perpetuals/2'],
      [{ clientId: 1, side: 'buy', price: usd(64_000) + 1n, size: btc(0.1) }, 'clob/3'],
      [{ clientId: 1, side: 'sell', type: 'stop_market', size: btc(0.1), trigger: usd(60_000) + 1n }, 'clob/3'], // a trigger off the tick grid too
      [{ clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) + 1n }, 'clob/4'],
      [{ clientId: 1, side: 'buy', price: usd(64_000), size: 0n }, 'clob/2'],
      [{ clientId: 1, side: 'buy', price: 0n, size: btc(0.1) }, 'clob/2'],
      [{ clientId: 1, side: 'buy', price: 2n ** 63n, size: btc(0.1) }, 'clob/19'],
      [{ clientId: 1, side: 'buy', price: usd(64_000), size: 2n ** 60n }, 'clob/19'],
    ];
    for (const [o, want] of cases) {
      const r = (await one(c, alice, o)).r;
      expect(code(r), JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(want);
      expect(r.log.length).toBeGreaterThan(10);
    }
    // duplicate client id, too many open orders
    expectOk((await one(c, alice, { clientId: 7, side: 'buy', price: usd(64_000), size: btc(0.1) })).r);
    expect(code((await one(c, alice, { clientId: 7, side: 'buy', price: usd(63_000), size: btc(0.1) })).r)).toBe('clob/6');
    expectOk((await one(c, alice, { clientId: 8, side: 'buy', price: usd(63_000), size: btc(0.1) })).r);
    expect(code((await one(c, alice, { clientId: 9, side: 'buy', price: usd(62_000), size: btc(0.1) })).r)).toBe('clob/11');
    // cancel: not yours, does not exist
    const bobOrder = c.queryJson(`clob/orders/${bob.address}/0`)[0].id;
    expect(code(c.block([await c.sign(alice, [cancelMsg(alice.address, { orderId: BigInt(bobOrder) })])]).txResults[0]!)).toBe('clob/8');
    expect(code(c.block([await c.sign(alice, [cancelMsg(alice.address, { orderId: 999_999n })])]).txResults[0]!)).toBe('clob/7');
    // a cancelled client id stays reserved (a retried submission cannot duplicate the order)
    expectOk(c.block([await c.sign(alice, [cancelMsg(alice.address, { clientId: 7 })])]).txResults[0]!);
    const dup = (await one(c, alice, { clientId: 7, side: 'buy', price: usd(64_000), size: btc(0.1) })).r;
    expect(code(dup)).toBe('clob/6');
    expect(dup.log).toMatch(/reused from height/);
    expect(book(c).asks).toEqual(before.asks);
    expect(c.app.runInvariants()).toEqual([]);
  });
});
