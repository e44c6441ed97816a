import { describe, expect, it } from 'vitest';
import type { AbciEvent } from '../../chain/types.js';
import { MarketMaker } from '../../sim/agents/market-maker.js';
import { marketSpecs } from '../../sim/market.js';
import { buildSummary, Metrics } from '../../sim/metrics.js';
import { Simulation } from '../../sim/runner.js';
import { smallConfig } from './small.js';

/**
 * The summary describes the scenario: the warm-up's entries, first quotes and anything else that happened before
 * the first scenario block are reported in their own `warmup` section, not added to the scenario's liquidations,
 * volume, funding or agent counters (they used to be, which inflated a calm scenario's volume by ~70%).
 */
const ev = (type: string, fields: Record<string, string>): AbciEvent => ({ type, attributes: Object.entries(fields).map(([key, value]) => ({ key, value, index: false })) });
const input = { scenario: 't', description: '', seed: 1, configHash: '', warmupBlocks: 1, scenarioBlocks: 1, startTime: '', endTime: '', accounts: {}, agents: {}, finalHeight: 2, appHash: '', invariantChecks: 0 };

describe('simulator: warm-up vs scenario totals', () => {
  it('events of a warm-up block count in the warm-up section only; the per-block series keeps both', () => {
    const specs = marketSpecs(smallConfig());
    const m = new Metrics(specs);
    const oracle = () => 5_900_000_000n;
    const markets = (oi: bigint) => new Map(specs.map((s) => [s.id, { reference: 5_900_000_000n, oracle: 5_900_000_000n, oi, bestBid: undefined, bestAsk: undefined }]));
    const fill = ev('clob.fill', { market_id: '0', size: '1000000000', price: '5900000000' });
    const liquidated = ev('liquidation.liquidated', { market_id: '0', side: 'sell', size: '1000000000', quote: '5000000000', average_price: '5890000000', oracle_price: '5900000000', fee: '7000000', insurance_delta: '7000000' });
    const funding = ev('perpetuals.funding', { market_id: '0', rate_ppm: '10', index_delta: '1000000000000000' });

    // warm-up block (scenario block −1): two fills, a liquidation, a failed tx; OI reaches 9 units
    m.event(fill, 1, oracle);
    m.event(fill, 1, oracle);
    m.event(liquidated, 1, oracle);
    m.noteTx(0, '', '');
    m.noteTx(5, 'bank', 'insufficient funds', 'trader');
    m.endBlock({ height: 1, timeMs: 1000, sblock: -1, txs: 2, failed: 1, insuranceFund: 1_000_000_000n, badDebt: 0n, liquidatable: 0, carried: 0, markets: markets(9_000_000_000n) });
    // first scenario block: one fill, one funding tick on the 9 units of long OI (10^-3 uusdc per quantum: $9); OI falls to 4 units
    m.event(fill, 2, oracle);
    m.event(funding, 2, oracle);
    m.noteTx(0, '', '');
    m.endBlock({ height: 2, timeMs: 2000, sblock: 0, txs: 1, failed: 0, insuranceFund: 1_007_000_000n, badDebt: 0n, liquidatable: 0, carried: 0, markets: markets(4_000_000_000n) });

    const s = buildSummary(m, input);
    expect(s.trading.fills).toBe(1);
    expect(s.liquidations.count).toBe(0);
    expect(s.liquidations.notional_usd).toBe('0.000000');
    expect(s.txs).toMatchObject({ total: 1, failed: 0, failed_by_sender: {} });
    expect(s.funding).toMatchObject({ ticks: 1, paid_usd: '9.000000' });
    expect(s.markets['BTC-USD']!.liquidations).toBe(0);
    // the peak open interest is the scenario's (4 units), not the warm-up's 9
    expect(s.markets['BTC-USD']!.peak_open_interest).toMatchObject({ quantums: '4000000000', height: 2 });
    expect(s.warmup).toMatchObject({ txs: 2, failed_txs: 1, fills: 2, liquidations: 1, liquidated_notional_usd: '5000.000000', funding_paid_usd: '0.000000' });
    expect(Number(s.warmup.volume_usd)).toBeGreaterThan(0);
    expect(s.warmup.volume_usd).not.toBe(s.trading.volume_usd); // two fills against one

    // the per-block series still holds the warm-up block's events
    expect(m.cols.liquidations).toEqual([1, 0]);
    expect(m.cols.markets.get(0)!.fills).toEqual([2, 1]);
    expect(m.cols.fundingPaidUsd).toEqual([0, 9]);
  });

  it('a real run: warm-up and scenario totals add up to the per-block series, and agent counters split at the warm-up end', () => {
    const sim = new Simulation(smallConfig({ checkInvariants: 'never' }));
    sim.run(sim.warmup - 5);
    // still in the warm-up: everything so far belongs to it
    const early = sim.summary();
    expect(early.trading.fills).toBe(0);
    expect(early.txs.total).toBe(0);
    expect(early.agents.maker_quotes_placed).toBe(0);
    expect(early.warmup.agents.maker_quotes_placed).toBeGreaterThan(0);
    expect(early.warmup.txs).toBeGreaterThan(0);

    sim.run(sim.warmup + 40 - sim.height);
    const s = sim.summary();
    const c = sim.metrics.cols;
    const sum = (xs: number[], scenario: boolean) => xs.reduce((a, x, k) => a + ((c.sblock[k]! >= 0) === scenario ? x : 0), 0);
    const fills = [...c.markets.values()].map((mc) => mc.fills);
    const allFills = (scenario: boolean) => fills.reduce((a, f) => a + sum(f, scenario), 0);
    expect(s.warmup.fills).toBe(allFills(false));
    expect(s.trading.fills).toBe(allFills(true));
    expect(s.warmup.fills).toBeGreaterThan(0); // the warm-up's entries trade
    expect(s.txs.total).toBe(sum(c.txs, true));
    expect(s.warmup.txs).toBe(sum(c.txs, false));
    expect(s.liquidations.count).toBe(sum(c.liquidations, true));
    expect(s.warmup.liquidations).toBe(sum(c.liquidations, false));
    // every quote a maker placed is counted once, in the warm-up or in the scenario
    const placed = sim.agents.reduce((a, x) => a + (x instanceof MarketMaker ? x.quotes : 0), 0);
    expect((s.agents.maker_quotes_placed as number) + s.warmup.agents.maker_quotes_placed!).toBe(placed);
    expect(s.agents.maker_quotes_placed as number).toBeGreaterThan(0);
    sim.close();
  });
});
