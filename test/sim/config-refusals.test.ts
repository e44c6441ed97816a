import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../../sim/config.js';
import { Simulation } from '../../sim/runner.js';

/**
 * Weights that sum to zero leave nothing to draw from. They used to pass validation and then fail inside
 * `new Simulation` with "RangeError: Rng.weighted: weights sum to zero", naming no config path; every config
 * error must name its path (sim/README.md), so they are refused by buildConfig.
 */
const base = { name: 'weights', warmupBlocks: 10, blocks: 5, markets: [{ id: 0, dataset: 'btc-2021-05-19', mode: 'step', weight: 1 }], agents: { traders: 5, marketMakers: { perMarket: 1 } } };

describe('simulator config: weights', () => {
  it('a bucket list whose weights are all 0 is refused, naming its path', () => {
    const bad = () => buildConfig({ ...base, agents: { ...base.agents, leveraged: { leverage: [[1, 3, 0], [3, 5, 0]] } } });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/agents\.leveraged\.leverage: bucket weights sum to zero/);
    expect(() => buildConfig({ ...base, agents: { ...base.agents, leveraged: { collateralUsd: [[100, 200, 0]] } } })).toThrow(/agents\.leveraged\.collateralUsd: bucket weights sum to zero/);
  });

  it('markets that all have weight 0 are refused when there are traders', () => {
    const zero = { ...base, markets: [{ ...base.markets[0]!, weight: 0 }] };
    expect(() => buildConfig(zero)).toThrow(/markets: every market has weight 0/);
    // no traders: nothing is drawn, so it is allowed
    expect(() => buildConfig({ ...zero, agents: { ...zero.agents, traders: 0 } })).not.toThrow();
  });

  it('one bucket with weight 0 among others is fine, and the run starts', () => {
    const c = buildConfig({ ...base, agents: { ...base.agents, leveraged: { leverage: [[1, 3, 0], [3, 5, 1]] } } });
    const sim = new Simulation(c);
    sim.run(2);
    expect(sim.height).toBe(2);
    sim.close();
  });
});

describe('simulator config: checkInvariants', () => {
  it('a value that is none of every, end, never or N says which ones are', () => {
    expect(() => buildConfig({ ...base, checkInvariants: 'sometimes' })).toThrow(/checkInvariants: must be every, end, never or a whole number of blocks ≥ 1/);
    expect(buildConfig({ ...base, checkInvariants: 25 }).checkInvariants).toBe(25);
  });
});
