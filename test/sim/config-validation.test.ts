import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConfig, ConfigError, expandSweep, loadConfig } from '../../sim/config.js';

/**
 * Scenario validation a risk analyst relies on: a config that cannot mean what it says is refused
 * before any block runs, with a message naming what is wrong; and a sweep expands to exactly the
 * grid asked for, in a fixed order (first axis slowest), so sweep.csv rows line up with the axes.
 * Pure config code: no chain is started.
 */
const BTC = { id: 0, dataset: 'btc-2021-05-19', mode: 'step', weight: 1 };
const ETH = { id: 1, dataset: 'eth-2021-05-19', mode: 'step', weight: 1 };
const base = { name: 'v', markets: [BTC] };

const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('config validation', () => {
  it('a [low, high, weight] bucket with high < low is refused, naming its path', () => {
    const msg = messageOf(() => buildConfig({ ...base, agents: { leveraged: { leverage: [[1, 3, 1], [10, 5, 1]] } } }));
    expect(msg).toMatch(/agents\.leveraged\.leverage\.1: bucket high must be ≥ low/);
    expect(buildConfig({ ...base, agents: { leveraged: { leverage: [[5, 5, 1]] } } }).agents.leveraged.leverage).toEqual([[5, 5, 1]]); // a point is fine
  });

  it('a block range with high < low is refused, naming its path', () => {
    expect(messageOf(() => buildConfig({ ...base, agents: { margin: { lateDelayBlocks: [900, 60] } } }))).toMatch(/agents\.margin\.lateDelayBlocks: range high must be ≥ low/);
    expect(buildConfig({ ...base, agents: { margin: { lateDelayBlocks: [7, 7] } } }).agents.margin.lateDelayBlocks).toEqual([7, 7]);
  });

  it('a market listed twice is refused (its prices and traders would be ambiguous)', () => {
    expect(messageOf(() => buildConfig({ ...base, markets: [BTC, { ...BTC, mode: 'linear-path' }] }))).toMatch(/a market id appears twice/);
    expect(buildConfig({ ...base, markets: [BTC, ETH] }).markets).toHaveLength(2);
  });

  it('a spike or a whale on a market the scenario does not run is refused', () => {
    const spike = { feeder: 0, market: 1, block: 5, blocks: 2, movePpm: -300_000 };
    expect(messageOf(() => buildConfig({ ...base, oracle: { spikes: [spike] } }))).toMatch(/spike on market 1, which the scenario does not have/);
    expect(buildConfig({ ...base, markets: [BTC, ETH], oracle: { spikes: [spike] } }).oracle.spikes).toHaveLength(1);
    const whale = { market: 1, side: 'buy', collateralUsd: 1e6, leverage: 5, startBlock: 0, chunks: 2, everyBlocks: 1, slippagePpm: 1000, closeBlock: 0 };
    expect(messageOf(() => buildConfig({ ...base, agents: { whale } }))).toMatch(/the whale trades market 1, which the scenario does not have/);
    expect(buildConfig({ ...base, markets: [BTC, ETH], agents: { whale } }).agents.whale?.market).toBe(1);
  });

  it('blockMs may equal the oracle staleness (the chain calls a price stale only when strictly older), not exceed it', () => {
    // modules/prices: stale ⇔ now − reported > staleness_seconds, so a report every 60 s with staleness 60 s stays fresh
    expect(buildConfig({ ...base, blockMs: 60_000, oracle: { stalenessSeconds: 60 } }).blockMs).toBe(60_000);
    expect(messageOf(() => buildConfig({ ...base, blockMs: 60_001, oracle: { stalenessSeconds: 60 } }))).toMatch(/blockMs 60001 is longer than oracle\.stalenessSeconds \(60 s\).*at least 61/);
  });

  it('trader mix and margin-behaviour shares that sum to zero are refused (no trader could be drawn)', () => {
    expect(messageOf(() => buildConfig({ ...base, agents: { mix: { leveraged: 0, momentum: 0 } } }))).toMatch(/agents\.mix shares sum to zero/);
    // with no traders at all the mix does not matter
    expect(buildConfig({ ...base, agents: { traders: 0, mix: { leveraged: 0, momentum: 0 } } }).agents.traders).toBe(0);
    expect(messageOf(() => buildConfig({ ...base, agents: { margin: { prompt: 0, late: 0, never: 0 } } }))).toMatch(/agents\.margin shares sum to zero/);
  });
});

describe('sweep grid expansion', () => {
  it('is the full cartesian product, first axis slowest, each point labelled with its values', () => {
    const pts = expandSweep(buildConfig(base), { 'params.mmfPpm': [30_000, 50_000], 'params.insuranceFundUsd': [0, 250_000, 2_000_000] });
    expect(pts.map((p) => p.label)).toEqual([
      'mmfPpm=30000 insuranceFundUsd=0',
      'mmfPpm=30000 insuranceFundUsd=250000',
      'mmfPpm=30000 insuranceFundUsd=2000000',
      'mmfPpm=50000 insuranceFundUsd=0',
      'mmfPpm=50000 insuranceFundUsd=250000',
      'mmfPpm=50000 insuranceFundUsd=2000000',
    ]);
    // the values are applied to each point's config, and nothing else changes
    expect(pts.map((p) => [p.config.params.mmfPpm, p.config.params.insuranceFundUsd])).toEqual(pts.map((p) => [p.values['params.mmfPpm'], p.values['params.insuranceFundUsd']]));
    expect(pts.every((p) => p.config.params.liquidationFeePpm === 15_000 && p.config.sweep === undefined)).toBe(true);
  });

  it('an axis with no values is an error, not a silently empty sweep', () => {
    expect(messageOf(() => expandSweep(buildConfig(base), { 'params.mmfPpm': [30_000], 'params.insuranceFundUsd': [] }))).toMatch(/sweep axis params\.insuranceFundUsd has no values/);
  });
});

describe('loadConfig blames the right source', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-sim-cfg-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a bad value in the file is blamed on the file even when a command-line override would fix it', () => {
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...base, agents: { traders: -1 } }));
    const msg = messageOf(() => loadConfig(file, { 'agents.traders': 10 }));
    expect(msg.startsWith(`${file}: agents.traders:`)).toBe(true);
    expect(msg).not.toMatch(/command line/);
  });
});
