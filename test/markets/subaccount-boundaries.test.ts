import { describe, expect, it } from 'vitest';
import type { EncodeObject } from '@cosmjs/proto-signing';
import { TestChain, expectOk } from '../helpers/chain.js';
import { testKeys, type TestKey } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { btc, depositMsg, place, usd } from '../helpers/orders.js';
import type { ExecTxResult } from '../../chain/types.js';

/**
 * Collateral out of a subaccount with a position is limited by the INITIAL margin (NC ≥ IMR after the
 * outflow), not the maintenance margin: the README's rule for MsgWithdraw and MsgTransfer. Tested at the
 * exact boundary (free collateral = NC − IMR may leave, one uusdc more may not) with NC still far above
 * MMR, so a check against MMR would let the extra uusdc through. Also: a withdrawal of exactly what the pool
 * holds, a subaccount with a position and exactly zero collateral (it must not be deleted as empty), and a
 * position's cost basis after a trade flips it from long to short. Devnet markets (BTC-USD at $65,000,
 * IMF 5%, MMF 3%), trading fees 0.
 */
const keys = testKeys(4, 'withdraw-margin');
const [authority, feeder, alice, bob] = keys as [TestKey, TestKey, TestKey, TestKey];
const code = (r: ExecTxResult) => `${r.codespace}/${r.code}`;
const withdrawMsg = (owner: string, amount: bigint): EncodeObject => ({ typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw', value: { owner, subaccountNumber: 0, amount: amount.toString(), recipient: '' } });
const transferMsg = (owner: string, amount: bigint): EncodeObject => ({ typeUrl: '/perpchain.subaccounts.v1.MsgTransfer', value: { owner, fromNumber: 0, toOwner: owner, toNumber: 1, amount: amount.toString() } });

interface SubQuery {
  collateral: string;
  net_collateral: string;
  initial_margin_requirement: string;
  maintenance_margin_requirement: string;
  free_collateral: string;
  positions: Array<{ market_id: number; size: string; cost_basis: string }>;
}
const sub = (c: TestChain, k: TestKey, n = 0): SubQuery => c.queryJson(`subaccounts/subaccount/${k.address}/${n}`);

/** alice: $1,000 deposited, long 0.1 BTC bought from bob at $65,000 (NC $1,000, IMR $325, MMR $195). */
async function setup(): Promise<TestChain> {
  const c = TestChain.create({
    keys,
    balance: 10_000_000_000_000n,
    appState: { ...marketsAppState(authority.address, [feeder.address]), clob: { params: { taker_fee_ppm: 0, maker_fee_ppm: 0 } } },
  });
  c.block();
  c.block([await c.sign(alice, [depositMsg(alice.address, 1_000_000_000n)]), await c.sign(bob, [depositMsg(bob.address, 100_000_000_000n)])]).txResults.forEach(expectOk);
  c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })]).txResults.forEach(expectOk);
  c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.1) })]).txResults.forEach(expectOk);
  return c;
}

describe('outflows are limited by the initial margin', () => {
  for (const [name, msg] of [
    ['withdraw', withdrawMsg],
    ['transfer', transferMsg],
  ] as const) {
    it(`${name}: exactly the free collateral (NC − IMR) may leave; one uusdc more is refused although NC stays above MMR`, async () => {
      const c = await setup();
      const s = sub(c, alice);
      expect(s.positions).toHaveLength(1);
      const free = BigInt(s.free_collateral);
      expect(free).toBe(BigInt(s.net_collateral) - BigInt(s.initial_margin_requirement));
      expect(free).toBe(675_000_000n); // $1,000 − 5% of $6,500

      // one uusdc past IMR leaves NC = IMR − 1, still well above MMR ($195): only the initial-margin rule refuses it
      const over = c.block([await c.sign(alice, [msg(alice.address, free + 1n)])]).txResults[0]!;
      expect(code(over)).toBe('subaccounts/3');
      expect(over.log).toContain('initial margin');
      expect(BigInt(s.initial_margin_requirement) - 1n).toBeGreaterThan(BigInt(s.maintenance_margin_requirement));
      expect(sub(c, alice).collateral).toBe(s.collateral);

      // exactly the free collateral leaves NC = IMR: allowed
      expectOk(c.block([await c.sign(alice, [msg(alice.address, free)])]).txResults[0]!);
      const after = sub(c, alice);
      expect(after.net_collateral).toBe(after.initial_margin_requirement);
      expect(after.free_collateral).toBe('0');
      expect(c.app.runInvariants()).toEqual([]);
    });
  }
});

