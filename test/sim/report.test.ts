import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blocksCsv, marginCsv } from '../../sim/output.js';
import { formatProgress, ProgressBar } from '../../sim/progress.js';
import { runReport } from '../../sim/report.js';
import { Simulation } from '../../sim/runner.js';
import { runSweep, runSweepParallel } from '../../sim/sweep.js';
import { checkWellFormedXml } from '../sim-data/xml.js';
import { smallConfig } from './small.js';

/** The report must open offline: nothing fetched, nothing executed. */
function expectSelfContained(html: string): void {
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  // the SVG namespace is a name, not a fetch
  const lower = html.toLowerCase().replaceAll('xmlns="http://www.w3.org/2000/svg"', '');
  for (const bad of ['<script', '<link', '<img', '<iframe', '<object', '<embed', '@import', 'url(', 'src=', 'href=', 'http://', 'https://']) {
    expect(lower.includes(bad), `report contains ${bad}`).toBe(false);
  }
  // polyglot markup: parses as XML once the doctype is removed (every tag closed, every text escaped)
  const names = checkWellFormedXml(html.replace('<!DOCTYPE html>', ''));
  expect(names[0]).toBe('html');
}

describe('risk simulator: outputs', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-sim-out-'));
  let sim: Simulation;
  beforeAll(() => {
    sim = new Simulation(smallConfig({ blocks: 120 }));
    sim.run();
  });
  afterAll(() => {
    sim.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the HTML report parses, is self-contained and holds every plot', () => {
    const summary = sim.summary();
    const html = runReport({ config: sim.config, summary, metrics: sim.metrics, specs: sim.specs });
    expectSelfContained(html);
    const svgs = html.match(/<svg[\s>]/g) ?? [];
    expect(svgs.length).toBeGreaterThanOrEqual(11);
    for (const title of [
      'BTC-USD: reference price, on-chain oracle, best bid/ask',
      'ETH-USD: reference price, on-chain oracle, best bid/ask',
      'Insurance fund balance',
      'Open interest (one side) at the oracle price',
      'Liquidation steps and ADL fills per block',
      'Liquidated notional per block',
      'Distribution of margin ratios (NC / MMR) of accounts with positions',
      'Margin ratio histogram over time',
      'Bad debt (cumulative)',
      'Funding transferred between longs and shorts (cumulative)',
    ]) {
      expect(html).toContain(escape(title));
    }
    expect(html).toContain(summary.final.app_hash);
    // a line per series: the price chart has paths for oracle and reference
    expect((html.match(/<path /g) ?? []).length).toBeGreaterThan(20);
  });

  it('blocks.csv has a row per block with a fixed column count; margin.csv a row per sample', () => {
    const rows = blocksCsv(sim.metrics, sim.specs).trim().split('\n');
    expect(rows).toHaveLength(sim.totalBlocks + 1);
    const width = rows[0]!.split(',').length;
    expect(rows.every((r) => r.split(',').length === width)).toBe(true);
    expect(rows[0]).toContain('BTC-USD_oracle');
    expect(rows[0]).toContain('insurance_fund_usd');
    const last = rows[rows.length - 1]!.split(',');
    expect(Number(last[0])).toBe(sim.totalBlocks);
    const m = marginCsv(sim.metrics).trim().split('\n');
    expect(m.length).toBe(sim.metrics.margin.length + 1);
    expect(m[0]).toBe('height,time,scenario_block,accounts,below_1,p1,p5,p10,p25,p50,p75,p90,p95,p99');
  });

  it('a sweep runs every grid point and writes a comparison table and chart', () => {
    const base = smallConfig({ blocks: 30, agents: { traders: 30, marketMakers: { perMarket: 1 } } });
    const r = runSweep(base, { 'params.mmfPpm': [30_000, 70_000], 'params.insuranceFundUsd': [0, 1_000_000] }, { outDir: join(tmp, 'sweep') });
    expect(r.rows).toHaveLength(4);
    expect(r.rows.map((x) => x.label)).toEqual(['mmfPpm=30000 insuranceFundUsd=0', 'mmfPpm=30000 insuranceFundUsd=1000000', 'mmfPpm=70000 insuranceFundUsd=0', 'mmfPpm=70000 insuranceFundUsd=1000000']);
    expect(r.rows[1]!.summary.insurance_fund.start_usd).toBe('1000000.000000');
    // MMF 7% > the devnet IMF 5%: the IMF keeps its 5:3 ratio to the MMF
    expect(r.rows[2]!.summary.final.app_hash).not.toBe(r.rows[0]!.summary.final.app_hash);
    const csv = readFileSync(r.files.csv, 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0]!.startsWith('params.mmfPpm,params.insuranceFundUsd,bad_debt_usd,')).toBe(true);
    const html = readFileSync(r.files.html, 'utf8');
    expectSelfContained(html);
    expect(html).toContain('Bad debt and insurance-fund drawdown per grid point');
    expect((html.match(/<svg[\s>]/g) ?? []).length).toBeGreaterThanOrEqual(3);
    for (const row of r.rows) expectSelfContained(readFileSync(join(row.dir, 'report.html'), 'utf8'));
  });
});

