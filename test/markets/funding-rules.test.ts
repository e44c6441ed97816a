import { describe, expect, it } from 'vitest';
import { EventSink } from '../../chain/context.js';
import { Branch } from '../../chain/store/branch.js';
import { CommittedState } from '../../chain/store/committed.js';
import { DEVNET_MARKETS } from '../../chain/devnet/markets.js';
import { marketFromJson, PerpetualsKeeper, type Market } from '../../modules/perpetuals/index.js';
import { PricesKeeper } from '../../modules/prices/keeper.js';

/**
 * The funding rules of modules/perpetuals/README.md, on the keeper with a stub order book, so each block's
 * impact prices (and so each premium sample) are exactly what the test says. A mutation review found the
 * sign of a negative premium, the clamps, the interest rate, the interval boundary and the halted-market
 * reset untested.
 *
 * Market: BTC-USD of the devnet (e = −9, cap 1,250 ppm per interval), oracle $65,000 = 6,500,000,000 units,
 * so 1 ppm of the oracle is 6,500 units and a rate r moves the index by r · 6.5·10¹² (10^-18 uusdc per quantum).
 * Funding interval 100 s; the market is created at T0, a multiple of it.
 */
const ORACLE = 6_500_000_000n;
const PER_PPM = 6_500n; // price units per ppm of the oracle
const INDEX_PER_PPM = 6_500_000_000_000n; // index delta of a 1 ppm rate: 6.5e9 · 10^(−9 + 12)
const T0 = 1_000_000n;
const CAP = 1_250n;

type Book = { bid?: bigint; ask?: bigint };

function market(over: Partial<Market> = {}): Market {
  return { ...marketFromJson({ ...DEVNET_MARKETS[0] } as never), ...over };
}

function harness(over: Partial<Market> = {}, createdAt = T0) {
  const store = new Branch(new CommittedState());
  const prices = new PricesKeeper();
  const perps = new PerpetualsKeeper(prices);
  let book: Book = {};
  perps.setPremiumSource({ impactPrices: () => book });
  perps.setParams(store, { authority: '', fundingIntervalSeconds: 100n });
  const ctx = (t: bigint, events = new EventSink()) => ({ store, events, height: 1n, timeSec: t });
  perps.createMarket(ctx(createdAt), market(over), ORACLE);
  return {
    perps,
    store,
    /** One end block at time t with the book at `b`; the funding event of this block, if any. */
    block(t: bigint, b: Book = {}): Record<string, string> | undefined {
      book = b;
      const events = new EventSink();
      perps.endBlock(ctx(t, events));
      const f = events.events.filter((e) => e.type === 'perpetuals.funding');
      expect(f.length).toBeLessThanOrEqual(1);
      return f[0] && Object.fromEntries(f[0].attributes.map((a) => [a.key, a.value]));
    },
    /** Blocks at from, from + step, … ≤ to with the same book; the times at which funding ticked, and the ticks. */
    blocks(from: bigint, to: bigint, step: bigint, b: Book = {}): Array<[bigint, Record<string, string>]> {
      const ticks: Array<[bigint, Record<string, string>]> = [];
      for (let t = from; t <= to; t += step) {
        const f = this.block(t, b);
        if (f) ticks.push([t, f]);
      }
      return ticks;
    },
    setStatus(status: Market['status'], t: bigint) {
      perps.updateMarket(ctx(t), { ...perps.market(store, 0), status });
    },
    index: () => perps.getState(store, 0).fundingIndex,
  };
}

describe('the premium and its sign', () => {
  it('bids above the oracle: a positive rate, the index rises, longs pay', () => {
    const h = harness();
    const ticks = h.blocks(T0 + 10n, T0 + 100n, 10n, { bid: ORACLE + 500n * PER_PPM, ask: ORACLE + 600n * PER_PPM });
    expect(ticks.map(([t]) => t)).toEqual([T0 + 100n]);
    const f = ticks[0]![1];
    expect([f.premium_ppm, f.rate_ppm, f.index_delta, f.funding_index]).toEqual(['500', '500', (500n * INDEX_PER_PPM).toString(), (500n * INDEX_PER_PPM).toString()]);
    expect(h.perps.getState(h.store, 0).lastFundingRatePpm).toBe(500n); // the query's last_funding_rate_ppm
  });

  it('asks below the oracle: a negative rate, the index falls, shorts pay longs', () => {
    const h = harness();
    const ticks = h.blocks(T0 + 10n, T0 + 100n, 10n, { bid: ORACLE - 600n * PER_PPM, ask: ORACLE - 500n * PER_PPM });
    const f = ticks[0]![1];
    expect([f.premium_ppm, f.rate_ppm]).toEqual(['-500', '-500']);
    expect(h.index()).toBe(-500n * INDEX_PER_PPM);
    expect(h.perps.getState(h.store, 0).lastFundingRatePpm).toBe(-500n);
  });

  it('a sample rounds toward zero on both sides (a 1-unit gap is under 1 ppm)', () => {
    const h = harness();
    const m = h.perps.market(h.store, 0);
    const sample = (b: Book) => {
      h.perps.setPremiumSource({ impactPrices: () => b });
      return h.perps.premiumPpm(h.store, m, ORACLE);
    };
    expect(sample({ bid: ORACLE + 1n })).toBe(0n);
    expect(sample({ ask: ORACLE - 1n })).toBe(0n); // −0.00015 ppm: 0, not −1
    expect(sample({ ask: ORACLE - PER_PPM - 1n })).toBe(-1n);
    expect(sample({ bid: ORACLE - 1n, ask: ORACLE + 1n })).toBe(0n); // a book around the oracle: no premium
  });
});

