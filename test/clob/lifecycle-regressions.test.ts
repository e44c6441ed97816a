import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../chain/app.js';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { DEVNET_INITIAL_PRICES, DEVNET_MARKETS, marketsAppState } from '../../chain/devnet/markets.js';
import { amendMsg, btc, depositMsg, eventsOf, place, placeMsg, placeResponses, pricesMsg, usd, type OrderSpec } from '../helpers/orders.js';
import { marketToProto } from '../../modules/perpetuals/index.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * Order-lifecycle defects found by an adversarial review of the order book (each test failed before its
 * fix): conditional orders, reduce-only clipping, the book's size limit, reduce-only markets.
 * Devnet markets: BTC-USD at $65,000 (price units of $0.00001, 10^10 quantums per BTC).
 */
const keys = testKeys(6, 'lifecycle');
const [authority, feeder, alice, bob, carol, dave] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey, TestKey];

async function setup(appState: Record<string, unknown> = marketsAppState(authority.address, [feeder.address])): Promise<TestChain> {
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState });
  c.block();
  c.block(await Promise.all([alice, bob, carol, dave].map((k) => c.sign(k, [depositMsg(k.address, 100_000_000_000n)])))).txResults.forEach(expectOk);
  return c;
}
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;
async function one(c: TestChain, k: TestKey, o: OrderSpec) {
  const r = c.block([await place(c, k, o)]).txResults[0]!;
  return { r, out: placeResponses(r)[0] };
}
const position = (c: TestChain, k: TestKey) => c.queryJson<{ positions: Array<{ market_id: number; size: string }> }>(`subaccounts/subaccount/${k.address}/0`).positions.find((p) => p.market_id === 0)?.size ?? '0';
const oracleTo = async (c: TestChain, price: bigint) => c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, price]])])]);
async function setStatus(c: TestChain, status: 'reduce_only' | 'halted' | 'active') {
  const m = c.app.keepers.perpetuals.market(c.app.state, 0);
  const msg = { typeUrl: '/perpchain.perpetuals.v1.MsgUpdateMarket', value: { authority: authority.address, market: marketToProto({ ...m!, status }) } };
  expectOk(c.block([await c.sign(authority, [msg])]).txResults[0]!);
}

