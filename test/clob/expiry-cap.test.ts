import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../chain/app.js';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { amendMsg, btc, depositMsg, eventsOf, place, placeMsg, placeResponses, pricesMsg, usd, withdrawMsg } from '../helpers/orders.js';
import type { ExecTxResult, FinalizeBlockResult } from '../../chain/types.js';

/**
 * Expiries run at the start of a block under no gas meter, so they are capped (max_expiries_per_block): the
 * rest wait for the next blocks, in (expiry, order id) order, and until then an expired order must not trade,
 * fire, or block a post-only placement or an amend. Nodes that restarted in between remove the same orders.
 * Devnet markets: BTC-USD at $65,000 (price units of $0.00001, 10^10 quantums per BTC). Orders at $130,000
 * rest on the margin of their own price; the zero-collateral tier lets alice rest as many as the test needs.
 */
const keys = testKeys(5, 'expiry-cap');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

function chainWith(cap: number, dbPath?: string): TestChain {
  const clob = { params: { max_expiries_per_block: cap, open_order_tiers: [{ min_net_collateral: '0', max_open_orders: 256 }] } };
  const appState = { ...marketsAppState(authority.address, [feeder.address]), clob };
  return TestChain.create({ keys, balance: 10_000_000_000_000n, appState, ...(dbPath ? { dbPath } : {}) });
}

const expiredIds = (r: { events: FinalizeBlockResult['events'] }) =>
  eventsOf(r, 'clob.order_cancelled')
    .filter((e) => e.reason === 'expired')
    .map((e) => Number(e.order_id));

/** The block's own events plus those of its txs. */
const allEvents = (r: FinalizeBlockResult) => ({ events: [...r.events, ...r.txResults.flatMap((t) => t.events)] });

async function fund(c: TestChain): Promise<void> {
  c.block();
  c.block(await Promise.all([alice, bob, carol].map((k) => c.sign(k, [depositMsg(k.address, 100_000_000_000n)])))).txResults.forEach(expectOk);
}

/** `n` asks of alice at `price`, good til block `gtb`, in one tx. */
async function asks(c: TestChain, n: number, price: bigint, gtb: bigint, firstClientId = 100): Promise<Uint8Array> {
  const msgs = Array.from({ length: n }, (_, i) => placeMsg(alice.address, { clientId: firstClientId + i, side: 'sell', price, size: btc(0.001), gtb }));
  return c.sign(alice, msgs, { gas: 10_000_000n });
}