describe('the pool', () => {
  it('a withdrawal of exactly everything the pool holds is paid (the pool-short check is strict)', async () => {
    const c = TestChain.create({ keys, balance: 10_000_000_000_000n, appState: marketsAppState(authority.address, [feeder.address]) });
    c.block();
    expectOk(c.block([await c.sign(alice, [depositMsg(alice.address, 1_000_000_000n)])]).txResults[0]!);
    const pool = BigInt(c.queryJson('subaccounts/pool').pool_balance);
    expect(pool).toBe(1_000_000_000n); // alice is the only depositor
    const before = c.balance(alice.address);
    expectOk(c.block([await c.sign(alice, [withdrawMsg(alice.address, pool)])]).txResults[0]!);
    expect(BigInt(c.queryJson('subaccounts/pool').pool_balance)).toBe(0n);
    expect(c.balance(alice.address) - before).toBe(pool - 200n); // less the tx fee (200,000 gas at 1,000/10^6)
    expect(c.app.runInvariants()).toEqual([]);
  });
});

describe('storage', () => {
  it('a subaccount whose collateral is exactly 0 but which holds a position is kept (only an empty one is deleted)', async () => {
    const c = TestChain.create({
      keys,
      balance: 10_000_000_000_000n,
      appState: { ...marketsAppState(authority.address, [feeder.address]), clob: { params: { taker_fee_ppm: 0, maker_fee_ppm: 0 } } },
    });
    c.block();
    // alice deposits exactly the price of 0.1 BTC at $65,000 and spends all of it on the position
    c.block([await c.sign(alice, [depositMsg(alice.address, 6_500_000_000n)]), await c.sign(bob, [depositMsg(bob.address, 100_000_000_000n)])]).txResults.forEach(expectOk);
    c.block([await place(c, bob, { clientId: 1, side: 'sell', price: usd(65_000), size: btc(0.1) })]).txResults.forEach(expectOk);
    c.block([await place(c, alice, { clientId: 1, side: 'buy', price: usd(65_000), size: btc(0.1) })]).txResults.forEach(expectOk);
    const s = sub(c, alice);
    expect(s.collateral).toBe('0');
    expect(s.positions).toMatchObject([{ market_id: 0, size: btc(0.1).toString() }]);
    expect(s.net_collateral).toBe('6500000000');
    expect(c.app.runInvariants()).toEqual([]); // OI: bob's short has its long
  });
});

describe('cost basis', () => {
  it('a trade that flips a long into a short leaves the short a cost basis of minus what the opening part received', async () => {
    const c = await setup(); // alice long 0.1 BTC, cost basis +$6,500 (paid)
    expect(sub(c, alice).positions[0]!.cost_basis).toBe('6500000000');
    // alice sells 0.3 BTC at $66,000: 0.1 closes the long, 0.2 opens a short, for which she receives $13,200
    c.block([await place(c, bob, { clientId: 2, side: 'buy', price: usd(66_000), size: btc(0.3) })]).txResults.forEach(expectOk);
    c.block([await place(c, alice, { clientId: 2, side: 'sell', price: usd(66_000), size: btc(0.3) })]).txResults.forEach(expectOk);
    const p = sub(c, alice).positions[0]!;
    expect(p.size).toBe((-btc(0.2)).toString());
    expect(p.cost_basis).toBe('-13200000000'); // a short's cost basis is negative: what it received
    // bob mirrors it: his 0.1 short closed and his new 0.2 long cost +$13,200
    const q = sub(c, bob).positions[0]!;
    expect(q.size).toBe(btc(0.2).toString());
    expect(q.cost_basis).toBe('13200000000');
  });
});
