import { perpchain } from '../../proto/gen/perpchain.js';
import { toBigInt } from '../../chain/codec/amount.js';
import { toLong } from '../../chain/codec/long.js';

export type Side = 'buy' | 'sell';
export type OrderType = 'limit' | 'market' | 'stop_limit' | 'stop_market' | 'take_profit_limit' | 'take_profit_market';
export type TimeInForce = 'gtc' | 'ioc' | 'fok' | 'post_only';
export type StpMode = 'cancel_resting' | 'cancel_taking' | 'cancel_both';

const P = perpchain.clob.v1;
const SIDES: Record<number, Side> = { [P.Side.SIDE_BUY]: 'buy', [P.Side.SIDE_SELL]: 'sell' };
const TYPES: Record<number, OrderType> = {
  [P.OrderType.ORDER_TYPE_LIMIT]: 'limit',
  [P.OrderType.ORDER_TYPE_MARKET]: 'market',
  [P.OrderType.ORDER_TYPE_STOP_LIMIT]: 'stop_limit',
  [P.OrderType.ORDER_TYPE_STOP_MARKET]: 'stop_market',
  [P.OrderType.ORDER_TYPE_TAKE_PROFIT_LIMIT]: 'take_profit_limit',
  [P.OrderType.ORDER_TYPE_TAKE_PROFIT_MARKET]: 'take_profit_market',
};
const TIFS: Record<number, TimeInForce> = {
  [P.TimeInForce.TIME_IN_FORCE_UNSPECIFIED]: 'gtc',
  [P.TimeInForce.TIME_IN_FORCE_IOC]: 'ioc',
  [P.TimeInForce.TIME_IN_FORCE_FOK]: 'fok',
  [P.TimeInForce.TIME_IN_FORCE_POST_ONLY]: 'post_only',
};
const STPS: Record<number, StpMode> = {
  [P.StpMode.STP_MODE_CANCEL_RESTING]: 'cancel_resting',
  [P.StpMode.STP_MODE_CANCEL_TAKING]: 'cancel_taking',
  [P.StpMode.STP_MODE_CANCEL_BOTH]: 'cancel_both',
};
const inverse = <T extends string>(m: Record<number, T>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [v, Number(k)])) as Record<T, number>;
const SIDE_NUM = inverse(SIDES);
const TYPE_NUM = inverse(TYPES);
const TIF_NUM = inverse(TIFS);
const STP_NUM = inverse(STPS);

export const sideOf = (n: number | null | undefined): Side | undefined => SIDES[n ?? 0];
export const typeOf = (n: number | null | undefined): OrderType | undefined => TYPES[n ?? 0];
export const tifOf = (n: number | null | undefined): TimeInForce | undefined => TIFS[n ?? 0];
export const stpOf = (n: number | null | undefined): StpMode | undefined => STPS[n ?? 0];

export function isConditional(t: OrderType): boolean {
  return t !== 'limit' && t !== 'market';
}

/** The order type a conditional order becomes when triggered. */
export function triggeredType(t: OrderType): 'limit' | 'market' {
  return t === 'stop_limit' || t === 'take_profit_limit' || t === 'limit' ? 'limit' : 'market';
}

/** A conditional order fires when the oracle is at or beyond its trigger: this says in which direction. */
export function triggersWhenAbove(type: OrderType, side: Side): boolean {
  const stop = type === 'stop_limit' || type === 'stop_market';
  return stop ? side === 'buy' : side === 'sell';
}

export interface Order {
  id: bigint;
  owner: string;
  number: number;
  marketId: number;
  clientId: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  price: bigint;
  quantity: bigint;
  filled: bigint;
  reduceOnly: boolean;
  goodTilBlock: bigint;
  goodTilTime: bigint;
  stp: StpMode;
  triggerPrice: bigint;
  triggered: boolean;
  seq: bigint;
  placedHeight: bigint;
}

export function encodeOrder(o: Order): Uint8Array {
  return P.Order.encode({
    id: toLong(o.id),
    owner: o.owner,
    subaccountNumber: o.number,
    marketId: o.marketId,
    clientId: o.clientId,
    side: SIDE_NUM[o.side],
    type: TYPE_NUM[o.type],
    timeInForce: TIF_NUM[o.tif],
    price: toLong(o.price),
    quantity: toLong(o.quantity),
    filled: toLong(o.filled),
    reduceOnly: o.reduceOnly,
    goodTilBlock: toLong(o.goodTilBlock),
    goodTilTime: toLong(o.goodTilTime),
    stp: STP_NUM[o.stp],
    triggerPrice: toLong(o.triggerPrice),
    triggered: o.triggered,
    seq: toLong(o.seq),
    placedHeight: toLong(o.placedHeight),
  }).finish();
}

