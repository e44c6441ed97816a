/**
 * Determinism (short version; the long run is scripts/reliability/determinism.ts):
 * four App instances — normal with CheckTx, no CheckTx (with abandoned
 * re-runs of heights), on disk restarted at random heights and crashed
 * between FinalizeBlock and Commit, and a separate process — fed the same
 * seeded blocks of traffic across every module (lib/traffic.ts) agree on
 * every app hash and every tx result; after every block every invariant
 * holds and the per-order accounting adds up (lib/fleet.ts).
 */
import { describe, expect, it } from 'vitest';
import { formatStats, runFleet } from './lib/fleet.js';

const BLOCKS = Number(process.env.RELIABILITY_BLOCKS ?? 400);

describe('determinism: normal, no-CheckTx, restarted-from-disk and separate-process Apps agree at every height', () => {
  it(`${BLOCKS} blocks of seeded traffic across all modules`, async () => {
    const s = await runFleet({ blocks: BLOCKS, seed: 3, txsPerBlock: 4 });
    const report = formatStats(s);
    expect(s.mismatches, report).toEqual([]);
    expect(s.invariantProblems, report).toEqual([]);
    expect(s.blocks).toBe(BLOCKS);
    expect(s.processBlocks).toBe(BLOCKS);
    expect(s.reopens + s.crashes).toBeGreaterThan(BLOCKS / 20);
    expect(s.replays).toBeGreaterThan(BLOCKS / 30);
    // the traffic really covered the modules: successes and registered failures of many kinds,
    // fills, triggers, funding ticks, clamped and stale prices, liquidations
    expect(s.okTxs / s.txs, report).toBeGreaterThan(0.35);
    expect(s.codes.size, report).toBeGreaterThan(20);
    for (const e of ['clob.fill', 'clob.order_triggered', 'clob.order_amended', 'perpetuals.funding', 'prices.stale', 'liquidation.liquidated', 'subaccounts.transfer', 'subaccounts.withdraw', 'perpetuals.market_updated']) {
      expect(s.events.get(e) ?? 0, `${e}\n${report}`).toBeGreaterThan(0);
    }
    for (const r of ['expired', 'self_trade', 'post_only_would_cross', 'fok_not_fillable', 'user_cancel']) expect(s.cancelReasons.get(r) ?? 0, `${r}\n${report}`).toBeGreaterThan(0);
    expect(s.clamped, report).toBeGreaterThan(0);
    // crashes through a swept book: ADL, and an insurance fund that ran dry
    expect(s.events.get('liquidation.adl') ?? 0, report).toBeGreaterThan(0);
    expect(s.fundDryBlocks, report).toBeGreaterThan(0);
  }, 180_000); // ~18 s alone; a loaded 2-core machine (other suites, helpers) has taken over 60 s
});
