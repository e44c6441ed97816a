/**
 * Orders the expiry cap leaves open are taken out of the books at the start of the block (found by a review:
 * left in, they still triggered self-trade prevention, moved the funding premium, and made whoever crossed
 * them pay the gas of removing them). Each case runs with a cap of 1 (bob's filler ask, the lowest id, takes
 * it, so the orders under test are left open) and with the default cap (they are closed): the outcomes must
 * match. What such an order still does, by design, is hold its owner's open-order slot until it is closed
 * (modules/clob/README.md, Expiry); it no longer counts for placement margin.
 */
import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { btc, depositMsg, eventsOf, place, placeMsg, placeResponses, transferMsg, usd } from '../helpers/orders.js';

const keys = testKeys(6, 'expiry-cap-hidden');
const [authority, feeder, alice, bob, carol, dave] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey, TestKey];

async function chain(cap: number): Promise<TestChain> {
  const clob = { params: { max_expiries_per_block: cap, open_order_tiers: [{ min_net_collateral: '0', max_open_orders: 256 }] } };
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: { ...marketsAppState(authority.address, [feeder.address]), clob } });
  c.block();
  c.block(await Promise.all([alice, bob, carol, dave].map((k) => c.sign(k, [depositMsg(k.address, 100_000_000_000n)])))).txResults.forEach(expectOk);
  return c;
}

/** Block h: bob's filler ask good til h, then `txs`; returns h. */
async function atH(c: TestChain, txs: (h: bigint) => Promise<Uint8Array[]>): Promise<bigint> {
  const h = c.app.height + 1n;
  c.block([await place(c, bob, { clientId: 9, side: 'sell', price: usd(130_000), size: btc(0.001), gtb: h }), ...(await txs(h))]).txResults.forEach(expectOk);
  return h;
}

