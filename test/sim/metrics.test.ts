import { describe, expect, it } from 'vitest';
import { Metrics, buildSummary } from '../../sim/metrics.js';
import { marketSpecs } from '../../sim/market.js';
import type { AbciEvent } from '../../chain/types.js';
import { smallConfig } from './small.js';

/**
 * The summary's insurance and bad-debt figures from chain events (regressions from a review of how the
 * simulator reports liquidations): gross fund payouts, the fund's start before the first scenario block,
 * bad debt written off vs repaid vs outstanding.
 */
const ev = (type: string, fields: Record<string, string>): AbciEvent => ({ type, attributes: Object.entries(fields).map(([key, value]) => ({ key, value, index: false })) });

describe('simulator metrics', () => {
  it('report what the fund paid, its balance before the scenario, and bad debt written off, repaid and outstanding', () => {
    const specs = marketSpecs(smallConfig());
    const m = new Metrics(specs);
    const markets = new Map(specs.map((s) => [s.id, { reference: 6_500_000_000n, oracle: 6_500_000_000n, oi: 0n, bestBid: undefined, bestAsk: undefined }]));
    const end = (height: number, sblock: number, fund: bigint, bad: bigint) =>
      m.endBlock({ height, timeMs: height * 1000, sblock, txs: 0, failed: 0, insuranceFund: fund, badDebt: bad, liquidatable: 0, carried: 0, markets });
    end(1, -1, 1_000_000_000n, 0n); // last warm-up block: the fund holds $1,000
    // first scenario block: a liquidation the fund paid $150 for (net −$150), then $3,000 written off
    m.event(ev('liquidation.liquidated', { market_id: '0', side: 'sell', size: '2000000000', quote: '11850000000', average_price: '5925000000', oracle_price: '5900000000', fee: '0', insurance_paid: '150000000', insurance_delta: '-150000000' }), 2, () => 5_900_000_000n);
    m.event(ev('liquidation.bad_debt', { owner: 'x', number: '0', market_id: '0', amount: '3000000000', insurance_paid: '850000000' }), 2, () => 5_900_000_000n);
    end(2, 0, 0n, 3_000_000_000n);
    // later the fund's income repays part of it
    m.event(ev('subaccounts.bad_debt_repaid', { market_id: '0', amount: '107700000', remaining: '2892300000' }), 3, () => 5_900_000_000n);
    end(3, 1, 0n, 2_892_300_000n);
    const s = buildSummary(m, { scenario: 't', description: '', seed: 1, configHash: '', warmupBlocks: 1, scenarioBlocks: 2, startTime: '', endTime: '', accounts: {}, agents: {}, finalHeight: 3, appHash: '', invariantChecks: 0 });
    expect(s.liquidations.insurance_paid_usd).toBe('150.000000');
    expect(s.insurance_fund).toMatchObject({ start_usd: '1000.000000', min_usd: '0.000000', below_start_usd: '1000.000000', max_drawdown_usd: '1000.000000' });
    expect(s.bad_debt).toMatchObject({ total_usd: '3000.000000', outstanding_usd: '2892.300000', repaid_usd: '107.700000', events: 1, insurance_covered_usd: '850.000000' });
  });
});
