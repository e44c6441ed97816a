/**
 * The small scenario the simulator's tests run: both devnet markets through
 * the sharpest five minutes of 2021-05-19 (BTC to $28,688, ETH to a $1,550
 * wick), 250 traders of every kind, two makers per market, a whale, three
 * feeders with noise. ~340 blocks: liquidations, insurance fees, ADL, funding
 * samples, margin top-ups all happen.
 */
import { buildConfig, type SimConfig } from '../../sim/config.js';

export function smallConfig(over: Record<string, unknown> = {}): SimConfig {
  return buildConfig({
    name: 'test-small',
    description: 'test scenario',
    seed: 42,
    warmupBlocks: 40,
    markets: [
      { id: 0, dataset: 'btc-2021-05-19', from: '2021-05-19T13:05:00Z', to: '2021-05-19T13:10:00Z', mode: 'linear-path', weight: 1 },
      { id: 1, dataset: 'eth-2021-05-19', from: '2021-05-19T13:05:00Z', to: '2021-05-19T13:10:00Z', mode: 'linear-path', weight: 1 },
    ],
    oracle: { feeders: 3, noisePpm: 20 },
    params: { insuranceFundUsd: 50_000 },
    agents: {
      traders: 250,
      marketMakers: { perMarket: 2, levels: 3 },
      whale: { market: 1, side: 'sell', collateralUsd: 200_000, leverage: 8, startBlock: 20, chunks: 4, everyBlocks: 5, slippagePpm: 20_000, closeBlock: 250 },
      leveraged: { holdBlocks: [30, 200], cooldownBlocks: [10, 60] },
      momentum: { lookbackBlocks: 10, thresholdPpm: 3_000, joinChance: 0.05, holdBlocks: [10, 100], cooldownBlocks: [5, 30] },
      margin: { lateDelayBlocks: [5, 40] },
    },
    report: { marginSamples: 50 },
    checkInvariants: 'end',
    ...over,
  });
}

/** A summary without the fields that only describe how the run was checked. */
export function comparable<T extends { invariant_checks: number }>(s: T): Omit<T, 'invariant_checks'> {
  const { invariant_checks: _ic, ...rest } = s;
  return rest;
}
