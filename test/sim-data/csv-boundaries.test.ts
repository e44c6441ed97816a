import { describe, expect, it } from 'vitest';
import { PriceCsvError, parsePriceCsv } from '../../sim/data/index.js';

/**
 * Boundaries of the strict price-CSV parser that a risk analyst feeding their own
 * exchange export relies on: timestamps in µs, flat candles, a zero-length candle,
 * a stray header line, the 'timestamp' column name, and integers past 2^53.
 */

/** A binance kline row; close_time is open + 59,999 ms (one-minute candles) unless given. */
const kline = (openMs: number | bigint | string, o: string, h: string, l: string, c: string, closeMs?: number | bigint | string): string =>
  [String(openMs), o, h, l, c, '1.0', String(closeMs ?? BigInt(openMs) + 59_999n), '10.0', '3', '0.5', '5.0', '0'].join(',');

const T0 = 1_621_429_200_000; // 2021-05-19T13:00:00Z in ms

function errorOf(text: string): PriceCsvError {
  try {
    parsePriceCsv(text, { source: 'mine.csv' });
  } catch (e) {
    expect(e).toBeInstanceOf(PriceCsvError);
    return e as PriceCsvError;
  }
  throw new Error('expected a PriceCsvError');
}

describe('parsePriceCsv: boundaries of the strict parser', () => {
  it('converts microsecond open times to ms (newer binance files use µs)', () => {
    // µs times (×1000) with µs close times: the same candles as the ms file
    const us = [kline(T0 * 1000, '100', '101', '99', '100', T0 * 1000 + 59_999_999), kline((T0 + 60_000) * 1000, '100', '102', '100', '101', (T0 + 60_000) * 1000 + 59_999_999)];
    expect(parsePriceCsv(us.join('\n')).map((p) => p.timeMs)).toEqual([T0, T0 + 60_000]);
  });

  it('rejects a µs time that is not a whole millisecond, naming its line', () => {
    const text = [kline(T0 * 1000, '100', '101', '99', '100', T0 * 1000 + 59_999_999), kline((T0 + 60_000) * 1000 + 1, '100', '101', '99', '100', (T0 + 60_000) * 1000 + 60_000_000)].join('\n');
    const e = errorOf(text);
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/looks like microseconds but is not a whole millisecond/);
  });

  it('accepts a flat candle (open = high = low = close) and extremes equal to open or close', () => {
    // a quiet minute on a thin market: no trade moved the price
    const text = [kline(T0, '100.5', '100.5', '100.5', '100.5'), kline(T0 + 60_000, '100.5', '101', '100', '101')].join('\n');
    expect(parsePriceCsv(text)).toEqual([
      { timeMs: T0, open: '100.5', high: '100.5', low: '100.5', close: '100.5' },
      { timeMs: T0 + 60_000, open: '100.5', high: '101', low: '100', close: '101' },
    ]);
  });

  it('rejects a candle whose close_time equals its open_time (zero length)', () => {
    const e = errorOf([kline(T0, '1', '1', '1', '1'), kline(T0 + 60_000, '1', '1', '1', '1', T0 + 60_000)].join('\n'));
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/close_time \d+ is not after open_time/);
  });

  it('a header line is tolerated only as the first line (two files pasted together are an error)', () => {
    const header = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
    expect(parsePriceCsv([header, kline(T0, '1', '1', '1', '1')].join('\n'))).toHaveLength(1);
    const e = errorOf([header, kline(T0, '1', '1', '1', '1'), header, kline(T0 + 60_000, '1', '1', '1', '1')].join('\n'));
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/open_time "open_time" is not a non-negative integer/);
  });

  it("reads a CDD header whose time column is named 'timestamp'", () => {
    const text = ['timestamp,open,high,low,close', '1621429260,2,3,1,2', '1621429200,1,2,1,2'].join('\n');
    expect(parsePriceCsv(text).map((p) => p.timeMs)).toEqual([T0, T0 + 60_000]);
  });

  it('rejects a time beyond 2^53 instead of silently rounding it', () => {
    const e = errorOf(kline('9007199254740993', '1', '1', '1', '1', '9007199254800000'));
    expect(e.line).toBe(1);
    expect(e.message).toMatch(/open_time 9007199254740993 is too large/);
  });
});
