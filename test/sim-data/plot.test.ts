import { describe, expect, it } from 'vitest';
import { loadDataset, resample } from '../../sim/data/index.js';
import {
  bandChart,
  barChart,
  bucketByTime,
  formatFixed,
  formatNumber,
  groupedBarChart,
  heatmapChart,
  linearTicks,
  lineChart,
  m4Indices,
  percentiles,
  quantileBands,
  timeTicks,
} from '../../sim/plot/index.js';
import { checkWellFormedXml } from './xml.js';

const T0 = Date.parse('2020-03-12T23:30:00Z');

/** Common checks: well-formed, self-contained, has title/axes/legend texts. */
function checkSvg(svg: string, expectTexts: string[]): string[] {
  const names = checkWellFormedXml(svg);
  expect(names[0]).toBe('svg');
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(names).toContain('title');
  expect(names).toContain('text');
  // self-contained: no scripts, links, external resources, stylesheets or ids
  expect(svg).not.toMatch(/<script|<style|<image|<foreignObject|href=|url\(|@import|@font-face|\sid="|on[a-z]+="/i);
  for (const t of expectTexts) expect(svg).toContain(`>${t}<`);
  return names;
}

/** Pixel y values of the first <path> whose d starts with M, in order. */
function pathYs(svg: string, stroke: string): number[] {
  const m = new RegExp(`<path d="([^"]+)" fill="none" stroke="${stroke}"`).exec(svg);
  expect(m).not.toBeNull();
  return [...m![1]!.matchAll(/[ML]-?[\d.]+ (-?[\d.]+)/g)].map((x) => Number(x[1]));
}

describe('scales and formatting', () => {
  it('formats numbers deterministically without locale APIs', () => {
    expect(formatFixed(1234567.891, 2)).toBe('1,234,567.89');
    expect(formatFixed(-0.0001, 2)).toBe('0.00');
    expect(formatFixed(-1500, 0)).toBe('-1,500');
    expect(formatNumber(2_500_000)).toBe('2.5M');
    expect(formatNumber(3621.81)).toBe('3,622');
    expect(formatNumber(0.000123)).toBe('0.000123');
  });

  it('makes nice linear ticks', () => {
    const t = linearTicks(3621.81, 5529.97, 5);
    expect(t.ticks.map((k) => k.label[0])).toEqual(['3,500', '4,000', '4,500', '5,000', '5,500', '6,000']);
    expect([t.min, t.max]).toEqual([3500, 6000]);
    expect(linearTicks(0, 0.3, 3).ticks.map((k) => k.label[0])).toEqual(['0.0', '0.1', '0.2', '0.3']);
    expect(linearTicks(0, 2.5e6, 5).ticks.map((k) => k.label[0])).toEqual(['0.0M', '0.5M', '1.0M', '1.5M', '2.0M', '2.5M']);
  });

  it('makes UTC time ticks with the date where it changes', () => {
    const t = timeTicks(T0, T0 + 4 * 3600_000, 5);
    expect(t.map((k) => k.label.join(' '))).toEqual(['00:00 2020-03-13', '01:00', '02:00', '03:00']);
    const d = timeTicks(Date.parse('2022-10-11T00:00Z'), Date.parse('2022-11-22T00:00Z'), 7);
    expect(d[0]!.label).toEqual(['10-17', '2022']); // weekly ticks on Mondays
    expect(new Date(d[0]!.value).getUTCDay()).toBe(1);
    const y = timeTicks(Date.parse('2017-08-17T00:00Z'), Date.parse('2026-03-30T00:00Z'), 8);
    expect(y.map((k) => k.label[0])).toEqual(['2018', '2020', '2022', '2024', '2026']);
    const s = timeTicks(T0, T0 + 40_000, 5);
    expect(s[0]!.label).toEqual(['23:30:00', '2020-03-12']);
  });
});

describe('stats helpers', () => {
  it('percentiles interpolate linearly and ignore non-finite values', () => {
    expect(percentiles([4, 1, 3, 2, NaN, 5], [0, 25, 50, 100])).toEqual([1, 2, 3, 5]);
    expect(percentiles([1, 2], [50])).toEqual([1.5]);
    const bands = quantileBands([[1, 2, 3], [10, 20, 30, 40]], [50]);
    expect(Array.from(bands[0]!.values)).toEqual([2, 25]);
  });

  it('bucketByTime groups samples', () => {
    const b = bucketByTime([0, 500, 1000, 2500], [1, 2, 3, 4], 1000);
    expect(b).toEqual({ x: [0, 1000, 2000], samples: [[1, 2], [3], [4]] });
  });

  it('m4Indices keeps first, min, max, last per pixel column', () => {
    const px = [0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5];
    const py = [5, 1, 9, 3, 4, 7, 7];
    expect(m4Indices(px, py)).toEqual([0, 1, 2, 4, 5, 6]);
  });
});

describe('lineChart', () => {
  const { points } = loadDataset('btc-2020-03-12');
  const ticks = resample(points, { blockMs: 1000, mode: 'linear-path', exponent: -2 }); // 14 400 blocks
  const x = ticks.map((t) => t.timeMs);
  const price = ticks.map((t) => Number(t.price) / 100);
  const oracle = price.map((p, i) => (i % 10 === 0 ? p : null)); // gaps must not break the SVG

  it('renders a multi-series chart with two axes, legend, markers and UTC time axis', () => {
    const svg = lineChart({
      title: 'BTC <price> & "oracle"',
      subtitle: '1 s blocks',
      xType: 'time',
      x,
      yLabel: 'USD',
      series: [
        { name: 'mark', values: price },
        { name: 'oracle', values: oracle, dashed: true },
        { name: 'insurance fund', values: price.map((_, i) => 1e6 - i), axis: 'right', area: true },
      ],
      yLabelRight: 'USDC',
      markers: [{ x: T0 + 2 * 3600_000, label: 'crash' }],
      hlines: [{ y: 4000, label: 'liq' }],
    });
    checkSvg(svg, ['BTC &lt;price&gt; &amp; &quot;oracle&quot;', 'mark', 'oracle', 'insurance fund', 'USD', 'USDC', 'time (UTC)', '2020-03-13', '01:00', '4,000', '1.0M', 'crash', 'liq']);
    expect(svg.length).toBeLessThan(150_000);
  });

  it('downsamples 100k points but keeps the extremes visible', () => {
    const n = 100_000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = Array.from({ length: n }, (_, i) => Math.sin(i / 5000));
    ys[54_321] = 10; // a one-block spike
    ys[77_777] = -10;
    const t0 = performance.now();
    const svg = lineChart({ title: 'spike', x: xs, series: [{ name: 'v', values: ys, color: '#123456' }], height: 300 });
    expect(performance.now() - t0).toBeLessThan(1000);
    checkSvg(svg, ['spike']);
    expect(svg.length).toBeLessThan(60_000);
    const py = pathYs(svg, '#123456');
    expect(py.length).toBeLessThan(4 * 800);
    // the spike and the dip are the top and bottom of the drawn line
    const top = Math.min(...py);
    const bottom = Math.max(...py);
    const withoutSpikes = lineChart({ title: 'spike', x: xs, series: [{ name: 'v', values: ys.map((v) => Math.max(-1, Math.min(1, v))), color: '#123456' }], height: 300, yMin: -10, yMax: 10 });
    const py2 = pathYs(withoutSpikes, '#123456');
    expect(top).toBeLessThan(Math.min(...py2) - 50);
    expect(bottom).toBeGreaterThan(Math.max(...py2) + 50);
  });

  it('is deterministic', () => {
    const mk = (): string => lineChart({ title: 't', xType: 'time', x, series: [{ name: 'p', values: price }] });
    expect(mk()).toBe(mk());
  });

  it('validates input', () => {
    expect(() => lineChart({ title: 't', series: [] })).toThrow(/no series/);
    expect(() => lineChart({ title: 't', x: [1, 2], series: [{ name: 'a', values: [1] }] })).toThrow(/1 values but 2 x values/);
    expect(() => lineChart({ title: 't', x: [2, 1], series: [{ name: 'a', values: [1, 2] }] })).toThrow(/non-decreasing/);
    expect(() => lineChart({ title: 't', series: [{ name: 'a', values: [1, 2] }] })).toThrow(/no x values/);
  });

  it('copes with empty and constant data', () => {
    checkSvg(lineChart({ title: 'empty', x: [], series: [{ name: 'a', values: [] }] }), ['empty']);
    checkSvg(lineChart({ title: 'flat', x: [1, 2, 3], series: [{ name: 'a', values: [5, 5, 5] }] }), ['flat']);
    checkSvg(lineChart({ title: 'nulls', x: [1, 2, 3], series: [{ name: 'a', values: [null, undefined, NaN] }] }), ['nulls']);
  });
});

describe('barChart', () => {
  it('draws one bar per block when sparse', () => {
    const svg = barChart({ title: 'Liquidations per block', x: [100, 101, 102, 103], series: [{ name: 'liquidations', values: [0, 3, 1, 0] }], xLabel: 'block', yLabel: 'count' });
    checkSvg(svg, ['Liquidations per block', 'liquidations', 'block', 'count']);
    const d = /<path d="([^"]+)" fill="#4e79a7"/.exec(svg)![1]!;
    expect(d.match(/M/g)).toHaveLength(2); // zero bars are not drawn
  });

  it('aggregates dense blocks per pixel column (max keeps the biggest block visible)', () => {
    const n = 20_000;
    const x = Array.from({ length: n }, (_, i) => T0 + i * 1000);
    const liq = Array.from({ length: n }, (_, i) => (i === 12_345 ? 500 : i % 3));
    const adl = Array.from({ length: n }, (_, i) => (i % 1000 === 0 ? 2 : 0));
    const svg = barChart({ title: 'liq', xType: 'time', x, series: [{ name: 'liq', values: liq }, { name: 'adl', values: adl }] });
    checkSvg(svg, ['liq', 'adl', '500']);
    expect(svg.length).toBeLessThan(80_000);
    const sum = barChart({ title: 'liq', xType: 'time', x, series: [{ name: 'liq', values: liq }], aggregate: 'sum' });
    checkSvg(sum, ['liq']);
  });
});

