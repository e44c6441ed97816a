import type { Ctx } from '../../chain/context.js';
import type { KVReader, KVStore } from '../../chain/store/kv.js';
import { abs, medianLow, PPM } from '../../chain/math/int.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { toBigInt } from '../../chain/codec/amount.js';
import { toLong } from '../../chain/codec/long.js';
import { ErrFeedersReplaced, ErrInvalidPrice, ErrPriceExists, ErrUnknownMarket } from './errors.js';
import { PARAMS_KEY, PRICE_TABLE, priceKey, VOTE_EXTENSIONS_SINCE_KEY, VOTE_TABLE, voteKey } from './keys.js';
import { DecodeCache } from '../../chain/store/decode-cache.js';
import { decodeMarketPrice, decodePricesParams, DEFAULT_PRICES_PARAMS, encodeMarketPrice, encodePricesParams, MAX_PRICE, type MarketPrice, type PricesParams } from './types.js';

type StoreCtx = Pick<Ctx, 'store' | 'events' | 'height' | 'timeSec'>;

const priceCache = new DecodeCache(decodeMarketPrice);
const paramsCache = new DecodeCache(decodePricesParams);

/**
 * The oracle. Reports arrive from registered feeders (MsgUpdatePrices) or
 * from validators' vote extensions (MsgInjectPrices); both end in
 * applyPrice, which enforces the min-change and max-move rules.
 */
export class PricesKeeper {
  getParams(store: KVReader): PricesParams {
    const b = store.get(PARAMS_KEY);
    return b ? paramsCache.get(b) : DEFAULT_PRICES_PARAMS;
  }

  setParams(store: KVStore, p: PricesParams): void {
    store.set(PARAMS_KEY, encodePricesParams(p));
  }

  getPrice(store: KVReader, marketId: number): MarketPrice | undefined {
    const b = store.get(priceKey(marketId));
    return b ? priceCache.get(b) : undefined;
  }

  /** The oracle price of a market; throws ErrUnknownMarket. */
  price(store: KVReader, marketId: number): bigint {
    const p = this.getPrice(store, marketId);
    if (!p) throw ErrUnknownMarket(`market ${marketId}`);
    return p.price;
  }

  allPrices(store: KVReader): MarketPrice[] {
    return store.scanTable(PRICE_TABLE).map(([, v]) => priceCache.get(v));
  }

  /** True when the market's last report is older than the staleness threshold at block time `nowSec`. */
  isStale(store: KVReader, marketId: number, nowSec: bigint): boolean {
    const p = this.getPrice(store, marketId);
    if (!p) throw ErrUnknownMarket(`market ${marketId}`);
    return nowSec - p.reportedTime > this.getParams(store).stalenessSeconds;
  }

  createMarketPrice(ctx: StoreCtx, marketId: number, price: bigint): void {
    if (this.getPrice(ctx.store, marketId)) throw ErrPriceExists(`market ${marketId}`);
    checkPrice(price);
    const p: MarketPrice = { marketId, price, updatedHeight: ctx.height, updatedTime: ctx.timeSec, reportedTime: ctx.timeSec, stale: false };
    ctx.store.set(priceKey(marketId), encodeMarketPrice(p));
    ctx.events.emit('prices.update', { market_id: marketId, price, previous: 0, reported: price, clamped: false }, ['market_id']);
  }

  /**
   * The height from which validators' vote extensions carry the prices (the first block that applied a
   * MsgInjectPrices), or undefined while feeders do.
   */
  voteExtensionsSince(store: KVReader): bigint | undefined {
    const b = store.get(VOTE_EXTENSIONS_SINCE_KEY);
    return b ? BigInt(Buffer.from(b).toString()) : undefined;
  }

  /**
   * Vote extensions replace the feeders for good: the first injected block records its height, and feeder
   * reports are refused from that tx on. With both, a block would move a price twice (the injected median
   * at tx 0, the feeders' median at the end of the block), each move clamped only against the price
   * before it: up to twice max_move_ppm per block.
   */
  markVoteExtensions(ctx: StoreCtx): void {
    if (this.voteExtensionsSince(ctx.store) === undefined) ctx.store.set(VOTE_EXTENSIONS_SINCE_KEY, Buffer.from(ctx.height.toString()));
  }

