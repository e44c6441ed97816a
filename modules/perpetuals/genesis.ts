import { z } from 'zod';
import { int64Json } from '../../chain/codec/json-int.js';
import { ChainError } from '../../chain/errors/index.js';
import { ErrInvalidGenesis } from './errors.js';
import { DEFAULT_PERPETUALS_PARAMS, validateMarket, validatePerpetualsParams } from './keeper.js';
import { marketJson, type Market, type MarketStatus, type PerpetualsParams } from './types.js';

const int = int64Json;

export const MarketJsonSchema = z.strictObject({
  id: z.number().int().nonnegative(),
  ticker: z.string(),
  status: z.enum(['active', 'reduce_only', 'halted']).default('active'),
  atomic_resolution: z.number().int(),
  price_exponent: z.number().int(),
  tick_size: int,
  step_size: int,
  min_order_size: int,
  initial_margin_ppm: int,
  maintenance_margin_ppm: int,
  oi_lower_cap: int.default('0'),
  oi_upper_cap: int.default('0'),
  max_open_interest: int.default('0'),
  interest_rate_ppm: int.default('0'),
  funding_rate_cap_ppm: int.default('0'),
  impact_notional: int,
});

export const PerpetualsGenesisSchema = z.strictObject({
  params: z.strictObject({ authority: z.string(), funding_interval_seconds: int }).partial().optional(),
  markets: z.array(MarketJsonSchema).default([]),
});

export function marketFromJson(j: z.output<typeof MarketJsonSchema>): Market {
  return {
    id: j.id,
    ticker: j.ticker,
    status: j.status as MarketStatus,
    atomicResolution: j.atomic_resolution,
    priceExponent: j.price_exponent,
    tickSize: BigInt(j.tick_size),
    stepSize: BigInt(j.step_size),
    minOrderSize: BigInt(j.min_order_size),
    initialMarginPpm: BigInt(j.initial_margin_ppm),
    maintenanceMarginPpm: BigInt(j.maintenance_margin_ppm),
    oiLowerCap: BigInt(j.oi_lower_cap),
    oiUpperCap: BigInt(j.oi_upper_cap),
    maxOpenInterest: BigInt(j.max_open_interest),
    interestRatePpm: BigInt(j.interest_rate_ppm),
    fundingRateCapPpm: BigInt(j.funding_rate_cap_ppm),
    impactNotional: BigInt(j.impact_notional),
  };
}

export function parsePerpetualsGenesis(json: unknown): { params: PerpetualsParams; markets: Market[] } {
  const r = PerpetualsGenesisSchema.safeParse(json ?? {});
  if (!r.success) throw ErrInvalidGenesis(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const p = r.data.params ?? {};
  const params: PerpetualsParams = {
    authority: p.authority ?? DEFAULT_PERPETUALS_PARAMS.authority,
    fundingIntervalSeconds: p.funding_interval_seconds !== undefined ? BigInt(p.funding_interval_seconds) : DEFAULT_PERPETUALS_PARAMS.fundingIntervalSeconds,
  };
  const markets = r.data.markets.map(marketFromJson);
  try {
    validatePerpetualsParams(params, { authorityRequired: markets.length > 0 });
    markets.forEach((m) => validateMarket(m));
  } catch (e) {
    throw ErrInvalidGenesis(e instanceof ChainError ? e.message : String(e));
  }
  return { params, markets };
}

export function perpetualsGenesisJson(params: PerpetualsParams, markets: Market[]) {
  return { params: { authority: params.authority, funding_interval_seconds: params.fundingIntervalSeconds.toString() }, markets: markets.map(marketJson) };
}
