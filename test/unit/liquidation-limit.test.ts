import { describe, expect, it } from 'vitest';
import { fillablePrice, roundToTick } from '../../modules/liquidation/index.js';
import { accountRisk } from '../../modules/subaccounts/margin.js';

/**
 * The liquidation order's limit price (modules/liquidation/README.md §2 step 5): fillable = p·(1 ∓ spread),
 * spread = spread_to_mmf · MMF · ABR, ABR = clamp(1 − NC/MMR, 0, 1), then on the tick grid. Cases a mutation
 * review found untested: an ABR that is not a whole number of ppm, and a price below one tick.
 */
describe('fillable price', () => {
  it('NC/MMR = 1/3: ABR = 2/3 and the spread is exactly 1.5 · 3% · 2/3 = 3%, not a ppm less', () => {
    // ABR = 10⁶ − ⌊10⁶/3⌋ = 666,667 ppm; spread = ⌊1.5 · 30,000 · 666,667 / 10⁶⌋ = ⌊30,000.015⌋ = 30,000 ppm.
    // (From ⌈10⁶/3⌉ the ABR would be 666,666 and the spread 29,999 ppm, off the exact 3%.)
    const r = { ...accountRisk(1n, []), mmr: 3n }; // only NC and MMR enter the fillable price
    expect(fillablePrice(r, 1_000_000n, 30_000n, 1_500_000n, 'sell')).toBe(970_000n);
    expect(fillablePrice(r, 1_000_000n, 30_000n, 1_500_000n, 'buy')).toBe(1_030_000n);
  });
});

describe('tick rounding', () => {
  it('a limit is never below one tick: a price under one tick becomes one tick on either side', () => {
    // a sell whose fillable price reached 0 (spread ≥ 100%: spread_to_mmf up to 10× and a large MMF) still carries a
    // valid limit, and a buy of a market priced under one tick is not rounded down to price 0
    expect(roundToTick(0n, 100_000n, 'sell')).toBe(100_000n);
    expect(roundToTick(-5n, 100_000n, 'sell')).toBe(100_000n);
    expect(roundToTick(99_999n, 100_000n, 'buy')).toBe(100_000n);
    expect(roundToTick(199_999n, 100_000n, 'buy')).toBe(100_000n); // above one tick: down, in the account's favour
  });
});
