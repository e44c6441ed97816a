/**
 * clob: the on-chain order book. Orders arrive as signed txs and are matched
 * inside FinalizeBlock in tx order by a pure engine per market; the keeper
 * checks margin, settles fills through subaccounts and persists every change,
 * so every node holds the same book and the book is part of the app hash.
 * See README.md.
 */
import { z } from 'zod';
import { int64Json } from '../../chain/codec/json-int.js';
import { ErrInvalidQueryArgument, queryAddress, queryInt } from '../../chain/errors/query.js';
import type { AppModule } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import type { AbciEvent, CommittedBlock } from '../../chain/types.js';
import { ChainError } from '../../chain/errors/index.js';
import { ClobKeeper } from './keeper.js';
import { clobMsgs, validateClobParams } from './msgs.js';
import { clientIdKey, ORDER_TABLE } from './keys.js';
import { clientIdRecordJson, clobParamsJson, decodeClientIdRecord, decodeOrder, DEFAULT_CLOB_PARAMS, orderJson, type ClobParams } from './types.js';
import { ErrInvalidGenesis, ErrOrderNotFound } from './errors.js';
import type { PerpetualsKeeper, PriceKeeper, SubaccountsKeeper } from './expected-keepers.js';

export { ClobKeeper, MAX_ENGINE_INT, feeOf, type PlaceOrderInput, type PlaceOutcome, type FillRecord, type FillLimiter, type LiquidationTaker } from './keeper.js';
export { MSG_PLACE_ORDER_URL, MSG_CANCEL_ORDER_URL, MSG_AMEND_ORDER_URL, MSG_UPDATE_CLOB_PARAMS_URL, PLACE_ORDER_RESPONSE_URL, placeInput } from './msgs.js';
export { type Order, type Side, type OrderType, type TimeInForce, type StpMode, type ClobParams, orderJson, DEFAULT_CLOB_PARAMS } from './types.js';
export * as clobErrors from './errors.js';

const int = int64Json;
const GenesisSchema = z.strictObject({
  params: z
    .strictObject({
      taker_fee_ppm: int,
      maker_fee_ppm: int,
      max_open_orders: z.number().int(),
      max_good_til_blocks: int,
      max_good_til_seconds: int,
      market_order_slippage_ppm: int,
      client_id_retention_blocks: int,
      max_triggers_per_block: z.number().int(),
      max_expiries_per_block: z.number().int(),
      open_order_tiers: z.array(z.strictObject({ min_net_collateral: int, max_open_orders: z.number().int() })),
    })
    .partial()
    .optional(),
});

export interface RecentFill {
  height: string;
  market_id: number;
  price: string;
  size: string;
  taker_side: string;
  taker_order_id: string;
  maker_order_id: string;
  taker: string;
  maker: string;
  liquidation: boolean;
}

const RECENT_FILLS = 200;

