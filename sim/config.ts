/**
 * Scenario configuration: a JSON file (sim/scenarios/*.json) deep-merged over
 * DEFAULT_CONFIG, then overridden by CLI flags (`--set path=value`), then
 * validated. Money is given in USD and fractions in ppm; everything that
 * reaches the chain is converted to integers (uusdc, price units, quantums).
 *
 * Objects merge key by key; arrays and scalars replace. A sweep expands one
 * config into a grid of configs, each axis a dot path with a list of values.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

/** [low, high, weight]: a value drawn uniformly in [low, high) with probability weight / Σ weights. */
const Bucket = z.tuple([z.number(), z.number(), z.number().nonnegative()]).refine((b) => b[1] >= b[0], 'bucket high must be ≥ low');
// a list whose weights are all 0 has nothing to draw from: refused here, with its path, not as a RangeError mid-setup
const Buckets = z.array(Bucket).min(1).refine((bs) => bs.some((b) => b[2] > 0), 'bucket weights sum to zero: give at least one bucket a weight above 0');
const Range = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).refine((r) => r[1] >= r[0], 'range high must be ≥ low');
const Ppm = z.number().int().min(0).max(1_000_000);

const MarketSchema = z.strictObject({
  /** Market id: 0 = BTC-USD, 1 = ETH-USD (devnet units, chain/devnet/markets.ts). */
  id: z.number().int().min(0).max(1),
  /** A shipped dataset id (sim/data/prices/SOURCES.md) … */
  dataset: z.string().optional(),
  /** … or a CSV file (binance-kline or CryptoDataDownload layout), relative to the config file. */
  csv: z.string().optional(),
  /** Window inside the data (ISO 8601 UTC); default the whole file. */
  from: z.string().optional(),
  to: z.string().optional(),
  /** Candles → blocks: 'linear-path' visits every high and low; 'step' holds each open. */
  mode: z.enum(['linear-path', 'step']),
  /** Share of traders on this market (relative weight). */
  weight: z.number().nonnegative(),
  /** Margin fractions (ppm); default: params.imfPpm/mmfPpm, else the devnet market's. */
  imfPpm: Ppm.optional(),
  mmfPpm: Ppm.optional(),
});

const SpikeSchema = z.strictObject({
  /** Index of the lying feeder (clamped to the feeder count − 1). */
  feeder: z.number().int().min(0),
  market: z.number().int().min(0),
  /** Scenario block (0 = first block after warm-up) where the spike starts, and how many blocks it lasts. */
  block: z.number().int().min(0),
  blocks: z.number().int().min(1),
  /** Reported price = true price · (1 + movePpm/10^6); negative for a downward spike. */
  movePpm: z.number().int().min(-999_999).max(10_000_000),
});

const MarketMakerSchema = z.strictObject({
  /** Market makers per market. */
  perMarket: z.number().int().min(0).max(100),
  /**
   * What the ladder is centred on: 'reference', the external price of the block (what the honest
   * feeders report in the same block, as makers watch the same venues), or 'oracle', the chain's
   * price after the previous block (one block stale in a fast move).
   */
  anchor: z.enum(['reference', 'oracle']),
  collateralUsd: z.number().positive(),
  /** Price levels per side. */
  levels: z.number().int().min(1).max(50),
  /** Least distance of the first level from the mid, and the price grid between levels (ppm of price, rounded to ticks). */
  halfSpreadPpm: z.number().int().min(1),
  levelStepPpm: z.number().int().min(1),
  /** Size of each level in USD at the mid; each maker's size is scaled by a random factor in sizeJitter. */
  levelSizeUsd: z.number().positive(),
  sizeJitter: z.tuple([z.number().positive(), z.number().positive()]),
  /** Inventory (USD at the oracle) beyond which the maker quotes only the reducing side; quotes are skewed toward it before. */
  maxInventoryUsd: z.number().positive(),
  skewPpm: z.number().int().min(0),
  /** Fast-move guard: the oracle's move over lookbackBlocks. Above widenMovePpm spreads × widenFactor; above pullMovePpm quotes are pulled for pullBlocks. */
  lookbackBlocks: z.number().int().min(1),
  widenMovePpm: z.number().int().min(1),
  widenFactor: z.number().min(1),
  pullMovePpm: z.number().int().min(1),
  pullBlocks: z.number().int().min(0),
  /** Quotes are good-til-block this many blocks ahead (a safety net when a refresh fails; replaced shortly before). */
  ttlBlocks: z.number().int().min(2),
});

