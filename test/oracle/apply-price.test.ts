import { describe, expect, it } from 'vitest';
import { EventSink } from '../../chain/context.js';
import { Branch } from '../../chain/store/branch.js';
import { CommittedState } from '../../chain/store/committed.js';
import { PricesKeeper } from '../../modules/prices/keeper.js';
import { VOTE_TABLE } from '../../modules/prices/keys.js';
import { MAX_PRICE } from '../../modules/prices/types.js';

/**
 * The oracle's rules (modules/prices/README.md, "How a price moves") on the keeper, each at its edge: the
 * min-change and max-move thresholds (≥ and >), the clamp's rounding (down, at least 1 unit), the staleness
 * threshold (older than, not as old as), the lower median and the per-block votes. The existing examples were
 * all far from these edges, so a mutation review could move them by one unnoticed.
 * Params: min change 10 ppm, max move 100,000 ppm (10%), staleness 60 s; market 0 starts at 1,000,000 units.
 */
const T0 = 1_000_000n;

function oracle(start = 1_000_000n) {
  const store = new Branch(new CommittedState());
  const k = new PricesKeeper();
  k.setParams(store, { feeders: [], minChangePpm: 10n, maxMovePpm: 100_000n, stalenessSeconds: 60n });
  let height = 1n;
  const ctx = (t: bigint, events = new EventSink()) => ({ store, events, height, timeSec: t });
  k.createMarketPrice(ctx(T0), 0, start);
  return {
    k,
    store,
    /** applyPrice at time t (height + 1); the prices.update event, if the price moved. */
    apply(reported: bigint, t = T0): Record<string, string> | undefined {
      height += 1n;
      const events = new EventSink();
      k.applyPrice(ctx(t, events), 0, reported);
      const e = events.events.find((x) => x.type === 'prices.update');
      return e && Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
    },
    /** One end block at time t with these feeder reports; its events. */
    endBlock(t: bigint, reports: bigint[] = []): EventSink['events'] {
      height += 1n;
      const events = new EventSink();
      reports.forEach((p, i) => k.recordReport(ctx(t, events), `feeder${i}`, 0, p));
      k.endBlock(ctx(t, events));
      return events.events;
    },
    price: () => k.getPrice(store, 0)!,
  };
}

describe('min change and max move', () => {
  it('a move of exactly min_change_ppm is applied; one unit less is ignored but still refreshes the report time', () => {
    const o = oracle();
    expect(o.apply(1_000_009n, T0 + 5n)).toBeUndefined(); // 9 ppm
    expect(o.price()).toMatchObject({ price: 1_000_000n, reportedTime: T0 + 5n, updatedTime: T0, updatedHeight: 1n });
    expect(o.apply(1_000_010n, T0 + 6n)).toMatchObject({ price: '1000010', clamped: 'false' }); // 10 ppm
    expect(o.price()).toMatchObject({ price: 1_000_010n, reportedTime: T0 + 6n, updatedTime: T0 + 6n, updatedHeight: 3n });
  });

  it('a move of exactly max_move_ppm is not clamped; beyond it, the move is max_move of the price, rounded down', () => {
    const o = oracle();
    expect(o.apply(1_100_000n)).toMatchObject({ price: '1100000', clamped: 'false' }); // +10% exactly
    // 10% of 1,100,000 = 110,000: a report of 1,210,001 is clamped to 1,210,000
    expect(o.apply(1_210_001n)).toMatchObject({ price: '1210000', reported: '1210001', clamped: 'true' });
    // downward, and a limit with a remainder: 10% of 1,210,009 = 121,000.9 → 121,000
    const d = oracle(1_210_009n);
    expect(d.apply(1n)).toMatchObject({ price: '1089009', clamped: 'true' });
  });

  it('a clamped move is at least 1 unit (a tiny price can still move)', () => {
    const o = oracle(5n); // 10% of 5 = 0.5 units
    expect(o.apply(100n)).toMatchObject({ price: '6', clamped: 'true' });
    expect(o.apply(1n)).toMatchObject({ price: '5', clamped: 'true' });
  });

  it('a report equal to the price is no move even with min_change 0: no event, the update height stays', () => {
    const o = oracle();
    o.k.setParams(o.store, { feeders: [], minChangePpm: 0n, maxMovePpm: 100_000n, stalenessSeconds: 60n });
    expect(o.apply(1_000_000n, T0 + 3n)).toBeUndefined();
    expect(o.price()).toMatchObject({ updatedHeight: 1n, reportedTime: T0 + 3n });
    expect(o.apply(1_000_001n)).toMatchObject({ price: '1000001' }); // 1 ppm ≥ 0
  });

  it('prices are in (0, 2^53 − 1]', () => {
    const o = oracle();
    expect(() => o.apply(0n)).toThrow(/price must be positive/);
    expect(() => o.apply(MAX_PRICE + 1n)).toThrow(/absurdly large/);
    expect(() => oracle(MAX_PRICE)).not.toThrow();
    expect(() => o.k.createMarketPrice({ store: o.store, events: new EventSink(), height: 1n, timeSec: T0 }, 0, 2n)).toThrow(/market 0/); // already has one
    expect(o.price().price).toBe(1_000_000n);
  });
});

describe('the end of the block', () => {
  it('stale only when the last report is older than staleness_seconds, fresh on the next report', () => {
    const o = oracle();
    const types = (ev: EventSink['events']) => ev.map((e) => e.type);
    expect(types(o.endBlock(T0 + 60n))).toEqual([]); // exactly 60 s: not stale yet
    expect(o.k.isStale(o.store, 0, T0 + 60n)).toBe(false);
    expect(types(o.endBlock(T0 + 61n))).toEqual(['prices.stale']);
    expect(o.k.isStale(o.store, 0, T0 + 61n)).toBe(true);
    expect(o.price().stale).toBe(true);
    expect(types(o.endBlock(T0 + 62n))).toEqual([]); // said once
    expect(types(o.endBlock(T0 + 63n, [1_000_000n]))).toEqual(['prices.fresh']); // an unchanged report refreshes it
    expect(o.price().stale).toBe(false);
  });

  it('applies the lower median of the block\'s reports, then forgets them', () => {
    const o = oracle();
    o.endBlock(T0 + 1n, [1_030_000n, 1_010_000n, 1_020_000n, 1_040_000n]); // lower middle of four
    expect(o.price().price).toBe(1_020_000n);
    o.endBlock(T0 + 2n, [1_000_000n, 1_050_000n, 1_001_000n]); // middle of three
    expect(o.price().price).toBe(1_001_000n);
    expect(o.store.scanTable(VOTE_TABLE)).toEqual([]);
    // a block without reports leaves the price (last block's votes are gone) and its update height
    const h = o.price().updatedHeight;
    o.endBlock(T0 + 3n);
    expect(o.price()).toMatchObject({ price: 1_001_000n, updatedHeight: h, reportedTime: T0 + 2n });
  });
});
