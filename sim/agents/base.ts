/**
 * The common part of every simulated account: its key, account number and
 * sequence (tracked locally like a wallet does), its bank balance (exact:
 * genesis balance − fees − deposits + withdrawals), its position (exact: from
 * the chain's fill and ADL events), its open orders (from place responses,
 * fill and cancel events) and a few estimates an agent trades on.
 */
import type { Any } from 'cosmjs-types/google/protobuf/any';
import type { ExecTxResult } from '../../chain/types.js';
import type { MarketSpec } from '../market.js';
import type { Rng } from '../rng.js';
import type { SimKey } from '../tx.js';
import { depositAny, placeResponses, withdrawAny, type PlaceSpec } from '../tx.js';
import type { MarketView, Scheduler } from '../world.js';

export type AgentKind = 'market_maker' | 'leveraged' | 'momentum' | 'whale';
export type MarginStyle = 'prompt' | 'late' | 'never';

export interface BlockCtx {
  /** Height of the block being built. */
  height: bigint;
  /** Scenario block of the block being built (negative during warm-up). */
  sblock: number;
  markets: ReadonlyMap<number, MarketView>;
  sched: Scheduler;
  /** A JSON query against the latest committed state. */
  query<T = unknown>(path: string): T;
}

export interface OpenOrder {
  side: 'buy' | 'sell';
  price: bigint;
  remaining: bigint;
  /** 0 = no expiry. */
  goodTilBlock: bigint;
}

interface PendingPlace {
  side: 'buy' | 'sell';
  price: bigint;
  goodTilBlock: bigint;
}

export abstract class Agent {
  abstract readonly kind: AgentKind;
  /** Bumped whenever the agent re-arms its price triggers (stale triggers are dropped). */
  version = 0;
  accountNumber = 0n;
  sequence = 0n;
  /** Bank balance in uusdc (exact). */
  bank: bigint;
  /** Position in base quantums (exact). */
  position = 0n;
  /** Average entry price of the open position (price units, float). */
  entry = 0;
  /** Collateral estimate (USD): deposits − withdrawals + realised PnL; fees and funding ignored. */
  collateralUsd = 0;
  depositedUsd = 0;
  readonly openOrders = new Map<bigint, OpenOrder>();
  private pending: PendingPlace[] = [];
  /** Deposits in the tx being built (undone if the tx fails). */
  private inflightDeposit = 0n;
  /** Withdrawals in the tx being built (credited when it succeeds). */
  private inflightWithdraw = 0n;
  private nextClientId = 1;
  /** Liquidation steps and ADL fills this account went through. */
  liquidations = 0;
  /** ADL fills that took from this account's position as the solvent counterparty. */
  adls = 0;
  /** ADL fills that closed this account's own (bankrupt) position. */
  adlClosed = 0;
  /** Set when a tx failed or the account was liquidated: resynchronise from queries before trading. */
  stale = false;
  /** Scenario block of the last liquidation event. */
  lastLiquidatedAt = -Infinity;

  constructor(
    readonly index: number,
    readonly key: SimKey,
    readonly market: MarketView,
    readonly rng: Rng,
    bank: bigint,
  ) {
    this.bank = bank;
  }

  get address(): string {
    return this.key.address;
  }

  get spec(): MarketSpec {
    return this.market.spec;
  }

  /** Messages this agent sends in the block being built (empty: none). */
  abstract act(ctx: BlockCtx): Any[];

  clientId(): number {
    const id = this.nextClientId++;
    if (this.nextClientId > 0xffffffff) this.nextClientId = 1;
    return id;
  }

  /** Orders in the tx being built that may take liquidity (their gas limit allows for the fills). */
  readonly takerOrders: Array<{ side: 'buy' | 'sell'; price: bigint; quantity: bigint }> = [];

  /** Note a placement in the tx being built, to match its response. */
  placing(o: PlaceSpec): PlaceSpec {
    if (o.tif !== 'post_only') this.takerOrders.push({ side: o.side, price: o.price, quantity: o.quantity });
    this.pending.push({ side: o.side, price: o.price, goodTilBlock: o.goodTilBlock ?? 0n });
    return o;
  }

  /** The agent's tx of this block was executed with this result (fee paid if it passed the ante). */
  onResult(r: ExecTxResult, fee: bigint, ctx: BlockCtx): void {
    const antePassed = r.code === 0 || r.events.some((e) => e.type === 'tx');
    if (antePassed) {
      this.sequence += 1n;
      this.bank -= fee;
    }
    if (r.code === 0) {
      const resp = placeResponses(r.data);
      for (let i = 0; i < resp.length && i < this.pending.length; i++) {
        const x = resp[i]!;
        const p = this.pending[i]!;
        if ((x.status === 'resting' || x.status === 'partially_filled') && x.remaining > 0n) {
          this.openOrders.set(x.orderId, { side: p.side, price: p.price, remaining: x.remaining, goodTilBlock: p.goodTilBlock });
        }
      }
      this.bank += this.inflightWithdraw;
      this.collateralUsd -= Number(this.inflightWithdraw) / 1e6;
      this.succeeded(ctx);
    } else {
      this.bank += this.inflightDeposit;
      this.collateralUsd -= Number(this.inflightDeposit) / 1e6;
      this.depositedUsd -= Number(this.inflightDeposit) / 1e6;
      this.stale = true;
      this.failed(r, ctx);
    }
    this.pending = [];
    this.takerOrders.length = 0;
    this.inflightDeposit = 0n;
    this.inflightWithdraw = 0n;
  }

