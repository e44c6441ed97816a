/**
 * perpchain risk simulator: historic prices replayed through the real App
 * (FinalizeBlock + Commit, signed txs, the same modules validators run) with
 * seeded synthetic agents; a JSON summary, per-block CSV and an HTML report;
 * parameter sweeps. See sim/README.md.
 *
 *   import { loadConfig, Simulation, writeRun, runReport } from './sim/index.js';
 *   const { config, baseDir } = loadConfig('sim/scenarios/btc-2020-03-12.json', { 'agents.traders': 500 });
 *   const sim = new Simulation(config, { baseDir });
 *   sim.run();
 *   const summary = sim.summary();
 */
export {
  ConfigError,
  ConfigSchema,
  DEFAULT_CONFIG,
  buildConfig,
  deepMerge,
  expandSweep,
  getPath,
  loadConfig,
  parseValue,
  setPath,
  validateConfig,
  type LoadedConfig,
  type MarketConfig,
  type SimConfig,
  type SweepPoint,
} from './config.js';
export { Simulation, InvariantViolation, type Progress, type SimOptions } from './runner.js';
export { Metrics, buildSummary, usdString, type Summary, type MarginSample, type BlockColumns } from './metrics.js';
export { blocksCsv, marginCsv, writeRun, type RunFiles } from './output.js';
export { runReport, sweepReport, type SweepRow } from './report.js';
export { runSweep, runSweepParallel, type SweepOptions, type SweepResult } from './sweep.js';
export { ProgressBar, formatProgress } from './progress.js';
export { Rng } from './rng.js';
export { SimKey, signTx, gasFor } from './tx.js';
export { marketSpecs, loadSeries, genesisAppState, type MarketSpec, type MarketSeries } from './market.js';
export { registerSimCommand } from './cli.js';