describe('max_expiries_per_block', () => {
  it('removes at most the cap per block, in order id order, the rest in the next blocks; a reopened node removes the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpchain-expiry-cap-'));
    try {
      const mem = chainWith(3);
      const disk = chainWith(3, join(dir, 'state.db'));
      const both = (txs: Uint8Array[]) => {
        const r = mem.block(txs);
        expect(disk.block(txs).appHash).toEqual(r.appHash);
        return r;
      };
      both([]);
      both(await Promise.all([alice, bob, carol].map((k) => mem.sign(k, [depositMsg(k.address, 100_000_000_000n)])))).txResults.forEach(expectOk);
      const h = mem.app.height + 1n;
      // Block h: bob's tx places an order good til h, then fails (it withdraws more than he has): the order id
      // goes back to the counter, but the running node's expiry heap keeps a stale entry for it. Then seven asks
      // of alice, good til h, the first of them under that same id.
      const failing = await mem.sign(bob, [
        placeMsg(bob.address, { clientId: 1, side: 'sell', price: usd(130_000), size: btc(0.001), gtb: h }),
        withdrawMsg(bob.address, 10n ** 15n),
      ]);
      const placed = both([failing, await asks(mem, 7, usd(130_000), h)]);
      expect(placed.txResults[0]!.code).not.toBe(0);
      expectOk(placed.txResults[1]!);
      const ids = placeResponses(placed.txResults[1]!).map((p) => Number(p.orderId));
      expect(ids.length).toBe(7);
      // the disk node restarts before the expiries, without the stale entry; only removals count against the cap
      disk.app.close();
      disk.reopen(App.open({ dbPath: join(dir, 'state.db') }));
      const first = expiredIds(both([]));
      expect(first).toEqual(ids.slice(0, 3));
      expect(expiredIds(both([]))).toEqual(ids.slice(3, 6));
      expect(expiredIds(both([]))).toEqual(ids.slice(6));
      expect(expiredIds(both([]))).toEqual([]);
      expect(mem.queryJson(`clob/orders/${alice.address}/0`)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an expired order left by the cap does not fill: it is out of the book, and the taker meets the live order behind it', async () => {
    const c = chainWith(1);
    await fund(c);
    const h = c.app.height + 1n;
    c.block([await asks(c, 3, usd(65_000), h), await place(c, carol, { clientId: 1, side: 'sell', price: usd(65_100), size: btc(0.001) })]).txResults.forEach(expectOk);
    // this block's start removes one of alice's three asks; bob's IOC meets the other two first
    const r = c.block([await place(c, bob, { clientId: 1, side: 'buy', tif: 'ioc', price: usd(65_100), size: btc(0.001) })]);
    expect(expiredIds(r).length).toBe(1);
    const tx = r.txResults[0]!;
    expectOk(tx);
    const fills = eventsOf(tx, 'clob.fill');
    expect(fills.length).toBe(1);
    expect(fills[0]!.maker_owner).toBe(carol.address);
    expect(fills[0]!.price).toBe(usd(65_100).toString());
    // the two left open are out of the book but still alice's open orders, until the next blocks close them
    expect(expiredIds(tx)).toEqual([]);
    expect(c.queryJson(`clob/orders/${alice.address}/0`).length).toBe(2);
    expect(c.queryJson('clob/book/0/10').asks.map((l: [string]) => l[0])).not.toContain(usd(65_000).toString());
    expect(expiredIds(c.block([])).length).toBe(1);
    expect(expiredIds(c.block([])).length).toBe(1);
    expect(c.queryJson(`clob/orders/${alice.address}/0`)).toEqual([]);
  });

  it('a post-only order is not refused for crossing an expired order left by the cap, and an amend is not either', async () => {
    /** Three asks of alice at $65,000 good til h and a bid of carol at $64,000, all placed in block h. */
    const setUp = async () => {
      const c = chainWith(1);
      await fund(c);
      const h = c.app.height + 1n;
      c.block([await asks(c, 3, usd(65_000), h), await place(c, carol, { clientId: 1, side: 'buy', price: usd(64_000), size: btc(0.001) })]).txResults.forEach(expectOk);
      return c;
    };
    // the start of the next block removes one ask; the other two, expired, still cross $65,000
    const a = await setUp();
    const post = a.block([await place(a, bob, { clientId: 1, side: 'buy', tif: 'post_only', price: usd(65_000), size: btc(0.001) })]);
    expectOk(post.txResults[0]!);
    expect(placeResponses(post.txResults[0]!)[0]!.status).toBe('resting');
    expect(eventsOf(allEvents(post), 'clob.fill')).toEqual([]);
    // carol moves her bid up to where only expired asks are
    const b = await setUp();
    const amend = b.block([await b.sign(carol, [amendMsg(carol.address, { clientId: 1 }, usd(65_000), 0n)])]);
    expectOk(amend.txResults[0]!);
    expect(eventsOf(amend.txResults[0]!, 'clob.order_amended').length).toBe(1);
    expect(eventsOf(allEvents(amend), 'clob.fill')).toEqual([]);
  });

  it('an expired order left by the cap cannot be amended; cancelling it still works', async () => {
    const c = chainWith(1);
    await fund(c);
    const h = c.app.height + 1n;
    expectOk(c.block([await asks(c, 3, usd(130_000), h)]).txResults[0]!);
    // the start of this block removes client id 100; 101 and 102 are expired but still listed
    const r = c.block([
      await c.sign(alice, [amendMsg(alice.address, { clientId: 101 }, usd(131_000), 0n)]),
      await c.sign(alice, [{ typeUrl: '/perpchain.clob.v1.MsgCancelOrder', value: { owner: alice.address, subaccountNumber: 0, clientId: 102, byClientId: true } }]),
    ]);
    const [amend, cancel] = r.txResults as [ExecTxResult, ExecTxResult];
    expect(code(amend)).toBe('clob/7');
    expect(amend.log).toMatch(/has expired/);
    expectOk(cancel);
    expect(expiredIds(r).length).toBe(1);
    // 101 leaves at the start of the next block
    expect(expiredIds(c.block([])).length).toBe(1);
    expect(c.queryJson(`clob/orders/${alice.address}/0`)).toEqual([]);
  });

  it('an expired conditional order left by the cap does not fire when the price reaches its trigger', async () => {
    const c = chainWith(1);
    await fund(c);
    const h = c.app.height + 1n;
    c.block([
      // the cap takes alice's plain ask first (lower id); her stop-limit buy, good til h too, is left behind
      await c.sign(alice, [
        placeMsg(alice.address, { clientId: 1, side: 'sell', price: usd(130_000), size: btc(0.001), gtb: h }),
        placeMsg(alice.address, { clientId: 2, side: 'buy', type: 'stop_limit', price: usd(65_500), trigger: usd(65_400), size: btc(0.001), gtb: h }),
      ], { gas: 3_000_000n }),
      await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_500), size: btc(0.001) }),
    ]).txResults.forEach(expectOk);
    const r = c.block([await c.sign(feeder, [pricesMsg(feeder.address, [[0, usd(65_450)]])])]);
    expectOk(r.txResults[0]!);
    const all = allEvents(r);
    expect(eventsOf(all, 'clob.order_triggered')).toEqual([]);
    expect(eventsOf(all, 'clob.fill')).toEqual([]);
    expect(expiredIds(all).length).toBe(2);
    expect(c.queryJson(`clob/orders/${bob.address}/0`).length).toBe(1);
  });

  it('is a param: 0 and values above 100,000 are refused at genesis; the default is 1,024', () => {
    expect(() => chainWith(0)).toThrow(/max_expiries_per_block/);
    expect(() => chainWith(100_001)).toThrow(/max_expiries_per_block/);
    const c = TestChain.create({ keys, balance: 1n, appState: marketsAppState(authority.address, [feeder.address]) });
    expect((c.queryJson('clob/params') as Record<string, unknown>).max_expiries_per_block).toBe(1024);
  });
});