describe('the clamps and the interest rate', () => {
  it('each sample is clamped to ±cap before the mean, which rounds toward zero', () => {
    // one block in ten with the asks at half the oracle (−500,000 ppm): clamped to −1,250, the mean is
    // −125 (unclamped it would be −50,000 and the rate the cap)
    const h = harness();
    h.blocks(T0 + 10n, T0 + 90n, 10n, {});
    const f = h.block(T0 + 100n, { ask: ORACLE / 2n })!;
    expect(f.rate_ppm).toBe('-125');
    // positive side, and a mean that does not divide: 1,250 / 10 samples of which one at 10× the cap … and
    // one of −1 ppm: (1,250 − 1) / 10 = 124.9 → 124
    h.blocks(T0 + 110n, T0 + 180n, 10n, {});
    h.block(T0 + 190n, { ask: ORACLE - PER_PPM });
    expect(h.block(T0 + 200n, { bid: ORACLE * 2n })!.rate_ppm).toBe('124');
    // negative mean that does not divide: (−1,250 + 1 + 0·8) / 10 = −124.9 → −124 (toward zero, not −125)
    h.blocks(T0 + 210n, T0 + 280n, 10n, {});
    h.block(T0 + 290n, { bid: ORACLE + PER_PPM });
    expect(h.block(T0 + 300n, { ask: ORACLE / 2n })!.rate_ppm).toBe('-124');
  });

  it('the interest rate adds to the premium; the sum is clamped to ±cap', () => {
    const up = harness({ interestRatePpm: 100n });
    expect(up.blocks(T0 + 10n, T0 + 100n, 10n, {})[0]![1].rate_ppm).toBe('100'); // no premium: the interest alone
    expect(up.blocks(T0 + 110n, T0 + 200n, 10n, { bid: ORACLE * 2n })[0]![1].rate_ppm).toBe(CAP.toString()); // 1,250 + 100
    const down = harness({ interestRatePpm: -100n });
    expect(down.blocks(T0 + 10n, T0 + 100n, 10n, {})[0]![1].rate_ppm).toBe('-100');
    expect(down.blocks(T0 + 110n, T0 + 200n, 10n, { ask: ORACLE / 2n })[0]![1].rate_ppm).toBe((-CAP).toString()); // −1,250 − 100
    expect(down.index()).toBe((-100n - CAP) * INDEX_PER_PPM);
  });
});

describe('the interval', () => {
  it('ticks once per multiple of the interval in block time, each from its own samples', () => {
    // created mid-interval: the first tick is at the next multiple (T0 + 100), not 100 s after creation
    const h = harness({}, T0 + 50n);
    const first = h.blocks(T0 + 60n, T0 + 100n, 10n, { bid: ORACLE + 500n * PER_PPM });
    expect(first.map(([t]) => t)).toEqual([T0 + 100n]);
    expect(first[0]![1].premium_ppm).toBe('500'); // 5 samples of 500
    // the next interval: no premium; exactly one tick, at T0 + 200, with none of the first interval's samples
    const second = h.blocks(T0 + 110n, T0 + 299n, 1n, {});
    expect(second.map(([t]) => t)).toEqual([T0 + 200n]);
    expect(second[0]![1].rate_ppm).toBe('0');
    expect(h.index()).toBe(500n * INDEX_PER_PPM);
  });
});

describe('a halted market', () => {
  it('takes no samples and no ticks; on resuming, its interval ends at the next boundary with only the samples since', () => {
    const h = harness();
    const premium = { bid: ORACLE + 1_000n * PER_PPM };
    expect(h.blocks(T0 + 10n, T0 + 50n, 10n, premium)).toEqual([]); // 5 samples of 1,000 ppm…
    h.setStatus('halted', T0 + 50n); // …discarded by the halt
    expect(h.blocks(T0 + 60n, T0 + 250n, 10n, premium)).toEqual([]); // across two boundaries: nothing
    expect(h.index()).toBe(0n);
    h.setStatus('active', T0 + 250n);
    // not at T0 + 260 (the boundaries crossed while halted do not count), but at T0 + 300, from the 5 samples since
    const ticks = h.blocks(T0 + 260n, T0 + 300n, 10n, {});
    expect(ticks.map(([t]) => t)).toEqual([T0 + 300n]);
    expect(ticks[0]![1].premium_ppm).toBe('0');
  });
});

describe('open-interest-scaled initial margin (effectiveImf, what the margin checks and the market query use)', () => {
  it('is the base IMF up to the lower cap, rises linearly on the OI notional at the oracle price, and is 100% from the upper cap', () => {
    // caps $1,000 and $3,000 of OI notional; base IMF 5%
    const h = harness({ oiLowerCap: 1_000_000_000n, oiUpperCap: 3_000_000_000n });
    const m = h.perps.market(h.store, 0);
    const imf = () => h.perps.effectiveImf(h.store, m, ORACLE);
    expect(imf()).toBe(50_000n);
    // 0.03 BTC (3·10^8 quantums) at $65,000 = $1,950: 50,000 + ⌈950,000 · 950 / 2,000⌉ = 501,250
    h.perps.addOpenInterest(h.store, 0, 300_000_000n);
    expect(h.perps.openInterest(h.store, 0)).toBe(300_000_000n);
    expect(imf()).toBe(501_250n);
    // at half the price the notional is $975, under the lower cap: the base
    expect(h.perps.effectiveImf(h.store, m, ORACLE / 2n)).toBe(50_000n);
    h.perps.addOpenInterest(h.store, 0, 200_000_000n); // 0.05 BTC = $3,250 ≥ the upper cap
    expect(imf()).toBe(1_000_000n);
    h.perps.addOpenInterest(h.store, 0, -500_000_000n);
    expect(h.perps.openInterest(h.store, 0)).toBe(0n);
    expect(imf()).toBe(50_000n);
  });
});