describe('orders left open by the expiry cap are out of the books', () => {
  it('self-trade prevention does not see the taker\'s own expired order: a cancel_taking IOC meets the live ask behind it', async () => {
    for (const cap of [1, 1024]) {
      const c = await chain(cap);
      await atH(c, async (h) => [
        await c.sign(alice, [placeMsg(alice.address, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.001), gtb: h })]),
        await place(c, carol, { clientId: 1, side: 'sell', price: usd(65_100), size: btc(0.001) }),
      ]);
      const tx = c.block([await place(c, alice, { clientId: 2, side: 'buy', tif: 'ioc', stp: 'cancel_taking', price: usd(65_100), size: btc(0.001) })]).txResults[0]!;
      expectOk(tx);
      expect(placeResponses(tx)[0]!.status, `cap ${cap}`).toBe('filled');
      expect(eventsOf(tx, 'clob.fill').map((f) => f.maker_owner), `cap ${cap}`).toEqual([carol.address]);
      expect(eventsOf(tx, 'clob.order_cancelled').filter((e) => e.reason === 'self_trade'), `cap ${cap}`).toEqual([]);
    }
  });

  it('an expired bid above the oracle does not move the funding premium', async () => {
    const sample: Record<number, bigint> = {};
    for (const cap of [1, 1024]) {
      const c = await chain(cap);
      await atH(c, async (h) => [await c.sign(dave, [placeMsg(dave.address, { clientId: 1, side: 'buy', price: usd(66_000), size: btc(0.2), gtb: h })])]);
      const before = c.app.keepers.perpetuals.getState(c.app.state, 0).premiumSum;
      c.block([]);
      sample[cap] = c.app.keepers.perpetuals.getState(c.app.state, 0).premiumSum - before;
    }
    expect(sample[1]).toBe(sample[1024]);
  });

  it('a post-only bid at the price of 250 expired asks rests for the gas it uses when there are none', async () => {
    const gas: Record<number, bigint> = {};
    for (const cap of [1, 1024]) {
      const c = await chain(cap);
      await atH(c, async (h) => [
        await c.sign(alice, Array.from({ length: 250 }, (_, i) => placeMsg(alice.address, { clientId: 100 + i, side: 'sell', price: usd(65_000), size: btc(0.001), gtb: h })), { gas: 100_000_000n }),
      ]);
      const tx = c.block([await place(c, carol, { clientId: 1, side: 'buy', tif: 'post_only', price: usd(65_000), size: btc(0.001) })]).txResults[0]!;
      expectOk(tx);
      expect(placeResponses(tx)[0]!.status, `cap ${cap}`).toBe('resting');
      gas[cap] = tx.gasUsed;
    }
    // the same work (a few gas apart: ids and heights of other lengths), where crossing them used to pay for removing them
    expect(Number(gas[1]! - gas[1024]!)).toBeLessThan(100);
    expect(Number(gas[1024]! - gas[1]!)).toBeLessThan(100);
  });

  it('an expired order left open needs no margin: a bid that fits beside none fits beside two', async () => {
    const codes: Record<number, string> = {};
    for (const cap of [1, 1024]) {
      const c = await chain(cap);
      // dave: $800 of his own (a second subaccount), two 0.1 BTC bids at $65,000 good til h
      expectOk(c.block([await c.sign(dave, [transferMsg(dave.address, dave.address, 800_000_000n, 0, 1)])]).txResults[0]!);
      await atH(c, async (h) => [
        await c.sign(dave, Array.from({ length: 2 }, (_, i) => placeMsg(dave.address, { number: 1, clientId: 100 + i, side: 'buy', price: usd(65_000), size: btc(0.1), gtb: h })), { gas: 3_000_000n }),
      ]);
      const tx = c.block([await place(c, dave, { number: 1, clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.1) })]).txResults[0]!;
      codes[cap] = `${tx.codespace}/${tx.code}`;
    }
    expect(codes).toEqual({ 1: '/0', 1024: '/0' });
  });

  it('a node restarted while orders wait is the same: the invariants hold, and the books match after the next block', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { App } = await import('../../chain/app.js');
    const dir = mkdtempSync(join(tmpdir(), 'perpchain-expiry-hidden-'));
    try {
      const clob = { params: { max_expiries_per_block: 2, open_order_tiers: [{ min_net_collateral: '0', max_open_orders: 256 }] } };
      const appState = { ...marketsAppState(authority.address, [feeder.address]), clob };
      const mem = TestChain.create({ keys, balance: 10_000_000_000_000n, appState });
      const disk = TestChain.create({ keys, balance: 10_000_000_000_000n, appState, dbPath: join(dir, 'state.db') });
      const both = (txs: Uint8Array[]) => {
        const r = mem.block(txs);
        expect(disk.block(txs).appHash).toEqual(r.appHash);
        return r;
      };
      both([]);
      both(await Promise.all([alice, carol].map((k) => mem.sign(k, [depositMsg(k.address, 100_000_000_000n)])))).txResults.forEach(expectOk);
      const h = mem.app.height + 1n;
      both([await mem.sign(alice, Array.from({ length: 7 }, (_, i) => placeMsg(alice.address, { clientId: 100 + i, side: 'sell', price: usd(65_000 + i), size: btc(0.001), gtb: h })), { gas: 10_000_000n })]);
      both([]); // closes 2, hides 5
      const book = (c: TestChain) => JSON.stringify(c.queryJson('clob/book/0/50'));
      expect(mem.queryJson('clob/book/0/50').asks).toEqual([]);
      expect(mem.app.runInvariants(mem.app.state).flatMap((b) => b.problems)).toEqual([]);
      disk.app.close();
      disk.reopen(App.open({ dbPath: join(dir, 'state.db') }));
      expect(disk.app.runInvariants(disk.app.state).flatMap((b) => b.problems)).toEqual([]);
      // a taker in the next block meets none of them on either node
      const r = both([await place(mem, carol, { clientId: 1, side: 'buy', tif: 'ioc', price: usd(65_010), size: btc(0.001) })]);
      expect(eventsOf(r.txResults[0]!, 'clob.fill')).toEqual([]);
      expect(book(disk)).toBe(book(mem));
      both([]);
      both([]); // 7 orders at 2 a block: closed by the fourth block after h
      expect(mem.queryJson(`clob/orders/${alice.address}/0`)).toEqual([]);
      expect(disk.queryJson(`clob/orders/${alice.address}/0`)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