const TraderSchema = z.strictObject({
  collateralUsd: Buckets,
  leverage: Buckets,
  /** Probability that a trader is long. */
  longBias: z.number().min(0).max(1),
  /** Blocks a position is held before it is closed (uniform in the range). */
  holdBlocks: Range,
  /** Chance, after closing or being liquidated, of coming back (after cooldownBlocks). */
  reentryChance: z.number().min(0).max(1),
  cooldownBlocks: Range,
  /** Share entering with a passive limit order (rest taker market orders). */
  passiveShare: z.number().min(0).max(1),
  /** Passive entries rest this far (ppm) inside the oracle, good-til-block this many blocks. */
  passiveOffsetPpm: z.number().int().min(0),
  passiveTtlBlocks: z.number().int().min(1),
  /** After closing in profit, chance of withdrawing the profit. */
  withdrawChance: z.number().min(0).max(1),
  /** Share of first entries made during warm-up (the rest spread over the first half of the scenario). */
  warmupShare: z.number().min(0).max(1),
  /** Taker orders are IOC limits this far through the oracle: entries (tight; it bounds the leverage the margin check allows) and exits. */
  entrySlippagePpm: z.number().int().min(0).max(100_000),
  exitSlippagePpm: z.number().int().min(0).max(500_000),
});

const MomentumSchema = TraderSchema.extend({
  /** Signal: the oracle's move over lookbackBlocks beyond thresholdPpm; each idle trader joins with joinChance per block while it lasts. */
  lookbackBlocks: z.number().int().min(1),
  thresholdPpm: z.number().int().min(1),
  joinChance: z.number().min(0).max(1),
  /** Exit early when the move reverses by this much against the position. */
  stopPpm: z.number().int().min(1),
});

const MarginSchema = z.strictObject({
  /** Shares of traders (normalised): top up promptly, late, or never. */
  prompt: z.number().nonnegative(),
  late: z.number().nonnegative(),
  never: z.number().nonnegative(),
  /** A trader's own estimate of NC / MMR below which it wants to add margin. */
  warnRatio: z.number().min(1),
  /** Blocks until a prompt / late trader actually deposits. */
  promptDelayBlocks: Range,
  lateDelayBlocks: Range,
  /** Bank balance held outside the subaccount, as a multiple of the collateral; each top-up deposits topUpFraction of the collateral. */
  reserveMultiple: z.number().min(0),
  topUpFraction: z.number().positive(),
});

const WhaleSchema = z.strictObject({
  market: z.number().int().min(0),
  side: z.enum(['buy', 'sell']),
  collateralUsd: z.number().positive(),
  leverage: z.number().positive(),
  /** Scenario block of the first chunk; chunks market orders, one every everyBlocks, each bounded slippagePpm from the oracle. */
  startBlock: z.number().int().min(0),
  chunks: z.number().int().min(1),
  everyBlocks: z.number().int().min(1),
  slippagePpm: z.number().int().min(1),
  /** Close the whole position at this scenario block (0 = hold to the end). */
  closeBlock: z.number().int().min(0),
});