describe('conditional orders', () => {
  it('a stop order fires once, even when a failed tx had placed one under the same id, on a running and a restarted node alike', async () => {
    // The failed tx's trigger entry stayed in memory; the id counter rolled back, so the next stop order got the
    // same id and both entries fired it: 0.2 BTC from a 0.1 BTC order, and only on nodes that had not restarted.
    const c = await setup();
    const dir = mkdtempSync(join(tmpdir(), 'perpchain-trigger-'));
    const disk = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: c.appState, dbPath: join(dir, 'state.db') });
    const blocks: Uint8Array[][] = [[], await Promise.all([alice, bob, carol, dave].map((k) => disk.sign(k, [depositMsg(k.address, 100_000_000_000n)])))];
    for (const b of blocks) disk.block(b);
    const both = (txs: Uint8Array[]) => {
      disk.block(txs);
      return c.block(txs);
    };
    both([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_500), size: btc(1) })]);
    const failed = both([
      await c.sign(alice, [
        placeMsg(alice.address, { clientId: 10, side: 'buy', type: 'stop_market', size: btc(0.1), trigger: usd(65_400) }),
        placeMsg(alice.address, { clientId: 10, side: 'buy', type: 'stop_market', size: btc(0.1), trigger: usd(65_400) }),
      ], { gas: 800_000n }),
    ]);
    expect(code(failed.txResults[0]!)).toBe('clob/6');
    both([await place(c, alice, { clientId: 11, side: 'buy', type: 'stop_market', size: btc(0.1), trigger: usd(65_400) })]);
    disk.app.close();
    disk.reopen(App.open({ dbPath: join(dir, 'state.db') })); // rebuilt from the store: no stale trigger entry
    const r = both([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(65_450)]])])]);
    expect(eventsOf(r, 'clob.order_triggered')).toHaveLength(1);
    expect(eventsOf(r, 'clob.fill').map((f) => f.size)).toEqual([btc(0.1).toString()]);
    expect(position(c, alice)).toBe(btc(0.1).toString());
    expect(Buffer.from(disk.app.appHash).toString('hex')).toBe(Buffer.from(c.app.appHash).toString('hex'));
    expect(c.app.runInvariants()).toEqual([]);
    disk.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a stale trigger entry of one market does not fire another market\'s order that reused its id', async () => {
    // The failed tx left a BTC trigger entry for id N; id N then went to an ETH stop ($3,100 with ETH at $3,000),
    // and BTC's move fired it at BTC's price, on nodes that had not restarted only.
    const c = await setup();
    const failed = c.block([
      await c.sign(alice, [
        placeMsg(alice.address, { clientId: 20, side: 'buy', type: 'stop_market', size: btc(0.1), trigger: usd(65_400) }),
        placeMsg(alice.address, { clientId: 20, side: 'buy', type: 'stop_market', size: btc(0.1), trigger: usd(65_400) }),
      ], { gas: 800_000n }),
    ]);
    expect(code(failed.txResults[0]!)).toBe('clob/6');
    const eth = c.block([await place(c, alice, { market: 1, clientId: 21, side: 'buy', type: 'stop_market', size: 10_000_000_000n, trigger: 3_100_000_000n })]).txResults[0]!;
    expect(placeResponses(eth)[0]!.status).toBe('untriggered');
    const r = await oracleTo(c, usd(65_450)); // BTC moves; ETH stays at $3,000
    expect(eventsOf(r, 'clob.order_triggered')).toEqual([]);
  });

  it('a triggered order whose owner is at the position limit is cancelled; the makers it would have hit stay', async () => {
    const st = marketsAppState(authority.address, [feeder.address]) as { perpetuals: { markets: unknown[] }; prices: { prices: unknown[] } };
    for (let id = 2; id <= 32; id++) {
      st.perpetuals.markets.push({ ...DEVNET_MARKETS[1], id, ticker: `X${id}-USD` });
      st.prices.prices.push({ market_id: id, price: DEVNET_INITIAL_PRICES[1]!.price });
    }
    const c = await setup(st as Record<string, unknown>);
    expect(placeResponses(c.block([await place(c, alice, { clientId: 1, side: 'buy', type: 'stop_market', size: btc(0.1), trigger: usd(65_400) })]).txResults[0]!)[0]!.status).toBe('untriggered');
    const asks = [];
    const buys = [];
    for (let m = 1; m <= 32; m++) {
      asks.push(placeMsg(bob.address, { market: m, clientId: 100 + m, side: 'sell', price: 3_000_000_000n, size: 1_000_000n }));
      buys.push(placeMsg(alice.address, { market: m, clientId: 100 + m, side: 'buy', price: 3_000_000_000n, size: 1_000_000n }));
    }
    expectOk(c.block([await c.sign(bob, asks, { gas: 20_000_000n })]).txResults[0]!);
    expectOk(c.block([await c.sign(alice, buys, { gas: 20_000_000n })]).txResults[0]!);
    c.block([await place(c, dave, { clientId: 1, side: 'sell', price: usd(65_500), size: btc(0.5) }), await place(c, carol, { clientId: 1, side: 'sell', price: usd(65_600), size: btc(0.5) })]).txResults.forEach(expectOk);
    const r = await oracleTo(c, usd(65_450));
    const cancelled = eventsOf(r, 'clob.order_cancelled');
    expect(cancelled.map((e) => [e.owner === alice.address, e.reason])).toEqual([[true, 'trigger_failed: too_many_positions']]);
    expect(c.queryJson<{ asks: unknown[] }>('clob/book/0').asks).toHaveLength(2);
  });

  it('a triggered order is not counted twice in its own margin check', async () => {
    const c = await setup();
    expectOk((await one(c, bob, { clientId: 1, side: 'sell', price: usd(65_500), size: btc(30) })).r);
    // $100k of collateral carries a 20 BTC buy at this price (checked directly below), but not two of them
    expect((await one(c, alice, { clientId: 2, side: 'buy', type: 'stop_limit', price: usd(65_500), size: btc(20), trigger: usd(65_400) })).out!.status).toBe('untriggered');
    const r = await oracleTo(c, usd(65_450));
    expect(eventsOf(r, 'clob.order_cancelled').map((e) => e.reason)).toEqual([]);
    expect(eventsOf(r, 'clob.fill').map((f) => f.size)).toEqual([btc(20).toString()]);
  });

  it('a triggered stop-limit queues behind orders that rested before it fired', async () => {
    const c = await setup();
    expect((await one(c, alice, { clientId: 1, side: 'sell', type: 'stop_limit', price: usd(66_000), size: btc(0.1), trigger: usd(64_000) })).out!.status).toBe('untriggered');
    expectOk((await one(c, bob, { clientId: 1, side: 'sell', price: usd(66_000), size: btc(0.1) })).r);
    expect(eventsOf(await oracleTo(c, usd(63_900)), 'clob.order_triggered')).toHaveLength(1);
    const { r } = await one(c, carol, { clientId: 1, side: 'buy', price: usd(66_000), size: btc(0.1) });
    expect(eventsOf(r, 'clob.fill').map((f) => f.maker_owner)).toEqual([bob.address]);
  });
});

