import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { maintenance, marketCoords, RiskIndex, surplus, type MarketCoords } from '../../modules/liquidation/risk-index.js';
import { keyPrefix, liquidationOrder, ppmFloor } from '../../modules/liquidation/keeper.js';
import { sortBySlot } from '../../modules/liquidation/risk-index.js';
import { floorDiv } from '../../chain/math/int.js';

/**
 * The float screen of the liquidation index decides "liquidatable" (M < 0)
 * and "safe" (M ≥ 3n·10^24) from doubles with an error bound, and the
 * liquidation order's key ⌊NC/MMR·10^6⌋ from the same doubles when the bound
 * allows. Both must agree with the exact bigint values whenever they answer.
 * The accounts are built to sit right at the edges: M within a few uusdc of 0
 * or of the threshold, NC/MMR·10^6 within a hair of an integer.
 */
const E24 = 10n ** 24n;
const MARKETS = 3;

function coordsAt(prices: bigint[], funding: bigint[]): Map<number, MarketCoords> {
  // quote exponents of the devnet markets (−9 for BTC-like, −8 and −7 for smaller coins)
  return new Map(prices.map((p, i) => [i, marketCoords(i, -9 + i, [30_000n, 50_000n, 100_000n][i]!, p, funding[i]!)]));
}

const position = fc.record({
  marketId: fc.nat(MARKETS - 1),
  size: fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }).filter((s) => s !== 0n),
  fundingIndex: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
});

const account = fc.record({
  positions: fc.uniqueArray(position, { minLength: 1, maxLength: 4, selector: (p) => p.marketId }),
  prices: fc.array(fc.bigInt({ min: 1n, max: 10n ** 13n }), { minLength: MARKETS, maxLength: MARKETS }),
  funding: fc.array(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), { minLength: MARKETS, maxLength: MARKETS }),
  /** where to put the account: 0 = M near 0, 1 = M near the 3n·10^24 threshold, 2 = NC/MMR·10^6 near an integer */
  edge: fc.nat(2),
  ratioPpm: fc.integer({ min: -3_000_000, max: 3_000_000 }),
  /** offset from the edge, in 10^-24 uusdc steps of 10^6 (the finest K can move: 10^6 · funding carry) */
  offset: fc.bigInt({ min: -5_000_000n, max: 5_000_000n }),
  coarse: fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
});

describe('liquidation index float screen', () => {
  it('answers only what the exact integers say: liquidatable, safe, and the order key', () => {
    let decided = 0;
    let keyed = 0;
    fc.assert(
      fc.property(account, (t) => {
        const coords = coordsAt(t.prices, t.funding);
        const positions = [...t.positions].sort((a, b) => a.marketId - b.marketId).map((p) => ({ ...p, costBasis: 0n, fundingCarry: 0n }));
        const n = BigInt(positions.length);
        // Σ size·(G or H) + 10^6·Σ size·entryIndex: the part of M that does not depend on collateral and carry
        const probe = { k: 0n, positions: positions.map((p) => ({ marketId: p.marketId, size: p.size, costBasis: 0n })) };
        const linear = surplus(probe, coords) + 1_000_000n * positions.reduce((s, p) => s + p.size * p.fundingIndex, 0n);
        const mmr = maintenance(probe, coords);
        const target = t.edge === 0 ? 0n : t.edge === 1 ? 3n * n * E24 : floorDiv(BigInt(t.ratioPpm) * mmr, 1_000_000n) - mmr;
        // collateral·10^24 + 10^6·carry = target − linear + offset·10^6 (+ a coarse shift half the time)
        const want = target - linear + t.offset * 1_000_000n + (t.coarse % 2n === 0n ? t.coarse * E24 : 0n);
        const collateral = floorDiv(want, E24);
        const carry = (want - collateral * E24) / 1_000_000n; // exact: every term is a multiple of 10^6
        positions[0]!.fundingCarry = carry;
        const idx = new RiskIndex();
        idx.update({ owner: 'perp1x', number: 0, collateral, positions }, coords, undefined);
        const slot = idx.slot('perp1x/0')!;
        const a = idx.evalAt(slot)!;
        const m = surplus(a, coords);
        const q = idx.screen(slot, idx.floatCoords(coords));
        if (q === 1) expect(m < 0n).toBe(true);
        if (q === 0) expect(m >= 3n * n * E24).toBe(true);
        if (q !== -1) decided++;
        if (q === 1) {
          const ppm = ppmFloor(idx.ratio, idx.ratioErr);
          if (ppm !== undefined) {
            keyed++;
            expect(ppm).toBe(Number(floorDiv((m + mmr) * 1_000_000n, mmr)));
          }
        }
      }),
      { numRuns: 3000 },
    );
    // the screen does decide most accounts, and keys most liquidatable ones (else it would be no faster)
    expect(decided).toBeGreaterThan(1000);
    expect(keyed).toBeGreaterThan(200);
  });
});