  protected succeeded(_ctx: BlockCtx): void {}
  protected failed(_r: ExecTxResult, _ctx: BlockCtx): void {}

  /** A deposit message from the bank balance into subaccount 0 (undone locally if the tx fails). */
  deposit(amount: bigint): Any {
    this.bank -= amount;
    this.inflightDeposit += amount;
    this.collateralUsd += Number(amount) / 1e6;
    this.depositedUsd += Number(amount) / 1e6;
    return depositAny(this.address, amount);
  }

  /** A withdrawal message from subaccount 0 to the bank balance. */
  withdraw(amount: bigint): Any {
    this.inflightWithdraw += amount;
    return withdrawAny(this.address, amount);
  }

  /** Something changed for this agent in the last block (tx result, fill, ADL, cancel): react (arm triggers, schedule). */
  afterBlock(_ctx: BlockCtx): void {}

  /** A fill of this account (maker or taker) of `size` at `price`; signed +size for a buy. */
  onFill(signed: bigint, price: bigint, orderId: bigint | undefined, makerRemaining: bigint | undefined): void {
    this.applyTrade(signed, Number(price));
    if (orderId !== undefined) {
      const o = this.openOrders.get(orderId);
      if (o) {
        if (makerRemaining !== undefined && makerRemaining > 0n) o.remaining = makerRemaining;
        else this.openOrders.delete(orderId);
      }
    }
  }

  onCancel(orderId: bigint): void {
    this.openOrders.delete(orderId);
  }

  /**
   * ADL: the position shrinks by `size` toward zero at `price`. The bankrupt account being closed
   * (`asCounterparty` false) is a liquidation outcome; the solvent counterparty is the one deleveraged.
   */
  onAdl(size: bigint, price: bigint, asCounterparty: boolean): void {
    if (asCounterparty) this.adls++;
    else this.adlClosed++;
    this.applyTrade(this.position > 0n ? -size : size, Number(price));
  }

  onLiquidated(sblock: number): void {
    this.liquidations++;
    this.lastLiquidatedAt = sblock;
  }

  private applyTrade(signed: bigint, price: number): void {
    const before = this.position;
    const after = before + signed;
    const usdPerUnitQ = this.spec.basePerQuantum * this.spec.usdPerPriceUnit;
    if (before === 0n || (before > 0n) === (signed > 0n)) {
      const b = Math.abs(Number(before));
      const s = Math.abs(Number(signed));
      this.entry = (this.entry * b + price * s) / (b + s);
    } else {
      // reducing (maybe flipping): realise PnL on the closed part
      const closed = Math.min(Math.abs(Number(signed)), Math.abs(Number(before)));
      const dir = before > 0n ? 1 : -1;
      this.collateralUsd += dir * closed * (price - this.entry) * usdPerUnitQ;
      if (after !== 0n && (after > 0n) !== (before > 0n)) this.entry = price;
    }
    if (after === 0n) this.entry = 0;
    this.position = after;
  }

  /** Estimated equity (USD) at the oracle price. */
  equityUsd(): number {
    const s = this.spec;
    return this.collateralUsd + Number(this.position) * (this.market.oracleNum - this.entry) * s.basePerQuantum * s.usdPerPriceUnit;
  }

  /** Notional of the position (USD) at the oracle price. */
  notionalUsd(): number {
    const s = this.spec;
    return Math.abs(Number(this.position)) * this.market.oracleNum * s.basePerQuantum * s.usdPerPriceUnit;
  }

  /** Replace the estimates with the chain's view (position, collateral, open orders). */
  resync(ctx: BlockCtx): void {
    const addr = this.address;
    const sub = ctx.query<{ collateral: string; positions: Array<{ market_id: number; size: string; cost_basis: string }> }>(`subaccounts/subaccount/${addr}/0`);
    const pos = sub.positions.find((p) => p.market_id === this.spec.id);
    const s = this.spec;
    const usdPerUnitQ = s.basePerQuantum * s.usdPerPriceUnit;
    this.position = pos ? BigInt(pos.size) : 0n;
    this.entry = pos && this.position !== 0n ? Number(BigInt(pos.cost_basis)) / 1e6 / (Number(this.position) * usdPerUnitQ) : 0;
    this.collateralUsd = Number(BigInt(sub.collateral)) / 1e6 + (pos ? Number(BigInt(pos.cost_basis)) / 1e6 : 0);
    const orders = ctx.query<Array<{ id: string; side: 'buy' | 'sell'; price: string; remaining: string; good_til_block: string }>>(`clob/orders/${addr}/0`);
    this.openOrders.clear();
    for (const o of orders) this.openOrders.set(BigInt(o.id), { side: o.side, price: BigInt(o.price), remaining: BigInt(o.remaining), goodTilBlock: BigInt(o.good_til_block) });
    this.stale = false;
  }

  /** Drop orders whose good-til-block has passed by the block being built (the chain expires them in BeginBlock). */
  protected dropExpired(height: bigint): void {
    for (const [id, o] of this.openOrders) if (o.goodTilBlock > 0n && o.goodTilBlock < height) this.openOrders.delete(id);
  }
}

/** Draw from [low, high, weight] buckets. */
export function drawBuckets(rng: Rng, buckets: ReadonlyArray<readonly [number, number, number]>): number {
  const b = buckets[rng.weighted(buckets.map((x) => x[2]))]!;
  return rng.range(b[0], b[1]);
}

export function drawRange(rng: Rng, r: readonly [number, number]): number {
  return r[0] + rng.int(r[1] - r[0] + 1);
}

export const usdToUusdc = (usd: number): bigint => BigInt(Math.max(0, Math.round(usd * 1_000_000)));
