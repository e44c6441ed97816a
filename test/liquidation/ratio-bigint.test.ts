import { describe, expect, it } from 'vitest';
import { ModuleHarness } from '../helpers/modules.js';
import { testKeys } from '../helpers/keys.js';
import { marketsAppState, DEVNET_MARKETS } from '../../chain/devnet/markets.js';

/**
 * The liquidation order's key, ⌊NC/MMR · 10⁶⌋ from the exact NC and MMR (modules/liquidation/README.md §2), when
 * detect() computes it in bigint. The float screen holds at most 3 positions per account, so an account with 4
 * is always decided and keyed in bigint (risk-index.ts: LINE_POSITIONS); the accounts of every other test hold
 * at most 2 (the devnet has two markets), so that path's rounding was never checked. Four BTC-USD copies here
 * (e = −9, MMF 3%), all at the same price.
 */
const keys = testKeys(4, 'liq-ratio-bigint');
const alice = { owner: keys[2]!.address, number: 0 };
const bob = { owner: keys[3]!.address, number: 0 };

describe('order key of an account with more positions than the float screen holds', () => {
  it('NC/MMR = 1/3 exactly: the key is ⌊333,333.3…⌋ = 333,333 ppm (rounded down, as the screen would)', () => {
    const ms = marketsAppState(keys[0]!.address, [keys[1]!.address]) as { prices: { params: Record<string, string>; prices: unknown[] }; perpetuals: { markets: unknown[] } };
    ms.prices.params.max_move_ppm = '1000000';
    ms.perpetuals.markets = [0, 1, 2, 3].map((id) => ({ ...DEVNET_MARKETS[0], id, ticker: `BTC${id}-USD` }));
    ms.prices.prices = [0, 1, 2, 3].map((id) => ({ market_id: id, price: '6000000000' })); // $60,000
    const h = new ModuleHarness({ bank: { balances: keys.map((k) => ({ address: k.address, amount: '100000000000000' })) }, ...ms, clob: { params: { taker_fee_ppm: 0, maker_fee_ppm: 0 } } });
    h.modules.forEach((m) => m.load?.(h.state));
    const k = h.keepers;
    h.run((ctx) => k.subaccounts.deposit(ctx, alice, 4_200_000_000n)); // $4,200
    h.run((ctx) => k.subaccounts.deposit(ctx, bob, 1_000_000_000_000n));
    // alice buys 0.1 BTC in each market at $60,000: $24,000 paid, collateral −$19,800
    for (const m of [0, 1, 2, 3]) h.run((ctx) => k.subaccounts.executeFill(ctx, { marketId: m, size: 1_000_000_000n, price: 6_000_000_000n, buyer: alice, seller: bob, buyerFee: 0n, sellerFee: 0n, feeCollector: k.feeCollector }));
    // all four to $50,000: NC = −$19,800 + $20,000 = $200, MMR = 3% · $20,000 = $600, no rounding anywhere
    for (const m of [0, 1, 2, 3]) h.run((ctx) => k.prices.applyPrice(ctx, m, 5_000_000_000n));
    const r = k.subaccounts.risk(h.state, k.subaccounts.get(h.state, alice));
    expect([r.positions.length, r.nc, r.mmr]).toEqual([4, 200_000_000n, 600_000_000n]);
    const flagged = k.liquidation.detect(h.state);
    expect(flagged.map((f) => [f.key, f.ratioPpm])).toEqual([[`${alice.owner}/0`, 333_333]]);
  });
});
