import type { Ctx } from '../../chain/context.js';
import type { KVReader } from '../../chain/store/kv.js';
import type { AccountRisk, Subaccount, SubaccountId, TradeResult } from '../subaccounts/index.js';

/** What the order book needs to know about a market. */
export interface MarketInfo {
  id: number;
  ticker: string;
  status: 'active' | 'reduce_only' | 'halted';
  tickSize: bigint;
  stepSize: bigint;
  minOrderSize: bigint;
  maxOpenInterest: bigint;
  /** e of k = 10^e uusdc per (quantum · price unit). */
  quoteExponent: number;
}

export interface PerpetualsKeeper {
  marketInfo(store: KVReader, id: number): MarketInfo;
  fundingIndex(store: KVReader, id: number): bigint;
  openInterest(store: KVReader, id: number): bigint;
}

export interface PriceKeeper {
  price(store: KVReader, marketId: number): bigint;
  getPrice(store: KVReader, marketId: number): { price: bigint } | undefined;
  isStale(store: KVReader, marketId: number, nowSec: bigint): boolean;
}

export interface SubaccountsKeeper {
  get(store: KVReader, id: SubaccountId): Subaccount;
  risk(store: KVReader, sub: Subaccount): AccountRisk;
  executeFill(
    ctx: Ctx,
    f: { marketId: number; size: bigint; price: bigint; buyer: SubaccountId; seller: SubaccountId; buyerFee: bigint; sellerFee: bigint; feeCollector: string },
  ): { buyer: TradeResult; seller: TradeResult; buyerPays: bigint; sellerGets: bigint };
}
