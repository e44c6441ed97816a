/**
 * Parameter sweeps: one scenario over a grid of parameters (e.g. MMF ×
 * liquidation fee × insurance fund × partial-liquidation fraction), each grid
 * point a full run on a fresh chain with the same seed and agents, then a
 * comparison table (CSV, JSON) and chart (HTML) of bad debt and insurance-fund
 * drawdown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandSweep, type SimConfig } from './config.js';
import type { Summary } from './metrics.js';
import { writeRun } from './output.js';
import { runReport, sweepReport, type SweepRow } from './report.js';
import { Simulation, type Progress } from './runner.js';

export interface SweepOptions {
  outDir: string;
  baseDir?: string;
  onProgress?: (p: Progress, label: string) => void;
  onRunDone?: (i: number, total: number, label: string, summary: Summary) => void;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9.=_-]+/g, '_').slice(0, 80);
}

export interface SweepResult {
  rows: SweepRow[];
  files: { json: string; csv: string; html: string };
}

export function runSweep(base: SimConfig, axes: Record<string, readonly unknown[]>, o: SweepOptions): SweepResult {
  const points = expandSweep(base, axes);
  mkdirSync(o.outDir, { recursive: true });
  const rows: SweepRow[] = [];
  points.forEach((pt, i) => {
    const label = `[${i + 1}/${points.length}] ${pt.label} `;
    const sim = new Simulation(pt.config, { ...(o.baseDir ? { baseDir: o.baseDir } : {}), ...(o.onProgress ? { onProgress: (p: Progress) => o.onProgress!(p, label) } : {}) });
    sim.run();
    const summary = sim.summary();
    const dir = join(o.outDir, `${String(i + 1).padStart(2, '0')}-${slug(pt.label)}`);
    writeRun(dir, { summary, metrics: sim.metrics, specs: sim.specs, html: runReport({ config: pt.config, summary, metrics: sim.metrics, specs: sim.specs }) });
    const c = sim.metrics.cols;
    const x: number[] = [];
    const v: number[] = [];
    for (let k = 0; k < c.height.length; k++) if (c.sblock[k]! >= 0) {
      x.push(c.timeMs[k]!);
      v.push(c.insuranceFundUsd[k]!);
    }
    rows.push({ label: pt.label, values: pt.values, summary, insurance: { x, values: v }, dir });
    sim.close();
    o.onRunDone?.(i, points.length, pt.label, summary);
  });
  const names = Object.keys(axes);
  const csv = [
    [...names, 'bad_debt_usd', 'insurance_start_usd', 'insurance_min_usd', 'insurance_drawdown_usd', 'insurance_drawdown_pct', 'insurance_end_usd', 'liquidations', 'liquidated_notional_usd', 'slippage_bps_weighted', 'adl_fills', 'adl_notional_usd', 'app_hash'].join(','),
    ...rows.map((r) => {
      const s = r.summary;
      return [
        ...names.map((n) => String(r.values[n])),
        s.bad_debt.total_usd,
        s.insurance_fund.start_usd,
        s.insurance_fund.min_usd,
        s.insurance_fund.max_drawdown_usd,
        s.insurance_fund.max_drawdown_pct,
        s.insurance_fund.end_usd,
        s.liquidations.count,
        s.liquidations.notional_usd,
        s.liquidations.slippage_vs_oracle_bps.notional_weighted_mean,
        s.adl.fills,
        s.adl.notional_usd,
        s.final.app_hash,
      ].join(',');
    }),
  ].join('\n');
  const files = { json: join(o.outDir, 'sweep.json'), csv: join(o.outDir, 'sweep.csv'), html: join(o.outDir, 'sweep.html') };
  writeFileSync(files.csv, csv + '\n');
  writeFileSync(files.json, JSON.stringify({ scenario: base.name, axes, runs: rows.map((r) => ({ values: r.values, dir: r.dir, summary: r.summary })) }, null, 2) + '\n');
  writeFileSync(files.html, sweepReport({ base, axes, rows }));
  return { rows, files };
}
