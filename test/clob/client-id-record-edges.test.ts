import { describe, expect, it } from 'vitest';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { cancelMsg, depositMsg, place, type OrderSpec } from '../helpers/orders.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * Client-id records of orders outside market 0 (mutation round): the record written at placement names the
 * order's own market (client-id-record.test.ts checks an open record only in market 0, where a record naming
 * market 0 for every order passes), so does the duplicate error while it is open, and the record is freed at
 * exactly its release height. Devnet markets: 0 = BTC-USD, 1 = ETH-USD.
 */
const keys = testKeys(3, 'cidrec-edges');
const [authority, feeder, alice] = keys as [TestKey, TestKey, TestKey];
const RETENTION = 4n;
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;
const record = (c: TestChain, cid: number) => c.queryJson(`clob/client_id/${alice.address}/0/${cid}`);

async function setup(): Promise<TestChain> {
  const appState = { ...marketsAppState(authority.address, [feeder.address]), clob: { params: { client_id_retention_blocks: RETENTION.toString() } } };
  const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState });
  c.block();
  expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 100_000_000_000n)])]).txResults[0]!);
  return c;
}
const one = async (c: TestChain, o: OrderSpec) => c.block([await place(c, alice, o)]).txResults[0]!;
const ethSell: OrderSpec = { clientId: 11, market: 1, side: 'sell', price: 400_000_000n, size: 1_000_000_000n };

describe('client id records outside market 0', () => {
  it('an open order in market 1: the record and the duplicate error name market 1', async () => {
    const c = await setup();
    expectOk(await one(c, ethSell));
    const placedAt = c.app.height;
    const r = record(c, 11);
    expect(r).toEqual({ order_id: r.order_id, open: true, release_height: '0', market_id: 1, side: 'sell', placed_height: placedAt.toString() });
    const dup = await one(c, { ...ethSell, price: 410_000_000n });
    expect(code(dup)).toBe('clob/6');
    expect(dup.log).toContain(`client id 11 is order ${r.order_id} (sell in market 1), still open`);
  });

  it('an IOC order in market 1 that closes at once leaves a record naming market 1, freed at exactly its release height', async () => {
    const c = await setup();
    expectOk(await one(c, { ...ethSell, clientId: 12, tif: 'ioc' }));
    const closedAt = c.app.height;
    expect(record(c, 12)).toMatchObject({ open: false, market_id: 1, side: 'sell', placed_height: closedAt.toString(), release_height: (closedAt + RETENTION).toString() });
    while (c.app.height < closedAt + RETENTION - 1n) c.block();
    expect(record(c, 12)).toMatchObject({ open: false }); // one block before: still held
    c.block();
    expect(() => record(c, 12)).toThrow(/client id 12 .* is free/);
  });

  it('a cancel in a tx that failed does not free the id when the release it scheduled comes due', async () => {
    const c = await setup();
    expectOk(await one(c, ethSell));
    // cancel, then a deposit the bank cannot cover: the tx fails and the record stays open
    const failed = c.block([await c.sign(alice, [cancelMsg(alice.address, { clientId: 11 }), depositMsg(alice.address, 10n ** 18n)])]).txResults[0]!;
    expect(failed.code).not.toBe(0);
    const failedAt = c.app.height;
    expect(record(c, 11)).toMatchObject({ open: true });
    c.block();
    expectOk(c.block([await c.sign(alice, [cancelMsg(alice.address, { clientId: 11 })])]).txResults[0]!);
    const closedAt = c.app.height;
    while (c.app.height < failedAt + RETENTION + 1n) c.block();
    expect(record(c, 11)).toMatchObject({ open: false, release_height: (closedAt + RETENTION).toString() });
    while (c.app.height < closedAt + RETENTION) c.block();
    expect(() => record(c, 11)).toThrow(/client id 11 .* is free/);
  });
});
