import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  accountRisk,
  isLiquidatable,
  isRiskReducing,
  liquidationPrice,
  marginRequirement,
  notional,
  positionValue,
  scaledImf,
  settleFundingAmount,
  tradeQuote,
  FUNDING_SCALE,
  type PositionRiskInput,
} from '../../modules/subaccounts/margin.js';
import { fundingIndexDelta } from '../../modules/perpetuals/index.js';
import { ceilDiv, floorDiv, floorMod, medianLow } from '../../chain/math/int.js';

// The worked example of modules/subaccounts/README.md ("Worked example").
// BTC-USD: atomic resolution −10, price exponent −5 → e = −9; ETH-USD: −9, −6 → e = −9.
const E = -9;
const BTC = (price: bigint, size: bigint): PositionRiskInput => ({ marketId: 0, size, price, e: E, imfPpm: 50_000n, mmfPpm: 30_000n, unsettledFunding: 0n });
const ETH = (price: bigint, size: bigint): PositionRiskInput => ({ marketId: 1, size, price, e: E, imfPpm: 50_000n, mmfPpm: 30_000n, unsettledFunding: 0n });

describe('integer division helpers round as named', () => {
  it('floor, ceil and mod on every sign combination', () => {
    expect([floorDiv(7n, 2n), floorDiv(-7n, 2n), floorDiv(7n, -2n), floorDiv(-7n, -2n)]).toEqual([3n, -4n, -4n, 3n]);
    expect([ceilDiv(7n, 2n), ceilDiv(-7n, 2n), ceilDiv(7n, -2n), ceilDiv(-7n, -2n)]).toEqual([4n, -3n, -3n, 4n]);
    expect([floorDiv(6n, 3n), ceilDiv(-6n, 3n)]).toEqual([2n, -2n]);
    expect(floorMod(-7n, 2n)).toBe(1n);
    expect(medianLow([5n, 1n, 3n])).toBe(3n);
    expect(medianLow([4n, 1n, 3n, 2n])).toBe(2n);
  });
});

describe('worked example: long BTC + short ETH', () => {
  // Deposit $1,000; buy 0.1 BTC at $64,000 (pays $6,400); sell 2 ETH at $3,050 (gets $6,100).
  const collateral = 700_000_000n; // $700
  const btc = 1_000_000_000n; // 0.1 BTC in 10^-10 BTC
  const eth = -2_000_000_000n; // −2 ETH in 10^-9 ETH

  it('NC, IMR, MMR and free collateral at BTC $65,000 / ETH $3,000', () => {
    const r = accountRisk(collateral, [BTC(6_500_000_000n, btc), ETH(3_000_000_000n, eth)]);
    expect(r.positions.map((p) => p.value)).toEqual([6_500_000_000n, -6_000_000_000n]);
    expect(r.nc).toBe(1_200_000_000n); // $700 + $6,500 − $6,000
    expect(r.positions.map((p) => p.imr)).toEqual([325_000_000n, 300_000_000n]);
    expect(r.imr).toBe(625_000_000n);
    expect(r.mmr).toBe(375_000_000n);
    expect(r.nc - r.imr).toBe(575_000_000n);
    expect(isLiquidatable(r)).toBe(false);
  });

  it('a loss takes NC below MMR: BTC $58,000, ETH $3,200', () => {
    const r = accountRisk(collateral, [BTC(5_800_000_000n, btc), ETH(3_200_000_000n, eth)]);
    expect(r.nc).toBe(100_000_000n); // $700 + $5,800 − $6,400
    expect(r.mmr).toBe(366_000_000n); // 3% of $5,800 + 3% of $6,400
    expect(isLiquidatable(r)).toBe(true);
  });

  it('liquidation price of the BTC long with ETH fixed at $3,000', () => {
    const r = accountRisk(collateral, [BTC(6_500_000_000n, btc), ETH(3_000_000_000n, eth)]);
    // (MMR_rest − NC_rest) / (size · k · (1 − MMF)) = ($180 + $5,300) / (0.1 · 0.97) = $56,494.845…, rounded up
    expect(liquidationPrice(r, 0)).toBe(5_649_484_537n);
    // at that price the account is at (or just under) the line, one tick above it is not
    const at = accountRisk(collateral, [BTC(5_649_484_537n - 1n, btc), ETH(3_000_000_000n, eth)]);
    expect(isLiquidatable(at)).toBe(true);
    const above = accountRisk(collateral, [BTC(5_649_484_537n + 100_000n, btc), ETH(3_000_000_000n, eth)]);
    expect(isLiquidatable(above)).toBe(false);
    // the ETH short: (NC_rest − MMR_rest) / (|size| · k · (1 + MMF)) = ($7,200 − $195) / (2 · 1.03) = $3,400.485…, rounded down
    expect(liquidationPrice(r, 1)).toBe(3_400_485_436n);
  });

  it('the second position keeps a cross-margin account safe', () => {
    // X: deposits $600, buys 0.1 BTC at $64,000 → collateral −$5,800. BTC falls to $58,000: NC $0 < MMR $174.
    const x = accountRisk(-5_800_000_000n, [BTC(5_800_000_000n, btc)]);
    expect(x.nc).toBe(0n);
    expect(isLiquidatable(x)).toBe(true);
    // Y: the same, plus 2 ETH sold at $3,000 (collateral +$6,000 → $200). ETH falls to $2,500 too:
    // NC = $200 + $5,800 − $5,000 = $1,000 ≥ MMR $174 + $150.
    const y = accountRisk(200_000_000n, [BTC(5_800_000_000n, btc), ETH(2_500_000_000n, eth)]);
    expect(y.nc).toBe(1_000_000_000n);
    expect(y.mmr).toBe(324_000_000n);
    expect(isLiquidatable(y)).toBe(false);
  });
});

