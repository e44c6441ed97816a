import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../chain/app.js';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { btc, cancelMsg, depositMsg, place, usd, type OrderSpec } from '../helpers/orders.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * A client id's record keeps the market, side and placement height of the order that holds it, open and
 * for client_id_retention_blocks after it closed, across a restart: a client tells its own retry (same
 * market and side: already placed) from an id it reused for another order (a collision) from the chain
 * alone. Devnet markets: 0 = BTC-USD at $65,000, 1 = ETH-USD.
 */
const keys = testKeys(4, 'cidrec');
const [authority, feeder, alice, bob] = keys as [TestKey, TestKey, TestKey, TestKey];
const RETENTION = 5n;

const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;
const record = (c: TestChain, k: TestKey, cid: number) => c.queryJson(`clob/client_id/${k.address}/0/${cid}`);

async function setup(dbPath?: string): Promise<TestChain> {
  const appState = { ...marketsAppState(authority.address, [feeder.address]), clob: { params: { client_id_retention_blocks: RETENTION.toString() } } };
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState, ...(dbPath ? { dbPath } : {}) });
  c.block();
  c.block(await Promise.all([alice, bob].map((k) => c.sign(k, [depositMsg(k.address, 100_000_000_000n)])))).txResults.forEach(expectOk);
  return c;
}
async function one(c: TestChain, k: TestKey, o: OrderSpec): Promise<ExecTxResult> {
  return c.block([await place(c, k, o)]).txResults[0]!;
}

describe('client id records', () => {
  it('name the market, side and height of the order while it is open and after it closed, and the duplicate error says them', async () => {
    const c = await setup();
    expectOk(await one(c, alice, { clientId: 7, market: 0, side: 'sell', price: usd(66_000), size: btc(0.1) }));
    const placedAt = c.app.height;
    const open = record(c, alice, 7);
    expect(open).toEqual({ order_id: open.order_id, open: true, release_height: '0', market_id: 0, side: 'sell', placed_height: placedAt.toString() });

    const dupOpen = await one(c, alice, { clientId: 7, market: 0, side: 'sell', price: usd(66_000), size: btc(0.1) });
    expect(code(dupOpen)).toBe('clob/6');
    expect(dupOpen.log).toContain(`client id 7 is order ${open.order_id} (sell in market 0), still open`);

    expectOk(c.block([await c.sign(alice, [cancelMsg(alice.address, { clientId: 7 })])]).txResults[0]!);
    const closedAt = c.app.height;
    expect(record(c, alice, 7)).toEqual({
      order_id: open.order_id,
      open: false,
      release_height: (closedAt + RETENTION).toString(),
      market_id: 0,
      side: 'sell',
      placed_height: placedAt.toString(),
    });
    // an id reused for a buy in another market is refused, and the error names the order that held it
    const dupClosed = await one(c, alice, { clientId: 7, market: 1, side: 'buy', price: 300_000_000n, size: 1_000_000_000n });
    expect(code(dupClosed)).toBe('clob/6');
    expect(dupClosed.log).toContain(`client id 7 was order ${open.order_id} (sell in market 0); it can be reused from height ${closedAt + RETENTION}`);
  });

  it('keep them for an order a fill closed, on a buy, in the record a taker order leaves', async () => {
    const c = await setup();
    expectOk(await one(c, bob, { clientId: 1, market: 0, side: 'sell', price: usd(65_000), size: btc(0.1) }));
    expectOk(await one(c, alice, { clientId: 9, market: 0, side: 'buy', price: usd(65_000), size: btc(0.1) }));
    const filledAt = c.app.height;
    expect(record(c, alice, 9)).toMatchObject({ open: false, market_id: 0, side: 'buy', placed_height: filledAt.toString(), release_height: (filledAt + RETENTION).toString() });
    expect(record(c, bob, 1)).toMatchObject({ open: false, market_id: 0, side: 'sell', release_height: (filledAt + RETENTION).toString() });
  });

  it('survive a restart from disk, and the id is free again once released', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perpchain-cidrec-'));
    try {
      const c = await setup(join(dir, 'state.db'));
      expectOk(await one(c, alice, { clientId: 3, market: 1, side: 'buy', price: 290_000_000n, size: 1_000_000_000n }));
      expectOk(c.block([await c.sign(alice, [cancelMsg(alice.address, { clientId: 3 })])]).txResults[0]!);
      const before = record(c, alice, 3);
      const hash = Buffer.from(c.app.appHash).toString('hex');
      c.app.close();
      c.reopen(App.open({ dbPath: join(dir, 'state.db') }));
      expect(Buffer.from(c.app.appHash).toString('hex')).toBe(hash);
      expect(record(c, alice, 3)).toEqual(before);
      expect(before).toMatchObject({ market_id: 1, side: 'buy', open: false });
      while (c.app.height < BigInt(before.release_height)) c.block();
      expect(() => record(c, alice, 3)).toThrow(/client id 3 .* is free/);
      // released: the id takes another market and side
      expectOk(await one(c, alice, { clientId: 3, market: 0, side: 'sell', price: usd(66_000), size: btc(0.1) }));
      expect(record(c, alice, 3)).toMatchObject({ open: true, market_id: 0, side: 'sell' });
      c.app.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