  /** Throws ErrFeedersReplaced once vote extensions carry the prices. */
  assertFeedersAccepted(store: KVReader): void {
    const since = this.voteExtensionsSince(store);
    if (since !== undefined) throw ErrFeedersReplaced(`validators' vote extensions have carried the oracle prices since height ${since}; feeder reports are no longer accepted`);
  }

  /** Record a feeder's report for this block; the median is applied at the end of the block. */
  recordReport(ctx: StoreCtx, feeder: string, marketId: number, price: bigint): void {
    this.assertFeedersAccepted(ctx.store);
    if (!this.getPrice(ctx.store, marketId)) throw ErrUnknownMarket(`market ${marketId}`);
    checkPrice(price);
    ctx.store.set(voteKey(marketId, feeder), Buffer.from(price.toString()));
  }

  /**
   * Move the price toward `reported`:
   *  - |change| < min_change_ppm of the price: the price stays, the report still counts as fresh;
   *  - |change| > max_move_ppm of the price: the move is clamped to max_move (rounded down, at least 1 unit).
   * Clamping (not rejecting) keeps the oracle moving through a real crash while
   * bounding what one block's reports can do; the clamp is visible in the event.
   */
  applyPrice(ctx: StoreCtx, marketId: number, reported: bigint): void {
    const cur = this.getPrice(ctx.store, marketId);
    if (!cur) throw ErrUnknownMarket(`market ${marketId}`);
    checkPrice(reported);
    const params = this.getParams(ctx.store);
    const change = reported - cur.price;
    const next: MarketPrice = { ...cur, reportedTime: ctx.timeSec };
    let clamped = false;
    if (change !== 0n && abs(change) * PPM >= params.minChangePpm * cur.price) {
      let move = change;
      if (params.maxMovePpm > 0n && abs(change) * PPM > params.maxMovePpm * cur.price) {
        let limit = (cur.price * params.maxMovePpm) / PPM;
        if (limit < 1n) limit = 1n;
        move = change > 0n ? limit : -limit;
        clamped = true;
      }
      next.price = cur.price + move;
      next.updatedHeight = ctx.height;
      next.updatedTime = ctx.timeSec;
      ctx.events.emit('prices.update', { market_id: marketId, price: next.price, previous: cur.price, reported, clamped }, ['market_id']);
    }
    ctx.store.set(priceKey(marketId), encodeMarketPrice(next));
  }

  /** End of block: apply the median of each market's reports, then flag staleness transitions. */
  endBlock(ctx: StoreCtx): void {
    const votes = ctx.store.scanTable(VOTE_TABLE);
    const byMarket = new Map<number, bigint[]>();
    for (const [key, value] of votes) {
      const id = parseInt(key.slice(VOTE_TABLE.length, VOTE_TABLE.length + 8), 16);
      const list = byMarket.get(id) ?? [];
      list.push(BigInt(Buffer.from(value).toString()));
      byMarket.set(id, list);
      ctx.store.delete(key);
    }
    for (const id of [...byMarket.keys()].sort((a, b) => a - b)) this.applyPrice(ctx, id, medianLow(byMarket.get(id)!));
    const params = this.getParams(ctx.store);
    for (const p of this.allPrices(ctx.store)) {
      const stale = ctx.timeSec - p.reportedTime > params.stalenessSeconds;
      if (stale !== p.stale) {
        ctx.store.set(priceKey(p.marketId), encodeMarketPrice({ ...p, stale }));
        ctx.events.emit(stale ? 'prices.stale' : 'prices.fresh', { market_id: p.marketId, last_report_time: p.reportedTime, price: p.price }, ['market_id']);
      }
    }
  }
}

export function checkPrice(price: bigint): void {
  if (price <= 0n) throw ErrInvalidPrice(`price must be positive, got ${price}`);
  if (price > MAX_PRICE) throw ErrInvalidPrice(`price ${price} is absurdly large (limit ${MAX_PRICE})`);
}

export function reportsOf(m: { prices?: perpchain.prices.v1.IPriceReport[] | null }): Array<{ marketId: number; price: bigint }> {
  return (m.prices ?? []).map((r) => ({ marketId: r.marketId ?? 0, price: toBigInt(r.price) }));
}

export function encodeReports(reports: ReadonlyArray<{ marketId: number; price: bigint }>): perpchain.prices.v1.IPriceReport[] {
  return reports.map((r) => ({ marketId: r.marketId, price: toLong(r.price) }));
}
