/**
 * The smallest scenario that still exercises a sweep's plumbing: one market
 * (BTC-USD through two minutes of 2021-05-19), one maker, a handful of
 * traders, a ten-block warm-up (the minimum), step prices. A run of a few blocks takes
 * milliseconds, so sweep and CLI tests can afford several grid points.
 */
import { buildConfig, type SimConfig } from '../../sim/config.js';

export const TINY_SCENARIO = {
  name: 'tiny',
  description: 'test: one market, one maker, a few traders',
  seed: 7,
  warmupBlocks: 10,
  blocks: 4,
  markets: [{ id: 0, dataset: 'btc-2021-05-19', from: '2021-05-19T13:05:00Z', to: '2021-05-19T13:07:00Z', mode: 'step', weight: 1 }],
  params: { insuranceFundUsd: 1_000 },
  agents: { traders: 5, marketMakers: { perMarket: 1, levels: 1 } },
  checkInvariants: 'never',
} as const;

export function tinyConfig(over: Record<string, unknown> = {}): SimConfig {
  return buildConfig({ ...TINY_SCENARIO, ...over });
}
