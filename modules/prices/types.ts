import { perpchain } from '../../proto/gen/perpchain.js';
import { toBigInt } from '../../chain/codec/amount.js';
import { toLong } from '../../chain/codec/long.js';

export interface MarketPrice {
  marketId: number;
  price: bigint;
  updatedHeight: bigint;
  updatedTime: bigint;
  reportedTime: bigint;
  stale: boolean;
}

export interface PricesParams {
  feeders: string[];
  minChangePpm: bigint;
  maxMovePpm: bigint;
  stalenessSeconds: bigint;
}

export const DEFAULT_PRICES_PARAMS: PricesParams = { feeders: [], minChangePpm: 10n, maxMovePpm: 100_000n, stalenessSeconds: 60n };

/** Prices above this do not fit the order book's integer fast path. */
export const MAX_PRICE = BigInt(Number.MAX_SAFE_INTEGER);

const MP = perpchain.prices.v1.MarketPrice;
const P = perpchain.prices.v1.Params;

export function encodeMarketPrice(p: MarketPrice): Uint8Array {
  return MP.encode({
    marketId: p.marketId,
    price: toLong(p.price),
    updatedHeight: toLong(p.updatedHeight),
    updatedTime: toLong(p.updatedTime),
    reportedTime: toLong(p.reportedTime),
    stale: p.stale,
  }).finish();
}

export function decodeMarketPrice(b: Uint8Array): MarketPrice {
  const m = MP.decode(b);
  return {
    marketId: m.marketId,
    price: toBigInt(m.price),
    updatedHeight: toBigInt(m.updatedHeight),
    updatedTime: toBigInt(m.updatedTime),
    reportedTime: toBigInt(m.reportedTime),
    stale: m.stale,
  };
}

export function encodePricesParams(p: PricesParams): Uint8Array {
  return P.encode({ feeders: p.feeders, minChangePpm: Number(p.minChangePpm), maxMovePpm: Number(p.maxMovePpm), stalenessSeconds: Number(p.stalenessSeconds) }).finish();
}

export function decodePricesParams(b: Uint8Array): PricesParams {
  const m = P.decode(b);
  return { feeders: m.feeders, minChangePpm: BigInt(m.minChangePpm), maxMovePpm: BigInt(m.maxMovePpm), stalenessSeconds: BigInt(m.stalenessSeconds) };
}