export function decodeOrder(b: Uint8Array): Order {
  const m = P.Order.decode(b);
  return {
    id: toBigInt(m.id),
    owner: m.owner,
    number: m.subaccountNumber,
    marketId: m.marketId,
    clientId: m.clientId,
    side: sideOf(m.side)!,
    type: typeOf(m.type)!,
    tif: tifOf(m.timeInForce)!,
    price: toBigInt(m.price),
    quantity: toBigInt(m.quantity),
    filled: toBigInt(m.filled),
    reduceOnly: m.reduceOnly,
    goodTilBlock: toBigInt(m.goodTilBlock),
    goodTilTime: toBigInt(m.goodTilTime),
    stp: stpOf(m.stp)!,
    triggerPrice: toBigInt(m.triggerPrice),
    triggered: m.triggered,
    seq: toBigInt(m.seq),
    placedHeight: toBigInt(m.placedHeight),
  };
}

export function orderJson(o: Order) {
  return {
    id: o.id.toString(),
    owner: o.owner,
    subaccount_number: o.number,
    market_id: o.marketId,
    client_id: o.clientId,
    side: o.side,
    type: o.type,
    time_in_force: o.tif,
    price: o.price.toString(),
    quantity: o.quantity.toString(),
    filled: o.filled.toString(),
    remaining: (o.quantity - o.filled).toString(),
    reduce_only: o.reduceOnly,
    good_til_block: o.goodTilBlock.toString(),
    good_til_time: o.goodTilTime.toString(),
    stp: o.stp,
    trigger_price: o.triggerPrice.toString(),
    triggered: o.triggered,
    placed_height: o.placedHeight.toString(),
  };
}

export interface ClobParams {
  takerFeePpm: bigint;
  makerFeePpm: bigint;
  maxOpenOrders: number;
  maxGoodTilBlocks: bigint;
  maxGoodTilSeconds: bigint;
  marketOrderSlippagePpm: bigint;
  clientIdRetentionBlocks: bigint;
  maxTriggersPerBlock: number;
  /** Expired orders removed per block at most; the rest wait for the next blocks (and cannot fill meanwhile). */
  maxExpiriesPerBlock: number;
  /** Ascending by minNetCollateral; empty: no tier limit. */
  openOrderTiers: OpenOrderTier[];
}

/** A subaccount with at least `minNetCollateral` uusdc of net collateral may hold `maxOpenOrders` open orders. */
export interface OpenOrderTier {
  minNetCollateral: bigint;
  maxOpenOrders: number;
}

export const DEFAULT_CLOB_PARAMS: ClobParams = {
  takerFeePpm: 500n, // 0.05%
  makerFeePpm: -100n, // 0.01% rebate
  maxOpenOrders: 256,
  maxGoodTilBlocks: 100_000n,
  maxGoodTilSeconds: 95n * 86_400n,
  marketOrderSlippagePpm: 50_000n,
  clientIdRetentionBlocks: 2_000n,
  maxTriggersPerBlock: 64,
  // An expiry costs ~33 µs and no one's gas at the start of a block: 1,024 bound that to ~35 ms however many
  // orders users park on one height (or one second, or a time jump after a halt).
  maxExpiriesPerBlock: 1_024,
  // Every open order is state each validator keeps in memory, and an order far from the market passes the
  // margin check with no collateral: the tiers make open orders cost locked collateral (below $20 none rest).
  openOrderTiers: [
    { minNetCollateral: 20_000_000n, maxOpenOrders: 8 },
    { minNetCollateral: 100_000_000n, maxOpenOrders: 32 },
    { minNetCollateral: 1_000_000_000n, maxOpenOrders: 128 },
    { minNetCollateral: 10_000_000_000n, maxOpenOrders: 256 },
  ],
};