describe('rounding is in the protocol’s favour', () => {
  const p = 6_500_000_001n; // k·p = 6.500000001 uusdc per quantum
  it('value rounds down for longs and up (more negative) for shorts', () => {
    expect(positionValue(1n, p, E)).toBe(6n);
    expect(positionValue(-1n, p, E)).toBe(-7n);
  });
  it('notional and requirements round up', () => {
    expect(notional(1n, p, E)).toBe(7n);
    expect(notional(-1n, p, E)).toBe(7n);
    expect(marginRequirement(1n, p, E, 50_000n)).toBe(1n); // ⌈0.325⌉
    expect(marginRequirement(1n, p, E, 30_000n)).toBe(1n);
    expect(marginRequirement(0n, p, E, 30_000n)).toBe(0n);
  });
  it('a trade: the buyer pays the rounded-up quote, the seller gets the rounded-down one', () => {
    expect(tradeQuote(1n, p, E)).toEqual({ buyerPays: 7n, sellerGets: 6n });
    expect(tradeQuote(1_000_000_000n, 6_500_000_000n, E)).toEqual({ buyerPays: 6_500_000_000n, sellerGets: 6_500_000_000n });
  });
  it('funding: payments floor toward −∞, the fraction is carried exactly', () => {
    const delta = fundingIndexDelta(100n, 6_500_000_000n, E); // 0.01% of $65,000 per BTC
    expect(delta).toBe(650_000_000_000_000n);
    expect(settleFundingAmount(1_000_000_000n, delta, 0n, 0n)).toEqual({ paid: -650_000n, carry: 0n }); // 0.1 BTC long pays $0.65
    expect(settleFundingAmount(-3n, delta, 0n, 0n)).toEqual({ paid: 0n, carry: 1_950_000_000_000_000n });
    expect(settleFundingAmount(3n, delta, 0n, 0n)).toEqual({ paid: -1n, carry: FUNDING_SCALE - 1_950_000_000_000_000n });
  });
  it('OI-scaled IMF rises linearly to 100% and rounds up', () => {
    expect(scaledImf(50_000n, 10n, 100n, 200n)).toBe(50_000n);
    expect(scaledImf(50_000n, 150n, 100n, 200n)).toBe(525_000n);
    expect(scaledImf(50_000n, 101n, 100n, 200n)).toBe(50_000n + 9_500n);
    expect(scaledImf(50_000n, 300n, 100n, 200n)).toBe(1_000_000n);
    expect(scaledImf(50_000n, 300n, 0n, 0n)).toBe(50_000n);
  });
});

