import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../chain/app.js';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { btc, depositMsg, eventsOf, place, placeMsg, pricesMsg, usd } from '../helpers/orders.js';
import type { ExecTxResult, FinalizeBlockResult } from '../../chain/types.js';

/**
 * Limits on work a user can make every validator do that gas does not pay for (found by a review that
 * measured it): open orders need collateral (a zero-collateral subaccount could hold 256 conditional
 * orders, or asks far from the market, each one memory on every node and work when it fires or expires),
 * and at most max_triggers_per_block conditional orders fire per block (EndBlock runs under no gas meter:
 * 16,384 stops for $0.69 of fees made one block take 9.4 s).
 * Devnet markets: BTC-USD at $65,000 (price units of $0.00001, 10^10 quantums per BTC).
 */
const keys = testKeys(5, 'dos-limits');
const [authority, feeder, alice, bob, carol] = keys as [TestKey, TestKey, TestKey, TestKey, TestKey];
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;

function chainWith(clobParams: Record<string, unknown> = {}, dbPath?: string): TestChain {
  const appState = { ...marketsAppState(authority.address, [feeder.address]), clob: { params: clobParams } };
  return TestChain.create({ keys, balance: 10_000_000_000_000n, appState, ...(dbPath ? { dbPath } : {}) });
}

describe('open orders need collateral (open_order_tiers)', () => {
  it('a subaccount below the first tier rests nothing and holds no conditional order; orders that do not rest still go', async () => {
    const c = chainWith();
    c.block();
    c.block([await c.sign(bob, [depositMsg(bob.address, 100_000_000_000n)])]).txResults.forEach(expectOk);
    // alice deposits $19.99: below the $20 tier
    expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 19_990_000n)])]).txResults[0]!);
    const far = c.block([await place(c, alice, { clientId: 1, side: 'sell', price: usd(130_000), size: btc(0.0001) })]).txResults[0]!;
    expect(code(far)).toBe('clob/23');
    expect(far.log).toMatch(/0 open orders and net collateral 19990000 uusdc, which allows 0; 20000000 uusdc of net collateral allows 8/);
    const stop = c.block([await place(c, alice, { clientId: 2, side: 'buy', type: 'stop_market', size: btc(0.0001), trigger: usd(70_000) })]).txResults[0]!;
    expect(code(stop)).toBe('clob/23');
    // an IOC taker never rests: no tier needed (it fills against bob's ask)
    expectOk(c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.001) })]).txResults[0]!);
    const ioc = c.block([await place(c, alice, { clientId: 3, side: 'buy', tif: 'ioc', price: usd(65_000), size: btc(0.00001) })]).txResults[0]!;
    expectOk(ioc);
    expect(eventsOf(ioc, 'clob.fill').length).toBe(1);
  });

  it('each tier allows its count; the next order is refused until the subaccount brings the next tier\'s collateral', async () => {
    const c = chainWith();
    c.block();
    expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 20_000_000n)])]).txResults[0]!);
    // asks at twice the oracle: they pass the margin check at their own price, so only the tier bounds them
    const ask = (i: number) => placeMsg(alice.address, { clientId: 100 + i, side: 'sell', price: usd(130_000), size: btc(0.00001) });
    const r = c.block([await c.sign(alice, Array.from({ length: 8 }, (_, i) => ask(i)), { gas: 5_000_000n })]).txResults[0]!;
    expectOk(r);
    const ninth = c.block([await c.sign(alice, [ask(8)])]).txResults[0]!;
    expect(code(ninth)).toBe('clob/23');
    expect(ninth.log).toMatch(/8 open orders .* 100000000 uusdc of net collateral allows 32/);
    expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 80_000_000n)])]).txResults[0]!);
    expectOk(c.block([await c.sign(alice, [ask(8)])]).txResults[0]!);
  });

  it('the tiers are a param: one tier at zero collateral lifts the limit, an empty list and ill-formed tiers are refused', async () => {
    const none = chainWith({ open_order_tiers: [{ min_net_collateral: '0', max_open_orders: 256 }] });
    none.block();
    expectOk(none.block([await place(none, alice, { clientId: 1, side: 'sell', price: usd(130_000), size: btc(0.00001) })]).txResults[0]!);
    expect(() => chainWith({ open_order_tiers: [] })).toThrow(/at least one tier/);
    expect(() => chainWith({ open_order_tiers: [{ min_net_collateral: '100', max_open_orders: 4 }, { min_net_collateral: '100', max_open_orders: 8 }] })).toThrow(/must ascend/);
    expect(() => chainWith({ open_order_tiers: [{ min_net_collateral: '100', max_open_orders: 8 }, { min_net_collateral: '200', max_open_orders: 4 }] })).toThrow(/must ascend/);
    expect(() => chainWith({ max_triggers_per_block: 0 })).toThrow(/max_triggers_per_block/);
  });
});

