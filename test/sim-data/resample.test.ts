import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  candlePath,
  firstExtreme,
  iterateResampled,
  listDatasets,
  loadDataset,
  resample,
  toPriceUnits,
  toUnitCandles,
  type PricePoint,
  type UnitCandle,
} from '../../sim/data/index.js';

const MIN = 60_000;
const c = (timeMs: number, open: bigint, high: bigint, low: bigint, close: bigint): UnitCandle => ({ timeMs, open, high, low, close });

describe('candlePath (linear-path within one candle)', () => {
  const crash = c(0, 100n, 103n, 40n, 50n); // high is closer to the open → high first
  const pump = c(0, 100n, 190n, 98n, 180n); // low closer → low first

  it('visits open → nearer extreme → other extreme → close', () => {
    expect(firstExtreme(crash)).toBe('high');
    expect(firstExtreme(pump)).toBe('low');
    expect(candlePath(crash, 4)).toEqual([100n, 103n, 40n, 50n]);
    expect(candlePath(pump, 4)).toEqual([100n, 98n, 190n, 180n]);
    // a = 6: vertices at j = 0, 2, 4, 6
    expect(candlePath(crash, 7)).toEqual([100n, 102n, 103n, 72n, 40n, 45n, 50n]);
  });

  it('breaks ties by the shorter path', () => {
    expect(firstExtreme(c(0, 100n, 110n, 90n, 105n))).toBe('low'); // bullish: low first
    expect(firstExtreme(c(0, 100n, 110n, 90n, 95n))).toBe('high'); // bearish: high first
    expect(firstExtreme(c(0, 100n, 110n, 90n, 100n))).toBe('low');
  });

  it('gives extremes priority when there are fewer blocks than vertices', () => {
    expect(candlePath(crash, 3)).toEqual([103n, 40n, 50n]);
    expect(candlePath(crash, 2)).toEqual([103n, 40n]);
    expect(candlePath(crash, 1)).toEqual([50n]);
    expect(() => candlePath(crash, 0)).toThrow(RangeError);
  });

  it('rounds interpolated values half up, exactly', () => {
    // open 0 → high 1 over 3 steps (a = 9: vertices at 0, 3, 6, 9): 1/3 → 0, 2/3 → 1
    const p = candlePath(c(0, 0n, 1n, -10n, -10n), 10);
    expect(p.slice(0, 4)).toEqual([0n, 0n, 1n, 1n]);
    // low first (vertices 0, 2, 3, 5); on the way down 1 → 0 the midpoint 0.5 rounds up to 1
    expect(candlePath(c(0, 0n, 1n, 0n, 0n), 6)).toEqual([0n, 0n, 0n, 1n, 1n, 0n]);
  });

  it('hits both extremes exactly and stays within [low, high] (property)', () => {
    const candle = fc
      .tuple(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 1000n }))
      .map(([a, b, x, y]) => {
        const lo = a < b ? a : b;
        const hi = a < b ? b : a;
        const span = hi - lo;
        return c(0, lo + (span * x) / 1000n, hi, lo, lo + (span * y) / 1000n);
      });
    fc.assert(
      fc.property(candle, fc.integer({ min: 1, max: 200 }), (k, m) => {
        const p = candlePath(k, m);
        expect(p).toHaveLength(m);
        for (const v of p) {
          expect(v >= k.low && v <= k.high).toBe(true);
        }
        if (m >= 2) {
          expect(p).toContain(k.high);
          expect(p).toContain(k.low);
        }
        if (m >= 4) expect(p[0]).toBe(k.open);
        if (m !== 2) expect(p[m - 1]).toBe(k.close);
      }),
    );
  });
});

