import { describe, expect, it } from 'vitest';
import Long from 'long';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys } from '../helpers/keys.js';
import { marketsAppState, DEVNET_MARKETS } from '../../chain/devnet/markets.js';
import { marketFromJson, marketToProto } from '../../modules/perpetuals/index.js';
import type { ExecTxResult } from '../../chain/types.js';

const keys = testKeys(8, 'markets');
const [authority, f1, f2, f3, alice, bob, mallory] = keys as [typeof keys[0], typeof keys[0], typeof keys[0], typeof keys[0], typeof keys[0], typeof keys[0], typeof keys[0]];

function chain() {
  return TestChain.create({ keys, balance: 100_000_000_000n, appState: marketsAppState(authority.address, [f1.address, f2.address, f3.address]) });
}

const u = (typeUrl: string, value: Record<string, unknown>) => ({ typeUrl, value });
const prices = (feeder: string, ps: Array<[number, bigint]>) =>
  u('/perpchain.prices.v1.MsgUpdatePrices', { feeder, prices: ps.map(([marketId, price]) => ({ marketId, price: Long.fromString(price.toString(), true) })) });
const deposit = (owner: string, n: number, amount: bigint) => u('/perpchain.subaccounts.v1.MsgDeposit', { owner, subaccountNumber: n, amount: amount.toString() });
const withdraw = (owner: string, n: number, amount: bigint) => u('/perpchain.subaccounts.v1.MsgWithdraw', { owner, subaccountNumber: n, amount: amount.toString(), recipient: '' });

function err(r: ExecTxResult): string {
  return `${r.codespace}/${r.code}`;
}

describe('oracle prices', () => {
  it('applies the (lower) median of several feeders in one block', async () => {
    const c = chain();
    c.block();
    const txs = [
      await c.sign(f1, [prices(f1.address, [[0, 6_600_000_000n], [1, 3_010_000_000n]])]),
      await c.sign(f2, [prices(f2.address, [[0, 6_400_000_000n]])]),
      await c.sign(f3, [prices(f3.address, [[0, 6_550_000_000n], [1, 3_020_000_000n]])]),
    ];
    const r = c.block(txs);
    r.txResults.forEach(expectOk);
    expect(c.queryJson('prices/price/0').price).toBe('6550000000');
    expect(c.queryJson('prices/price/1').price).toBe('3010000000'); // lower median of two
    const ev = r.events.filter((e) => e.type === 'prices.update');
    expect(ev).toHaveLength(2);
  });

  it('ignores moves below min-change, clamps moves above max-move, refreshes staleness either way', async () => {
    const c = chain();
    c.block();
    // min change 10 ppm of $65,000 = $0.65: a $0.50 move is ignored
    c.block([await c.sign(f1, [prices(f1.address, [[0, 6_500_050_000n]])])]).txResults.forEach(expectOk);
    expect(c.queryJson('prices/price/0').price).toBe('6500000000');
    // max move 10%: a report of $30,000 moves the price to $58,500 only, with clamped=true
    const r = c.block([await c.sign(f1, [prices(f1.address, [[0, 3_000_000_000n]])])]);
    expect(c.queryJson('prices/price/0').price).toBe('5850000000');
    const upd = r.events.find((e) => e.type === 'prices.update')!;
    expect(upd.attributes.find((a) => a.key === 'clamped')!.value).toBe('true');
  });

  it('marks a market stale after 60 s without reports, and fresh again on the next report', async () => {
    const c = chain();
    c.block();
    let staleEvents = 0;
    for (let i = 0; i < 7; i++) staleEvents += c.block([], 10_000_000_000n).events.filter((e) => e.type === 'prices.stale').length;
    expect(staleEvents).toBe(2); // both markets
    expect(c.queryJson('prices/price/0').stale).toBe(true);
    const r = c.block([await c.sign(f1, [prices(f1.address, [[0, 6_500_000_000n]])])]);
    expect(r.events.filter((e) => e.type === 'prices.fresh')).toHaveLength(1);
    expect(c.queryJson('prices/price/0').stale).toBe(false);
    expect(c.queryJson('prices/price/1').stale).toBe(true);
  });

  it('refuses unregistered feeders, unknown markets, zero and absurd prices, duplicates — state unchanged', async () => {
    const c = chain();
    c.block();
    const before = c.queryJson('prices/prices');
    const cases: Array<[ReturnType<typeof prices>, string, typeof f1]> = [
      [prices(mallory.address, [[0, 6_000_000_000n]]), 'prices/3', mallory],
      [prices(f1.address, [[99, 6_000_000_000n]]), 'prices/2', f1],
      [prices(f1.address, [[0, 0n]]), 'prices/4', f1],
      [prices(f1.address, [[0, 2n ** 60n]]), 'prices/4', f1],
      [prices(f1.address, [[0, 1n], [0, 2n]]), 'prices/8', f1],
    ];
    for (const [msg, code, key] of cases) {
      const tx = await c.sign(key, [msg]);
      const r = c.block([tx]).txResults[0]!;
      expect(err(r), r.log).toBe(code);
      expect(r.log.length).toBeGreaterThan(10);
    }
    const after = c.queryJson('prices/prices');
    expect(after.map((p: { price: string }) => p.price)).toEqual(before.map((p: { price: string }) => p.price));
  });
});