describe('distribution over time', () => {
  let seed = 42;
  const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const bx = Array.from({ length: 240 }, (_, i) => T0 + i * 60_000);
  const samples = bx.map((_, i) => Array.from({ length: 200 }, () => 0.3 + (rnd() - 0.5) * (0.1 + i / 400)));

  it('bandChart draws nested percentile bands and the median', () => {
    const svg = bandChart({ title: 'Margin ratio', xType: 'time', x: bx, bands: quantileBands(samples), yLabel: 'margin ratio', hlines: [{ y: 0.05, label: 'MMR' }] });
    checkSvg(svg, ['Margin ratio', 'p5–p95', 'p25–p75', 'p50', 'MMR', 'margin ratio']);
    expect(svg.match(/fill-opacity="0\.\d+" stroke="none"/g)).toHaveLength(2);
  });

  it('bandChart reduces dense buckets to per-column envelopes', () => {
    const n = 20_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const lo = Array.from({ length: n }, (_, i) => (i === 9_999 ? -5 : -1));
    const hi = Array.from({ length: n }, () => 1);
    const mk = (lower: number[]): string =>
      bandChart({ title: 'dense', x, bands: [{ p: 5, values: lower }, { p: 50, values: hi.map(() => 0) }, { p: 95, values: hi }], yMin: -6, yMax: 2, color: '#123456' });
    const svg = mk(lo);
    checkSvg(svg, ['dense', 'p5–p95', 'p50', '-6', '2']);
    expect(svg.length).toBeLessThan(40_000);
    // the one-bucket dip to -5 is in the drawn envelope (pixel y of -5 is far below that of -1)
    const bandYs = (s: string): number[] => [...(/<path d="([^"]+)" fill="#123456" fill-opacity/.exec(s)![1]!).matchAll(/[ML]-?[\d.]+ (-?[\d.]+)/g)].map((m) => Number(m[1]));
    expect(Math.max(...bandYs(svg))).toBeGreaterThan(Math.max(...bandYs(mk(lo.map(() => -1)))) + 50);
  });

  it('heatmapChart draws a histogram per bucket with a colour key', () => {
    const svg = heatmapChart({ title: 'Margin ratio histogram', xType: 'time', x: bx, samples, bins: 20, overlays: [{ name: 'median', values: quantileBands(samples, [50])[0]!.values }] });
    checkSvg(svg, ['Margin ratio histogram', 'median', 'max', 'low']);
    expect(svg.length).toBeLessThan(200_000);
    const global = heatmapChart({ title: 'g', x: bx, samples, normalize: 'global' });
    checkSvg(global, ['g']);
  });
});