describe('resample', () => {
  const pts: PricePoint[] = [
    { timeMs: 0, open: '10.00', high: '10.50', low: '9.00', close: '9.20' },
    { timeMs: MIN, open: '9.20', high: '9.30', low: '7.15', close: '9.00' },
    { timeMs: 3 * MIN, open: '9.10', high: '9.60', low: '9.05', close: '9.50' }, // a gap at 2 min
  ];

  it("'step' holds each candle's open, and the previous close through a gap", () => {
    const t = resample(pts, { blockMs: 30_000, mode: 'step', exponent: -2 });
    expect(t.map((x) => x.timeMs)).toEqual([0, 30_000, 60_000, 90_000, 120_000, 150_000, 180_000, 210_000]);
    expect(t.map((x) => x.price)).toEqual([1000n, 1000n, 920n, 920n, 900n, 900n, 910n, 910n]);
  });

  it("'linear-path' at 1 s blocks from 1 min candles: 60 blocks per candle, open first, close last, extremes hit", () => {
    const t = resample(pts, { blockMs: 1000, mode: 'linear-path', exponent: -6 });
    expect(t).toHaveLength(240);
    const units = toUnitCandles(pts, -6);
    for (const [i, k] of units.entries()) {
      if (i === 2) continue; // the gap minute is candle-less
      const start = k.timeMs / 1000;
      const seg = t.slice(start, start + 60).map((x) => x.price);
      expect(seg[0]).toBe(k.open);
      expect(seg[59]).toBe(k.close);
      expect(seg).toContain(k.high);
      expect(seg).toContain(k.low);
      expect(seg).toEqual(candlePath(k, 60));
    }
    // gap minute 2: last close held
    expect(new Set(t.slice(120, 180).map((x) => x.price))).toEqual(new Set([9_000_000n]));
  });

  it('is deterministic and independent of from/to clipping', () => {
    const full = resample(pts, { blockMs: 7000, mode: 'linear-path', exponent: -2 });
    const again = resample(pts, { blockMs: 7000, mode: 'linear-path', exponent: -2 });
    expect(again).toEqual(full);
    const part = resample(pts, { blockMs: 7000, mode: 'linear-path', exponent: -2, from: 70_000, to: 200_000 });
    expect(part).toEqual(full.filter((x) => x.timeMs >= 70_000 && x.timeMs < 200_000));
  });

  it('takes UnitCandles directly and streams lazily', () => {
    const units = toUnitCandles(pts, -2);
    expect(resample(units, { blockMs: 1000, mode: 'step' })).toEqual(resample(pts, { blockMs: 1000, mode: 'step', exponent: -2 }));
    const it = iterateResampled(units, { blockMs: 1, mode: 'linear-path' }); // 240 000 blocks, only 3 pulled
    expect([it.next().value, it.next().value, it.next().value].map((x) => x?.price)).toEqual([1000n, 1000n, 1000n]);
  });

  it('rejects bad options', () => {
    expect(() => resample([], { blockMs: 1000, mode: 'step' })).toThrow(/no candles/);
    expect(() => resample(pts, { blockMs: 0, mode: 'step' })).toThrow(/blockMs/);
    expect(() => resample(pts, { blockMs: 1.5, mode: 'step' })).toThrow(/blockMs/);
    expect(() => resample(pts, { blockMs: 1000, mode: 'step', from: -1 })).toThrow(/from must be an integer/);
    expect(() => resample(pts.slice(1), { blockMs: 1000, mode: 'step', exponent: -2, from: 0 })).toThrow(/from 1970-01-01T00:00:00.000Z is before the first candle \(1970-01-01T00:01:00.000Z\)/);
    expect(() => resample(pts, { blockMs: 1000, mode: 'step', to: 5 * MIN })).toThrow(/after the end of the last candle/);
    expect(() => resample(pts, { blockMs: 1000, mode: 'step', from: MIN, to: MIN })).toThrow(/empty range/);
    expect(() => resample([pts[0]!], { blockMs: 1000, mode: 'step' })).toThrow(/explicit candleMs/);
    expect(resample([pts[0]!], { blockMs: 1000, mode: 'step', candleMs: MIN, exponent: -2 })).toHaveLength(60);
    expect(() => resample([pts[1]!, pts[0]!], { blockMs: 1000, mode: 'step', exponent: -2, candleMs: MIN })).toThrow(/unsorted or overlapping/);
    expect(() => resample(pts, { blockMs: 1000, mode: 'step', exponent: -1 })).toThrow(/cannot be represented exactly/);
    expect(resample(pts, { blockMs: 1000, mode: 'step', exponent: -1, rounding: 'half-even' })[0]!.price).toBe(100n);
    expect(() => resample(pts, { blockMs: 1000, mode: 'smooth' as 'step' })).toThrow(/unknown mode/);
  });

  it('reaches the crash extremes of every minute window exactly (1 s blocks)', () => {
    for (const d of listDatasets({ interval: '1m' })) {
      const { info, points } = loadDataset(d.id);
      let lo: bigint | undefined;
      let hi: bigint | undefined;
      let n = 0;
      for (const { price } of iterateResampled(points, { blockMs: 1000, mode: 'linear-path', exponent: -6 })) {
        if (lo === undefined || price < lo) lo = price;
        if (hi === undefined || price > hi) hi = price;
        n++;
      }
      expect(n).toBe(info.rows * 60);
      expect(lo).toBe(toPriceUnits(info.minLow.price, -6));
      expect(hi).toBe(toPriceUnits(info.maxHigh.price, -6));
    }
  });

  it("'step' on hourly data with 8-decimal prices needs exponent −8 or a rounding mode", () => {
    const { info, points } = loadDataset('eth-hourly-2022-11-08');
    expect(() => resample(points, { blockMs: 60_000, mode: 'step' })).toThrow(/cannot be represented exactly in units of 10\^-6/);
    const t = resample(points, { blockMs: 60_000, mode: 'linear-path', exponent: -info.priceDecimals });
    // 42 days of minutes, the 3-hour gap included (held at the previous close)
    expect(t).toHaveLength(42 * 24 * 60);
    const min = t.reduce((m, x) => (x.price < m ? x.price : m), t[0]!.price);
    expect(min).toBe(toPriceUnits(info.minLow.price, -8));
  });
});
