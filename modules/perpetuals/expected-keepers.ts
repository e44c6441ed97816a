import type { Ctx } from '../../chain/context.js';
import type { KVReader } from '../../chain/store/kv.js';

/** What perpetuals needs from prices. */
export interface PriceKeeper {
  price(store: KVReader, marketId: number): bigint;
  getPrice(store: KVReader, marketId: number): { price: bigint } | undefined;
  createMarketPrice(ctx: Pick<Ctx, 'store' | 'events' | 'height' | 'timeSec'>, marketId: number, price: bigint): void;
}

/**
 * Where the funding premium comes from: the order book's impact prices for
 * an impact notional (uusdc). Absent side = book too thin. Until an order
 * book is wired in, the premium is zero.
 */
export interface PremiumSource {
  impactPrices(store: KVReader, marketId: number, impactNotional: bigint): { bid?: bigint; ask?: bigint };
}