describe('groupedBarChart', () => {
  it('compares a parameter sweep (categories × series), negatives included', () => {
    const svg = groupedBarChart({
      title: 'Bad debt by maintenance margin',
      categories: ['MMF 2%', 'MMF 3%', 'MMF 5%'],
      series: [
        { name: 'BTC 2020-03-12', values: [120_000, 45_000, 0] },
        { name: 'ETH 2021-05-19', values: [80_000, -500, 12_000] },
      ],
      yLabel: 'USDC',
    });
    checkSvg(svg, ['Bad debt by maintenance margin', 'MMF 2%', 'MMF 5%', 'BTC 2020-03-12', 'ETH 2021-05-19', '120,000', '-500', 'USDC']);
    expect(svg.match(/<rect x=/g)!.length).toBeGreaterThanOrEqual(6);
  });

  it('rotates long category labels and validates shapes', () => {
    const cats = Array.from({ length: 12 }, (_, i) => `insurance fee ${i} bps, mmf ${i}%`);
    const svg = groupedBarChart({ title: 'sweep', categories: cats, series: [{ name: 'a', values: cats.map((_, i) => i) }] });
    checkSvg(svg, ['sweep']);
    expect(svg).toContain('rotate(-35');
    expect(() => groupedBarChart({ title: 'x', categories: ['a'], series: [{ name: 's', values: [1, 2] }] })).toThrow(/2 values for 1 categories/);
  });
});