export function createClobModule(deps: {
  subaccounts: SubaccountsKeeper;
  perpetuals: PerpetualsKeeper & { setPremiumSource(src: { impactPrices(store: KVReader, marketId: number, n: bigint): { bid?: bigint; ask?: bigint } }): void };
  prices: PriceKeeper;
  feeCollector: string;
  authority: (s: KVReader) => string;
}): AppModule & { keeper: ClobKeeper } {
  const keeper = new ClobKeeper(deps.subaccounts, deps.perpetuals, deps.prices, deps.feeCollector);
  deps.perpetuals.setPremiumSource({
    impactPrices: (store, marketId, n) => keeper.impactPrices(store, marketId, n, deps.perpetuals.marketInfo(store, marketId).quoteExponent),
  });
  // Read side (not consensus state): the last fills per market, from committed blocks' events.
  const recent = new Map<number, RecentFill[]>();
  /** A query's market argument: the id of a market that exists (its book may still be empty, or not built yet). */
  const knownMarket = (state: KVReader, market: string | undefined): number => {
    const id = queryInt(market, 'market id', 0xffffffff);
    try {
      deps.perpetuals.marketInfo(state, id);
    } catch {
      throw ErrInvalidQueryArgument(`no market ${id}`);
    }
    return id;
  };
  return {
    name: 'clob',
    keeper,
    msgs: clobMsgs(keeper, deps.authority),
    defaultGenesis: () => ({ params: clobParamsJson(DEFAULT_CLOB_PARAMS) }),
    initGenesis(ctx, json) {
      const r = GenesisSchema.safeParse(json ?? {});
      if (!r.success) throw ErrInvalidGenesis(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const j = r.data.params ?? {};
      const d = DEFAULT_CLOB_PARAMS;
      const p: ClobParams = {
        takerFeePpm: j.taker_fee_ppm !== undefined ? BigInt(j.taker_fee_ppm) : d.takerFeePpm,
        makerFeePpm: j.maker_fee_ppm !== undefined ? BigInt(j.maker_fee_ppm) : d.makerFeePpm,
        maxOpenOrders: j.max_open_orders ?? d.maxOpenOrders,
        maxGoodTilBlocks: j.max_good_til_blocks !== undefined ? BigInt(j.max_good_til_blocks) : d.maxGoodTilBlocks,
        maxGoodTilSeconds: j.max_good_til_seconds !== undefined ? BigInt(j.max_good_til_seconds) : d.maxGoodTilSeconds,
        marketOrderSlippagePpm: j.market_order_slippage_ppm !== undefined ? BigInt(j.market_order_slippage_ppm) : d.marketOrderSlippagePpm,
        clientIdRetentionBlocks: j.client_id_retention_blocks !== undefined ? BigInt(j.client_id_retention_blocks) : d.clientIdRetentionBlocks,
        maxTriggersPerBlock: j.max_triggers_per_block ?? d.maxTriggersPerBlock,
        maxExpiriesPerBlock: j.max_expiries_per_block ?? d.maxExpiriesPerBlock,
        openOrderTiers: j.open_order_tiers ? j.open_order_tiers.map((t) => ({ minNetCollateral: BigInt(t.min_net_collateral), maxOpenOrders: t.max_open_orders })) : d.openOrderTiers,
      };
      try {
        validateClobParams(p);
      } catch (e) {
        throw ErrInvalidGenesis(e instanceof ChainError ? e.message : String(e));
      }
      keeper.setParams(ctx.store, p);
    },
    exportGenesis(state) {
      return { params: clobParamsJson(keeper.getParams(state)), open_orders_export_only: state.scanTable(ORDER_TABLE).map(([, v]) => orderJson(decodeOrder(v))) };
    },
    load(state) {
      keeper.load(state);
    },
    commit(block: CommittedBlock) {
      keeper.commit();
      // the block's fills, in event order (txs, then block events), without copying every event of the block
      const fills: AbciEvent[] = [];
      for (const r of block.txResults) for (const e of r.events) if (e.type === 'clob.fill') fills.push(e);
      for (const e of block.events) if (e.type === 'clob.fill') fills.push(e);
      for (const e of fills) {
        const a = Object.fromEntries(e.attributes.map((x) => [x.key, x.value]));
        const id = Number(a.market_id);
        const list = recent.get(id) ?? [];
        list.push({
          height: block.height.toString(),
          market_id: id,
          price: a.price!,
          size: a.size!,
          taker_side: a.taker_side!,
          taker_order_id: a.taker_order_id!,
          maker_order_id: a.maker_order_id!,
          taker: `${a.taker_owner}/${a.taker_number}`,
          maker: `${a.maker_owner}/${a.maker_number}`,
          liquidation: a.liquidation === 'true',
        });
        if (list.length > RECENT_FILLS) list.splice(0, list.length - RECENT_FILLS);
        recent.set(id, list);
      }
    },
    beginBlock(ctx) {
      keeper.beginBlock(ctx);
    },
    endBlock(ctx) {
      keeper.endBlock(ctx);
    },
    queries: {
      book(state, [market, depth]) {
        const id = knownMarket(state, market);
        const l = keeper.levels(id, depth === undefined || depth === '' ? 50 : Math.max(1, queryInt(depth, 'depth', 1000)));
        const f = (x: [bigint, bigint, number]) => [x[0].toString(), x[1].toString(), x[2]];
        return { market_id: id, bids: l.bids.map(f), asks: l.asks.map(f) };
      },
      order(state, [id]) {
        const o = /^[0-9]+$/.test(id ?? '') ? keeper.getOrder(state, BigInt(id!)) : undefined;
        if (!o) throw ErrOrderNotFound(`order ${id} is not open`);
        return orderJson(o);
      },
      orders(state, [owner, number]) {
        return keeper
          .openOrders(queryAddress(owner, 'owner'), number === undefined ? 0 : queryInt(number, 'subaccount number', 127))
          .map((id) => keeper.getOrder(state, id))
          .filter((o) => o !== undefined)
          .map((o) => orderJson(o!));
      },
      fills(state, [market]) {
        return recent.get(knownMarket(state, market)) ?? [];
      },
      client_id(state, [owner, number, cid]) {
        const b = state.get(clientIdKey(queryAddress(owner, 'owner'), queryInt(number, 'subaccount number', 127), queryInt(cid, 'client id', 0xffffffff)));
        if (!b) throw ErrOrderNotFound(`client id ${cid} of ${owner}/${number} is free`);
        return clientIdRecordJson(decodeClientIdRecord(b));
      },
      params(state) {
        return clobParamsJson(keeper.getParams(state));
      },
    },
    invariants: [{ name: 'clob/book', check: (state) => keeper.checkInvariants(state) }],
  };
}
