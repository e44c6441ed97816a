import { describe, expect, it } from 'vitest';
import { ModuleHarness } from '../helpers/modules.js';
import { testKeys } from '../helpers/keys.js';
import { DEVNET_MARKETS, marketsAppState } from '../../chain/devnet/markets.js';

/**
 * Where rounding dust goes. Trade quotes: the buyer pays ⌈q⌉, the seller receives ⌊q⌋, and the difference
 * goes to the insurance fund (subaccounts README, "trade quote"). Funding carry forfeited by closed positions (subaccounts README: `sub/dust/`, "whole uusdc go to the
 * insurance fund"). The funding property test never closes a position, so the carry never reached a whole
 * uusdc there and skipping the transfer to the fund went unnoticed. Keeper level (ModuleHarness): BTC-USD at
 * $65,000 with an interest rate of 123 ppm per hour, so one tick moves the index by
 * 123 · 6,500,000,000 · 10³ = 7.995·10¹⁴ per quantum, and one step (100,000 quantums) owes 79.95 uusdc.
 */
const keys = testKeys(4, 'dust');
const sid = (i: number) => ({ owner: keys[i]!.address, number: 0 });

function harness(): ModuleHarness {
  const state = marketsAppState(keys[0]!.address, [keys[1]!.address]) as { perpetuals: { markets: Array<Record<string, unknown>> } };
  state.perpetuals.markets = DEVNET_MARKETS.map((m, i) => ({ ...m, interest_rate_ppm: i === 0 ? '123' : '0' }));
  const h = new ModuleHarness({ bank: { balances: keys.map((k) => ({ address: k.address, amount: '1000000000000' })) }, ...state });
  for (const i of [2, 3]) h.run((ctx) => h.keepers.subaccounts.deposit(ctx, sid(i), 50_000_000_000n));
  return h;
}

describe('funding dust', () => {
  it('carries forfeited by two closed positions add up to 1 uusdc, which goes to the insurance fund', () => {
    const h = harness();
    const k = h.keepers;
    const fill = (buyer: number, seller: number) =>
      h.run((ctx) => k.subaccounts.executeFill(ctx, { marketId: 0, size: 100_000n, price: 6_500_000_000n, buyer: sid(buyer), seller: sid(seller), buyerFee: 0n, sellerFee: 0n, feeCollector: k.feeCollector }));
    fill(2, 3); // 2 long, 3 short, one step each, at the oracle (no trade rounding dust)
    h.timeSec += 3600n;
    h.endBlock();
    expect(k.perpetuals.fundingIndex(h.state, 0)).toBe(799_500_000_000_000n);
    const fund = k.subaccounts.insuranceFundAddress;
    const before = k.bank.balance(h.state, fund);
    // closing settles the funding first: the long pays ⌊79.95⌋ → 80 with carry 0.05·10¹⁸, the short gets 79
    // with carry 0.95·10¹⁸; both carries are forfeited at the close: 0.05 + 0.95 = exactly 1 uusdc of dust
    fill(3, 2);
    expect(k.subaccounts.get(h.state, sid(2)).positions).toEqual([]);
    expect(k.subaccounts.get(h.state, sid(3)).positions).toEqual([]);
    expect(k.bank.balance(h.state, fund) - before).toBe(1n);
    expect(k.subaccounts.dust(h.state)).toBe(0n);
    expect(k.subaccounts.get(h.state, sid(2)).collateral).toBe(50_000_000_000n - 80n);
    expect(k.subaccounts.get(h.state, sid(3)).collateral).toBe(50_000_000_000n + 79n);
    expect(h.invariants()).toEqual([]); // conservation: the pool holds exactly the claims on it
  });

  it('a trade quote with a fraction: the buyer pays the ceiling, the seller gets the floor, the insurance fund the difference', () => {
    const h = harness();
    const k = h.keepers;
    const fund = k.subaccounts.insuranceFundAddress;
    const before = k.bank.balance(h.state, fund);
    // the README's example: one quantum at 6,500,000,001 price units is 6.500000001 uusdc
    const r = h.run((ctx) => k.subaccounts.executeFill(ctx, { marketId: 0, size: 1n, price: 6_500_000_001n, buyer: sid(2), seller: sid(3), buyerFee: 0n, sellerFee: 0n, feeCollector: k.feeCollector }));
    expect([r.buyerPays, r.sellerGets]).toEqual([7n, 6n]);
    expect(k.subaccounts.get(h.state, sid(2)).collateral).toBe(50_000_000_000n - 7n);
    expect(k.subaccounts.get(h.state, sid(3)).collateral).toBe(50_000_000_000n + 6n);
    expect(k.bank.balance(h.state, fund) - before).toBe(1n);
    expect(h.invariants()).toEqual([]);
  });
});
