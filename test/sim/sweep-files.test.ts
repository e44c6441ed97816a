/**
 * What a sequential sweep (runSweep) leaves on disk, checked against the runs
 * themselves: one numbered directory per grid point in grid order, sweep.csv /
 * sweep.json / sweep.html under the names sim/README.md gives, every sweep.csv
 * cell equal to the figure of its own run, and the insurance-fund overlay equal
 * to the run's own scenario rows of blocks.csv. A 2 × 2 grid of the tiny
 * scenario (4 runs of 14 blocks, about a second).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep, type SweepResult } from '../../sim/sweep.js';
import { tinyConfig } from './tiny.js';

/** Two axes whose values show up in the summary (the fund's start, the seed), so each row can be traced to its point. */
const AXES = { 'params.insuranceFundUsd': [1_000, 2_000], seed: [3, 4] };
/** First axis slowest: the order sweep.csv's rows and the numbered directories follow. */
const GRID = [
  { fund: 1_000, seed: 3 },
  { fund: 1_000, seed: 4 },
  { fund: 2_000, seed: 3 },
  { fund: 2_000, seed: 4 },
];

function parseCsv(text: string): Array<Record<string, string>> {
  const [head, ...lines] = text.trim().split('\n');
  const names = head!.split(',');
  return lines.map((l) => {
    const cells = l.split(',');
    expect(cells).toHaveLength(names.length); // no cell missing or extra
    return Object.fromEntries(names.map((n, i) => [n, cells[i]!]));
  });
}

describe('a sequential sweep: files and their contents', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-sweep-files-'));
  const outDir = join(tmp, 'sweep');
  let r: SweepResult;
  beforeAll(() => {
    r = runSweep(tinyConfig(), AXES, { outDir });
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('runs every grid point once, first axis slowest, each with its own parameters', () => {
    expect(r.rows.map((row) => row.values)).toEqual(GRID.map((g) => ({ 'params.insuranceFundUsd': g.fund, seed: g.seed })));
    expect(r.rows.map((row) => [row.summary.insurance_fund.start_usd, row.summary.seed])).toEqual(GRID.map((g) => [`${g.fund}.000000`, g.seed]));
  });

  it('writes one directory per point, numbered from 01 in grid order, plus sweep.csv, sweep.json and sweep.html', () => {
    const names = readdirSync(outDir).sort();
    expect(names).toEqual(['01-insuranceFundUsd=1000_seed=3', '02-insuranceFundUsd=1000_seed=4', '03-insuranceFundUsd=2000_seed=3', '04-insuranceFundUsd=2000_seed=4', 'sweep.csv', 'sweep.html', 'sweep.json']);
    expect(r.files).toEqual({ csv: join(outDir, 'sweep.csv'), json: join(outDir, 'sweep.json'), html: join(outDir, 'sweep.html') });
    r.rows.forEach((row, k) => {
      expect(basename(row.dir)).toBe(names[k]);
      // the directory holds that point's own run
      expect(JSON.parse(readFileSync(join(row.dir, 'summary.json'), 'utf8'))).toEqual(row.summary);
    });
  });

  it('sweep.csv: one row per point in grid order, every cell the figure of its own run', () => {
    const csv = parseCsv(readFileSync(r.files.csv, 'utf8'));
    expect(csv).toHaveLength(GRID.length);
    csv.forEach((c, k) => {
      const s = r.rows[k]!.summary;
      expect(c['params.insuranceFundUsd']).toBe(String(GRID[k]!.fund));
      expect(c.seed).toBe(String(GRID[k]!.seed));
      expect(c).toMatchObject({
        bad_debt_usd: s.bad_debt.total_usd,
        insurance_start_usd: s.insurance_fund.start_usd,
        insurance_min_usd: s.insurance_fund.min_usd,
        insurance_drawdown_usd: s.insurance_fund.max_drawdown_usd,
        insurance_drawdown_pct: String(s.insurance_fund.max_drawdown_pct),
        insurance_end_usd: s.insurance_fund.end_usd,
        liquidations: String(s.liquidations.count),
        adl_fills: String(s.adl.fills),
        app_hash: s.final.app_hash,
      });
    });
    // the fixture must tell the fund's minimum from its drawdown, or a swapped column would pass
    expect(csv[0]!.insurance_min_usd).not.toBe(csv[0]!.insurance_drawdown_usd);
  });

  it('sweep.json lists every run with its values, directory and summary', () => {
    const j = JSON.parse(readFileSync(r.files.json, 'utf8'));
    expect(j.axes).toEqual(AXES);
    expect(j.runs).toEqual(r.rows.map((row) => ({ values: row.values, dir: row.dir, summary: row.summary })));
  });

  it("the insurance-fund overlay is the run's scenario blocks of blocks.csv (time, fund), warm-up left out", () => {
    for (const row of r.rows) {
      const blocks = parseCsv(readFileSync(join(row.dir, 'blocks.csv'), 'utf8')).filter((b) => Number(b.scenario_block) >= 0);
      expect(blocks.length).toBe(row.summary.blocks.scenario);
      expect(row.insurance.x).toEqual(blocks.map((b) => Date.parse(b.time!)));
      expect(row.insurance.values).toEqual(blocks.map((b) => Number(b.insurance_fund_usd)));
      // a fund that is not zero, so the overlay cannot be confused with the (zero) bad-debt column
      expect(row.insurance.values.every((v) => v > 0)).toBe(true);
    }
  });
});
