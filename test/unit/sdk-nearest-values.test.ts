/**
 * A price or size off the market's grid is refused with the valid values either side. Below the first step
 * the lower one would be 0, which is not a valid size or price either: the SDK used to suggest
 * "nearest: 0 or 0.00001"; it now names only the value a trader can use.
 */
import { describe, expect, it } from 'vitest';
import { marketSpec, priceToUnits, sizeToQuantums } from '../../client/units.js';

/** The devnet ETH-USD market: tick $0.01, step 0.001 ETH = minimum size. */
const ETH = marketSpec({ id: 1, ticker: 'ETH-USD', atomic_resolution: -9, price_exponent: -6, tick_size: '10000', step_size: '1000000', min_order_size: '1000000' });

describe('SDK: the nearest valid values in a grid error', () => {
  it('between two grid values: both', () => {
    expect(() => sizeToQuantums(ETH, '1.0005')).toThrow(/step 0\.001; nearest: 1 or 1\.001$/);
    expect(() => priceToUnits(ETH, '2500.005')).toThrow(/tick 0\.01; nearest: 2500 or 2500\.01$/);
  });
  it('below the first grid value: only the one above, never 0', () => {
    expect(() => sizeToQuantums(ETH, '0.0005')).toThrow(/step 0\.001; nearest: 0\.001$/);
    expect(() => priceToUnits(ETH, '0.005')).toThrow(/tick 0\.01; nearest: 0\.01$/);
  });
});