export const ConfigSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string(),
  seed: z.number().int().min(0).max(0xffffffff),
  chainId: z.string().min(1),
  /** Block cadence (ms of price data per block; also the block time step). */
  blockMs: z.number().int().min(1),
  /** Blocks at the first price before the series starts (deposits, quotes, entries). */
  warmupBlocks: z.number().int().min(10),
  /** Scenario blocks to run (0 = the whole series). */
  blocks: z.number().int().min(0),
  markets: z.array(MarketSchema).min(1),
  oracle: z.strictObject({
    feeders: z.number().int().min(1).max(64),
    /** Each honest feeder reports the true price ± a uniform error of at most noisePpm. */
    noisePpm: z.number().int().min(0).max(100_000),
    minChangePpm: z.number().int().min(0),
    maxMovePpm: z.number().int().min(1).max(1_000_000),
    stalenessSeconds: z.number().int().min(1),
    spikes: z.array(SpikeSchema),
  }),
  params: z.strictObject({
    takerFeePpm: z.number().int().min(0).max(100_000),
    makerFeePpm: z.number().int().min(-100_000).max(100_000),
    /** Override every market's IMF / MMF (ppm). If MMF ≥ IMF, IMF keeps the market's IMF/MMF ratio. */
    imfPpm: Ppm.optional(),
    mmfPpm: Ppm.optional(),
    fundingRateCapPpm: Ppm.optional(),
    liquidationFeePpm: z.number().int().min(0).max(100_000),
    spreadToMmfPpm: z.number().int().min(0).max(10_000_000),
    positionFractionPpm: z.number().int().min(1).max(1_000_000),
    minLiquidationNotionalUsd: z.number().min(0),
    maxLiquidationsPerBlock: z.number().int().min(1).max(10_000),
    maxAdlFillsPerBlock: z.number().int().min(0).max(10_000),
    maxAdlCandidates: z.number().int().min(1).max(100_000),
    insuranceFundUsd: z.number().min(0),
  }),
  agents: z.strictObject({
    /** Trading accounts besides market makers and the whale. */
    traders: z.number().int().min(0).max(200_000),
    /** Shares of traders: leveraged (directional, with a leverage distribution) and momentum (chase moves). */
    mix: z.strictObject({ leveraged: z.number().nonnegative(), momentum: z.number().nonnegative() }),
    marketMakers: MarketMakerSchema,
    leveraged: TraderSchema,
    momentum: MomentumSchema,
    margin: MarginSchema,
    whale: WhaleSchema.optional(),
  }),
  report: z.strictObject({
    /** Margin-ratio distribution samples over the run (every account with a position, at that block). */
    marginSamples: z.number().int().min(2).max(2000),
    /** Margin ratios above this are shown at the cap. */
    marginRatioCap: z.number().positive(),
  }),
  /** Run app.runInvariants() after every block ('every'), every N blocks, only at the end, or never. */
  checkInvariants: z.union([z.enum(['every', 'end', 'never']), z.number().int().min(1)], { error: 'must be every, end, never or a whole number of blocks ≥ 1' }),
  /** Parameter grid: dot path → values (used by `perpchain sim --sweep`). */
  sweep: z.record(z.string(), z.array(z.union([z.number(), z.string(), z.boolean()])).min(1)).optional(),
});

export type SimConfig = z.infer<typeof ConfigSchema>;
export type MarketConfig = z.infer<typeof MarketSchema>;
export type TraderConfig = z.infer<typeof TraderSchema>;
export type MomentumConfig = z.infer<typeof MomentumSchema>;
export type MarketMakerConfig = z.infer<typeof MarketMakerSchema>;
export type WhaleConfig = z.infer<typeof WhaleSchema>;
export type Buckets = z.infer<typeof Buckets>;

const TRADER_DEFAULTS = {
  collateralUsd: [
    [200, 1_000, 0.35],
    [1_000, 10_000, 0.45],
    [10_000, 100_000, 0.17],
    [100_000, 500_000, 0.03],
  ],
  leverage: [
    [1, 3, 0.25],
    [3, 8, 0.35],
    [8, 14, 0.25],
    [14, 19, 0.15],
  ],
  longBias: 0.6,
  holdBlocks: [600, 7_200],
  reentryChance: 0.3,
  cooldownBlocks: [60, 1_800],
  passiveShare: 0.3,
  passiveOffsetPpm: 500,
  passiveTtlBlocks: 60,
  withdrawChance: 0.3,
  warmupShare: 0.75,
  entrySlippagePpm: 2_000,
  exitSlippagePpm: 20_000,
};

