import Long from 'long';
import { perpchain } from '../../proto/gen/perpchain.js';
import type { EncodeObject } from '@cosmjs/proto-signing';
import type { TestChain } from './chain.js';
import type { TestKey } from './keys.js';
import type { ExecTxResult } from '../../chain/types.js';
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';

const P = perpchain.clob.v1;
export const SIDE = { buy: P.Side.SIDE_BUY, sell: P.Side.SIDE_SELL } as const;
export const TYPE = {
  limit: P.OrderType.ORDER_TYPE_LIMIT,
  market: P.OrderType.ORDER_TYPE_MARKET,
  stop_limit: P.OrderType.ORDER_TYPE_STOP_LIMIT,
  stop_market: P.OrderType.ORDER_TYPE_STOP_MARKET,
  take_profit_limit: P.OrderType.ORDER_TYPE_TAKE_PROFIT_LIMIT,
  take_profit_market: P.OrderType.ORDER_TYPE_TAKE_PROFIT_MARKET,
} as const;
export const TIF = { gtc: 0, ioc: 1, fok: 2, post_only: 3 } as const;
export const STP = { cancel_resting: 0, cancel_taking: 1, cancel_both: 2 } as const;

export interface OrderSpec {
  number?: number;
  market?: number;
  clientId: number;
  side: keyof typeof SIDE;
  type?: keyof typeof TYPE;
  tif?: keyof typeof TIF;
  /** Price units (BTC-USD: 100,000 = $1). */
  price?: bigint;
  /** Base quantums (BTC-USD: 10^10 = 1 BTC). */
  size: bigint;
  reduceOnly?: boolean;
  gtb?: bigint;
  gtt?: bigint;
  stp?: keyof typeof STP;
  trigger?: bigint;
}

const L = (v: bigint | undefined) => Long.fromString((v ?? 0n).toString(), true);

export function placeMsg(owner: string, o: OrderSpec): EncodeObject {
  return {
    typeUrl: '/perpchain.clob.v1.MsgPlaceOrder',
    value: {
      owner,
      subaccountNumber: o.number ?? 0,
      marketId: o.market ?? 0,
      clientId: o.clientId,
      side: SIDE[o.side],
      type: TYPE[o.type ?? 'limit'],
      timeInForce: TIF[o.tif ?? 'gtc'],
      price: L(o.price),
      quantity: L(o.size),
      reduceOnly: o.reduceOnly ?? false,
      goodTilBlock: L(o.gtb),
      goodTilTime: Long.fromString((o.gtt ?? 0n).toString()),
      stp: STP[o.stp ?? 'cancel_resting'],
      triggerPrice: L(o.trigger),
    },
  };
}

export function cancelMsg(owner: string, sel: { orderId?: bigint; clientId?: number; number?: number }): EncodeObject {
  return {
    typeUrl: '/perpchain.clob.v1.MsgCancelOrder',
    value: { owner, subaccountNumber: sel.number ?? 0, orderId: L(sel.orderId), clientId: sel.clientId ?? 0, byClientId: sel.orderId === undefined },
  };
}

export function amendMsg(owner: string, sel: { orderId?: bigint; clientId?: number; number?: number }, price: bigint, size: bigint): EncodeObject {
  return {
    typeUrl: '/perpchain.clob.v1.MsgAmendOrder',
    value: { owner, subaccountNumber: sel.number ?? 0, orderId: L(sel.orderId), clientId: sel.clientId ?? 0, byClientId: sel.orderId === undefined, price: L(price), quantity: L(size) },
  };
}

export function depositMsg(owner: string, amount: bigint, number = 0): EncodeObject {
  return { typeUrl: '/perpchain.subaccounts.v1.MsgDeposit', value: { owner, subaccountNumber: number, amount: amount.toString() } };
}

/** Withdraw uusdc from subaccount `number` (default 0) to `recipient` (default: the owner). */
export function withdrawMsg(owner: string, amount: bigint, o: { number?: number; recipient?: string } = {}): EncodeObject {
  return { typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw', value: { owner, subaccountNumber: o.number ?? 0, amount: amount.toString(), recipient: o.recipient ?? '' } };
}

/** Move uusdc from the owner's subaccount `fromNumber` to `toOwner`'s subaccount `toNumber`. */
export function transferMsg(owner: string, toOwner: string, amount: bigint, fromNumber = 0, toNumber = 0): EncodeObject {
  return { typeUrl: '/perpchain.subaccounts.v1.MsgTransfer', value: { owner, fromNumber, toOwner, toNumber, amount: amount.toString() } };
}

/** Bank send of uusdc. */
export function sendMsg(from: string, to: string, amount: bigint): EncodeObject {
  return { typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: from, toAddress: to, amount: amount.toString() } };
}

export function pricesMsg(feeder: string, ps: Array<[number, bigint]>): EncodeObject {
  return { typeUrl: '/perpchain.prices.v1.MsgUpdatePrices', value: { feeder, prices: ps.map(([marketId, price]) => ({ marketId, price: L(price) })) } };
}

/** The MsgPlaceOrderResponse(s) in a tx result. */
export function placeResponses(r: ExecTxResult): Array<{ orderId: bigint; status: string; filled: bigint; remaining: bigint; reason: string }> {
  if (r.data.length === 0) return [];
  return TxMsgData.decode(r.data).msgResponses.map((a) => {
    const m = P.MsgPlaceOrderResponse.decode(a.value);
    return { orderId: BigInt(m.orderId.toString()), status: m.status, filled: BigInt(m.filled.toString()), remaining: BigInt(m.remaining.toString()), reason: m.reason };
  });
}

export async function place(c: TestChain, k: TestKey, o: OrderSpec): Promise<Uint8Array> {
  return c.sign(k, [placeMsg(k.address, o)], { gas: 400_000n });
}

export function eventsOf(r: { events: Array<{ type: string; attributes: Array<{ key: string; value: string }> }> }, type: string): Array<Record<string, string>> {
  return r.events.filter((e) => e.type === type).map((e) => Object.fromEntries(e.attributes.map((a) => [a.key, a.value])));
}

/** $ → BTC-USD price units (exponent −5). */
export const usd = (dollars: number): bigint => BigInt(Math.round(dollars * 100)) * 1000n;
/** BTC → base quantums (10^-10 BTC). */
export const btc = (amount: number): bigint => BigInt(Math.round(amount * 100_000)) * 100_000n;
