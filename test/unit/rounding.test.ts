import { describe, expect, it } from 'vitest';
import { accountRisk, isLiquidatable, leveragePpm, scaledImf } from '../../modules/subaccounts/margin.js';
import { feeOf } from '../../modules/clob/index.js';
import { requiredFee } from '../../chain/tx/ante.js';
import { bankruptcy, fillablePrice, roundToTick } from '../../modules/liquidation/index.js';
import { fundingIndexDelta } from '../../modules/perpetuals/index.js';

/**
 * Every division's rounding direction, each at an input that does not divide exactly (a mutation review found
 * these directions untested: every earlier example divided exactly, so flipping ceil and floor passed).
 * The rule: the protocol, the insurance fund or the counterparty never comes out short by a rounding.
 */
describe('rounding in the protocol\'s favour, at inputs that leave a remainder', () => {
  it('fees: a charge rounds up, a rebate rounds down in size', () => {
    expect(feeOf(12_345_678n, 500n)).toBe(6_173n); // 6,172.839
    expect(feeOf(12_345_678n, -100n)).toBe(-1_234n); // 1,234.5678 paid out
    expect(feeOf(1n, 1n)).toBe(1n); // any charge at all is at least 1 uusdc
    expect(feeOf(1n, -1n) === 0n).toBe(true); // a rebate below 1 uusdc is nothing
  });

  it('the fee a gas limit requires rounds up', () => {
    expect(requiredFee(200_001n, 1_000n)).toBe(201n); // 200.001
    expect(requiredFee(200_000n, 1_000n)).toBe(200n);
    expect(requiredFee(1n, 1n)).toBe(1n);
  });

  it('the OI-scaled initial margin fraction rounds up', () => {
    // 50,000 + 950,000 · 500,001 / 2,000,000 = 50,000 + 237,500.475
    expect(scaledImf(50_000n, 1_500_001n, 1_000_000n, 3_000_000n)).toBe(287_501n);
  });

  it('liquidatable means strictly below maintenance; leverage rounds down', () => {
    expect(isLiquidatable({ nc: 100n, mmr: 100n })).toBe(false);
    expect(isLiquidatable({ nc: 99n, mmr: 100n })).toBe(true);
    const r = accountRisk(3n, []);
    expect(leveragePpm({ ...r, notional: 10n, nc: 3n })).toBe(3_333_333n); // 3,333,333.33
  });

  it('a liquidation order\'s fillable price and its tick: sells round up, buys down (the liquidated account\'s favour)', () => {
    const r = accountRisk(0n, []); // NC = 0 < MMR below: the full spread
    const bankrupt = { ...r, nc: 0n, mmr: 1n };
    // spread = 1.5 · 3% = 45,000 ppm; 1,000,001 · 0.955 = 955,000.955; · 1.045 = 1,045,001.045
    expect(fillablePrice(bankrupt, 1_000_001n, 30_000n, 1_500_000n, 'sell')).toBe(955_001n);
    expect(fillablePrice(bankrupt, 1_000_001n, 30_000n, 1_500_000n, 'buy')).toBe(1_045_001n);
    expect(roundToTick(1_000_001n, 10n, 'sell')).toBe(1_000_010n);
    expect(roundToTick(1_000_001n, 10n, 'buy')).toBe(1_000_000n);
  });

  it('the bankruptcy price: a long sells at p·(1 − NC·m/MMR), a short buys back at p·(1 + NC·m/MMR)', () => {
    // 10 units at 100 (e = 0), MMF 5%: MMR = 50; NC = 30, so the bankruptcy price is 100 ∓ 3
    const pos = { marketId: 0, price: 100n, e: 0, imfPpm: 100_000n, mmfPpm: 50_000n, unsettledFunding: 0n };
    const long = accountRisk(-970n, [{ ...pos, size: 10n }]);
    const short = accountRisk(1_030n, [{ ...pos, size: -10n }]);
    expect([long.nc, long.mmr, short.nc, short.mmr]).toEqual([30n, 50n, 30n, 50n]);
    const bl = bankruptcy(long, 0, 10n);
    const bs = bankruptcy(short, 0, 10n);
    expect(bl.quote).toBe(970n); // the long receives what leaves it at zero
    expect(bs.quote).toBe(-1_030n); // the short pays all it has
    expect(bl.priceNum / bl.priceDen).toBe(97n);
    expect(bs.priceNum / bs.priceDen).toBe(103n);
    // a portion with a remainder: the long is owed no more (down), the short owes no less (up)
    expect(bankruptcy(long, 0, 3n).quote).toBe(291n); // 3 · 97
    const odd = accountRisk(-969n, [{ ...pos, size: 10n }]); // NC 31: price 100 · (50 − 1.55)/50 = 96.9
    expect(bankruptcy(odd, 0, 1n).quote).toBe(96n); // 96.9 → 96
    const oddShort = accountRisk(1_031n, [{ ...pos, size: -10n }]); // 103.1
    expect(bankruptcy(oddShort, 0, 1n).quote).toBe(-104n); // pays 104, not 103
  });

  it('the funding index delta truncates toward zero, so longs and shorts move by the same amount', () => {
    // e = −13: exp = e + 18 − 6 = −1, so rate · price / 10 has a remainder
    expect(fundingIndexDelta(7n, 1n, -13)).toBe(0n);
    expect(fundingIndexDelta(-7n, 1n, -13)).toBe(0n);
    expect(fundingIndexDelta(-17n, 1n, -13)).toBe(-1n);
    expect(fundingIndexDelta(17n, 1n, -13)).toBe(1n);
  });
});
