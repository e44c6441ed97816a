/**
 * Which series each chart of the reports is fed (sim/report.ts). The chart
 * functions of sim/plot are wrapped to record their options, and the run's
 * per-block columns are replaced by synthetic ones in which every column holds
 * different numbers and the warm-up differs from the scenario, so a chart fed
 * the wrong column, or the warm-up, is visible as wrong numbers (an SVG of
 * the wrong line would still parse and look plausible).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Metrics, type Summary } from '../../sim/metrics.js';
import { runReport, sweepReport, type SweepRow } from '../../sim/report.js';
import { Simulation } from '../../sim/runner.js';
import { tinyConfig } from './tiny.js';

const charts = vi.hoisted(() => [] as Array<{ kind: string; o: Record<string, unknown> }>);
vi.mock('../../sim/plot/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../sim/plot/index.js')>();
  const spy = <F extends (o: never) => string>(kind: string, f: F) => ((o: Parameters<F>[0]) => {
    charts.push({ kind, o: o as Record<string, unknown> });
    return f(o);
  }) as unknown as F;
  return { ...real, lineChart: spy('line', real.lineChart), barChart: spy('bar', real.barChart), groupedBarChart: spy('grouped', real.groupedBarChart) };
});

interface SeriesOpt { name: string; values: ArrayLike<number | null>; x?: number[] }
function chart(title: string): Record<string, unknown> & { series: SeriesOpt[] } {
  const found = charts.filter((c) => c.o.title === title);
  expect(found, title).toHaveLength(1);
  return found[0]!.o as Record<string, unknown> & { series: SeriesOpt[] };
}
function series(title: string, name: string): Array<number | null> {
  const s = chart(title).series.find((x) => x.name === name);
  expect(s, `${title} / ${name}`).toBeDefined();
  return Array.from(s!.values);
}

const T0 = Date.UTC(2021, 4, 19, 13, 5);
/** Two warm-up blocks (scenario block −2, −1), then three scenario blocks; column c holds c·100 + block index. */
const SBLOCKS = [-2, -1, 0, 1, 2];
const col = (base: number) => SBLOCKS.map((_, i) => base + i);
/** The scenario part of a column (indices 2..4). */
const scen = (base: number) => col(base).slice(2);

function syntheticMetrics(sim: Simulation): Metrics {
  const m = new Metrics(sim.specs);
  const c = m.cols;
  c.height.push(...SBLOCKS.map((_, i) => i + 1));
  c.timeMs.push(...SBLOCKS.map((_, i) => T0 + i * 1000));
  c.sblock.push(...SBLOCKS);
  c.txs.push(...col(100));
  c.failedTxs.push(...col(200));
  c.liquidations.push(...col(300));
  c.liquidatedUsd.push(...col(400));
  c.adlFills.push(...col(500));
  c.adlUsd.push(...col(600));
  c.badDebtUsd.push(...col(700));
  c.insuranceFundUsd.push(...col(800));
  c.liquidatable.push(...col(900));
  c.carried.push(...col(1000));
  c.fundingPaidUsd.push(...col(1100));
  const mc = c.markets.get(0)!;
  mc.reference.push(...col(2000));
  mc.oracle.push(...col(2100));
  mc.bestBid.push(...col(2200));
  mc.bestAsk.push(...col(2300));
  mc.oi.push(...col(2400));
  mc.oiUsd.push(...col(2500));
  // two margin samples in the scenario: 3 then 4 accounts with positions, 1 then 2 of them below maintenance
  m.margin.push({ height: 3, timeMs: T0 + 2000, sblock: 0, ratios: Float64Array.from([0.5, 2, 3]), below1: 1 });
  m.margin.push({ height: 5, timeMs: T0 + 4000, sblock: 2, ratios: Float64Array.from([0.5, 0.8, 2, 3]), below1: 2 });
  return m;
}

let sim: Simulation;
let summary: Summary;
beforeAll(() => {
  sim = new Simulation(tinyConfig({ blocks: 2 }));
  sim.run();
  summary = sim.summary();
});
afterAll(() => sim.close());