describe('markets', () => {
  const newMarket = (id: number, over: Record<string, unknown> = {}) => marketToProto(marketFromJson({ ...DEVNET_MARKETS[0], id, ticker: `M${id}-USD`, ...over } as never));

  it('only the authority can create or change a market', async () => {
    const c = chain();
    c.block();
    const create = (signer: string) => u('/perpchain.perpetuals.v1.MsgCreateMarket', { authority: signer, market: newMarket(7), initialPrice: Long.fromNumber(1_000_000) });
    const bad = c.block([await c.sign(mallory, [create(mallory.address)])]).txResults[0]!;
    expect(err(bad)).toBe('perpetuals/5');
    expect(() => c.queryJson('perpetuals/market/7')).toThrow(/unknown_market|unknown market/);
    expectOk(c.block([await c.sign(authority, [create(authority.address)])]).txResults[0]!);
    expect(c.queryJson('perpetuals/market/7').ticker).toBe('M7-USD');
    expect(c.queryJson('prices/price/7').price).toBe('1000000');
    // update: halt it; a stranger cannot
    const halt = (signer: string) => u('/perpchain.perpetuals.v1.MsgUpdateMarket', { authority: signer, market: newMarket(7, { status: 'halted' }) });
    expect(err(c.block([await c.sign(mallory, [halt(mallory.address)])]).txResults[0]!)).toBe('perpetuals/5');
    expectOk(c.block([await c.sign(authority, [halt(authority.address)])]).txResults[0]!);
    expect(c.queryJson('perpetuals/market/7').status).toBe('halted');
  });

  it('rejects duplicate ids and out-of-range params with typed errors', async () => {
    const c = chain();
    c.block();
    const create = (market: unknown) => u('/perpchain.perpetuals.v1.MsgCreateMarket', { authority: authority.address, market, initialPrice: Long.fromNumber(1_000_000) });
    const cases: Array<[unknown, string]> = [
      [newMarket(0, { ticker: 'X0-USD' }), 'perpetuals/3'], // id 0 exists
      [newMarket(8, { maintenance_margin_ppm: '50000' }), 'perpetuals/4'], // MMF ≥ IMF
      [newMarket(8, { initial_margin_ppm: '1000001' }), 'perpetuals/4'], // > 100%
      [newMarket(8, { tick_size: '0' }), 'perpetuals/4'],
      [newMarket(8, { ticker: 'btc' }), 'perpetuals/4'],
      // quote exponent AR + PE + 6 = −20: each exponent in range, the pair not (it used to pass and then halt the chain in
      // the same block's liquidation scan, which cannot price such a market)
      [newMarket(8, { atomic_resolution: -18, price_exponent: -8 }), 'perpetuals/4'],
    ];
    const hash0 = c.queryJson('perpetuals/markets').length;
    for (const [m, code] of cases) {
      const r = c.block([await c.sign(authority, [create(m)])]).txResults[0]!;
      expect(err(r), r.log).toBe(code);
    }
    expect(c.queryJson('perpetuals/markets').length).toBe(hash0);
  });
});

describe('subaccounts', () => {
  it('deposits, withdraws and transfers, refusing what would break the rules', async () => {
    const c = chain();
    c.block();
    expectOk(c.block([await c.sign(alice, [deposit(alice.address, 0, 5_000_000_000n)])]).txResults[0]!);
    const sub = c.queryJson(`subaccounts/subaccount/${alice.address}/0`);
    expect(sub.collateral).toBe('5000000000');
    expect(sub.free_collateral).toBe('5000000000');
    // more than held in the bank
    const tooMuch = c.block([await c.sign(bob, [deposit(bob.address, 0, 200_000_000_000n)])]).txResults[0]!;
    expect(err(tooMuch)).toBe('bank/2');
    // withdraw more than the subaccount holds
    const over = c.block([await c.sign(alice, [withdraw(alice.address, 0, 5_000_000_001n)])]).txResults[0]!;
    expect(err(over)).toBe('subaccounts/3');
    expect(over.log).toMatch(/shortfall 1 uusdc/);
    // transfer to bob's subaccount 3, then bob withdraws it to his bank account
    const t = u('/perpchain.subaccounts.v1.MsgTransfer', { owner: alice.address, fromNumber: 0, toOwner: bob.address, toNumber: 3, amount: '1000000' });
    expectOk(c.block([await c.sign(alice, [t])]).txResults[0]!);
    const bal = c.balance(bob.address);
    expectOk(c.block([await c.sign(bob, [withdraw(bob.address, 3, 1_000_000n)])]).txResults[0]!);
    expect(c.balance(bob.address)).toBe(bal + 1_000_000n - 200n);
    // mallory cannot move alice's collateral: the message's owner must sign
    const steal = u('/perpchain.subaccounts.v1.MsgTransfer', { owner: alice.address, fromNumber: 0, toOwner: mallory.address, toNumber: 0, amount: '1' });
    const tx = await c.sign(mallory, [steal], { accountNumber: c.accountNumber(mallory.address) });
    const r = c.app.checkTx({ tx, type: 'new' });
    expect(`${r.codespace}/${r.code}`).toBe('tx/7'); // public key does not belong to the signer (alice)
    // bad subaccount numbers and amounts
    expect(err(c.block([await c.sign(alice, [deposit(alice.address, 128, 1n)])]).txResults[0]!)).toBe('subaccounts/2');
    expect(err(c.block([await c.sign(alice, [deposit(alice.address, 0, 0n)])]).txResults[0]!)).toBe('subaccounts/4');
    expect(c.app.runInvariants()).toEqual([]);
  });
});