describe('reduce-only', () => {
  it('a reduce-only maker whose fill closes its position leaves the book; the taker\'s remainder rests', async () => {
    const c = await setup();
    expectOk((await one(c, carol, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.2) })).r);
    expectOk((await one(c, bob, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.2) })).r);
    expectOk((await one(c, bob, { clientId: 2, side: 'sell', price: usd(66_000), size: btc(0.2), reduceOnly: true })).r);
    expectOk((await one(c, dave, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) })).r);
    expectOk((await one(c, bob, { clientId: 3, side: 'sell', tif: 'ioc', price: usd(64_000), size: btc(0.1) })).r); // bob now long 0.1
    const { r, out } = await one(c, alice, { clientId: 1, side: 'buy', price: usd(66_000), size: btc(0.3) });
    expect(out).toMatchObject({ status: 'partially_filled', filled: btc(0.1), remaining: btc(0.2), reason: '' });
    expect(eventsOf(r, 'clob.order_cancelled').map((e) => [e.owner === bob.address, e.reason])).toEqual([[true, 'reduce_only_position_closed']]);
    expect(position(c, bob)).toBe('0');
    const book = c.queryJson<{ bids: Array<[string, string]>; asks: unknown[] }>('clob/book/0');
    expect(book.asks).toEqual([]);
    expect(book.bids[0]!.slice(0, 2)).toEqual([usd(66_000).toString(), btc(0.2).toString()]);
    expect(c.app.runInvariants()).toEqual([]);
  });

  for (const tif of ['fok', 'gtc', 'ioc'] as const) {
    it(`a ${tif} reduce-only order larger than the position is clipped to it, says so, and fills as that order`, async () => {
      // FOK reported partially_filled with reason fok_not_fillable; gtc and ioc reported the same catch-all reason.
      const c = await setup();
      expectOk((await one(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })).r);
      expectOk((await one(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.1) })).r);
      expectOk((await one(c, carol, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(1) })).r);
      const { r, out } = await one(c, alice, { clientId: 2, side: 'sell', tif, price: usd(64_000), size: btc(0.5), reduceOnly: true });
      expect(out).toMatchObject({ status: 'filled', filled: btc(0.1), remaining: 0n, reason: '' });
      expect(eventsOf(r, 'clob.order_clipped').map((e) => [e.quantity, e.new_quantity])).toEqual([[btc(0.5).toString(), btc(0.1).toString()]]);
      expect(position(c, alice)).toBe('0');
    });
  }
});

describe('limits and market status', () => {
  it('resting more than 2^53 quantums on one side is a typed error, and a triggered order hitting it is cancelled, not a halt', async () => {
    const c = await setup();
    const far = usd(1_000_000);
    expectOk((await one(c, alice, { clientId: 1, side: 'sell', price: far, size: 4_500_000_000_000_000n })).r);
    const second = await one(c, alice, { clientId: 2, side: 'sell', price: far, size: 4_600_000_000_000_000n });
    expect(code(second.r)).toBe('clob/22');
    expect(second.r.log).toContain('2^53');
    const r = c.block([await place(c, bob, { clientId: 1, side: 'sell', type: 'stop_limit', price: far, size: 4_600_000_000_000_000n, trigger: usd(65_000) })]);
    expect(eventsOf(r, 'clob.order_cancelled').map((e) => e.reason)).toEqual(['trigger_failed: book_side_full']);
    expect(c.app.runInvariants()).toEqual([]);
  });

  it('a reduce-only market refuses amends that keep risk open and fires no risk-increasing triggers', async () => {
    const c = await setup();
    expectOk((await one(c, alice, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.1) })).r);
    expectOk((await one(c, bob, { clientId: 1, side: 'sell', price: usd(65_500), size: btc(1) })).r);
    expect((await one(c, carol, { clientId: 1, side: 'buy', type: 'stop_market', size: btc(0.5), trigger: usd(65_400) })).out!.status).toBe('untriggered');
    await setStatus(c, 'reduce_only');
    const amend = c.block([await c.sign(alice, [amendMsg(alice.address, { clientId: 1 }, usd(64_500), btc(10))])]).txResults[0]!;
    expect(code(amend)).toBe('clob/13');
    const r = await oracleTo(c, usd(65_450));
    expect(eventsOf(r, 'clob.order_cancelled').map((e) => e.reason)).toEqual(['trigger_failed: market_reduce_only']);
    expect(position(c, carol)).toBe('0');
  });
});
