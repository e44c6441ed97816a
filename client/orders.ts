/**
 * Message builders for the clob and subaccounts modules, from human decimal
 * prices and sizes converted exactly (units.ts) to the chain's integers.
 */
import Long from 'long';
import type { EncodeObject } from '@cosmjs/proto-signing';
import { perpchain } from '../proto/gen/perpchain.js';
import { priceToUnits, sizeToQuantums, usdcToMicro, type DecimalInput, type MarketSpec, UnitsError } from './units.js';

const C = perpchain.clob.v1;

export type OrderSide = 'buy' | 'sell';
export type OrderType = 'limit' | 'market' | 'stop_limit' | 'stop_market' | 'take_profit_limit' | 'take_profit_market';
export type TimeInForce = 'gtc' | 'ioc' | 'fok' | 'post_only';
export type StpMode = 'cancel_resting' | 'cancel_taking' | 'cancel_both';

const SIDE: Record<OrderSide, number> = { buy: C.Side.SIDE_BUY, sell: C.Side.SIDE_SELL };
const TYPE: Record<OrderType, number> = {
  limit: C.OrderType.ORDER_TYPE_LIMIT,
  market: C.OrderType.ORDER_TYPE_MARKET,
  stop_limit: C.OrderType.ORDER_TYPE_STOP_LIMIT,
  stop_market: C.OrderType.ORDER_TYPE_STOP_MARKET,
  take_profit_limit: C.OrderType.ORDER_TYPE_TAKE_PROFIT_LIMIT,
  take_profit_market: C.OrderType.ORDER_TYPE_TAKE_PROFIT_MARKET,
};
const TIF: Record<TimeInForce, number> = {
  gtc: C.TimeInForce.TIME_IN_FORCE_UNSPECIFIED,
  ioc: C.TimeInForce.TIME_IN_FORCE_IOC,
  fok: C.TimeInForce.TIME_IN_FORCE_FOK,
  post_only: C.TimeInForce.TIME_IN_FORCE_POST_ONLY,
};
const STP: Record<StpMode, number> = { cancel_resting: C.StpMode.STP_MODE_CANCEL_RESTING, cancel_taking: C.StpMode.STP_MODE_CANCEL_TAKING, cancel_both: C.StpMode.STP_MODE_CANCEL_BOTH };

export const MSG_PLACE_ORDER = '/perpchain.clob.v1.MsgPlaceOrder';
export const MSG_CANCEL_ORDER = '/perpchain.clob.v1.MsgCancelOrder';
export const MSG_AMEND_ORDER = '/perpchain.clob.v1.MsgAmendOrder';
export const MSG_DEPOSIT = '/perpchain.subaccounts.v1.MsgDeposit';
export const MSG_WITHDRAW = '/perpchain.subaccounts.v1.MsgWithdraw';
export const MSG_TRANSFER = '/perpchain.subaccounts.v1.MsgTransfer';
export const MSG_SEND = '/perpchain.bank.v1.MsgSend';

export interface PlaceOrderParams {
  /** Ticker ("BTC-USD") or market id. */
  market: string | number;
  side: OrderSide;
  /** Coins, e.g. "0.001" (a multiple of the market's step). */
  size: DecimalInput;
  /** USD per coin, e.g. "65000.5" (a multiple of the tick); required except for market orders (where it is an optional worst price). */
  price?: DecimalInput;
  type?: OrderType;
  timeInForce?: TimeInForce;
  reduceOnly?: boolean;
  goodTilBlock?: number | bigint;
  /** Unix seconds (block time) or a Date. */
  goodTilTime?: number | bigint | Date;
  triggerPrice?: DecimalInput;
  stp?: StpMode;
  /** uint32 idempotency key, unique per subaccount while the order is open and for client_id_retention_blocks after; the Trader assigns one if omitted. */
  clientId?: number;
}

export interface OrderRef {
  market?: string | number;
  orderId?: bigint | string;
  clientId?: number;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** A protobuf 64-bit field, refused (not wrapped by Long) when the value does not fit. */
const L = (v: bigint, unsigned = true, what = 'value') => {
  if (unsigned ? v < 0n || v > U64_MAX : v < I64_MIN || v > I64_MAX) throw new UnitsError(`${what} ${v} does not fit in a ${unsigned ? 'uint64' : 'int64'} field`);
  return Long.fromString(v.toString(), unsigned);
};

/** One of an enum's names, refused when it is not (a typo must not fall back to a default). */
function pick<K extends string>(table: Record<K, number>, value: K, what: string): number {
  if (!Object.prototype.hasOwnProperty.call(table, value)) throw new UnitsError(`${what} must be one of ${Object.keys(table).join(', ')}; got ${JSON.stringify(value)}`);
  return table[value];
}

/** A whole number of blocks or seconds (a number or bigint), refused otherwise. */
function whole(v: number | bigint, what: string): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new UnitsError(`${what} must be a whole number, got ${v}`);
  return BigInt(v);
}

