import { z } from 'zod';
import { uint64Json } from '../../chain/codec/json-int.js';
import { ErrInvalidGenesis } from './errors.js';
import { DEFAULT_PRICES_PARAMS, type PricesParams } from './types.js';
import { validateParams } from './msgs.js';
import { ChainError } from '../../chain/errors/index.js';

const uint = uint64Json;

export const PricesGenesisSchema = z.strictObject({
  params: z
    .strictObject({ feeders: z.array(z.string()), min_change_ppm: uint, max_move_ppm: uint, staleness_seconds: uint })
    .partial()
    .optional(),
  prices: z.array(z.strictObject({ market_id: z.number().int().nonnegative(), price: uint })).default([]),
});

export function parsePricesGenesis(json: unknown): { params: PricesParams; prices: Array<{ marketId: number; price: bigint }> } {
  const r = PricesGenesisSchema.safeParse(json ?? {});
  if (!r.success) throw ErrInvalidGenesis(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const p = r.data.params ?? {};
  const d = DEFAULT_PRICES_PARAMS;
  const params: PricesParams = {
    feeders: p.feeders ?? d.feeders,
    minChangePpm: p.min_change_ppm !== undefined ? BigInt(p.min_change_ppm) : d.minChangePpm,
    maxMovePpm: p.max_move_ppm !== undefined ? BigInt(p.max_move_ppm) : d.maxMovePpm,
    stalenessSeconds: p.staleness_seconds !== undefined ? BigInt(p.staleness_seconds) : d.stalenessSeconds,
  };
  try {
    validateParams(params);
  } catch (e) {
    throw ErrInvalidGenesis(e instanceof ChainError ? e.message : String(e));
  }
  return { params, prices: r.data.prices.map((x) => ({ marketId: x.market_id, price: BigInt(x.price) })) };
}

export function pricesParamsJson(p: PricesParams) {
  return { feeders: p.feeders, min_change_ppm: p.minChangePpm.toString(), max_move_ppm: p.maxMovePpm.toString(), staleness_seconds: p.stalenessSeconds.toString() };
}
