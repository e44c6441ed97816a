import { describe, expect, it } from 'vitest';
import type { AbciEvent } from '../../chain/types.js';
import { buildConfig } from '../../sim/config.js';
import { marketSpecs } from '../../sim/market.js';
import { Metrics, buildSummary } from '../../sim/metrics.js';

/**
 * The summary figures a risk analyst reads first, computed from hand-made chain events and
 * block states (no chain): liquidation slippage vs the oracle (sign per side, notional-weighted
 * mean, median / p95 / max), per-market liquidation totals, the insurance fund's minimum and
 * largest fall from its running peak, funding paid, peak open interest and oracle deviation.
 *
 * Devnet units: BTC-USD price units 10^-5 USD, 1 BTC = 10^10 quantums; ETH-USD 10^-6 USD.
 */
const ev = (type: string, fields: Record<string, string>): AbciEvent => ({ type, attributes: Object.entries(fields).map(([key, value]) => ({ key, value, index: false })) });

const specs = marketSpecs(
  buildConfig({
    name: 'summary',
    markets: [
      { id: 0, dataset: 'btc-2021-05-19', mode: 'step', weight: 1 },
      { id: 1, dataset: 'eth-2021-05-19', mode: 'step', weight: 1 },
    ],
  }),
);
const BTC_50K = 5_000_000_000n; // $50,000 in BTC-USD units
const ETH_3K = 3_000_000_000n; // $3,000 in ETH-USD units
const ONE_BTC = 10_000_000_000n;
const USD = 1_000_000n;

interface Mkt {
  reference?: bigint;
  oracle?: bigint;
  oi?: bigint;
}
function endBlock(m: Metrics, height: number, sblock: number, fundUsd: bigint, btc: Mkt = {}, eth: Mkt = {}): void {
  const mk = (x: Mkt, px: bigint) => ({ reference: x.reference ?? px, oracle: x.oracle ?? px, oi: x.oi ?? 0n, bestBid: undefined, bestAsk: undefined });
  m.endBlock({
    height,
    timeMs: height * 1000,
    sblock,
    txs: 0,
    failed: 0,
    insuranceFund: fundUsd * USD,
    badDebt: 0n,
    liquidatable: 0,
    carried: 0,
    markets: new Map([
      [0, mk(btc, BTC_50K)],
      [1, mk(eth, ETH_3K)],
    ]),
  });
}
const summary = (m: Metrics) =>
  buildSummary(m, { scenario: 't', description: '', seed: 1, configHash: '', warmupBlocks: 1, scenarioBlocks: 1, startTime: '', endTime: '', accounts: {}, agents: {}, finalHeight: 0, appHash: '', invariantChecks: 0 });

/** A liquidation step: `side` is the liquidation order's side (sell closes a long). */
const liq = (market: number, side: 'buy' | 'sell', quoteUsd: bigint, avg: bigint, oracle: bigint, extra: Record<string, string> = {}) =>
  ev('liquidation.liquidated', { market_id: String(market), side, size: '1', quote: String(quoteUsd * USD), average_price: String(avg), oracle_price: String(oracle), fee: '0', insurance_paid: '0', insurance_delta: '0', ...extra });

describe('summary: liquidation slippage vs oracle', () => {
  const m = new Metrics(specs);
  endBlock(m, 1, -1, 1000n);
  const at = () => BTC_50K;
  m.event(liq(0, 'sell', 1000n, 4_990_000_000n, BTC_50K), 2, at); // long sold 0.2% under the oracle: +20 bps against it
  m.event(liq(0, 'buy', 3000n, 5_005_000_000n, BTC_50K), 2, at); // short bought back 0.1% over: +10 bps
  m.event(liq(1, 'sell', 6000n, ETH_3K, ETH_3K), 2, at); // at the oracle: 0
  m.event(liq(1, 'buy', 2000n, 2_997_000_000n, ETH_3K), 2, at); // short bought back 0.1% under the oracle: −10 bps (better)
  endBlock(m, 2, 0, 1000n);
  const s = summary(m);

  it('is positive when the fill is worse than the oracle for the liquidated account, on either side', () => {
    expect(m.scenario.liquidationRecords.map((r) => Math.round(r.slippageBps * 1e6) / 1e6)).toEqual([20, 10, 0, -10]);
  });

  it('mean is weighted by notional; median, p95 and max are taken from the sorted slippages', () => {
    // (20·1000 + 10·3000 + 0·6000 − 10·2000) / 12000 = 2.5 (an unweighted mean would say 5)
    expect(s.liquidations.slippage_vs_oracle_bps.notional_weighted_mean).toBe(2.5);
    // sorted [−10, 0, 10, 20]: the summary's quantile is the lower nearest rank, floor(q·(n−1))
    expect(s.liquidations.slippage_vs_oracle_bps).toMatchObject({ median: 0, p95: 10, max: 20 });
    expect(s.liquidations).toMatchObject({ count: 4, notional_usd: '12000.000000' });
  });

  it('splits liquidations and their notional per market', () => {
    expect(s.markets['BTC-USD']).toMatchObject({ liquidations: 2, liquidated_notional_usd: '4000.000000' });
    expect(s.markets['ETH-USD']).toMatchObject({ liquidations: 2, liquidated_notional_usd: '8000.000000' });
  });

  it("counts the fund's payout from insurance_delta when an older chain did not report insurance_paid", () => {
    const old = new Metrics(specs);
    const { attributes } = liq(0, 'sell', 1000n, 4_990_000_000n, BTC_50K, { insurance_delta: String(-250n * USD) });
    old.event({ type: 'liquidation.liquidated', attributes: attributes.filter((a) => a.key !== 'insurance_paid') }, 2, at);
    // a positive delta (fee income) is not a payout
    old.event(liq(0, 'sell', 1000n, 4_990_000_000n, BTC_50K, { insurance_paid: '0', insurance_delta: String(40n * USD) }), 2, at);
    endBlock(old, 2, 0, 1000n); // a block's events count when it ends (in the scenario's totals: scenario block 0)
    expect(summary(old).liquidations.insurance_paid_usd).toBe('250.000000');
  });
});