describe('MsgUpdateParams and the tiers', () => {
  // The message replaces every clob param, and proto3 decodes an omitted repeated field as an empty list:
  // an update meant to change only a fee must not turn the collateral tiers off unseen.
  const update = (params: Record<string, unknown>) => ({ typeUrl: '/perpchain.clob.v1.MsgUpdateParams', value: { authority: authority.address, params } });
  const base = { takerFeePpm: 700, makerFeePpm: -100, maxOpenOrders: 256, maxGoodTilBlocks: 100_000, maxGoodTilSeconds: 8_208_000, marketOrderSlippagePpm: 50_000, clientIdRetentionBlocks: 2_000, maxTriggersPerBlock: 64, maxExpiriesPerBlock: 1_024 };

  it('an update without tiers is refused with a message that says how to lift the limit; the tiers stay in force', async () => {
    const c = chainWith();
    c.block();
    const inBlock = c.block([await c.sign(authority, [update(base)])]).txResults[0]!;
    expect(code(inBlock)).toBe('clob/17');
    expect(inBlock.log).toMatch(/at least one tier .*min_net_collateral: 0, max_open_orders: N/);
    const r = c.app.checkTx({ tx: await c.sign(authority, [update(base)]), type: 'new' });
    expect(`${r.codespace}/${r.code}`).toBe('clob/17');
    // the tiers still hold: a zero-collateral subaccount cannot rest an order
    expect(code(c.block([await place(c, alice, { clientId: 1, side: 'sell', price: usd(130_000), size: btc(0.00001) })]).txResults[0]!)).toBe('clob/23');
  });

  it('an update that names its tiers takes effect, including a single tier at zero collateral', async () => {
    const c = chainWith();
    c.block();
    expectOk(c.block([await c.sign(authority, [update({ ...base, openOrderTiers: [{ minNetCollateral: '0', maxOpenOrders: 2 }] })])]).txResults[0]!);
    const ask = (i: number) => place(c, alice, { clientId: 10 + i, side: 'sell', price: usd(130_000), size: btc(0.00001) });
    expectOk(c.block([await ask(0)]).txResults[0]!);
    expectOk(c.block([await ask(1)]).txResults[0]!);
    const third = c.block([await ask(2)]).txResults[0]!;
    expect(code(third)).toBe('clob/23');
    expect(third.log).toMatch(/2 open orders and net collateral 0 uusdc, which allows 2/);
  });
});

describe('max_triggers_per_block', () => {
  it('fires at most the cap per block, in id order; the rest fire in the next blocks, on a running and a reopened node alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpchain-trigger-cap-'));
    try {
      const params = { max_triggers_per_block: 3 };
      const mem = chainWith(params);
      const disk = chainWith(params, join(dir, 'state.db'));
      const both = (txs: Uint8Array[]) => {
        const r = mem.block(txs);
        expect(disk.block(txs).appHash).toEqual(r.appHash);
        return r;
      };
      both([]);
      both(await Promise.all([alice, bob, carol].map((k) => mem.sign(k, [depositMsg(k.address, 100_000_000_000n)]))));
      both([await place(mem, bob, { clientId: 1, side: 'sell', price: usd(65_500), size: btc(1) })]);
      // seven stop-market buys at $65,400, from two subaccounts of alice and one of carol
      const stops = [
        ...Array.from({ length: 4 }, (_, i) => placeMsg(alice.address, { clientId: 10 + i, side: 'buy', type: 'stop_market', size: btc(0.01), trigger: usd(65_400) })),
        ...Array.from({ length: 3 }, (_, i) => placeMsg(carol.address, { clientId: 20 + i, side: 'buy', type: 'stop_market', size: btc(0.01), trigger: usd(65_400) })),
      ];
      both([await mem.sign(alice, stops.slice(0, 4), { gas: 3_000_000n }), await mem.sign(carol, stops.slice(4), { gas: 3_000_000n })]).txResults.forEach(expectOk);
      const firedIn = (r: FinalizeBlockResult) => r.events.filter((e) => e.type === 'clob.order_triggered').map((e) => Number(e.attributes.find((a) => a.key === 'order_id')!.value));
      const r1 = both([await mem.sign(feeder, [pricesMsg(feeder.address, [[0, usd(65_450)]])])]);
      const first = firedIn(r1);
      expect(first.length).toBe(3);
      expect([...first].sort((a, b) => a - b)).toEqual(first); // id order
      // a reopened node rebuilds the waiting triggers from the store and fires the same ones next
      disk.app.close();
      disk.reopen(App.open({ dbPath: join(dir, 'state.db') }));
      const second = firedIn(both([]));
      const third = firedIn(both([]));
      expect(second.length).toBe(3);
      expect(third.length).toBe(1);
      expect(new Set([...first, ...second, ...third]).size).toBe(7);
      expect(Math.min(...second)).toBeGreaterThan(Math.max(...first));
      expect(firedIn(both([]))).toEqual([]);
      disk.app.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
