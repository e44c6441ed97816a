/**
 * `perpchain sim`: run a scenario (or its parameter sweep) and write
 * summary.json, blocks.csv, margin.csv and report.html.
 *
 *   perpchain sim --config sim/scenarios/btc-2020-03-12.json
 *   perpchain sim --config sim/scenarios/btc-2020-03-12.json --traders 10000 --seed 7 --out /tmp/bt
 *   perpchain sim --config sim/scenarios/btc-2020-03-12.json --sweep
 *   perpchain sim --config sim/scenarios/btc-2020-03-12.json --axis params.mmfPpm=30000,50000,70000 --axis params.insuranceFundUsd=0,1000000
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism, freemem } from 'node:os';
import { ConfigError, loadConfig, parseValue } from './config.js';
import { writeRun } from './output.js';
import { ProgressBar } from './progress.js';
import { runReport } from './report.js';
import { Simulation } from './runner.js';
import { runSweepParallel } from './sweep.js';

interface SimCliOptions {
  config: string;
  out?: string;
  seed?: number;
  blocks?: number;
  traders?: number;
  blockMs?: number;
  warmup?: number;
  feeders?: number;
  imfPpm?: number;
  mmfPpm?: number;
  liquidationFeePpm?: number;
  positionFractionPpm?: number;
  insuranceFundUsd?: number;
  set: string[];
  axis: string[];
  sweep?: boolean;
  jobs?: number;
  checkInvariants?: string;
  db?: string;
  progress: boolean;
  json?: boolean;
}

// (commander's InvalidArgumentError: the message names the flag, "option '--traders <n>' argument 'abc' is invalid")
const int = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${v}" is not an integer.`);
  return n;
};
const num = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${v}" is not a number.`);
  return n;
};
const collect = (v: string, prev: string[]): string[] => [...prev, v];

function splitAssign(s: string, flag: string): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw new ConfigError(`${flag} expects path=value, got "${s}"`);
  return [s.slice(0, i), s.slice(i + 1)];
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('risk simulator: replay historic prices through the real App with seeded agents; writes a JSON summary, CSV series and an HTML report')
    .requiredOption('--config <file>', 'scenario file (sim/scenarios/*.json)')
    .option('--out <dir>', 'output directory (default: sim-out/<scenario name>)')
    .addOption(new Option('--seed <n>', 'PRNG seed').argParser(int))
    .addOption(new Option('--blocks <n>', 'scenario blocks to run (0 = the whole series)').argParser(int))
    .addOption(new Option('--traders <n>', 'trading accounts besides market makers').argParser(int))
    .addOption(new Option('--block-ms <ms>', 'block cadence').argParser(int))
    .addOption(new Option('--warmup <n>', 'warm-up blocks').argParser(int))
    .addOption(new Option('--feeders <n>', 'oracle feeders').argParser(int))
    .addOption(new Option('--imf-ppm <ppm>', 'initial margin fraction of every market').argParser(int))
    .addOption(new Option('--mmf-ppm <ppm>', 'maintenance margin fraction of every market').argParser(int))
    .addOption(new Option('--liquidation-fee-ppm <ppm>', 'liquidation fee cap').argParser(int))
    .addOption(new Option('--position-fraction-ppm <ppm>', 'share of a position closed per liquidation step').argParser(int))
    .addOption(new Option('--insurance-fund-usd <usd>', 'insurance fund at genesis').argParser(num))
    .option('--set <path=value>', 'override any config value (JSON value), e.g. agents.marketMakers.levels=6 (repeatable)', collect, [])
    .option('--axis <path=v1,v2,…>', 'a sweep axis (repeatable; implies --sweep and replaces the config\'s sweep)', collect, [])
    .option('--sweep', "run the config's parameter grid instead of one run")
    .addOption(new Option('--jobs <n>', 'sweep runs at once, each on its own worker thread (default: the number of cores, at most one per GiB of free memory)').argParser(int))
    .option('--check-invariants <when>', 'every | end | never | N (every N blocks)')
    .option('--db <file>', 'keep the chain state in this sqlite file (default: in memory)')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--json', 'print the full summary JSON (a sweep: sweep.json) alone on stdout; everything else goes to stderr')
    .action(async (o: SimCliOptions) => {
      const overrides: Record<string, unknown> = {};
      const flag = <T>(path: string, v: T | undefined) => {
        if (v !== undefined) overrides[path] = v;
      };
      flag('seed', o.seed);
      flag('blocks', o.blocks);
      flag('agents.traders', o.traders);
      flag('blockMs', o.blockMs);
      flag('warmupBlocks', o.warmup);
      flag('oracle.feeders', o.feeders);
      flag('params.imfPpm', o.imfPpm);
      flag('params.mmfPpm', o.mmfPpm);
      flag('params.liquidationFeePpm', o.liquidationFeePpm);
      flag('params.positionFractionPpm', o.positionFractionPpm);
      flag('params.insuranceFundUsd', o.insuranceFundUsd);
      if (o.checkInvariants !== undefined) overrides.checkInvariants = /^[0-9]+$/.test(o.checkInvariants) ? Number(o.checkInvariants) : o.checkInvariants;
      for (const s of o.set) {
        const [p, v] = splitAssign(s, '--set');
        overrides[p] = parseValue(v);
      }
      const { config, baseDir } = loadConfig(o.config, overrides);
      // the default directory is named after the scenario: keep it a single, plain path segment
      const out = resolve(o.out ?? join('sim-out', config.name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'scenario'));
      // found out now, not after the whole run
      if (existsSync(out) && !statSync(out).isDirectory()) throw new ConfigError(`--out ${out} exists and is not a directory`);
      const bar = new ProgressBar(process.stderr, o.progress !== false && process.stderr.isTTY === true);

      let axes: Record<string, unknown[]> | undefined;
      if (o.axis.length) {
        axes = {};
        for (const a of o.axis) {
          const [p, v] = splitAssign(a, '--axis');
          axes[p] = v.split(',').map((x) => parseValue(x.trim()));
        }
      } else if (o.sweep) {
        if (!config.sweep) throw new ConfigError(`${o.config} has no "sweep" section; give axes with --axis path=v1,v2`);
        axes = config.sweep;
      }

      if (axes) {
        if (o.db) throw new ConfigError('--db keeps one run\'s chain state; a sweep runs many (each in memory): drop --db or --sweep/--axis');
        const t0 = performance.now();
        // default: one run per core, but no more runs than 1 GiB of free memory each (a 10,000-trader run
        // holds a few hundred MB; many-core machines would otherwise start dozens at once)
        const jobs = o.jobs ?? Math.max(1, Math.min(availableParallelism(), Math.floor(freemem() / 2 ** 30)));
        if (jobs < 1) throw new ConfigError('--jobs must be at least 1');
        const r = await runSweepParallel(config, axes, {
          jobs,
          outDir: out,
          baseDir,
          onProgress: (p, label) => bar.update(p, label),
          onRunDone: (i, n, label, s) => {
            bar.done();
            // with --json, stdout carries the sweep's JSON alone: the per-run lines go to stderr
            (o.json ? console.error : console.log)(`run ${i + 1}/${n} ${label}: bad debt $${s.bad_debt.total_usd}, insurance fund min $${s.insurance_fund.min_usd}, largest fall $${s.insurance_fund.max_drawdown_usd} (−${s.insurance_fund.max_drawdown_pct}% from its peak), ${s.liquidations.count} liquidations, ${s.adl.fills} ADL fills`);
          },
        });
        const list = `\nsweep of ${r.rows.length} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s\n  ${r.files.html}\n  ${r.files.csv}\n  ${r.files.json}`;
        if (o.json) {
          console.log(readFileSync(r.files.json, 'utf8').trimEnd()); // what sweep.json holds, for jq and friends
          console.error(list);
        } else console.log(list);
        return;
      }

      const t0 = performance.now();
      const sim = new Simulation(config, { baseDir, ...(o.db ? { dbPath: resolve(o.db) } : {}), onProgress: (p) => bar.update(p) });
      const setupMs = performance.now() - t0;
      const t1 = performance.now();
      try {
        sim.run();
      } finally {
        bar.done();
      }
      const runMs = performance.now() - t1;
      const summary = sim.summary();
      const perf = `${sim.totalBlocks.toLocaleString('en-US')} blocks in ${(runMs / 1000).toFixed(1)} s (${Math.round((sim.totalBlocks / runMs) * 1000).toLocaleString('en-US')} blocks/s; setup ${(setupMs / 1000).toFixed(1)} s), ${summary.txs.total.toLocaleString('en-US')} txs`;
      const files = writeRun(out, { summary, metrics: sim.metrics, specs: sim.specs, html: runReport({ config, summary, metrics: sim.metrics, specs: sim.specs, perf }) });
      sim.close();
      if (o.json) {
        // stdout carries the JSON alone (for jq and friends); the file list goes to stderr
        console.log(JSON.stringify(summary, null, 2));
        console.error(`  ${files.report}\n  ${files.summary}\n  ${files.blocks}\n  ${files.margin}`);
        return;
      } else {
        const s = summary;
        console.log(`${config.name}: ${perf}`);
        console.log(`  liquidations ${s.liquidations.count} ($${s.liquidations.notional_usd}), slippage ${s.liquidations.slippage_vs_oracle_bps.notional_weighted_mean} bps`);
        console.log(`  insurance fund $${s.insurance_fund.start_usd} → min $${s.insurance_fund.min_usd} → $${s.insurance_fund.end_usd}`);
        console.log(`  ADL fills ${s.adl.fills} ($${s.adl.notional_usd}), bad debt $${s.bad_debt.total_usd}, funding paid $${s.funding.paid_usd}`);
        console.log(`  final height ${s.final.height}, app hash ${s.final.app_hash}`);
      }
      console.log(`  ${files.report}\n  ${files.summary}\n  ${files.blocks}\n  ${files.margin}`);
    });
}