describe('summary: insurance fund path', () => {
  it('reports the minimum at the first block it was reached, and the largest fall from a running peak (not from the start)', () => {
    const m = new Metrics(specs);
    endBlock(m, 1, -1, 1000n); // last warm-up block: the start
    endBlock(m, 2, 0, 1200n); // fees build the fund up to a peak of $1,200
    endBlock(m, 3, 1, 1100n);
    endBlock(m, 4, 2, 800n); // low: $400 below the peak, $200 below the start
    endBlock(m, 5, 3, 900n);
    endBlock(m, 6, 4, 800n); // the same low again
    endBlock(m, 7, 5, 950n);
    expect(summary(m).insurance_fund).toEqual({
      start_usd: '1000.000000',
      min_usd: '800.000000',
      min_height: 4,
      end_usd: '950.000000',
      max_drawdown_usd: '400.000000',
      max_drawdown_pct: 33.33,
      max_drawdown_peak_usd: '1200.000000',
      max_drawdown_height: 4,
      below_start_usd: '200.000000',
    });
  });

  it('a fund that never falls below its start has its minimum at the start, i.e. at the last warm-up block', () => {
    const m = new Metrics(specs);
    endBlock(m, 10, -1, 1000n);
    endBlock(m, 11, 0, 1000n);
    endBlock(m, 12, 1, 1500n);
    const f = summary(m).insurance_fund;
    expect(f).toMatchObject({ start_usd: '1000.000000', min_usd: '1000.000000', min_height: 10, max_drawdown_usd: '0.000000', max_drawdown_height: null, below_start_usd: '0.000000' });
  });
});

describe('summary: funding, open interest, oracle deviation', () => {
  it('funding: paid is Σ|transfer|, longs_paid is signed; both settled against the long OI of the previous block', () => {
    const m = new Metrics(specs);
    endBlock(m, 1, 0, 0n, { oi: ONE_BTC }); // 1 BTC long open interest
    // index_delta is 10^-18 uusdc per quantum: 10^15 × 10^10 quantums / 10^18 = 10^7 uusdc = $10 from longs to shorts
    m.event(ev('perpetuals.funding', { market_id: '0', rate_ppm: '100', index_delta: '1000000000000000' }), 2, () => BTC_50K);
    endBlock(m, 2, 1, 0n, { oi: 2n * ONE_BTC });
    // then $4 per BTC the other way, on the 2 BTC of the previous block: shorts pay longs $8
    m.event(ev('perpetuals.funding', { market_id: '0', rate_ppm: '-40', index_delta: '-400000000000000' }), 3, () => BTC_50K);
    endBlock(m, 3, 2, 0n, { oi: 2n * ONE_BTC });
    expect(summary(m).funding).toEqual({ ticks: 2, paid_usd: '18.000000', longs_paid_usd: '2.000000' });
    expect(m.cols.fundingPaidUsd).toEqual([0, 10, 18]);
  });

  it('peak open interest is the largest USD notional, with its height; max oracle deviation is |oracle − reference| either way', () => {
    const m = new Metrics(specs);
    endBlock(m, 1, 0, 0n, { oi: ONE_BTC });
    endBlock(m, 2, 1, 0n, { oi: 2n * ONE_BTC, oracle: 5_005_000_000n }); // $100,100 of OI; oracle 0.1% above the reference
    endBlock(m, 3, 2, 0n, { oi: ONE_BTC, oracle: 4_998_000_000n }); // 0.04% below
    const s = summary(m);
    expect(s.markets['BTC-USD']!.peak_open_interest).toEqual({ base: '2.0000000000', quantums: '20000000000', notional_usd: '100100.000000', height: 2 });
    expect(s.markets['BTC-USD']!.max_oracle_deviation_ppm).toBe(1000);
  });
});
