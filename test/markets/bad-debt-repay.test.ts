import { describe, expect, it } from 'vitest';
import { ModuleHarness } from '../helpers/modules.js';
import { testKeys } from '../helpers/keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { BAD_DEBT_TABLE } from '../../modules/subaccounts/keys.js';

/**
 * Repaying recorded bad debt from the insurance fund (SubaccountsKeeper.repayBadDebt, run at the end of every
 * block): never more than the debt or than what is available, and a fully repaid market's entry is deleted
 * (not left as a zero in the state forever). Keeper level: a loss of 50 uusdc is made by charging an empty
 * subaccount 50 uusdc into the fund (its collateral goes to −50), then written off as market 0's bad debt,
 * so conservation holds at every step.
 */
const keys = testKeys(4, 'bad-debt-repay');
const [, , alice, bob] = keys.map((k) => ({ owner: k.address, number: 0 }));

describe('bad debt repayment', () => {
  it('repays part, then exactly the rest (not all that is available), and deletes the repaid entry', () => {
    const h = new ModuleHarness({ bank: { balances: keys.map((k) => ({ address: k.address, amount: '1000000000000' })) }, ...marketsAppState(keys[0]!.address, [keys[1]!.address]) });
    const k = h.keepers.subaccounts;
    const fund = k.insuranceFundAddress;
    h.run((ctx) => k.deposit(ctx, bob!, 1_000_000n)); // the pool's cash
    h.run((ctx) => {
      const s = k.get(ctx.store, alice!);
      k.chargeToModule(ctx, s, 50n, fund, 'loss'); // alice −50, the fund +50
      k.recordBadDebt(ctx, s, 0, 50n); // written off: alice 0, market 0 owes 50
      k.save(ctx.store, s);
    });
    expect(k.badDebt(h.state, 0)).toBe(50n);
    expect(h.invariants()).toEqual([]);

    expect(h.run((ctx) => k.repayBadDebt(ctx, fund, 30n))).toBe(30n);
    expect(k.badDebt(h.state, 0)).toBe(20n);
    expect(h.run((ctx) => k.repayBadDebt(ctx, fund, 1_000n))).toBe(20n); // only what is owed
    expect(h.keepers.bank.balance(h.state, fund)).toBe(0n);
    expect([...h.state.scanTable(BAD_DEBT_TABLE)]).toEqual([]); // the entry is gone, not a stored zero
    expect(k.totalBadDebt(h.state)).toBe(0n);
    expect(h.run((ctx) => k.repayBadDebt(ctx, fund, 1_000n))).toBe(0n);
    expect(h.invariants()).toEqual([]);
  });
});