export const DEFAULT_CONFIG: SimConfig = {
  name: 'unnamed',
  description: '',
  seed: 1,
  chainId: 'perpchain-sim-1',
  blockMs: 1000,
  warmupBlocks: 120,
  blocks: 0,
  markets: [],
  oracle: { feeders: 1, noisePpm: 0, minChangePpm: 10, maxMovePpm: 100_000, stalenessSeconds: 60, spikes: [] },
  params: {
    takerFeePpm: 500,
    makerFeePpm: -100,
    liquidationFeePpm: 15_000,
    spreadToMmfPpm: 1_500_000,
    positionFractionPpm: 200_000,
    minLiquidationNotionalUsd: 10_000,
    maxLiquidationsPerBlock: 50,
    maxAdlFillsPerBlock: 20,
    maxAdlCandidates: 500,
    insuranceFundUsd: 1_000_000,
  },
  agents: {
    traders: 3_000,
    mix: { leveraged: 0.7, momentum: 0.3 },
    marketMakers: {
      perMarket: 6,
      anchor: 'reference',
      collateralUsd: 10_000_000,
      levels: 4,
      halfSpreadPpm: 200,
      levelStepPpm: 300,
      levelSizeUsd: 150_000,
      sizeJitter: [0.5, 1.5],
      maxInventoryUsd: 5_000_000,
      skewPpm: 1_000,
      lookbackBlocks: 10,
      widenMovePpm: 5_000,
      widenFactor: 3,
      pullMovePpm: 35_000,
      pullBlocks: 5,
      ttlBlocks: 600,
    },
    leveraged: TRADER_DEFAULTS as SimConfig['agents']['leveraged'],
    momentum: {
      ...(TRADER_DEFAULTS as SimConfig['agents']['leveraged']),
      longBias: 0.5,
      holdBlocks: [120, 1_800],
      reentryChance: 0.8,
      cooldownBlocks: [30, 600],
      passiveShare: 0,
      warmupShare: 0,
      lookbackBlocks: 60,
      thresholdPpm: 8_000,
      joinChance: 0.01,
      stopPpm: 10_000,
    },
    margin: {
      prompt: 0.4,
      late: 0.3,
      never: 0.3,
      warnRatio: 1.6,
      promptDelayBlocks: [1, 5],
      lateDelayBlocks: [60, 900],
      reserveMultiple: 1,
      topUpFraction: 0.5,
    },
  },
  report: { marginSamples: 200, marginRatioCap: 10 },
  checkInvariants: 'end',
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; everything else (arrays included) replaces. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validate a merged config; the error lists every problem with its path. */
export function validateConfig(raw: unknown, source = 'config'): SimConfig {
  const r = ConfigSchema.strict().safeParse(raw);
  if (!r.success) {
    throw new ConfigError(`${source}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const c = r.data;
  for (const m of c.markets) {
    if ((m.dataset === undefined) === (m.csv === undefined)) throw new ConfigError(`${source}: market ${m.id} needs exactly one of dataset or csv`);
  }
  if (new Set(c.markets.map((m) => m.id)).size !== c.markets.length) throw new ConfigError(`${source}: a market id appears twice`);
  for (const s of c.oracle.spikes) {
    if (!c.markets.some((m) => m.id === s.market)) throw new ConfigError(`${source}: spike on market ${s.market}, which the scenario does not have`);
  }
  if (c.agents.whale && !c.markets.some((m) => m.id === c.agents.whale!.market)) throw new ConfigError(`${source}: the whale trades market ${c.agents.whale.market}, which the scenario does not have`);
  if (c.blockMs > c.oracle.stalenessSeconds * 1000) {
    // every price would be stale by the next block: the chain refuses every order that adds risk, nothing trades
    throw new ConfigError(`${source}: blockMs ${c.blockMs} is longer than oracle.stalenessSeconds (${c.oracle.stalenessSeconds} s), so every price is stale by the next block and no order that adds risk is accepted; set oracle.stalenessSeconds to at least ${Math.ceil(c.blockMs / 1000)}`);
  }
  if (c.agents.traders > 0 && !c.markets.some((m) => m.weight > 0)) throw new ConfigError(`${source}: markets: every market has weight 0, so traders have no market to trade; give at least one a weight above 0`);
  const mix = c.agents.mix.leveraged + c.agents.mix.momentum;
  if (c.agents.traders > 0 && !(mix > 0)) throw new ConfigError(`${source}: agents.mix shares sum to zero`);
  const mg = c.agents.margin;
  if (!(mg.prompt + mg.late + mg.never > 0)) throw new ConfigError(`${source}: agents.margin shares sum to zero`);
  return c;
}

/** A partial config object (as in a scenario file) merged over the defaults and validated. */
export function buildConfig(partial: unknown, source = 'config'): SimConfig {
  return validateConfig(deepMerge(structuredClone(DEFAULT_CONFIG), partial), source);
}

export interface LoadedConfig {
  config: SimConfig;
  /** Directory CSV paths in the config are relative to. */
  baseDir: string;
  path: string;
}

/** Read a scenario file, apply `path=value` overrides, validate. */
export function loadConfig(path: string, overrides: Record<string, unknown> = {}): LoadedConfig {
  const abs = resolve(path);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${path}: ${(e as Error).message}`);
  }
  let merged = deepMerge(structuredClone(DEFAULT_CONFIG), json);
  const keys = Object.keys(overrides);
  // the file on its own first, so a problem is blamed on the file or on the command line, not mixed up
  const fromFile = validateConfig(merged, path);
  if (keys.length === 0) return { config: fromFile, baseDir: dirname(abs), path: abs };
  for (const [p, v] of Object.entries(overrides)) merged = setPath(merged, p, v);
  return { config: validateConfig(merged, `${path} with the command line's ${keys.join(', ')}`), baseDir: dirname(abs), path: abs };
}

/** A copy of obj with the value at a dot path (array indices allowed) replaced. */
export function setPath<T>(obj: T, path: string, value: unknown): T {
  const keys = path.split('.');
  if (keys.some((k) => k === '')) throw new ConfigError(`bad path "${path}"`);
  const root = structuredClone(obj) as unknown as Record<string, unknown>;
  let cur: Record<string, unknown> = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    if (!(k in cur)) throw new ConfigError(`unknown config path "${path}" (no "${keys.slice(0, i + 1).join('.')}")`);
    const next = cur[k];
    if (typeof next !== 'object' || next === null) throw new ConfigError(`config path "${path}": "${keys.slice(0, i + 1).join('.')}" is not an object`);
    cur = next as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
  return root as unknown as T;
}

export function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const k of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Parse a CLI value: JSON when it parses (numbers, booleans, arrays), else the string. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface SweepPoint {
  /** Axis path → value of this grid point. */
  values: Record<string, unknown>;
  config: SimConfig;
  label: string;
}

/** Every combination of the axes (first axis slowest), each a validated config. */
export function expandSweep(base: SimConfig, axes: Record<string, readonly unknown[]>): SweepPoint[] {
  const names = Object.keys(axes);
  if (names.length === 0) throw new ConfigError('a sweep needs at least one axis');
  let points: Array<Record<string, unknown>> = [{}];
  for (const n of names) {
    const vals = axes[n]!;
    if (vals.length === 0) throw new ConfigError(`sweep axis ${n} has no values`);
    points = points.flatMap((p) => vals.map((v) => ({ ...p, [n]: v })));
  }
  return points.map((values) => {
    let c: SimConfig = structuredClone(base);
    delete c.sweep;
    for (const [p, v] of Object.entries(values)) c = setPath(c, p, v);
    const label = Object.entries(values)
      .map(([p, v]) => `${p.split('.').pop()}=${String(v)}`)
      .join(' ');
    return { values, config: validateConfig(c, `sweep point ${label}`), label };
  });
}