export function encodeClobParams(p: ClobParams): Uint8Array {
  return P.Params.encode({
    takerFeePpm: Number(p.takerFeePpm),
    makerFeePpm: Number(p.makerFeePpm),
    maxOpenOrders: p.maxOpenOrders,
    maxGoodTilBlocks: Number(p.maxGoodTilBlocks),
    maxGoodTilSeconds: Number(p.maxGoodTilSeconds),
    marketOrderSlippagePpm: Number(p.marketOrderSlippagePpm),
    clientIdRetentionBlocks: Number(p.clientIdRetentionBlocks),
    maxTriggersPerBlock: p.maxTriggersPerBlock,
    maxExpiriesPerBlock: p.maxExpiriesPerBlock,
    openOrderTiers: p.openOrderTiers.map((t) => ({ minNetCollateral: toLong(t.minNetCollateral), maxOpenOrders: t.maxOpenOrders })),
  }).finish();
}

export function decodeClobParams(b: Uint8Array): ClobParams {
  const m = P.Params.decode(b);
  return {
    takerFeePpm: BigInt(m.takerFeePpm),
    makerFeePpm: BigInt(m.makerFeePpm),
    maxOpenOrders: m.maxOpenOrders,
    maxGoodTilBlocks: BigInt(m.maxGoodTilBlocks),
    maxGoodTilSeconds: BigInt(m.maxGoodTilSeconds),
    marketOrderSlippagePpm: BigInt(m.marketOrderSlippagePpm),
    clientIdRetentionBlocks: BigInt(m.clientIdRetentionBlocks),
    maxTriggersPerBlock: m.maxTriggersPerBlock,
    // params stored before the field existed hold no value: they keep the default, not "expire nothing"
    maxExpiriesPerBlock: m.maxExpiriesPerBlock || DEFAULT_CLOB_PARAMS.maxExpiriesPerBlock,
    openOrderTiers: m.openOrderTiers.map((t) => ({ minNetCollateral: toBigInt(t.minNetCollateral), maxOpenOrders: t.maxOpenOrders ?? 0 })),
  };
}

export function clobParamsJson(p: ClobParams) {
  return {
    taker_fee_ppm: p.takerFeePpm.toString(),
    maker_fee_ppm: p.makerFeePpm.toString(),
    max_open_orders: p.maxOpenOrders,
    max_good_til_blocks: p.maxGoodTilBlocks.toString(),
    max_good_til_seconds: p.maxGoodTilSeconds.toString(),
    market_order_slippage_ppm: p.marketOrderSlippagePpm.toString(),
    client_id_retention_blocks: p.clientIdRetentionBlocks.toString(),
    max_triggers_per_block: p.maxTriggersPerBlock,
    max_expiries_per_block: p.maxExpiriesPerBlock,
    open_order_tiers: p.openOrderTiers.map((t) => ({ min_net_collateral: t.minNetCollateral.toString(), max_open_orders: t.maxOpenOrders })),
  };
}

/** A client id's record (see ClientIdRecord in clob.proto). */
export interface ClientIdRecord {
  orderId: bigint;
  open: boolean;
  /** Height from which the id can be reused (0 while the order is open). */
  releaseHeight: bigint;
  marketId: number;
  /** Undefined in a record written before records kept the order's market, side and height. */
  side: Side | undefined;
  placedHeight: bigint;
}

export function encodeClientIdRecord(r: ClientIdRecord): Uint8Array {
  return P.ClientIdRecord.encode({
    orderId: toLong(r.orderId),
    open: r.open,
    releaseHeight: toLong(r.releaseHeight),
    marketId: r.marketId,
    side: r.side === undefined ? 0 : SIDE_NUM[r.side],
    placedHeight: toLong(r.placedHeight),
  }).finish();
}

export function decodeClientIdRecord(b: Uint8Array): ClientIdRecord {
  const m = P.ClientIdRecord.decode(b);
  return {
    orderId: toBigInt(m.orderId),
    open: m.open,
    releaseHeight: toBigInt(m.releaseHeight),
    marketId: m.marketId,
    side: sideOf(m.side),
    placedHeight: toBigInt(m.placedHeight),
  };
}

/** A client id's record for queries and errors: `buy in market 1`. */
export function clientIdRecordJson(r: ClientIdRecord) {
  return {
    order_id: r.orderId.toString(),
    open: r.open,
    release_height: r.releaseHeight.toString(),
    // (a record from before they were kept has neither)
    ...(r.side ? { market_id: r.marketId, side: r.side, placed_height: r.placedHeight.toString() } : {}),
  };
}