describe('liquidation order tie-break', () => {
  it('ordering by keyPrefix and then by string is exactly string order', () => {
    const key = fc.oneof(
      fc.string({ maxLength: 14 }).map((s) => `perp1${s}`),
      fc.stringMatching(/^perp1[02-9ac-hj-np-z]{0,10}\/[0-9]{1,3}$/),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 40 }), (keys) => {
        const strcmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
        const byPrefix = [...keys].sort((a, b) => keyPrefix(a) - keyPrefix(b) || strcmp(a, b));
        expect(byPrefix).toEqual([...keys].sort(strcmp));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('liquidation order', () => {
  it('sorts by (ratioPpm, key) whether the ratios fit the packed native sort or not', () => {
    const ratio = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 52));
    const key = fc.oneof(fc.stringMatching(/^perp1[02-9ac]{0,9}\/[0-9]$/), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(fc.record({ ratioPpm: ratio, key }), { maxLength: 60 }), (rows) => {
        const items = rows.map((r) => ({ ...r, tie: keyPrefix(r.key) }));
        const expected = [...items].sort((a, b) => a.ratioPpm - b.ratioPpm || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        expect(liquidationOrder([...items]).map((x) => [x.ratioPpm, x.key])).toEqual(expected.map((x) => [x.ratioPpm, x.key]));
      }),
      { numRuns: 2000 },
    );
  });
  it('with a head, orders the first places exactly (ties across the cut included), keeps everyone, and ordering the result again gives the full order', () => {
    const key = fc.stringMatching(/^perp1[02-9ac]{0,6}\/[0-9]$/);
    fc.assert(
      fc.property(fc.array(fc.record({ ratioPpm: fc.integer({ min: -4, max: 4 }), key }), { maxLength: 80 }), fc.nat(90), (rows, head) => {
        const items = rows.map((r) => ({ ...r, tie: keyPrefix(r.key) }));
        const full = liquidationOrder([...items]).map((x) => [x.ratioPpm, x.key]);
        const partial = liquidationOrder([...items], head);
        expect(partial.slice(0, head).map((x) => [x.ratioPpm, x.key])).toEqual(full.slice(0, head));
        expect(liquidationOrder([...partial]).map((x) => [x.ratioPpm, x.key])).toEqual(full);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('sortBySlot', () => {
  it('orders heap payloads by slot, keeping the drained order within a slot, for slots up to 2^32', () => {
    const GEN_SPAN = 2 ** 21;
    const slot = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(slot, fc.integer({ min: 0, max: GEN_SPAN - 1 })), { maxLength: 300 }), (entries) => {
        const payloads = entries.map(([s, g]) => s * GEN_SPAN + g);
        const expected = payloads.map((p, i) => ({ p, i })).sort((x, y) => Math.floor(x.p / GEN_SPAN) - Math.floor(y.p / GEN_SPAN) || x.i - y.i).map((x) => x.p);
        expect([...sortBySlot(payloads)]).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
