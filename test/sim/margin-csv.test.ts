import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../sim/config.js';
import { marketSpecs } from '../../sim/market.js';
import { Metrics } from '../../sim/metrics.js';
import { marginCsv } from '../../sim/output.js';
import { percentiles, quantileSorted } from '../../sim/plot/index.js';

/**
 * margin.csv, the NC/MMR distribution a risk analyst plots: per sample the number of accounts with
 * a position, how many are below 1 (liquidatable), and percentiles p1 … p99 interpolated linearly
 * between order statistics (numpy's default), from hand-made samples (no chain).
 */
describe('margin.csv', () => {
  it('one row per sample: accounts, accounts below 1, and linearly interpolated percentiles', () => {
    const m = new Metrics(marketSpecs(buildConfig({ name: 'm', markets: [{ id: 0, dataset: 'btc-2021-05-19', mode: 'step', weight: 1 }] })));
    // 11 accounts: ratios 0.5, 1, 1.5, …, 5.5 (two of them, 0.5 and 1, not above 1; one strictly below)
    const ratios = Float64Array.from({ length: 11 }, (_, i) => 0.5 * (i + 1)).reverse();
    m.margin.push({ height: 7, timeMs: Date.UTC(2021, 4, 19, 13, 5), sblock: 3, ratios, below1: 1 });
    m.margin.push({ height: 8, timeMs: Date.UTC(2021, 4, 19, 13, 5, 1), sblock: 4, ratios: new Float64Array(0), below1: 0 });
    const [head, row, empty] = marginCsv(m).trim().split('\n');
    expect(head).toBe('height,time,scenario_block,accounts,below_1,p1,p5,p10,p25,p50,p75,p90,p95,p99');
    // rank h = 10·p/100: p1 → 0.5 + 0.1·0.5, p25 → 0.5 + 2.5·0.5, p99 → 0.5 + 9.9·0.5
    expect(row).toBe('7,2021-05-19T13:05:00.000Z,3,11,1,0.5500,0.7500,1.0000,1.7500,3.0000,4.2500,5.0000,5.2500,5.4500');
    // no account with a position: empty percentile cells, not zeros
    expect(empty).toBe('8,2021-05-19T13:05:01.000Z,4,0,0,,,,,,,,,');
  });

  it('percentiles outside [0, 100] are an error, not an extrapolation', () => {
    expect(() => quantileSorted([1, 2, 3], 101)).toThrow(RangeError);
    expect(() => quantileSorted([1, 2, 3], -1)).toThrow(RangeError);
    expect(percentiles([3, 1, 2], [0, 100])).toEqual([1, 3]);
  });
});
