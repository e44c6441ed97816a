/**
 * Files a run writes: summary.json, blocks.csv (one row per block),
 * margin.csv (the margin-ratio distribution at each sample), report.html.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics, Summary } from './metrics.js';
import type { MarketSpec } from './market.js';
import { percentiles } from './plot/index.js';

const MARGIN_PERCENTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99] as const;

function fixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits);
}

/** Per-block time series as CSV (prices in USD with the market's decimals, money in USD with 6 decimals). */
export function blocksCsv(m: Metrics, specs: readonly MarketSpec[]): string {
  const c = m.cols;
  const head = ['height', 'time', 'scenario_block', 'txs', 'failed_txs', 'liquidations', 'liquidated_usd', 'adl_fills', 'adl_usd', 'bad_debt_usd', 'insurance_fund_usd', 'liquidatable_accounts', 'carried_accounts', 'funding_paid_usd'];
  for (const s of specs) {
    const t = s.ticker;
    head.push(`${t}_reference`, `${t}_oracle`, `${t}_best_bid`, `${t}_best_ask`, `${t}_open_interest`, `${t}_open_interest_usd`, `${t}_fills`, `${t}_volume_usd`, `${t}_liquidations`, `${t}_liquidated_usd`, `${t}_funding_rate_ppm`, `${t}_oracle_clamped`);
  }
  const lines = [head.join(',')];
  for (let i = 0; i < c.height.length; i++) {
    const row: string[] = [
      String(c.height[i]),
      new Date(c.timeMs[i]!).toISOString(),
      String(c.sblock[i]),
      String(c.txs[i]),
      String(c.failedTxs[i]),
      String(c.liquidations[i]),
      fixed(c.liquidatedUsd[i], 6),
      String(c.adlFills[i]),
      fixed(c.adlUsd[i], 6),
      fixed(c.badDebtUsd[i], 6),
      fixed(c.insuranceFundUsd[i], 6),
      String(c.liquidatable[i]),
      String(c.carried[i]),
      fixed(c.fundingPaidUsd[i], 6),
    ];
    for (const s of specs) {
      const mc = c.markets.get(s.id)!;
      const d = -s.priceExponent;
      const r = mc.fundingRatePpm[i];
      row.push(
        fixed(mc.reference[i], d),
        fixed(mc.oracle[i], d),
        fixed(mc.bestBid[i], d),
        fixed(mc.bestAsk[i], d),
        fixed(mc.oi[i], -s.atomicResolution),
        fixed(mc.oiUsd[i], 6),
        String(mc.fills[i]),
        fixed(mc.volumeUsd[i], 6),
        String(mc.liquidations[i]),
        fixed(mc.liquidatedUsd[i], 6),
        r === null || r === undefined ? '' : String(r),
        String(mc.clamped[i]),
      );
    }
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

/** The margin-ratio (NC / MMR) distribution at each sample. */
export function marginCsv(m: Metrics): string {
  const lines = [['height', 'time', 'scenario_block', 'accounts', 'below_1', ...MARGIN_PERCENTILES.map((p) => `p${p}`)].join(',')];
  for (const s of m.margin) {
    const ps = s.ratios.length ? percentiles(s.ratios, MARGIN_PERCENTILES) : MARGIN_PERCENTILES.map(() => NaN);
    lines.push([s.height, new Date(s.timeMs).toISOString(), s.sblock, s.ratios.length, s.below1, ...ps.map((v) => fixed(v, 4))].join(','));
  }
  return lines.join('\n') + '\n';
}

export interface RunFiles {
  dir: string;
  summary: string;
  blocks: string;
  margin: string;
  report: string;
}

export function writeRun(dir: string, o: { summary: Summary; metrics: Metrics; specs: readonly MarketSpec[]; html: string }): RunFiles {
  mkdirSync(dir, { recursive: true });
  const files: RunFiles = {
    dir,
    summary: join(dir, 'summary.json'),
    blocks: join(dir, 'blocks.csv'),
    margin: join(dir, 'margin.csv'),
    report: join(dir, 'report.html'),
  };
  writeFileSync(files.summary, JSON.stringify(o.summary, null, 2) + '\n');
  writeFileSync(files.blocks, blocksCsv(o.metrics, o.specs));
  writeFileSync(files.margin, marginCsv(o.metrics));
  writeFileSync(files.report, o.html);
  return files;
}
