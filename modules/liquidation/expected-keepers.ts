import type { Ctx } from '../../chain/context.js';
import type { KVReader, KVStore } from '../../chain/store/kv.js';
import type { Journal } from '../../chain/context.js';
import type { AccountRisk, Subaccount, SubaccountId, TradeResult } from '../subaccounts/index.js';

type EventCtx = Pick<Ctx, 'store' | 'events'>;

export interface SubaccountsKeeper {
  get(store: KVReader, id: SubaccountId): Subaccount;
  save(store: KVStore, sub: Subaccount, journal?: Journal): void;
  risk(store: KVReader, sub: Subaccount): AccountRisk;
  settleFunding(ctx: EventCtx, sub: Subaccount): Subaccount;
  chargeToModule(ctx: EventCtx, sub: Subaccount, amount: bigint, to: string, reason: string): void;
  recordBadDebt(ctx: EventCtx, sub: Subaccount, marketId: number, amount: bigint): void;
  repayBadDebt(ctx: EventCtx, from: string, available: bigint): bigint;
  executeFill(
    ctx: Ctx,
    f: { marketId: number; size: bigint; price: bigint; buyer: SubaccountId; seller: SubaccountId; buyerFee: bigint; sellerFee: bigint; feeCollector: string },
  ): { buyer: TradeResult; seller: TradeResult; buyerPays: bigint; sellerGets: bigint };
}

export interface MarketParams {
  id: number;
  atomicResolution: number;
  priceExponent: number;
  maintenanceMarginPpm: bigint;
}

export interface PerpetualsKeeper {
  market(store: KVReader, id: number): MarketParams;
  marketInfo(store: KVReader, id: number): { tickSize: bigint; stepSize: bigint };
  markets(store: KVReader): Array<{ id: number }>;
  fundingIndex(store: KVReader, id: number): bigint;
}

export interface PriceKeeper {
  price(store: KVReader, marketId: number): bigint;
}

export interface ClobKeeper {
  cancelAllOrders(ctx: Ctx, owner: string, number: number, reason: string): number;
  liquidationMatch(
    ctx: Ctx,
    t: { owner: string; number: number; marketId: number; side: 'buy' | 'sell'; limitPrice: bigint; quantity: bigint },
    limiter?: { allow(price: bigint, size: bigint): bigint; settled(price: bigint, size: bigint): void },
  ): { filled: bigint; fills: Array<{ price: bigint; size: bigint; takerCash: bigint }>; stoppedByLimiter: boolean };
}

export interface BankKeeper {
  balance(store: KVReader, address: string): bigint;
}
