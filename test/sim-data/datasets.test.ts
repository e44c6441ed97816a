import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  compareDecimal,
  datasetPath,
  detectPriceCsvFormat,
  fractionDigits,
  getDatasetInfo,
  inferCandleMs,
  listDatasets,
  loadDataset,
} from '../../sim/data/index.js';

const PRICES_DIR = fileURLToPath(new URL('../../sim/data/prices/', import.meta.url));

interface InventoryRow {
  id: string;
  file: string;
  interval: string;
  rows: number;
  first: string;
  last: string;
  minLow: string;
  maxHigh: string;
  sha256: string;
}

/** The inventory table of sim/data/prices/SOURCES.md. */
function inventory(): InventoryRow[] {
  const md = readFileSync(join(PRICES_DIR, 'SOURCES.md'), 'utf8');
  const start = md.indexOf('| dataset id |');
  expect(start).toBeGreaterThan(0);
  const lines = md.slice(start).split('\n');
  const rows: InventoryRow[] = [];
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    const c = line.split('|').slice(1, -1).map((s) => s.trim());
    expect(c).toHaveLength(9);
    rows.push({ id: c[0]!, file: c[1]!, interval: c[2]!, rows: Number(c[3]), first: c[4]!, last: c[5]!, minLow: c[6]!, maxHigh: c[7]!, sha256: c[8]! });
  }
  return rows;
}

const utc = (s: string): number => Date.parse(`${s.replace(' ', 'T')}Z`);

describe('shipped datasets', () => {
  const inv = inventory();

  it('SOURCES.md lists exactly the registered datasets and the CSV files on disk', () => {
    expect(inv.map((r) => r.id).sort()).toEqual(listDatasets().map((d) => d.id).sort());
    const csvs = readdirSync(PRICES_DIR).filter((f) => f.endsWith('.csv')).sort();
    expect(inv.map((r) => r.file).sort()).toEqual(csvs);
    expect(listDatasets()).toHaveLength(19);
    expect(listDatasets({ interval: '1m' })).toHaveLength(8);
    expect(listDatasets({ interval: '1h', asset: 'ETH' })).toHaveLength(4);
    expect(listDatasets({ kind: 'history' }).map((d) => d.id)).toEqual(['btc-daily-binance', 'eth-daily-binance', 'btc-daily-bitstamp']);
  });

  it('keeps the shipped data small (< 2.5 MB)', () => {
    const total = readdirSync(PRICES_DIR).reduce((s, f) => s + statSync(join(PRICES_DIR, f)).size, 0);
    expect(total).toBeLessThan(2.5e6);
  });

  it('resolves paths relative to the module and rejects unknown ids', () => {
    expect(dirname(datasetPath('btc-2020-03-12'))).toBe(PRICES_DIR.replace(/\/$/, ''));
    expect(() => loadDataset('btc-1999-01-01')).toThrow(/unknown dataset "btc-1999-01-01"; known: btc-2020-03-12/);
  });

  for (const row of inv) {
    it(`${row.id}: file, rows, times and extremes match SOURCES.md and the metadata`, () => {
      const info = getDatasetInfo(row.id);
      expect(info.file).toBe(row.file);
      expect(info.interval).toBe(row.interval);
      const bytes = readFileSync(datasetPath(row.id));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(row.sha256);
      expect(detectPriceCsvFormat(bytes.toString('utf8'))).toBe(info.format);

      const { points } = loadDataset(row.id);
      expect(points).toHaveLength(row.rows);
      expect(info.rows).toBe(row.rows);
      expect(points[0]!.timeMs).toBe(utc(row.first));
      expect(points.at(-1)!.timeMs).toBe(utc(row.last));
      expect(info.firstTimeMs).toBe(points[0]!.timeMs);
      expect(info.lastTimeMs).toBe(points.at(-1)!.timeMs);
      expect(info.endTimeMs).toBe(info.lastTimeMs + info.intervalMs);
      expect(inferCandleMs(points)).toBe(info.intervalMs);

      let lo = points[0]!;
      let hi = points[0]!;
      let decimals = 0;
      let missing = 0;
      for (const [i, p] of points.entries()) {
        if (compareDecimal(p.low, lo.low) < 0) lo = p;
        if (compareDecimal(p.high, hi.high) > 0) hi = p;
        decimals = Math.max(decimals, fractionDigits(p.open), fractionDigits(p.high), fractionDigits(p.low), fractionDigits(p.close));
        if (i > 0) {
          const step = p.timeMs - points[i - 1]!.timeMs;
          expect(step % info.intervalMs).toBe(0);
          missing += step / info.intervalMs - 1;
        }
      }
      expect(lo.low).toBe(row.minLow);
      expect(hi.high).toBe(row.maxHigh);
      expect(info.minLow).toEqual({ price: lo.low, timeMs: lo.timeMs });
      expect(info.maxHigh).toEqual({ price: hi.high, timeMs: hi.timeMs });
      expect(info.priceDecimals).toBe(decimals);
      expect(info.missingCandles).toBe(missing);
    });
  }

  it('minute windows are verbatim copies: kline close_time = open_time + 59999 on every row', () => {
    for (const d of listDatasets({ interval: '1m' })) {
      const lines = readFileSync(datasetPath(d.id), 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(d.rows);
      for (const l of lines) {
        const c = l.split(',');
        expect(Number(c[6]) - Number(c[0])).toBe(59_999);
      }
    }
  });

  it('the perp crash wicks are in the data (BTC 3621.81 on 2020-03-13, ETH 1400.73 on 2021-05-19)', () => {
    expect(getDatasetInfo('btc-2020-03-12').minLow).toEqual({ price: '3621.81', timeMs: Date.parse('2020-03-13T02:16:00Z') });
    expect(getDatasetInfo('eth-2021-05-19').minLow).toEqual({ price: '1400.73', timeMs: Date.parse('2021-05-19T13:10:00Z') });
  });
});