describe('risk simulator: parallel sweep', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-sim-sweep-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('on two worker threads gives the same rows, in grid order, as the sequential sweep, and reports whole-sweep progress', async () => {
    const base = smallConfig({ blocks: 20, agents: { traders: 20, marketMakers: { perMarket: 1 } } });
    const axes = { 'params.mmfPpm': [30_000, 50_000, 70_000] };
    const seq = runSweep(base, axes, { outDir: join(tmp, 'sweep-seq') });
    const seen: Array<{ block: number; total: number; label: string }> = [];
    const done: number[] = [];
    const par = await runSweepParallel(base, axes, {
      jobs: 2,
      outDir: join(tmp, 'sweep-par'),
      onProgress: (p, label) => seen.push({ block: p.block, total: p.total, label }),
      onRunDone: (i) => done.push(i),
    });
    expect(par.rows.map((r) => r.label)).toEqual(seq.rows.map((r) => r.label));
    expect(par.rows.map((r) => r.summary)).toEqual(seq.rows.map((r) => r.summary));
    expect(par.rows.map((r) => r.insurance)).toEqual(seq.rows.map((r) => r.insurance));
    expect(new Set(par.rows.map((r) => r.summary.final.app_hash)).size).toBe(3);
    expect([...done].sort()).toEqual([0, 1, 2]);
    expect(readFileSync(par.files.csv, 'utf8')).toBe(readFileSync(seq.files.csv, 'utf8').replaceAll('sweep-seq', 'sweep-par'));
    expect(seen.length).toBeGreaterThan(0);
    // the progress covers the whole grid (3 runs' blocks), not one run
    expect(seen.at(-1)!.total).toBe(3 * seq.rows[0]!.summary.final.height);
    expect(seen.some((x) => /running/.test(x.label))).toBe(true);
  });

  it('a grid point that fails in its worker rejects the sweep with the point named', async () => {
    const base = smallConfig({ blocks: 10, agents: { traders: 10, marketMakers: { perMarket: 1 } } });
    // the config validates (a dataset is a name) but the run finds no such dataset
    await expect(runSweepParallel(base, { 'markets.0.dataset': ['btc-2021-05-19', 'no-such-dataset'] }, { jobs: 2, outDir: join(tmp, 'sweep-bad') })).rejects.toThrow(/sweep point 2 .*no-such-dataset/);
  });
});

describe('risk simulator: progress line', () => {
  it('shows the share done, blocks, rate, ETA and the running figures; draws only on a terminal', () => {
    const line = formatProgress({ block: 500, total: 2000, sblock: 380, liquidations: 1234, badDebtUsd: 0, insuranceFundUsd: 1_250_000, elapsedMs: 2_000 });
    expect(line).toContain('25.0%');
    expect(line).toContain('500/2,000 blocks');
    expect(line).toContain('250 blk/s');
    expect(line).toContain('ETA 0:06');
    expect(line).toContain('liq 1,234');
    expect(line).toContain('IF $1.25M');
    expect(line).toMatch(/\[█{6}░{18}\]/);
    const written: string[] = [];
    const fake = { isTTY: false, columns: 80, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    new ProgressBar(fake).update({ block: 1, total: 2, sblock: 0, liquidations: 0, badDebtUsd: 0, insuranceFundUsd: 0, elapsedMs: 1 });
    expect(written).toEqual([]);
    const tty = { ...fake, isTTY: true } as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar(tty, true);
    bar.update({ block: 1, total: 2, sblock: 0, liquidations: 0, badDebtUsd: 0, insuranceFundUsd: 0, elapsedMs: 1 });
    bar.done();
    expect(written[0]!.startsWith('\r[')).toBe(true);
    expect(written[written.length - 1]).toBe('\n');
  });
});

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
