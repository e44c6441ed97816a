/**
 * perpetuals: market parameters (authority-controlled), open interest and
 * funding (premium sampling, funding ticks, the cumulative index). See README.md.
 */
import type { AppModule } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { PerpetualsKeeper } from './keeper.js';
import { perpetualsMsgs } from './msgs.js';
import { parsePerpetualsGenesis, perpetualsGenesisJson } from './genesis.js';
import { marketJson } from './types.js';
import { ErrInvalidGenesis, ErrUnknownMarket } from './errors.js';
import type { PriceKeeper } from './expected-keepers.js';
import { STATE_TABLE } from './keys.js';
import { decodeMarketState } from './types.js';

export { PerpetualsKeeper, fundingIndexDelta, validateMarket } from './keeper.js';
export { type Market, type MarketState, type MarketStatus, type PerpetualsParams, marketJson, marketToProto } from './types.js';
export { MSG_CREATE_MARKET_URL, MSG_UPDATE_MARKET_URL, MSG_UPDATE_PERPETUALS_PARAMS_URL } from './msgs.js';
export { marketFromJson } from './genesis.js';
export type { PremiumSource } from './expected-keepers.js';
export * as perpetualsErrors from './errors.js';

export function createPerpetualsModule(prices: PriceKeeper): AppModule & { keeper: PerpetualsKeeper } {
  const keeper = new PerpetualsKeeper(prices);
  const stateJson = (state: KVReader, id: number) => {
    const s = keeper.getState(state, id);
    return {
      funding_index: s.fundingIndex.toString(),
      open_interest: s.openInterest.toString(),
      last_funding_time: s.lastFundingTime.toString(),
      last_funding_rate_ppm: s.lastFundingRatePpm.toString(),
      premium_samples: s.premiumSamples,
      mean_premium_ppm: s.premiumSamples ? (s.premiumSum / BigInt(s.premiumSamples)).toString() : '0',
    };
  };
  return {
    name: 'perpetuals',
    keeper,
    msgs: perpetualsMsgs(keeper),
    defaultGenesis: () => ({ params: { authority: '', funding_interval_seconds: '3600' }, markets: [] }),
    initGenesis(ctx, json) {
      const g = parsePerpetualsGenesis(json);
      keeper.setParams(ctx.store, g.params);
      for (const m of g.markets) {
        if (!prices.getPrice(ctx.store, m.id)) throw ErrInvalidGenesis(`market ${m.id} (${m.ticker}) has no price in the prices genesis`);
        keeper.createMarket(ctx, m, undefined);
      }
    },
    exportGenesis(state) {
      return perpetualsGenesisJson(keeper.getParams(state), keeper.markets(state));
    },
    endBlock(ctx) {
      keeper.endBlock(ctx);
    },
    queries: {
      market(state, [id]) {
        const m = keeper.getMarket(state, Number(id));
        if (!m) throw ErrUnknownMarket(`no market with id ${id}`);
        return { ...marketJson(m), ...stateJson(state, m.id), effective_imf_ppm: keeper.effectiveImf(state, m, prices.price(state, m.id)).toString() };
      },
      markets(state) {
        return keeper.markets(state).map((m) => ({ ...marketJson(m), ...stateJson(state, m.id), oracle_price: prices.price(state, m.id).toString() }));
      },
      params(state) {
        const p = keeper.getParams(state);
        return { authority: p.authority, funding_interval_seconds: p.fundingIntervalSeconds.toString() };
      },
    },
    invariants: [
      {
        name: 'perpetuals/state',
        check(state) {
          const broken: string[] = [];
          for (const [k, v] of state.scanTable(STATE_TABLE)) {
            const s = decodeMarketState(v);
            if (s.openInterest < 0n) broken.push(`${k}: open interest ${s.openInterest} < 0`);
            if (!keeper.getMarket(state, s.id)) broken.push(`${k}: state without a market`);
          }
          return broken;
        },
      },
    ],
  };
}