export function placeOrderMsg(owner: string, subaccount: number, m: MarketSpec, p: PlaceOrderParams & { clientId: number }): EncodeObject {
  const type = p.type ?? 'limit';
  const typeCode = pick(TYPE, type, 'type');
  const side = pick(SIDE, p.side, 'side');
  const tif = pick(TIF, p.timeInForce ?? 'gtc', 'timeInForce');
  const stp = pick(STP, p.stp ?? 'cancel_resting', 'stp');
  const isMarket = type === 'market' || type === 'stop_market' || type === 'take_profit_market';
  if (!isMarket && p.price === undefined) throw new UnitsError(`a ${type} order needs a price`);
  const conditional = type !== 'limit' && type !== 'market';
  if (conditional && p.triggerPrice === undefined) throw new UnitsError(`a ${type} order needs a triggerPrice`);
  uint32ClientId(p.clientId);
  const gtt = p.goodTilTime === undefined ? 0n : p.goodTilTime instanceof Date ? BigInt(Math.floor(p.goodTilTime.getTime() / 1000)) : whole(p.goodTilTime, 'goodTilTime');
  // unix seconds, not milliseconds (Date.now()): a value past the year 5000 is surely the latter
  if (gtt > 100_000_000_000n) throw new UnitsError(`goodTilTime is unix seconds (or a Date); ${gtt} looks like milliseconds`);
  return {
    typeUrl: MSG_PLACE_ORDER,
    value: {
      owner,
      subaccountNumber: subaccount,
      marketId: m.id,
      clientId: p.clientId,
      side,
      type: typeCode,
      timeInForce: tif,
      price: L(p.price === undefined ? 0n : priceToUnits(m, p.price), true, 'price (units)'),
      quantity: L(sizeToQuantums(m, p.size), true, 'size (quantums)'),
      reduceOnly: p.reduceOnly ?? false,
      goodTilBlock: L(whole(p.goodTilBlock ?? 0, 'goodTilBlock'), true, 'goodTilBlock'),
      goodTilTime: L(gtt, false, 'goodTilTime'),
      stp,
      triggerPrice: L(p.triggerPrice === undefined ? 0n : priceToUnits(m, p.triggerPrice), true, 'triggerPrice (units)'),
    },
  };
}

/** A client id, refused (not cut to 32 bits by the encoder, which would name another order) when it is not a uint32. */
function uint32ClientId(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new UnitsError(`clientId must be a uint32, got ${v}`);
  return v;
}

/** An order id as given (bigint or decimal string), refused with a UnitsError when it is not a whole number. */
function orderIdOf(v: bigint | string): bigint {
  if (typeof v === 'bigint') return v;
  if (!/^[0-9]+$/.test(v)) throw new UnitsError(`orderId must be a whole number, got ${JSON.stringify(v)}`);
  return BigInt(v);
}

function selector(ref: OrderRef): { orderId: Long; clientId: number; byClientId: boolean } {
  // the chain's id wins when both are given (a PlaceResult carries both)
  if (ref.orderId !== undefined) return { orderId: L(orderIdOf(ref.orderId), true, 'orderId'), clientId: 0, byClientId: false };
  if (ref.clientId === undefined) throw new UnitsError('name the order by orderId or clientId');
  return { orderId: L(0n), clientId: uint32ClientId(ref.clientId), byClientId: true };
}

export function cancelOrderMsg(owner: string, subaccount: number, ref: OrderRef): EncodeObject {
  return { typeUrl: MSG_CANCEL_ORDER, value: { owner, subaccountNumber: subaccount, ...selector(ref) } };
}

/** Amend price and/or size (human units; omit one to keep it). */
export function amendOrderMsg(owner: string, subaccount: number, m: MarketSpec, ref: OrderRef, change: { price?: DecimalInput; size?: DecimalInput }): EncodeObject {
  if (change.price === undefined && change.size === undefined) throw new UnitsError('an amend changes the price, the size or both');
  return {
    typeUrl: MSG_AMEND_ORDER,
    value: {
      owner,
      subaccountNumber: subaccount,
      ...selector(ref),
      price: L(change.price === undefined ? 0n : priceToUnits(m, change.price), true, 'price (units)'),
      quantity: L(change.size === undefined ? 0n : sizeToQuantums(m, change.size), true, 'size (quantums)'),
    },
  };
}

export function depositMsg(owner: string, subaccount: number, usdc: DecimalInput): EncodeObject {
  return { typeUrl: MSG_DEPOSIT, value: { owner, subaccountNumber: subaccount, amount: usdcToMicro(usdc).toString() } };
}

export function withdrawMsg(owner: string, subaccount: number, usdc: DecimalInput, recipient = ''): EncodeObject {
  return { typeUrl: MSG_WITHDRAW, value: { owner, subaccountNumber: subaccount, amount: usdcToMicro(usdc).toString(), recipient } };
}

/** Collateral from one subaccount to another: the owner's own (another number) or anyone's. */
export function transferMsg(owner: string, fromSubaccount: number, to: { subaccount: number; owner?: string }, usdc: DecimalInput): EncodeObject {
  return { typeUrl: MSG_TRANSFER, value: { owner, fromNumber: fromSubaccount, toOwner: to.owner ?? owner, toNumber: to.subaccount, amount: usdcToMicro(usdc).toString() } };
}

/** uusdc from one account's bank balance (not a subaccount) to another address. */
export function sendMsg(from: string, to: string, usdc: DecimalInput): EncodeObject {
  return { typeUrl: MSG_SEND, value: { fromAddress: from, toAddress: to, amount: usdcToMicro(usdc).toString() } };
}
