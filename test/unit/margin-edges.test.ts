import { describe, expect, it } from 'vitest';
import { accountRisk, isLiquidatable, liquidationPrice, type PositionRiskInput } from '../../modules/subaccounts/margin.js';

/**
 * Margin rules at their edges (modules/subaccounts/README.md, Formulas), where a mutation review found the
 * existing examples on one side only. BTC-USD units: e = −9 (10^-10 BTC quantums, 10^-5 USD price units),
 * IMF 5%, MMF 3%.
 */
const BTC = (size: bigint, price: bigint): PositionRiskInput => ({ marketId: 0, size, price, e: -9, imfPpm: 50_000n, mmfPpm: 30_000n, unsettledFunding: 0n });

describe('liquidatable needs something to maintain', () => {
  it('negative net collateral with no maintenance requirement is not liquidatable (MMR > 0 ∧ NC < MMR)', () => {
    // an account with no position and a deficit: nothing to close; the engine's write-off deals with it
    expect(isLiquidatable(accountRisk(-1n, []))).toBe(false);
    expect(isLiquidatable({ nc: -1_000_000n, mmr: 0n })).toBe(false);
    expect(isLiquidatable({ nc: -1n, mmr: 1n })).toBe(true);
  });
});

describe('liquidation price of a long when the rest of the account is exactly at its own line', () => {
  it('NC_rest = MMR_rest: no positive price liquidates it (null, not 0); one uusdc short of it: a price, rounded up', () => {
    // 0.1 BTC long and no collateral: NC_rest = 0 = MMR_rest. At any price p > 0 NC − MMR = 0.97 · value > 0, and
    // at p = 0 NC = MMR (not below): never liquidated by this market
    const even = accountRisk(0n, [BTC(1_000_000_000n, 6_500_000_000n)]);
    expect(liquidationPrice(even, 0)).toBeNull();
    // collateral −1 uusdc: (1 − 0) / (0.1 BTC · 10^-9 · 0.97) = 1.0309… price units → 2 (rounded up: warns early)
    const short1 = accountRisk(-1n, [BTC(1_000_000_000n, 6_500_000_000n)]);
    expect(liquidationPrice(short1, 0)).toBe(2n);
    expect(isLiquidatable(accountRisk(-1n, [BTC(1_000_000_000n, 1n)]))).toBe(true); // at 1 price unit: NC = −1 + 1 = 0 < MMR ⌈0.03⌉ = 1
    expect(isLiquidatable(accountRisk(-1n, [BTC(1_000_000_000n, 2n)]))).toBe(false); // at 2: NC = −1 + 2 = 1, not below MMR ⌈0.06⌉ = 1
  });
});