describe('risk-reducing rule', () => {
  it('allows reductions that keep NC/MMR from falling, refuses growth', () => {
    expect(isRiskReducing({ nc: 100n, mmr: 200n }, { nc: 60n, mmr: 100n })).toBe(true);
    expect(isRiskReducing({ nc: 100n, mmr: 200n }, { nc: 40n, mmr: 100n })).toBe(false);
    expect(isRiskReducing({ nc: 100n, mmr: 200n }, { nc: 100n, mmr: 201n })).toBe(false);
    expect(isRiskReducing({ nc: 100n, mmr: 200n }, { nc: 0n, mmr: 0n })).toBe(true);
  });

  it('at its edges: an unchanged MMR and an unchanged NC/MMR ratio still count as reducing (neither got worse)', () => {
    // e.g. a long flipped to a short of the same size at the oracle with no fee: MMR and NC as before
    expect(isRiskReducing({ nc: 100n, mmr: 50n }, { nc: 100n, mmr: 50n })).toBe(true);
    // half the position closed at the oracle: NC and MMR halve together, the ratio stays 2
    expect(isRiskReducing({ nc: 100n, mmr: 50n }, { nc: 50n, mmr: 25n })).toBe(true);
    expect(isRiskReducing({ nc: 100n, mmr: 50n }, { nc: 49n, mmr: 25n })).toBe(false);
  });
});

describe('properties', () => {
  const pos = fc.record({
    marketId: fc.integer({ min: 0, max: 20 }),
    size: fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }).filter((s) => s !== 0n),
    price: fc.bigInt({ min: 1n, max: 10n ** 12n }),
    e: fc.integer({ min: -15, max: 2 }),
    imfPpm: fc.bigInt({ min: 10_000n, max: 1_000_000n }),
    mmfPpm: fc.bigInt({ min: 1_000n, max: 9_999n }),
    unsettledFunding: fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }),
  });

  it('NC, IMR and MMR do not depend on the order of positions', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.array(pos, { maxLength: 8 }), fc.integer(), (c, ps, seed) => {
        const a = accountRisk(c, ps);
        const shuffled = [...ps].sort((x, y) => ((x.marketId * 7919 + seed) % 13) - ((y.marketId * 7919 + seed) % 13));
        const b = accountRisk(c, shuffled);
        expect([b.nc, b.imr, b.mmr, b.notional]).toEqual([a.nc, a.imr, a.mmr, a.notional]);
      }),
      { numRuns: 300 },
    );
  });

  it('value never exceeds the exact product and requirements never fall below it', () => {
    fc.assert(
      fc.property(pos, (p) => {
        const exactNum = p.size * p.price * (p.e >= 0 ? 10n ** BigInt(p.e) : 1n);
        const den = p.e >= 0 ? 1n : 10n ** BigInt(-p.e);
        expect(positionValue(p.size, p.price, p.e) * den <= exactNum).toBe(true);
        const req = marginRequirement(p.size, p.price, p.e, p.mmfPpm);
        const absNum = exactNum < 0n ? -exactNum : exactNum;
        expect(req * den * 1_000_000n >= absNum * p.mmfPpm).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('lazy funding settlement equals settling after every index move', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.array(fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }), { maxLength: 30 }), (size, moves) => {
        let index = 0n;
        let eager = { paid: 0n, carry: 0n };
        let eagerIndex = 0n;
        for (const d of moves) {
          index += d;
          const r = settleFundingAmount(size, index, eagerIndex, eager.carry);
          eager = { paid: eager.paid + r.paid, carry: r.carry };
          eagerIndex = index;
        }
        const lazy = settleFundingAmount(size, index, 0n, 0n);
        expect(lazy).toEqual(eager);
      }),
      { numRuns: 300 },
    );
  });
});

describe('accountRisk shares one product per position', () => {
  it('equals the per-figure definitions (positionValue, notional, marginRequirement) for any sizes, prices and exponents', () => {
    const pos = fc.record({
      marketId: fc.nat(10),
      size: fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }).filter((x) => x !== 0n),
      price: fc.bigInt({ min: 1n, max: 10n ** 12n }),
      e: fc.integer({ min: -18, max: 6 }),
      imfPpm: fc.bigInt({ min: 0n, max: 1_000_000n }),
      mmfPpm: fc.bigInt({ min: 0n, max: 1_000_000n }),
      unsettledFunding: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
    });
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.array(pos, { maxLength: 4 }), (collateral, positions) => {
        const r = accountRisk(collateral, positions);
        let nc = collateral;
        positions.forEach((p, i) => {
          const got = r.positions[i]!;
          expect(got.value).toBe(positionValue(p.size, p.price, p.e));
          expect(got.notional).toBe(notional(p.size, p.price, p.e));
          expect(got.imr).toBe(marginRequirement(p.size, p.price, p.e, p.imfPpm));
          expect(got.mmr).toBe(marginRequirement(p.size, p.price, p.e, p.mmfPpm));
          nc += got.value + p.unsettledFunding;
        });
        expect(r.nc).toBe(nc);
      }),
      { numRuns: 500 },
    );
  });
});
