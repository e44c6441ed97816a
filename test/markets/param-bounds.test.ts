import { describe, expect, it } from 'vitest';
import { DEVNET_MARKETS } from '../../chain/devnet/markets.js';
import { marketFromJson, validateMarket, type Market } from '../../modules/perpetuals/index.js';
import { validatePerpetualsParams } from '../../modules/perpetuals/keeper.js';
import { parsePerpetualsGenesis } from '../../modules/perpetuals/genesis.js';
import { validateParams as validatePricesParams } from '../../modules/prices/msgs.js';
import { DEFAULT_PRICES_PARAMS, type PricesParams } from '../../modules/prices/types.js';
import { testKeys } from '../helpers/keys.js';

/**
 * Every range of a market's parameters and of the perpetuals and prices params (module READMEs), each at its
 * edge: the last accepted value and the first refused one. A mutation review could move any of these bounds
 * by one, or delete a check, without a test failing (the earlier examples were all far from the edges).
 * Base: the devnet BTC-USD market (AR −10, PE −5, IMF 5%, MMF 3%, cap 1,250 ppm).
 */
const base = (): Market & { statusRaw?: number } => marketFromJson({ ...DEVNET_MARKETS[0] } as never);
const ok = (over: Partial<Market & { statusRaw: number }>) => expect(() => validateMarket({ ...base(), ...over })).not.toThrow();
const bad = (over: Partial<Market & { statusRaw: number }>, msg: RegExp) => expect(() => validateMarket({ ...base(), ...over })).toThrow(msg);

describe('market parameters at the edges of their ranges', () => {
  it('status must be set: a message without one is refused, not stored as active', () => {
    bad({ statusRaw: 0 }, /status must be set/);
    ok({ statusRaw: 1 });
    ok({ statusRaw: 3 });
    bad({ statusRaw: 4 }, /status 4 is not a market status/);
  });

  it('atomic_resolution and price_exponent in [−18, 6], their quote exponent AR + PE + 6 ≥ −18', () => {
    ok({ atomicResolution: 6 });
    bad({ atomicResolution: 7 }, /atomic_resolution/);
    ok({ priceExponent: 6 });
    bad({ priceExponent: 7 }, /price_exponent/);
    ok({ atomicResolution: -18, priceExponent: -6 }); // e = −18
    bad({ atomicResolution: -18, priceExponent: -7 }, /= -19 is out of range/);
    bad({ atomicResolution: -19, priceExponent: 0 }, /atomic_resolution/);
  });

  it('min_order_size is a multiple of step_size', () => {
    ok({ stepSize: 100_000n, minOrderSize: 200_000n });
    bad({ stepSize: 100_000n, minOrderSize: 150_000n }, /min_order_size/);
    bad({ stepSize: 100_000n, minOrderSize: 50_000n }, /min_order_size/);
  });

  it('0 < MMF < IMF ≤ 100%', () => {
    ok({ initialMarginPpm: 1_000_000n });
    bad({ initialMarginPpm: 1_000_001n }, /initial_margin_ppm/);
    ok({ maintenanceMarginPpm: 49_999n });
    bad({ maintenanceMarginPpm: 50_000n }, /maintenance_margin_ppm 50000 must be positive and below/);
  });

  it('OI caps: both 0, or lower < upper', () => {
    ok({ oiLowerCap: 0n, oiUpperCap: 0n });
    ok({ oiLowerCap: 0n, oiUpperCap: 1n });
    ok({ oiLowerCap: 5n, oiUpperCap: 6n });
    bad({ oiLowerCap: 5n, oiUpperCap: 5n }, /oi_upper_cap must exceed/);
    bad({ oiLowerCap: 5n, oiUpperCap: 0n }, /oi_upper_cap must exceed/);
  });

  it('|interest| ≤ funding cap ≤ 100%, on both sides of zero', () => {
    ok({ fundingRateCapPpm: 1_000_000n });
    bad({ fundingRateCapPpm: 1_000_001n }, /funding_rate_cap_ppm/);
    ok({ interestRatePpm: 1_250n });
    bad({ interestRatePpm: 1_251n }, /interest_rate_ppm/);
    ok({ interestRatePpm: -1_250n });
    bad({ interestRatePpm: -1_251n }, /interest_rate_ppm/);
  });

  it('impact_notional is positive', () => {
    ok({ impactNotional: 1n });
    bad({ impactNotional: 0n }, /impact_notional/);
  });
});

describe('module params at the edges', () => {
  const authority = testKeys(1, 'param-bounds')[0]!.address;
  it('perpetuals: the funding interval is in [1 s, 7 days]', () => {
    const p = (s: bigint) => () => validatePerpetualsParams({ authority, fundingIntervalSeconds: s });
    expect(p(1n)).not.toThrow();
    expect(p(604_800n)).not.toThrow();
    expect(p(0n)).toThrow(/funding_interval_seconds/);
    expect(p(604_801n)).toThrow(/funding_interval_seconds/);
    // also in a genesis that leaves the authority unset (no markets yet): every funding tick divides by the interval
    expect(() => parsePerpetualsGenesis({ params: { funding_interval_seconds: '0' } })).toThrow(/funding_interval_seconds/);
    expect(parsePerpetualsGenesis({}).params.authority).toBe('');
    expect(() => parsePerpetualsGenesis({ params: { authority: '' }, markets: [DEVNET_MARKETS[0]] })).toThrow(/authority/);
  });

  it('prices: distinct feeders, min change < max move ≤ 100%, staleness ≥ 1 s', () => {
    const p = (over: Partial<PricesParams>) => () => validatePricesParams({ ...DEFAULT_PRICES_PARAMS, feeders: [authority], ...over });
    expect(p({})).not.toThrow();
    expect(p({ feeders: [authority, authority] })).toThrow(/duplicate feeder/);
    expect(p({ minChangePpm: 999_999n, maxMovePpm: 1_000_000n })).not.toThrow();
    expect(p({ minChangePpm: 100_000n, maxMovePpm: 100_000n })).toThrow(/min_change_ppm must be below max_move_ppm/);
    expect(p({ minChangePpm: 0n, maxMovePpm: 1_000_001n })).toThrow(/max_move_ppm/);
    expect(p({ stalenessSeconds: 1n })).not.toThrow();
    expect(p({ stalenessSeconds: 0n })).toThrow(/staleness_seconds/);
  });
});
