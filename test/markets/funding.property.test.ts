import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ModuleHarness } from '../helpers/modules.js';
import { testKeys } from '../helpers/keys.js';
import { marketsAppState, DEVNET_MARKETS } from '../../chain/devnet/markets.js';

/**
 * Random fills between subaccounts, oracle moves and funding ticks, applied
 * through the keepers. After every step: uusdc is conserved exactly, funding
 * is zero-sum, OI long = short = recorded OI. Two harnesses, one settling
 * every account after every tick (eager) and one never (lazy), end with the
 * same collateral everywhere.
 */
const keys = testKeys(6, 'funding');

function harness(interest: [number, number]) {
  const state = marketsAppState(keys[0]!.address, [keys[1]!.address]) as { perpetuals: { markets: Array<Record<string, unknown>> } };
  state.perpetuals.markets = DEVNET_MARKETS.map((m, i) => ({ ...m, interest_rate_ppm: String(interest[i]) }));
  const h = new ModuleHarness({ bank: { balances: keys.map((k) => ({ address: k.address, amount: '1000000000000' })) }, ...state });
  for (const k of keys) for (const n of [0, 1]) h.run((ctx) => h.keepers.subaccounts.deposit(ctx, { owner: k.address, number: n }, 50_000_000_000n));
  return h;
}

const step = fc.oneof(
  fc.record({
    kind: fc.constant('fill' as const),
    buyer: fc.integer({ min: 0, max: 11 }),
    seller: fc.integer({ min: 0, max: 11 }),
    market: fc.integer({ min: 0, max: 1 }),
    size: fc.bigInt({ min: 1n, max: 3_000_000_000n }),
    priceBp: fc.integer({ min: -300, max: 300 }),
  }),
  fc.record({ kind: fc.constant('move' as const), market: fc.integer({ min: 0, max: 1 }), bp: fc.integer({ min: -500, max: 500 }) }),
  fc.record({ kind: fc.constant('tick' as const) }),
);

const sid = (i: number) => ({ owner: keys[i >> 1]!.address, number: i & 1 });

function apply(h: ModuleHarness, s: fc.Arbitrary<unknown> extends never ? never : any, eager: boolean) {
  const k = h.keepers;
  if (s.kind === 'fill') {
    if (s.buyer === s.seller) return;
    const oracle = k.prices.price(h.state, s.market);
    const tick = s.market === 0 ? 100_000n : 10_000n;
    const price = ((oracle * BigInt(10_000 + s.priceBp)) / 10_000n / tick) * tick;
    const step = s.market === 0 ? 100_000n : 1_000_000n;
    const size = (s.size / step + 1n) * step;
    h.run((ctx) => k.subaccounts.executeFill(ctx, { marketId: s.market, size, price, buyer: sid(s.buyer), seller: sid(s.seller), buyerFee: (size * 5n) / 1_000_000n, sellerFee: -((size * 1n) / 1_000_000n), feeCollector: k.feeCollector }));
  } else if (s.kind === 'move') {
    h.run((ctx) => k.prices.applyPrice(ctx, s.market, (k.prices.price(h.state, s.market) * BigInt(10_000 + s.bp)) / 10_000n));
  } else {
    h.timeSec += 3600n;
    h.endBlock();
    if (eager) {
      for (let i = 0; i < 12; i++) h.run((ctx) => k.subaccounts.save(ctx.store, k.subaccounts.settleFunding(ctx, k.subaccounts.get(ctx.store, sid(i)))));
    }
  }
}

describe('funding and trades', () => {
  it('conserve uusdc, stay zero-sum and keep OI long = short after every step; lazy = eager', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 40 }), fc.tuple(fc.integer({ min: -1250, max: 1250 }), fc.integer({ min: -1250, max: 1250 })), (steps, interest) => {
        const lazy = harness(interest);
        const eager = harness(interest);
        for (const s of steps) {
          apply(lazy, s, false);
          apply(eager, s, true);
          expect(lazy.invariants()).toEqual([]);
          expect(eager.invariants()).toEqual([]);
        }
        for (const h of [lazy, eager]) {
          for (let i = 0; i < 12; i++) h.run((ctx) => h.keepers.subaccounts.save(ctx.store, h.keepers.subaccounts.settleFunding(ctx, h.keepers.subaccounts.get(ctx.store, sid(i)))));
        }
        for (let i = 0; i < 12; i++) {
          expect(lazy.keepers.subaccounts.get(lazy.state, sid(i))).toEqual(eager.keepers.subaccounts.get(eager.state, sid(i)));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a funding tick moves the index by rate · price and the long pays the short exactly', () => {
    const h = harness([100, 0]);
    const k = h.keepers;
    h.run((ctx) => k.subaccounts.executeFill(ctx, { marketId: 0, size: 1_000_000_000n, price: 6_500_000_000n, buyer: sid(0), seller: sid(2), buyerFee: 0n, sellerFee: 0n, feeCollector: k.feeCollector }));
    const before = [k.subaccounts.get(h.state, sid(0)).collateral, k.subaccounts.get(h.state, sid(2)).collateral];
    h.timeSec += 3600n;
    h.endBlock();
    expect(k.perpetuals.fundingIndex(h.state, 0)).toBe(650_000_000_000_000n);
    for (const i of [0, 2]) h.run((ctx) => k.subaccounts.save(ctx.store, k.subaccounts.settleFunding(ctx, k.subaccounts.get(ctx.store, sid(i)))));
    const after = [k.subaccounts.get(h.state, sid(0)).collateral, k.subaccounts.get(h.state, sid(2)).collateral];
    expect(after[0]! - before[0]!).toBe(-650_000n); // 0.01% of $6,500
    expect(after[1]! - before[1]!).toBe(650_000n);
    expect(h.invariants()).toEqual([]);
  });
});
