/**
 * prices: one oracle price per market, fed by registered feeders (median per
 * block) or by validators' vote extensions, with min-change, max-move and
 * staleness rules. See README.md.
 */
import { queryInt } from '../../chain/errors/query.js';
import type { AppModule } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { PricesKeeper } from './keeper.js';
import { pricesMsgs } from './msgs.js';
import { parsePricesGenesis, pricesParamsJson } from './genesis.js';
import { ErrUnknownMarket } from './errors.js';
import type { MarketPrice } from './types.js';

export { PricesKeeper, reportsOf, encodeReports, checkPrice } from './keeper.js';
export { MSG_UPDATE_PRICES_URL, MSG_INJECT_PRICES_URL, MSG_UPDATE_PRICES_PARAMS_URL } from './msgs.js';
export { type MarketPrice, type PricesParams, MAX_PRICE } from './types.js';
export * as pricesErrors from './errors.js';

export function marketPriceJson(p: MarketPrice, nowSec: bigint, stalenessSeconds: bigint) {
  return {
    market_id: p.marketId,
    price: p.price.toString(),
    updated_height: p.updatedHeight.toString(),
    updated_time: p.updatedTime.toString(),
    reported_time: p.reportedTime.toString(),
    stale: nowSec - p.reportedTime > stalenessSeconds,
  };
}

export function createPricesModule(authority: (store: KVReader) => string, nowSec: (store: KVReader) => bigint): AppModule & { keeper: PricesKeeper } {
  const keeper = new PricesKeeper();
  return {
    name: 'prices',
    keeper,
    msgs: pricesMsgs(keeper, authority),
    defaultGenesis: () => ({ params: pricesParamsJson(keeper.getParams({ get: () => undefined, scanTable: () => [] })), prices: [] }),
    initGenesis(ctx, json) {
      const g = parsePricesGenesis(json);
      keeper.setParams(ctx.store, g.params);
      for (const p of g.prices) keeper.createMarketPrice(ctx, p.marketId, p.price);
    },
    exportGenesis(state) {
      return { params: pricesParamsJson(keeper.getParams(state)), prices: keeper.allPrices(state).map((p) => ({ market_id: p.marketId, price: p.price.toString() })) };
    },
    endBlock(ctx) {
      keeper.endBlock(ctx);
    },
    queries: {
      price(state, [id]) {
        const p = keeper.getPrice(state, queryInt(id, 'market id', 0xffffffff));
        if (!p) throw ErrUnknownMarket(`market ${id}`);
        return marketPriceJson(p, nowSec(state), keeper.getParams(state).stalenessSeconds);
      },
      prices(state) {
        const s = keeper.getParams(state).stalenessSeconds;
        return keeper.allPrices(state).map((p) => marketPriceJson(p, nowSec(state), s));
      },
      params(state) {
        return pricesParamsJson(keeper.getParams(state));
      },
    },
    invariants: [
      {
        name: 'prices/positive',
        check(state) {
          return keeper.allPrices(state).filter((p) => p.price <= 0n).map((p) => `market ${p.marketId} has price ${p.price}`);
        },
      },
    ],
  };
}