describe('the run report feeds each chart its own column, scenario blocks only', () => {
  beforeAll(() => {
    charts.length = 0;
    runReport({ config: sim.config, summary, metrics: syntheticMetrics(sim), specs: sim.specs });
  });

  it('price chart: bid, ask, reference and oracle each from its own column; x = the scenario blocks\' times', () => {
    const title = 'BTC-USD: reference price, on-chain oracle, best bid/ask';
    expect(series(title, 'best bid')).toEqual(scen(2200));
    expect(series(title, 'best ask')).toEqual(scen(2300));
    expect(series(title, 'reference')).toEqual(scen(2000));
    expect(series(title, 'oracle')).toEqual(scen(2100));
    expect(chart(title).x).toEqual([T0 + 2000, T0 + 3000, T0 + 4000]);
  });

  it('insurance fund, bad debt and funding charts', () => {
    expect(series('Insurance fund balance', 'insurance fund')).toEqual(scen(800));
    expect(series('Bad debt (cumulative)', 'bad debt')).toEqual(scen(700));
    expect(series('Funding transferred between longs and shorts (cumulative)', 'funding paid')).toEqual(scen(1100));
  });

  it('open interest in USD, on an axis that starts at zero (a level, not a change)', () => {
    expect(series('Open interest (one side) at the oracle price', 'BTC-USD')).toEqual(scen(2500));
    expect(chart('Open interest (one side) at the oracle price').includeZero).toBe(true);
  });

  it('liquidation bars: steps and ADL fills, notional through the book and by ADL', () => {
    expect(series('Liquidation steps and ADL fills per block', 'liquidation steps')).toEqual(scen(300));
    expect(series('Liquidation steps and ADL fills per block', 'ADL fills')).toEqual(scen(500));
    expect(series('Liquidated notional per block', 'through the book')).toEqual(scen(400));
    expect(series('Liquidated notional per block', 'ADL')).toEqual(scen(600));
  });

  it('accounts below maintenance: the count below 1 at each sample, not the accounts sampled', () => {
    expect(series('Accounts below maintenance (NC < MMR) at each sample', 'liquidatable')).toEqual([1, 2]);
  });
});

describe('the sweep report', () => {
  /** Grid point k: every figure different per row and per column. */
  function row(k: number): SweepRow {
    const s = structuredClone(summary);
    s.bad_debt.total_usd = `${10 + k}.000000`;
    s.insurance_fund.start_usd = '1000.000000';
    s.insurance_fund.min_usd = `${900 + k}.000000`;
    s.insurance_fund.max_drawdown_usd = `${50 + k}.000000`;
    s.liquidations.count = 30 + k;
    s.adl.fills = 40 + k;
    return { label: `mmfPpm=${30_000 + k}`, values: { 'params.mmfPpm': 30_000 + k }, summary: s, insurance: { x: [T0, T0 + 1000], values: [1000, 900 + k] }, dir: `/out/0${k + 1}-mmfPpm=${30_000 + k}` };
  }
  let rows: SweepRow[] = [];
  let html = '';
  beforeAll(() => {
    rows = [row(0), row(1), row(2)];
    charts.length = 0;
    html = sweepReport({ base: sim.config, axes: { 'params.mmfPpm': [30_000, 30_001, 30_002] }, rows });
  });

  it('comparison table: each cell under its own heading', () => {
    const table = /<h2>Comparison<\/h2><table>([\s\S]*?)<\/table>/.exec(html)![1]!;
    const trs = table.split('</tr>').filter((t) => t.includes('<t'));
    const heads = [...trs[0]!.matchAll(/<th[^>]*>(.*?)<\/th>/g)].map((m) => m[1]!);
    const body = trs.slice(1).map((tr) => Object.fromEntries([...tr.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m, i) => [heads[i]!, m[1]!])));
    expect(body).toHaveLength(3);
    expect(body[1]).toMatchObject({ mmfPpm: '30001', 'bad debt': '$11.00', 'IF start': '$1.0k', 'IF min': '$901.00', liquidations: '31', 'ADL fills': '41' });
    expect(body[1]!['IF drawdown']).toMatch(/^\$51\.00 /);
  });

  it('grouped bars: bad debt vs drawdown, liquidation steps vs ADL fills, one bar per grid point', () => {
    const a = 'Bad debt and insurance-fund drawdown per grid point';
    expect(series(a, 'bad debt')).toEqual([10, 11, 12]);
    expect(series(a, 'insurance fund drawdown')).toEqual([50, 51, 52]);
    const b = 'Liquidations and ADL per grid point';
    expect(series(b, 'liquidation steps')).toEqual([30, 31, 32]);
    expect(series(b, 'ADL fills')).toEqual([40, 41, 42]);
    expect(chart(a).categories).toEqual(['30000', '30001', '30002']);
  });

  it('the insurance-fund overlay has a line per grid point, the first included', () => {
    const o = chart('Insurance fund over time per grid point');
    expect(o.series.map((s) => s.name)).toEqual(rows.map((r) => r.label));
    expect(o.series.map((s) => Array.from(s.values))).toEqual(rows.map((r) => r.insurance.values));
  });

  it('the runs list names each run\'s directory', () => {
    for (const r of rows) expect(html).toContain(`<li>${r.label}: <code>${r.dir}</code></li>`);
  });
});
