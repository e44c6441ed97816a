import { describe, expect, it } from 'vitest';
import { candlePath, maxDecimal, minDecimal, resample, type UnitCandle } from '../../sim/data/index.js';

/**
 * Block grids that do not divide the candle length (e.g. 7 s blocks over 1 min candles): each
 * candle's blocks are exactly those whose time falls in [open time, open time + 1 min), and they
 * walk that candle's linear path from its open to its close. A block grid off by one at a candle
 * boundary would start a candle mid-path, skipping its open.
 */
const MIN = 60_000;
const c = (timeMs: number, open: bigint, high: bigint, low: bigint, close: bigint): UnitCandle => ({ timeMs, open, high, low, close });

describe('resample on a block grid that does not divide the candle', () => {
  const candles = [c(0, 1000n, 1010n, 990n, 1005n), c(MIN, 1005n, 1100n, 900n, 950n), c(2 * MIN, 950n, 960n, 800n, 820n)];
  const ticks = resample(candles, { blockMs: 7_000, mode: 'linear-path' });

  it('gives each candle the blocks inside its span, walking its path open → extremes → close', () => {
    for (const k of candles) {
      const inside = ticks.filter((t) => t.timeMs >= k.timeMs && t.timeMs < k.timeMs + MIN).map((t) => t.price);
      // 0, 7, …, 56 s: 9 blocks in the first minute; 63 … 119 s: 9 in the second; 126 … 175 s: 8 in the third
      expect(inside.length).toBe(k.timeMs === 2 * MIN ? 8 : 9);
      expect(inside).toEqual(candlePath(k, inside.length));
      expect(inside[0]).toBe(k.open);
      expect(inside[inside.length - 1]).toBe(k.close);
    }
  });

  it("'step' gives every block of a candle that candle's open", () => {
    const step = resample(candles, { blockMs: 7_000, mode: 'step' });
    expect(step.map((t) => t.price)).toEqual(step.map((t) => candles[Math.floor(t.timeMs / MIN)]!.open));
  });
});

describe('minDecimal / maxDecimal', () => {
  it('compare exactly, not as strings', () => {
    expect(minDecimal('9.99', '10')).toBe('9.99');
    expect(maxDecimal('9.99', '10')).toBe('10');
    expect(minDecimal('10', '9.99')).toBe('9.99');
    expect(maxDecimal('10', '9.99')).toBe('10');
  });
});
