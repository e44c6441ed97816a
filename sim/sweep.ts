/**
 * Parameter sweeps: one scenario over a grid of parameters (e.g. MMF ×
 * liquidation fee × insurance fund × partial-liquidation fraction), each grid
 * point a full run on a fresh chain with the same seed and agents, then a
 * comparison table (CSV, JSON) and chart (HTML) of bad debt and insurance-fund
 * drawdown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { expandSweep, type SimConfig, type SweepPoint } from './config.js';
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

/** One grid point: a full run on a fresh chain, its files written under outDir; returns its comparison row. */
export function runPoint(pt: SweepPoint, i: number, n: number, o: Pick<SweepOptions, 'outDir' | 'baseDir'> & { onProgress?: (p: Progress) => void }): SweepRow {
  const sim = new Simulation(pt.config, { ...(o.baseDir ? { baseDir: o.baseDir } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
  try {
    sim.run();
    const summary = sim.summary();
    const dir = join(o.outDir, `${String(i + 1).padStart(String(n).length < 2 ? 2 : String(n).length, '0')}-${slug(pt.label)}`);
    writeRun(dir, { summary, metrics: sim.metrics, specs: sim.specs, html: runReport({ config: pt.config, summary, metrics: sim.metrics, specs: sim.specs }) });
    const c = sim.metrics.cols;
    const x: number[] = [];
    const v: number[] = [];
    for (let k = 0; k < c.height.length; k++) if (c.sblock[k]! >= 0) {
      x.push(c.timeMs[k]!);
      v.push(c.insuranceFundUsd[k]!);
    }
    return { label: pt.label, values: pt.values, summary, insurance: { x, values: v }, dir };
  } finally {
    sim.close();
  }
}

/** Run every grid point here, one after another. */
export function runSweep(base: SimConfig, axes: Record<string, readonly unknown[]>, o: SweepOptions): SweepResult {
  const points = expandSweep(base, axes);
  mkdirSync(o.outDir, { recursive: true });
  const rows: SweepRow[] = [];
  points.forEach((pt, i) => {
    const label = `[${i + 1}/${points.length}] ${pt.label} `;
    const row = runPoint(pt, i, points.length, { outDir: o.outDir, ...(o.baseDir ? { baseDir: o.baseDir } : {}), ...(o.onProgress ? { onProgress: (p: Progress) => o.onProgress!(p, label) } : {}) });
    rows.push(row);
    o.onRunDone?.(i, points.length, pt.label, row.summary);
  });
  return { rows, files: writeSweep(base, axes, rows, o.outDir) };
}

/**
 * Run the grid points on `jobs` worker threads at once (each point is an
 * independent, seeded run, so the results are the same as runSweep's, in grid
 * order). Progress reports the whole sweep: blocks done over all points.
 */
export async function runSweepParallel(base: SimConfig, axes: Record<string, readonly unknown[]>, o: SweepOptions & { jobs: number }): Promise<SweepResult> {
  const points = expandSweep(base, axes);
  const jobs = Math.max(1, Math.min(Math.floor(o.jobs), points.length));
  if (jobs <= 1) return runSweep(base, axes, o);
  mkdirSync(o.outDir, { recursive: true });
  const rows: Array<SweepRow | undefined> = new Array(points.length);
  const progress = new Map<number, Progress>();
  const t0 = performance.now();
  let next = 0;
  let finished = 0;
  const report = (latest: Progress) => {
    if (!o.onProgress) return;
    let block = 0;
    let total = 0;
    for (let i = 0; i < points.length; i++) {
      const p = progress.get(i);
      const t = p?.total ?? latest.total;
      total += t;
      block += rows[i] ? t : (p?.block ?? 0);
    }
    const running = [...progress.keys()].filter((i) => !rows[i]).map((i) => i + 1).sort((a, b) => a - b);
    o.onProgress({ ...latest, block, total, elapsedMs: performance.now() - t0 }, `[${finished}/${points.length} done, running ${running.join(',')}] `);
  };
  await new Promise<void>((resolve, reject) => {
    const workers: Worker[] = [];
    /** Workers stopped on purpose (no points left): their exit code is terminate()'s, not a failure. */
    const retired = new Set<Worker>();
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(e);
    };
    const feed = (w: Worker) => {
      if (failed) return;
      if (next >= points.length) {
        retired.add(w);
        void w.terminate();
        if (finished === points.length) resolve();
        return;
      }
      const i = next++;
      w.postMessage({ i, n: points.length, point: points[i], outDir: o.outDir, baseDir: o.baseDir });
    };
    for (let k = 0; k < jobs; k++) {
      const w = new Worker(new URL('./sweep-worker.mjs', import.meta.url));
      workers.push(w);
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'progress') {
          progress.set(m.i, m.p);
          report(m.p);
        } else if (m.type === 'error') {
          fail(new Error(`sweep point ${m.i + 1} (${points[m.i]!.label}): ${m.message}`));
        } else {
          rows[m.i] = m.row;
          finished++;
          o.onRunDone?.(m.i, points.length, points[m.i]!.label, m.row.summary);
          feed(w);
          if (finished === points.length) resolve();
        }
      });
      w.on('error', fail);
      w.on('exit', (code) => {
        if (!retired.has(w) && finished < points.length) fail(new Error(`a sweep worker stopped (exit code ${code}) before the sweep finished`));
      });
      feed(w);
    }
  });
  const done = rows as SweepRow[];
  return { rows: done, files: writeSweep(base, axes, done, o.outDir) };
}

/** Messages from sim/sweep-worker-main.ts. */
export type WorkerMessage =
  | { type: 'progress'; i: number; p: Progress }
  | { type: 'done'; i: number; row: SweepRow }
  | { type: 'error'; i: number; message: string };

function writeSweep(base: SimConfig, axes: Record<string, readonly unknown[]>, rows: SweepRow[], outDir: string): SweepResult['files'] {
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
  const files = { json: join(outDir, 'sweep.json'), csv: join(outDir, 'sweep.csv'), html: join(outDir, 'sweep.html') };
  writeFileSync(files.csv, csv + '\n');
  writeFileSync(files.json, JSON.stringify({ scenario: base.name, axes, runs: rows.map((r) => ({ values: r.values, dir: r.dir, summary: r.summary })) }, null, 2) + '\n');
  writeFileSync(files.html, sweepReport({ base, axes, rows }));
  return files;
}
