import type { Ctx } from '../../chain/context.js';
import type { KVReader, KVStore } from '../../chain/store/kv.js';

type EventCtx = Pick<Ctx, 'store' | 'events'>;

export interface BankKeeper {
  send(ctx: EventCtx, from: string, to: string, amount: bigint, reason?: string): void;
  balance(store: KVReader, address: string): bigint;
  /** Module accounts (the margin pool, the insurance fund, the fee collector): no withdrawal may go there. */
  isBlocked(address: string): boolean;
  /** CheckTx: refuse an outflow larger than the balance plus what pending txs add or take (bank/2). */
  requireSpendable(store: KVReader, address: string, amount: bigint, pending: bigint): void;
}

export interface MarketView {
  id: number;
  atomicResolution: number;
  priceExponent: number;
  initialMarginPpm: bigint;
  maintenanceMarginPpm: bigint;
}

export interface PerpetualsKeeper {
  market(store: KVReader, id: number): MarketView;
  fundingIndex(store: KVReader, id: number): bigint;
  effectiveImf(store: KVReader, m: MarketView & { oiUpperCap: bigint; oiLowerCap: bigint }, price: bigint): bigint;
  addOpenInterest(store: KVStore, id: number, delta: bigint): void;
}

export interface PriceKeeper {
  price(store: KVReader, marketId: number): bigint;
  isStale(store: KVReader, marketId: number, nowSec: bigint): boolean;
}
