import type { Ctx } from '../../chain/context.js';
import { EventSink, Journal } from '../../chain/context.js';
import { ChainError } from '../../chain/errors/index.js';
import { Branch } from '../../chain/store/branch.js';
import type { KVReader, KVStore } from '../../chain/store/kv.js';
import { decodeInt, encodeInt } from '../../chain/codec/amount.js';
import { abs, ceilDiv, floorDiv, PPM } from '../../chain/math/int.js';
import { ClobEngineError, OrderBookEngine, MARKET_BUY_LIMIT, MARKET_SELL_LIMIT, type RestingOrder } from './engine/index.js';
import {
  ErrAmendWouldCross,
  ErrBookSideFull,
  ErrDuplicateClientId,
  ErrInsufficientMargin,
  ErrInvalidExpiry,
  ErrInvalidOrder,
  ErrMarketHalted,
  ErrMarketReduceOnly,
  ErrNotOrderOwner,
  ErrOrderNotFound,
  ErrPriceNotTickMultiple,
  ErrReduceOnlyWouldIncrease,
  ErrSizeBelowMinimum,
  ErrSizeNotStepMultiple,
  ErrSizeTooLarge,
  ErrStalePrice,
  ErrTooManyOpenOrders,
  ErrOpenOrderTier,
} from './errors.js';
import type { MarketInfo, PerpetualsKeeper, PriceKeeper, SubaccountsKeeper } from './expected-keepers.js';
import { isRiskReducing, MAX_POSITIONS, subaccountsErrors, tradeQuote } from '../subaccounts/index.js';
import { CLIENT_ID_TABLE, clientIdKey, NEXT_ID_KEY, ORDER_TABLE, orderKey, PARAMS_KEY } from './keys.js';
import { LazyHeap } from '../../chain/collections/lazy-heap.js';
import {
  decodeClientIdRecord,
  decodeClobParams,
  decodeOrder,
  DEFAULT_CLOB_PARAMS,
  encodeClientIdRecord,
  encodeClobParams,
  encodeOrder,
  isConditional,
  triggeredType,
  triggersWhenAbove,
  type ClobParams,
  type Order,
  type OrderType,
  type Side,
  type StpMode,
  type TimeInForce,
} from './types.js';

/** Engine arguments are plain numbers: prices and sizes above this are refused. */
export const MAX_ENGINE_INT = BigInt(Number.MAX_SAFE_INTEGER);

export interface PlaceOrderInput {
  owner: string;
  number: number;
  marketId: number;
  clientId: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  price: bigint;
  quantity: bigint;
  reduceOnly: boolean;
  goodTilBlock: bigint;
  goodTilTime: bigint;
  stp: StpMode;
  triggerPrice: bigint;
}

export type OrderStatus = 'resting' | 'filled' | 'partially_filled' | 'cancelled' | 'untriggered';

/** The enumerated outcome of a placement. Business outcomes are values; invalid input throws a ChainError. */
export interface PlaceOutcome {
  orderId: bigint;
  status: OrderStatus;
  filled: bigint;
  remaining: bigint;
  /** Why the order (or its unfilled rest) was cancelled. */
  reason: string;
}

/** A taker the liquidation engine sends through the book (no fee, no margin checks on the taker). */
/**
 * How much of each fill a liquidation may take (the insurance fund must be able to pay for fills past the
 * bankruptcy price): `allow` answers for a proposed fill, `settled` is told the fills that really happened.
 */
export interface FillLimiter {
  allow(price: bigint, size: bigint): bigint;
  settled(price: bigint, size: bigint): void;
}

export interface LiquidationTaker {
  owner: string;
  number: number;
  marketId: number;
  side: Side;
  /** Worst acceptable price (price units). */
  limitPrice: bigint;
  quantity: bigint;
}

export interface FillRecord {
  makerOrderId: bigint;
  makerOwner: string;
  makerNumber: number;
  price: bigint;
  size: bigint;
  /** Signed quote the taker paid (−) or received (+). */
  takerCash: bigint;
}

type OrderCtx = Ctx;

/**
 * The exchange. One pure matching engine per market holds the resting
 * orders (an index of clob/ord/ records, rebuilt from the store on start);
 * this keeper validates orders, checks margin, settles fills through
 * subaccounts, persists every change and keeps the engines exactly in step
 * with the store under tx and block rollback.
 */
export class ClobKeeper {
  private readonly books = new Map<number, OrderBookEngine>();
  private readonly handles = new Map<string, number>();
  private readonly handleOwners: string[] = [];
  /** Open (resting or untriggered) order ids per subaccount; journaled. */
  private readonly openBySub = new Map<string, Set<bigint>>();
  private readonly expiryByHeight = new LazyHeap();
  private readonly expiryByTime = new LazyHeap();
  /**
   * Expired orders that the cap left open, taken out of the books (not out of the store) at the start of the
   * block so that nothing can trade with, cross or price off them until their turn to be removed comes. A
   * running node and a restarted one hold the same books after every block's start (the restarted one hides
   * them again then); the ids only save the running node from reading such an order again in the next block.
   */
  private readonly hidden = new Set<number>();
  private readonly clientIdRelease = new LazyHeap();
  private readonly clientIdPending = new Map<bigint, string[]>();
  /** Per market: triggers firing when oracle ≥ key, and (key = −trigger) when oracle ≤ trigger. */
  private readonly triggersAbove = new Map<number, LazyHeap>();
  private readonly triggersBelow = new Map<number, LazyHeap>();
  /** Engines already marked in a given tx journal. */
  private readonly marked = new WeakMap<Journal, Set<number>>();

  constructor(
    private readonly subaccounts: SubaccountsKeeper,
    private readonly perps: PerpetualsKeeper,
    private readonly prices: PriceKeeper,
    private readonly feeCollector: string,
  ) {}

  // ------------------------------------------------------------ params

  getParams(store: KVReader): ClobParams {
    const b = store.get(PARAMS_KEY);
    return b ? decodeClobParams(b) : DEFAULT_CLOB_PARAMS;
  }

  setParams(store: KVStore, p: ClobParams): void {
    store.set(PARAMS_KEY, encodeClobParams(p));
  }

  // ------------------------------------------------------ engines, load

  book(marketId: number): OrderBookEngine {
    let b = this.books.get(marketId);
    if (!b) {
      b = new OrderBookEngine();
      this.books.set(marketId, b);
    }
    return b;
  }

  /** Read-only access to a market's engine (queries, API snapshots, tests). */
  engine(marketId: number): OrderBookEngine | undefined {
    return this.books.get(marketId);
  }

  marketIds(): number[] {
    return [...this.books.keys()].sort((a, b) => a - b);
  }

  /** Rebuild every in-memory structure from committed state. */
  load(state: KVReader): void {
    this.books.clear();
    this.handles.clear();
    this.handleOwners.length = 0;
    this.openBySub.clear();
    this.expiryByHeight.clear();
    this.expiryByTime.clear();
    this.hidden.clear();
    this.clientIdRelease.clear();
    this.clientIdPending.clear();
    this.triggersAbove.clear();
    this.triggersBelow.clear();
    for (const [, v] of state.scanTable(ORDER_TABLE)) {
      const o = decodeOrder(v);
      this.indexOrder(o, undefined);
      if (o.triggered) {
        this.book(o.marketId).add(this.engineOrder(o), Number(o.seq));
      }
    }
    for (const [key, v] of state.scanTable(CLIENT_ID_TABLE)) {
      const r = decodeClientIdRecord(v);
      if (!r.open) this.scheduleRelease(r.releaseHeight, key);
    }
    for (const b of this.books.values()) b.commit();
  }

  /** Block committed: forget undo information. */
  commit(): void {
    for (const b of this.books.values()) b.commit();
  }

  private handleOf(owner: string, number: number): number {
    const key = `${owner}/${number}`;
    let h = this.handles.get(key);
    if (h === undefined) {
      h = this.handleOwners.length;
      this.handles.set(key, h);
      this.handleOwners.push(key);
    }
    return h;
  }

  private engineOrder(o: Order) {
    return { id: Number(o.id), owner: this.handleOf(o.owner, o.number), side: o.side, price: Number(o.price), quantity: Number(o.quantity - o.filled), flags: o.reduceOnly ? 1 : 0 };
  }

  /** Make engine mutations of this tx undoable: one mark per engine per journal. */
  private touch(ctx: OrderCtx, marketId: number): OrderBookEngine {
    const b = this.book(marketId);
    let set = this.marked.get(ctx.journal);
    if (!set) {
      set = new Set();
      this.marked.set(ctx.journal, set);
    }
    if (!set.has(marketId)) {
      set.add(marketId);
      const mark = b.mark();
      ctx.journal.onRevert(() => b.rollback(mark));
    }
    return b;
  }

  // ------------------------------------------------------ order records

  getOrder(store: KVReader, id: bigint): Order | undefined {
    const b = store.get(orderKey(id));
    return b ? decodeOrder(b) : undefined;
  }

  private putOrder(store: KVStore, o: Order): void {
    store.set(orderKey(o.id), encodeOrder(o));
  }

  private nextId(store: KVStore): bigint {
    const b = store.get(NEXT_ID_KEY);
    const id = b ? decodeInt(b) : 1n;
    store.set(NEXT_ID_KEY, encodeInt(id + 1n));
    return id;
  }

  openOrders(owner: string, number: number): bigint[] {
    return [...(this.openBySub.get(`${owner}/${number}`) ?? [])].sort((a, b) => (a < b ? -1 : 1));
  }

  private indexOrder(o: Order, journal: Journal | undefined): void {
    const key = `${o.owner}/${o.number}`;
    let set = this.openBySub.get(key);
    if (!set) this.openBySub.set(key, (set = new Set()));
    set.add(o.id);
    journal?.onRevert(() => set!.delete(o.id));
    if (o.goodTilBlock > 0n) this.expiryByHeight.push(o.goodTilBlock, Number(o.id));
    if (o.goodTilTime > 0n) this.expiryByTime.push(o.goodTilTime, Number(o.id));
    if (!o.triggered) {
      if (triggersWhenAbove(o.type, o.side)) heap(this.triggersAbove, o.marketId).push(o.triggerPrice, Number(o.id));
      else heap(this.triggersBelow, o.marketId).push(-o.triggerPrice, Number(o.id));
    }
  }

  private unindexOrder(o: Order, journal: Journal): void {
    const key = `${o.owner}/${o.number}`;
    const set = this.openBySub.get(key);
    if (set?.delete(o.id)) journal.onRevert(() => set.add(o.id));
  }

  /** An order left the book (filled, cancelled, expired): delete it and reserve its client id for the retention window. */
  private closeOrder(ctx: OrderCtx, o: Order): void {
    ctx.store.delete(orderKey(o.id));
    this.unindexOrder(o, ctx.journal);
    const key = clientIdKey(o.owner, o.number, o.clientId);
    const release = ctx.height + this.getParams(ctx.store).clientIdRetentionBlocks;
    ctx.store.set(key, encodeClientIdRecord({ orderId: o.id, open: false, releaseHeight: release, marketId: o.marketId, side: o.side, placedHeight: o.placedHeight }));
    this.scheduleRelease(release, key);
  }

  private scheduleRelease(height: bigint, key: string): void {
    // The heap orders (height, seq); keys wait in a per-height list (lazy: checked against the store when released).
    const list = this.clientIdPending.get(height);
    if (list) list.push(key);
    else {
      this.clientIdPending.set(height, [key]);
      this.clientIdRelease.push(height, 0);
    }
  }

  private cancelOrder(ctx: OrderCtx, o: Order, reason: string): void {
    if (o.triggered) this.touch(ctx, o.marketId).cancel(Number(o.id));
    this.closeOrder(ctx, o);
    ctx.events.emit(
      'clob.order_cancelled',
      { order_id: o.id, owner: o.owner, number: o.number, market_id: o.marketId, client_id: o.clientId, side: o.side, price: o.price, remaining: o.quantity - o.filled, reason },
      ['owner', 'order_id', 'market_id'],
    );
  }

  // --------------------------------------------------------- validation

  /**
   * CheckTx's read-only check of a placement: what placeOrder would surely
   * refuse from the market alone (unknown market, a price, trigger or size off
   * its grid), so the mempool refuses it before it costs a fee.
   */
  precheckPlacement(store: KVReader, o: PlaceOrderInput): void {
    checkGrid(o, this.perps.marketInfo(store, o.marketId));
  }

  /** Every check that needs state, before anything changes. Throws the typed error. */
  private validatePlacement(ctx: OrderCtx, o: PlaceOrderInput, market: MarketInfo, p: ClobParams): void {
    const id = `${o.owner}/${o.number}`;
    if (market.status === 'halted') throw ErrMarketHalted(`market ${market.id} (${market.ticker}) is halted`);
    if (market.status === 'reduce_only' && !o.reduceOnly) throw ErrMarketReduceOnly(`market ${market.ticker} accepts only reduce-only orders`);
    if (!o.reduceOnly && this.prices.isStale(ctx.store, market.id, ctx.timeSec)) {
      throw ErrStalePrice(`market ${market.ticker}: no oracle report for more than the staleness threshold`);
    }
    if (o.price > MAX_ENGINE_INT || o.quantity > MAX_ENGINE_INT || o.triggerPrice > MAX_ENGINE_INT) throw ErrSizeTooLarge(`price, size and trigger must be at most ${MAX_ENGINE_INT}`);
    checkGrid(o, market);
    if (o.goodTilBlock > 0n && (o.goodTilBlock < ctx.height || o.goodTilBlock > ctx.height + p.maxGoodTilBlocks)) {
      throw ErrInvalidExpiry(`good_til_block ${o.goodTilBlock} must be in [${ctx.height}, ${ctx.height + p.maxGoodTilBlocks}]`);
    }
    if (o.goodTilTime > 0n && (o.goodTilTime < ctx.timeSec || o.goodTilTime > ctx.timeSec + p.maxGoodTilSeconds)) {
      throw ErrInvalidExpiry(`good_til_time ${o.goodTilTime} must be in [${ctx.timeSec}, ${ctx.timeSec + p.maxGoodTilSeconds}] (block time)`);
    }
    const open = this.openBySub.get(id)?.size ?? 0;
    if (open >= p.maxOpenOrders) throw ErrTooManyOpenOrders(`${id} has ${open} open orders, the limit is ${p.maxOpenOrders}`);
    const cid = ctx.store.get(clientIdKey(o.owner, o.number, o.clientId));
    if (cid) {
      const r = decodeClientIdRecord(cid);
      // The record's market and side let a client tell its own retry from a reused id (see ClientIdRecord).
      const held = r.side ? `order ${r.orderId} (${r.side} in market ${r.marketId})` : `order ${r.orderId}`; // (an old record: neither kept)
      throw ErrDuplicateClientId(
        r.open
          ? `client id ${o.clientId} is ${held}, still open`
          : `client id ${o.clientId} was ${held}; it can be reused from height ${r.releaseHeight}`,
      );
    }
    const sub = this.subaccounts.get(ctx.store, { owner: o.owner, number: o.number });
    if (!sub.positions.some((x) => x.marketId === o.marketId) && sub.positions.length >= MAX_POSITIONS) {
      throw subaccountsErrors.ErrTooManyPositions(`${id} already holds positions in ${sub.positions.length} markets, the limit`);
    }
    // An order that may stay open (conditional, or a limit order that may rest) needs the collateral tier
    // for one more open order. Orders that never rest (IOC, FOK, market) need none.
    if (isConditional(o.type) || (o.type === 'limit' && (o.tif === 'gtc' || o.tif === 'post_only'))) {
      const nc = this.subaccounts.risk(ctx.store, sub).nc;
      let allowed = 0;
      for (const t of p.openOrderTiers) if (nc >= t.minNetCollateral) allowed = t.maxOpenOrders;
      if (open >= allowed) {
        const next = p.openOrderTiers.find((t) => t.maxOpenOrders > open);
        throw ErrOpenOrderTier(
          `${id} has ${open} open orders and net collateral ${nc} uusdc, which allows ${allowed}` +
            (next ? `; ${next.minNetCollateral} uusdc of net collateral allows ${next.maxOpenOrders}` : '') +
            ' (orders that do not rest: IOC, FOK and market, need no tier)',
        );
      }
    }
    if (o.reduceOnly) {
      const pos = this.positionSize(ctx.store, o.owner, o.number, o.marketId);
      if (pos === 0n || (pos > 0n) === (o.side === 'buy')) {
        throw ErrReduceOnlyWouldIncrease(`position is ${pos}; a reduce-only ${o.side} would open or increase it`);
      }
    }
  }

  private positionSize(store: KVReader, owner: string, number: number, marketId: number): bigint {
    const sub = this.subaccounts.get(store, { owner, number });
    return sub.positions.find((p) => p.marketId === marketId)?.size ?? 0n;
  }

  /**
   * The placement margin rule: with this order and every other open order of
   * the subaccount on the same side of the same market filled completely at
   * its limit price (taker fee included), the subaccount must still meet its
   * initial margin requirement at the oracle price. `self`: the id of an
   * order already open (triggered, amended) that `o` stands for.
   */
  private checkPlacementMargin(ctx: OrderCtx, o: PlaceOrderInput, limit: bigint, market: MarketInfo, p: ClobParams, self?: bigint): void {
    const sub = this.subaccounts.get(ctx.store, { owner: o.owner, number: o.number });
    const sizes: Array<{ qty: bigint; price: bigint }> = [{ qty: o.quantity, price: limit }];
    for (const id of this.openOrders(o.owner, o.number)) {
      if (id === self) continue; // the order being checked (a triggered or amended one is already open)
      const other = this.getOrder(ctx.store, id);
      // (an expired order the cap left open cannot fill any more: it needs no margin)
      if (other && other.marketId === o.marketId && other.side === o.side && other.triggered && !other.reduceOnly && !isExpired(other, ctx)) sizes.push({ qty: other.quantity - other.filled, price: other.price });
    }
    const e = market.quoteExponent;
    let delta = 0n;
    let cash = 0n;
    for (const s of sizes) {
      // what settlement moves: a buyer pays the quote rounded up, a seller gets it rounded down, and the fee of
      // either side is on the quote rounded up (see the fill below)
      const { buyerPays, sellerGets } = tradeQuote(s.qty, s.price, e);
      cash += o.side === 'buy' ? -buyerPays : sellerGets;
      cash -= ceilDiv(buyerPays * (p.takerFeePpm > 0n ? p.takerFeePpm : 0n), PPM);
      delta += s.qty;
    }
    const signed = o.side === 'buy' ? delta : -delta;
    const hypo = { ...sub, collateral: sub.collateral + cash, positions: sub.positions.map((x) => ({ ...x })) };
    const pos = hypo.positions.find((x) => x.marketId === o.marketId);
    if (pos) pos.size += signed;
    else hypo.positions.push({ marketId: o.marketId, size: signed, costBasis: 0n, fundingIndex: this.perps.fundingIndex(ctx.store, o.marketId), fundingCarry: 0n });
    hypo.positions = hypo.positions.filter((x) => x.size !== 0n);
    const r = this.subaccounts.risk(ctx.store, hypo);
    if (r.nc < r.imr) {
      throw ErrInsufficientMargin(
        `with this and the subaccount's other open ${o.side} orders in ${market.ticker} filled, net collateral would be ${r.nc} uusdc against an initial requirement of ${r.imr} (shortfall ${r.imr - r.nc})`,
      );
    }
  }

  // ------------------------------------------------------------- place

  placeOrder(ctx: OrderCtx, o: PlaceOrderInput): PlaceOutcome {
    const market = this.perps.marketInfo(ctx.store, o.marketId);
    const p = this.getParams(ctx.store);
    this.validatePlacement(ctx, o, market, p);
    const id = this.nextId(ctx.store);
    const order: Order = {
      id,
      owner: o.owner,
      number: o.number,
      marketId: o.marketId,
      clientId: o.clientId,
      side: o.side,
      type: o.type,
      tif: o.tif,
      price: o.price,
      quantity: o.quantity,
      filled: 0n,
      reduceOnly: o.reduceOnly,
      goodTilBlock: o.goodTilBlock,
      goodTilTime: o.goodTilTime,
      stp: o.stp,
      triggerPrice: o.triggerPrice,
      triggered: !isConditional(o.type),
      seq: id,
      placedHeight: ctx.height,
    };
    ctx.store.set(clientIdKey(o.owner, o.number, o.clientId), encodeClientIdRecord({ orderId: id, open: true, releaseHeight: 0n, marketId: o.marketId, side: o.side, placedHeight: ctx.height }));
    ctx.events.emit(
      'clob.order_placed',
      { order_id: id, owner: o.owner, number: o.number, market_id: o.marketId, client_id: o.clientId, side: o.side, type: o.type, tif: o.tif, price: o.price, quantity: o.quantity, reduce_only: o.reduceOnly, trigger_price: o.triggerPrice },
      ['owner', 'order_id', 'market_id'],
    );
    if (!order.triggered) {
      this.putOrder(ctx.store, order);
      this.indexOrder(order, ctx.journal);
      return { orderId: id, status: 'untriggered', filled: 0n, remaining: o.quantity, reason: '' };
    }
    return this.execute(ctx, order, market, p, true);
  }

  /**
   * Match an order as a taker and rest what may rest. `strict`: a margin
   * failure is an error (a new order); otherwise (a triggered order) it is a
   * cancellation outcome.
   */
  private execute(ctx: OrderCtx, order: Order, market: MarketInfo, p: ClobParams, strict: boolean): PlaceOutcome {
    return this.executeClipped(ctx, this.clipReduceOnly(ctx, order, market), market, p, strict);
  }

  /**
   * A reduce-only order larger than the position it reduces is clipped to that position (on the step grid)
   * before it runs, and says so (`clob.order_clipped`): from then on it is an order of the clipped size, so
   * a fok fills all of that or nothing, and a gtc/ioc that fills it is "filled", not cut short.
   */
  private clipReduceOnly(ctx: OrderCtx, order: Order, market: MarketInfo): Order {
    if (!order.reduceOnly) return order;
    const pos = this.positionSize(ctx.store, order.owner, order.number, order.marketId);
    const room = abs(pos) - (abs(pos) % market.stepSize);
    if (pos === 0n || (pos > 0n) === (order.side === 'buy') || room <= 0n || order.quantity - order.filled <= room) return order;
    const clipped = { ...order, quantity: order.filled + room };
    ctx.events.emit(
      'clob.order_clipped',
      { order_id: order.id, owner: order.owner, number: order.number, market_id: order.marketId, quantity: order.quantity, new_quantity: clipped.quantity, clipped: order.quantity - clipped.quantity, reason: 'reduce_only' },
      ['owner', 'order_id', 'market_id'],
    );
    return clipped;
  }

  private executeClipped(ctx: OrderCtx, order: Order, market: MarketInfo, p: ClobParams, strict: boolean): PlaceOutcome {
    const kind = triggeredType(order.type);
    const oracle = this.prices.price(ctx.store, market.id);
    const limit = kind === 'market' ? this.marketBound(order, oracle, market, p) : order.price;
    const cancel = (reason: string, filled = 0n): PlaceOutcome => {
      const remaining = order.quantity - order.filled - filled;
      ctx.events.emit(
        'clob.order_cancelled',
        { order_id: order.id, owner: order.owner, number: order.number, market_id: order.marketId, client_id: order.clientId, side: order.side, price: limit, remaining, reason },
        ['owner', 'order_id', 'market_id'],
      );
      this.closeOrder(ctx, { ...order, filled: order.filled + filled });
      return { orderId: order.id, status: filled > 0n ? 'partially_filled' : 'cancelled', filled, remaining, reason };
    };

    const quantity = order.quantity - order.filled;
    if (order.reduceOnly) {
      const pos = this.positionSize(ctx.store, order.owner, order.number, order.marketId);
      if (pos === 0n || (pos > 0n) === (order.side === 'buy') || quantity > abs(pos)) return cancel('reduce_only_would_increase'); // (clipped above when it can be)
    }
    const book = this.touch(ctx, market.id);
    if (order.tif === 'post_only' && book.wouldCross(order.side, Number(limit))) return cancel('post_only_would_cross');
    if (!order.reduceOnly) {
      try {
        this.checkPlacementMargin(ctx, { ...order, quantity }, limit, market, p, order.id);
      } catch (e) {
        if (strict || !ErrInsufficientMargin.is(e)) throw e;
        return cancel('insufficient_margin');
      }
    }
    const owner = this.handleOf(order.owner, order.number);
    if (order.tif === 'fok' && book.fillableQuantity(order.side, Number(limit), { owner, stp: order.stp, upTo: Number(quantity) }) < Number(quantity)) {
      return cancel('fok_not_fillable');
    }

    // FOK runs in a nested branch so an incomplete fill can be undone while the tx succeeds.
    const nested = order.tif === 'fok' ? nest(ctx) : undefined;
    const mctx = nested?.ctx ?? ctx;
    let filled: bigint;
    try {
      filled = this.matchTaker(mctx, order, Number(limit), quantity, market, p, false);
    } catch (e) {
      nested?.drop(); // an aborted FOK (out of gas) must not leave its nested journal's updates behind
      throw e;
    }
    if (nested) {
      if (filled < quantity) {
        nested.drop();
        return cancel('fok_not_fillable');
      }
      nested.keep();
    }
    const total = order.filled + filled;
    const left = order.quantity - total;
    const stop = this.lastStop;
    // Rest only when matching ran out of acceptable prices (a hook or STP stop may leave crossing makers behind).
    const rests = kind === 'limit' && (order.tif === 'gtc' || order.tif === 'post_only') && left > 0n && (stop === 'limit_price' || stop === 'book_empty') && !book.wouldCross(order.side, Number(limit));
    if (left === 0n) {
      this.closeOrder(ctx, { ...order, filled: total });
      return { orderId: order.id, status: 'filled', filled, remaining: 0n, reason: '' };
    }
    if (!rests) {
      const why = stop === 'self_trade' ? 'self_trade' : stop === 'hook_stop' ? 'margin_or_open_interest_limit' : kind === 'market' ? 'market_order_unfilled_rest' : order.tif === 'ioc' ? 'ioc_unfilled_rest' : 'fok_not_fillable';
      return cancel(why, filled);
    }
    return this.rest(ctx, order, total, filled, book);
  }

  private rest(ctx: OrderCtx, order: Order, total: bigint, filled: bigint, book: OrderBookEngine): PlaceOutcome {
    const rested: Order = { ...order, filled: total, triggered: true };
    if (rested.quantity - rested.filled <= 0n) {
      this.closeOrder(ctx, rested);
      return { orderId: order.id, status: 'filled', filled, remaining: 0n, reason: '' };
    }
    addToBook(book, this.engineOrder(rested), Number(rested.seq));
    this.putOrder(ctx.store, rested);
    const key = `${rested.owner}/${rested.number}`;
    if (!this.openBySub.get(key)?.has(rested.id)) this.indexOrder(rested, ctx.journal);
    return { orderId: order.id, status: filled > 0n ? 'partially_filled' : 'resting', filled, remaining: rested.quantity - rested.filled, reason: '' };
  }

  /** Why the last match stopped (read right after matchTaker). */
  private lastStop: 'limit_price' | 'book_empty' | 'self_trade' | 'hook_stop' | null = null;

  /** The worst price a market order accepts: its own bound, or oracle ± slippage rounded to the tick. */
  private marketBound(order: Order, oracle: bigint, market: MarketInfo, p: ClobParams): bigint {
    if (order.price > 0n) return order.price;
    if (order.side === 'buy') {
      const raw = ceilDiv(oracle * (PPM + p.marketOrderSlippagePpm), PPM);
      return ceilDiv(raw, market.tickSize) * market.tickSize;
    }
    const raw = floorDiv(oracle * (PPM - p.marketOrderSlippagePpm), PPM);
    const t = floorDiv(raw, market.tickSize) * market.tickSize;
    return t > 0n ? t : market.tickSize;
  }

  /**
   * Run the engine with hooks that settle each fill as it happens (so every
   * next fill sees the account after the previous one): reduce-only makers
   * are clipped or removed, a maker that would end below its margin is
   * removed, a taker that would is stopped, and open interest may not pass
   * the market maximum. Returns the quantity filled.
   */
  private matchTaker(
    ctx: OrderCtx,
    order: Order,
    limit: number,
    quantity: bigint,
    market: MarketInfo,
    p: ClobParams,
    liquidation: boolean,
    fills?: FillRecord[],
    limiter?: FillLimiter,
  ): bigint {
    const book = this.touch(ctx, market.id);
    const takerId = { owner: order.owner, number: order.number };
    const owner = this.handleOf(order.owner, order.number);
    let filled = 0n;
    /** Reduce-only makers whose fill closed their position: the rest of such an order can never fill. */
    let closedReduceOnly: Order[] | undefined;
    const hooks = {
      allow: (maker: RestingOrder, qty: number, price: number): number => {
        const mo = this.getOrder(ctx.store, BigInt(maker.id));
        if (!mo) return -1; // cannot happen: engine and store move together
        if (isExpired(mo, ctx)) {
          // CheckTx only: an order due at the start of the next block does not trade (a block's start hides
          // every expired order from the books, also those the cap leaves open)
          this.removeMaker(ctx, mo, 'expired');
          return -1;
        }
        let size = BigInt(qty);
        if (mo.reduceOnly) {
          const pos = this.positionSize(ctx.store, mo.owner, mo.number, market.id);
          if (pos === 0n || (pos > 0n) === (mo.side === 'buy')) {
            this.removeMaker(ctx, mo, 'reduce_only_would_increase');
            return -1;
          }
          if (size > abs(pos)) size = abs(pos);
        }
        if (order.reduceOnly) {
          const pos = this.positionSize(ctx.store, order.owner, order.number, market.id);
          const room = pos === 0n || (pos > 0n) === (order.side === 'buy') ? 0n : abs(pos);
          if (room === 0n) return 0;
          if (size > room) size = room;
        }
        if (market.maxOpenInterest > 0n) {
          const room = this.oiRoom(ctx.store, market, order, mo, size);
          if (room <= 0n) return 0;
          if (size > room) size = room;
        }
        const px = BigInt(price);
        if (limiter) {
          const allowed = limiter.allow(px, size);
          if (allowed <= 0n) return 0;
          if (allowed < size) size = allowed;
        }
        const buyer = order.side === 'buy' ? takerId : { owner: mo.owner, number: mo.number };
        const seller = order.side === 'buy' ? { owner: mo.owner, number: mo.number } : takerId;
        const quote = ceilDiv(size * px * pow10(market.quoteExponent), pow10(-market.quoteExponent));
        const takerFee = liquidation ? 0n : feeOf(quote, p.takerFeePpm);
        // A maker rebate is paid out of the same fill's taker fee; a liquidation fill has none, so its makers get no
        // rebate (a positive maker fee is still charged). Paying it anyway drained the fee collector in a crash, and an
        // empty one then cancelled the very bids the liquidation needed ("maker_cannot_trade").
        const makerFee = liquidation && p.makerFeePpm < 0n ? 0n : feeOf(quote, p.makerFeePpm);
        // Settle on a scratch branch first: keep it only if both sides stay collateralised.
        const scratch = new Branch(ctx.store);
        const sctx = { ...ctx, store: scratch, events: new EventSink(), journal: new Journal() };
        const beforeMaker = this.subaccounts.risk(ctx.store, this.subaccounts.get(ctx.store, { owner: mo.owner, number: mo.number }));
        const beforeTaker = liquidation ? undefined : this.subaccounts.risk(ctx.store, this.subaccounts.get(ctx.store, takerId));
        let r: ReturnType<SubaccountsKeeper['executeFill']>;
        try {
          r = this.subaccounts.executeFill(sctx, {
            marketId: market.id,
            size,
            price: px,
            buyer,
            seller,
            buyerFee: order.side === 'buy' ? takerFee : makerFee,
            sellerFee: order.side === 'buy' ? makerFee : takerFee,
            feeCollector: this.feeCollector,
          });
        } catch (e) {
          // The taker was checked at placement (position count), so a settlement error is the maker's.
          if (!(e instanceof ChainError)) throw e;
          sctx.journal.revert();
          this.removeMaker(ctx, mo, `maker_cannot_trade: ${e.def.name}`);
          return -1;
        }
        // From here an error (out of gas reading or writing through the tx's gas-metered store)
        // aborts the tx: undo this fill's in-memory updates (liquidation index) before it
        // propagates, or the tx's revert would miss them (they are not in its journal yet).
        try {
          const makerAfter = this.subaccounts.risk(scratch, order.side === 'buy' ? r.seller.sub : r.buyer.sub);
          if (makerAfter.nc < makerAfter.imr && !isRiskReducing(beforeMaker, makerAfter)) {
            sctx.journal.revert();
            this.removeMaker(ctx, mo, 'maker_undercollateralized');
            return -1;
          }
          if (beforeTaker) {
            const takerAfter = this.subaccounts.risk(scratch, order.side === 'buy' ? r.buyer.sub : r.seller.sub);
            if (takerAfter.nc < takerAfter.imr && !isRiskReducing(beforeTaker, takerAfter)) {
              sctx.journal.revert();
              return 0;
            }
          }
          // Journal first, then the write: the tx's revert then covers a write that fails.
          sctx.journal.mergeInto(ctx.journal);
          scratch.write();
        } catch (e) {
          sctx.journal.revert();
          throw e;
        }
        ctx.events.append(sctx.events.events);
        // maker record
        const makerLeft = mo.quantity - mo.filled - size;
        if (makerLeft === 0n) this.closeOrder(ctx, { ...mo, filled: mo.quantity });
        else {
          this.putOrder(ctx.store, { ...mo, filled: mo.filled + size });
          if (mo.reduceOnly && this.positionSize(ctx.store, mo.owner, mo.number, market.id) === 0n) (closedReduceOnly ??= []).push(mo);
        }
        filled += size;
        // only now does the fill count against the limiter: a maker that failed above took nothing
        limiter?.settled(px, size);
        const takerCash = order.side === 'buy' ? -r.buyerPays : r.sellerGets;
        fills?.push({ makerOrderId: mo.id, makerOwner: mo.owner, makerNumber: mo.number, price: px, size, takerCash });
        ctx.events.emit(
          'clob.fill',
          {
            market_id: market.id,
            price: px,
            size,
            taker_side: order.side,
            taker_order_id: order.id,
            taker_owner: order.owner,
            taker_number: order.number,
            maker_order_id: mo.id,
            maker_owner: mo.owner,
            maker_number: mo.number,
            taker_fee: takerFee,
            maker_fee: makerFee,
            maker_remaining: makerLeft,
            liquidation,
          },
          ['market_id', 'taker_owner', 'maker_owner'],
        );
        return Number(size);
      },
    };
    const res = book.match({ owner, side: order.side, limitPrice: limit, quantity: Number(quantity), stp: order.stp }, hooks);
    this.lastStop = res.stopReason;
    // The engine passed such a maker with its remainder still resting at a price the taker accepted: left
    // there, it would cross a taker's remainder (which then could not rest) and refuse post-only orders.
    for (const mo of closedReduceOnly ?? []) {
      const cur = this.getOrder(ctx.store, mo.id);
      if (cur) this.cancelOrder(ctx, cur, 'reduce_only_position_closed');
    }
    for (let i = 0; i < res.removedCount; i++) {
      if (res.removedReason(i) !== 'self_trade') continue;
      const mo = this.getOrder(ctx.store, BigInt(res.removedId(i)));
      if (mo) {
        this.closeOrder(ctx, mo);
        ctx.events.emit(
          'clob.order_cancelled',
          { order_id: mo.id, owner: mo.owner, number: mo.number, market_id: mo.marketId, client_id: mo.clientId, side: mo.side, price: mo.price, remaining: mo.quantity - mo.filled, reason: 'self_trade' },
          ['owner', 'order_id', 'market_id'],
        );
      }
    }
    return filled;
  }

  /** Hook-side removal: the engine removes it from the book; the keeper closes the record. */
  private removeMaker(ctx: OrderCtx, mo: Order, reason: string): void {
    this.closeOrder(ctx, mo);
    ctx.events.emit(
      'clob.order_cancelled',
      { order_id: mo.id, owner: mo.owner, number: mo.number, market_id: mo.marketId, client_id: mo.clientId, side: mo.side, price: mo.price, remaining: mo.quantity - mo.filled, reason },
      ['owner', 'order_id', 'market_id'],
    );
  }

  /** How much more long open interest a fill may add before the market maximum. */
  private oiRoom(store: KVReader, market: MarketInfo, taker: Order, maker: Order, size: bigint): bigint {
    const oi = this.perps.openInterest(store, market.id);
    const longSide = taker.side === 'buy' ? taker : maker;
    const shortSide = taker.side === 'buy' ? maker : taker;
    const lp = this.positionSize(store, longSide.owner, longSide.number, market.id);
    const sp = this.positionSize(store, shortSide.owner, shortSide.number, market.id);
    // long OI grows by the buyer's new long size minus the seller's closed long size
    const growth = (s: bigint) => {
      const buyerAdd = lp >= 0n ? s : s + lp > 0n ? s + lp : 0n;
      const sellerCut = sp > 0n ? (s < sp ? s : sp) : 0n;
      return buyerAdd - sellerCut;
    };
    if (oi + growth(size) <= market.maxOpenInterest) return size;
    // largest s ≤ size with oi + growth(s) ≤ max (growth is monotone in s): binary search on steps
    let lo = 0n;
    let hi = size / market.stepSize;
    while (lo < hi) {
      const mid = (lo + hi + 1n) / 2n;
      if (oi + growth(mid * market.stepSize) <= market.maxOpenInterest) lo = mid;
      else hi = mid - 1n;
    }
    return lo * market.stepSize;
  }

  // ------------------------------------------------------ liquidations

  /**
   * Send a liquidation IOC through the book for the liquidation engine: no
   * taker fee and no taker margin check (the engine bounds the price), makers
   * are checked as usual. Returns the fills.
   */
  liquidationMatch(ctx: OrderCtx, t: LiquidationTaker, limiter?: FillLimiter): { filled: bigint; fills: FillRecord[]; stoppedByLimiter: boolean } {
    const market = this.perps.marketInfo(ctx.store, t.marketId);
    const p = this.getParams(ctx.store);
    const pseudo: Order = {
      id: 0n,
      owner: t.owner,
      number: t.number,
      marketId: t.marketId,
      clientId: 0,
      side: t.side,
      type: 'limit',
      tif: 'ioc',
      price: t.limitPrice,
      quantity: t.quantity,
      filled: 0n,
      reduceOnly: false,
      goodTilBlock: 0n,
      goodTilTime: 0n,
      stp: 'cancel_resting',
      triggerPrice: 0n,
      triggered: true,
      seq: 0n,
      placedHeight: ctx.height,
    };
    const fills: FillRecord[] = [];
    const limit = t.limitPrice > MAX_ENGINE_INT ? MARKET_BUY_LIMIT : t.limitPrice <= 0n ? MARKET_SELL_LIMIT : Number(t.limitPrice);
    // Stopped by the limiter: it allowed nothing more, or it cut a fill that then settled (a cut fill whose
    // maker failed its checks took nothing, and matching goes on with the next maker).
    let stopped = false;
    let cut = false;
    const wrapped: FillLimiter | undefined = limiter
      ? {
          allow: (px, size) => {
            const a = limiter.allow(px, size);
            if (a <= 0n) stopped = true;
            cut = a > 0n && a < size;
            return a;
          },
          settled: (px, size) => {
            limiter.settled(px, size);
            if (cut) stopped = true;
          },
        }
      : undefined;
    const filled = this.matchTaker(ctx, pseudo, limit, t.quantity, market, p, true, fills, wrapped);
    return { filled, fills, stoppedByLimiter: stopped };
  }

  /** Cancel every open order of a subaccount (liquidation step one). */
  cancelAllOrders(ctx: OrderCtx, owner: string, number: number, reason: string): number {
    const ids = this.openOrders(owner, number);
    for (const id of ids) {
      const o = this.getOrder(ctx.store, id);
      // an order already past its expiry (one the per-block cap has not closed yet) is closed as what it is
      if (o) this.cancelOrder(ctx, o, isExpired(o, ctx) ? 'expired' : reason);
    }
    return ids.length;
  }

  // ------------------------------------------------------ cancel, amend

  private findOwnOrder(store: KVReader, owner: string, number: number, sel: { orderId: bigint; clientId: number; byClientId: boolean }): Order {
    let id = sel.orderId;
    if (sel.byClientId) {
      const b = store.get(clientIdKey(owner, number, sel.clientId));
      const r = b ? decodeClientIdRecord(b) : undefined;
      if (!r || !r.open) throw ErrOrderNotFound(`no open order with client id ${sel.clientId} in ${owner}/${number}`);
      id = r.orderId;
    }
    const o = this.getOrder(store, id);
    if (!o) throw ErrOrderNotFound(`order ${id} is not open (never existed, filled, cancelled or expired)`);
    if (o.owner !== owner || o.number !== number) throw ErrNotOrderOwner(`order ${id} belongs to ${o.owner}/${o.number}`);
    return o;
  }

  cancel(ctx: OrderCtx, owner: string, number: number, sel: { orderId: bigint; clientId: number; byClientId: boolean }): Order {
    const o = this.findOwnOrder(ctx.store, owner, number, sel);
    this.cancelOrder(ctx, o, 'user_cancel');
    return o;
  }

  /**
   * Amend price and/or remaining size. Same price and a smaller size keeps
   * queue priority; a price change or larger size requeues (new priority).
   * An amend may not take liquidity: a price that would cross is refused.
   */
  amend(ctx: OrderCtx, owner: string, number: number, sel: { orderId: bigint; clientId: number; byClientId: boolean }, price: bigint, quantity: bigint): Order {
    const o = this.findOwnOrder(ctx.store, owner, number, sel);
    if (isExpired(o, ctx)) throw ErrOrderNotFound(`order ${o.id} has expired (it leaves the book within a few blocks)`);
    if (!o.triggered) throw ErrInvalidOrder('an untriggered conditional order cannot be amended; cancel and place it again');
    const market = this.perps.marketInfo(ctx.store, o.marketId);
    const p = this.getParams(ctx.store);
    const newPrice = price > 0n ? price : o.price;
    const remaining = o.quantity - o.filled;
    const newRemaining = quantity > 0n ? quantity : remaining;
    if (newPrice > MAX_ENGINE_INT || newRemaining > MAX_ENGINE_INT) throw ErrSizeTooLarge(`price and size must be at most ${MAX_ENGINE_INT}`);
    if (newPrice % market.tickSize !== 0n) throw ErrPriceNotTickMultiple(`price ${newPrice} is not a multiple of tick size ${market.tickSize}`);
    if (newRemaining % market.stepSize !== 0n) throw ErrSizeNotStepMultiple(`size ${newRemaining} is not a multiple of step size ${market.stepSize}`);
    if (newRemaining < market.minOrderSize) throw ErrSizeBelowMinimum(`size ${newRemaining} is below the minimum ${market.minOrderSize}`);
    if (market.status === 'halted') throw ErrMarketHalted(`market ${market.ticker} is halted`);
    if (market.status === 'reduce_only' && !o.reduceOnly) throw ErrMarketReduceOnly(`market ${market.ticker} accepts only reduce-only orders: cancel this order, or place a reduce-only one`);
    const book = this.touch(ctx, o.marketId);
    const keepsPriority = newPrice === o.price && newRemaining <= remaining;
    if (!keepsPriority && book.wouldCross(o.side, Number(newPrice))) throw ErrAmendWouldCross(`${o.side} at ${newPrice} would cross the book; cancel and place a new order to take liquidity`);
    const increases = newRemaining > remaining || (o.side === 'buy' ? newPrice > o.price : newPrice < o.price);
    if (increases && !o.reduceOnly) {
      if (!this.prices.isStale(ctx.store, o.marketId, ctx.timeSec)) {
        // check margin as if the amended order were new (the old one excluded)
        this.checkPlacementMargin(ctx, { ...o, quantity: newRemaining }, newPrice, market, p, o.id);
      } else throw ErrStalePrice(`market ${market.ticker}: an amend that adds risk needs a fresh oracle price`);
    }
    let updated: Order;
    if (keepsPriority) {
      if (newRemaining < remaining) book.reduce(Number(o.id), Number(newRemaining));
      updated = { ...o, quantity: o.filled + newRemaining };
    } else {
      book.cancel(Number(o.id));
      const seq = this.nextId(ctx.store);
      updated = { ...o, price: newPrice, quantity: o.filled + newRemaining, seq };
      addToBook(book, this.engineOrder(updated), Number(seq));
    }
    this.putOrder(ctx.store, updated);
    ctx.events.emit(
      'clob.order_amended',
      { order_id: o.id, owner, number, market_id: o.marketId, price: updated.price, remaining: newRemaining, kept_priority: keepsPriority },
      ['owner', 'order_id', 'market_id'],
    );
    return updated;
  }

  // ------------------------------------------------------ block hooks

  /**
   * Start of block: remove expired orders (good-til-block, then good-til-time; each in (expiry, id) order), at
   * most max_expiries_per_block of them, and release client ids. The rest stay in the heaps for the next blocks.
   */
  beginBlock(ctx: OrderCtx): void {
    // Only removals count against the cap: the heaps are lazy, and a live node may hold entries (of failed txs,
    // of orders gone since) that a restarted node, rebuilding the heaps from the store, does not. Counting those
    // would make the two remove different orders.
    let budget = this.getParams(ctx.store).maxExpiriesPerBlock;
    const drain = (heap: LazyHeap, bound: bigint, field: 'goodTilBlock' | 'goodTilTime'): void => {
      while (budget > 0 && heap.size && heap.peekKey()! < bound) {
        const e = heap.pop()!;
        const o = this.getOrder(ctx.store, BigInt(e.id));
        if (!o || o[field] !== e.key) continue; // stale entry: gone, or an id reused with another expiry
        this.cancelOrder(ctx, o, 'expired');
        budget--;
      }
    };
    drain(this.expiryByHeight, ctx.height, 'goodTilBlock');
    drain(this.expiryByTime, ctx.timeSec, 'goodTilTime');
    if (budget === 0) this.hideExpired(ctx);
    else this.hidden.clear(); // every expired order is closed now
    while (this.clientIdRelease.size && this.clientIdRelease.peekKey()! <= ctx.height) {
      const { key: height } = this.clientIdRelease.pop()!;
      for (const key of this.clientIdPending.get(height) ?? []) {
        const b = ctx.store.get(key);
        if (!b) continue;
        const r = decodeClientIdRecord(b);
        if (!r.open && r.releaseHeight === height) ctx.store.delete(key);
      }
      this.clientIdPending.delete(height);
    }
  }

  /**
   * The cap left expired orders open: take each out of its book (an in-memory step, no store write), so that
   * until the start of a block removes it nothing trades with it, crosses it, or reads it into an impact
   * price. Its record stays, with its place in the open-order count (not its margin), until then; its owner
   * can cancel it. One pass over the heaps and a read per expired order (none for one hidden in an earlier block).
   */
  private hideExpired(ctx: OrderCtx): void {
    const hide = (heap: LazyHeap, bound: bigint, field: 'goodTilBlock' | 'goodTilTime'): void =>
      heap.forEachEntry((key, id) => {
        if (key >= bound || this.hidden.has(id)) return;
        const o = this.getOrder(ctx.store, BigInt(id));
        if (!o || o[field] !== key || !o.triggered || !this.books.get(o.marketId)?.has(id)) return;
        this.touch(ctx, o.marketId).cancel(id);
        this.hidden.add(id);
      });
    hide(this.expiryByHeight, ctx.height, 'goodTilBlock');
    hide(this.expiryByTime, ctx.timeSec, 'goodTilTime');
  }

  /**
   * End of block, after the oracle update: fire conditional orders whose
   * trigger the oracle price reached, in order id order, each as a taker in
   * its own nested branch (a failure cancels that order only).
   */
  endBlock(ctx: OrderCtx): void {
    const due: Order[] = [];
    for (const marketId of [...new Set([...this.triggersAbove.keys(), ...this.triggersBelow.keys()])].sort((a, b) => a - b)) {
      const price = this.prices.getPrice(ctx.store, marketId)?.price;
      if (price === undefined) continue;
      const above = this.triggersAbove.get(marketId);
      while (above?.size && above.peekKey()! <= price) {
        const o = this.getOrder(ctx.store, BigInt(above.pop()!.id));
        if (o && o.marketId === marketId && !o.triggered && triggersWhenAbove(o.type, o.side) && o.triggerPrice <= price) due.push(o);
      }
      const below = this.triggersBelow.get(marketId);
      while (below?.size && -below.peekKey()! >= price) {
        const o = this.getOrder(ctx.store, BigInt(below.pop()!.id));
        if (o && o.marketId === marketId && !o.triggered && !triggersWhenAbove(o.type, o.side) && o.triggerPrice >= price) due.push(o);
      }
    }
    due.sort((a, b) => (a.id < b.id ? -1 : 1));
    // The trigger heaps are lazy: an entry pushed by a tx that then failed stays behind, and the id it names
    // is handed out again (the id counter was rolled back), so one order can be found twice, or an entry of
    // one market can name another market's order (checked above, against the market being walked). A
    // restarted node rebuilds the heaps from the store without such entries: firing only orders of the
    // market, once per id, read again just before they run, keeps every node on the same state.
    // At most max_triggers_per_block fire (each runs a margin check over its subaccount's open orders and a
    // match, under no gas meter): the rest, in id order, go back to their heaps and fire in a later block if
    // the price still reaches them. Their entries are what a restarted node rebuilds from the store.
    const cap = this.getParams(ctx.store).maxTriggersPerBlock;
    let fired = 0;
    let last: bigint | undefined;
    for (const d of due) {
      if (d.id === last) continue;
      last = d.id;
      if (fired >= cap) {
        if (triggersWhenAbove(d.type, d.side)) heap(this.triggersAbove, d.marketId).push(d.triggerPrice, Number(d.id));
        else heap(this.triggersBelow, d.marketId).push(-d.triggerPrice, Number(d.id));
        continue;
      }
      const o = this.getOrder(ctx.store, d.id);
      if (!o || o.triggered) continue;
      if (isExpired(o, ctx)) {
        // left behind by the expiry cap: an expired order does not fire (removing it counts as a firing)
        fired++;
        this.cancelOrder(ctx, o, 'expired');
        continue;
      }
      fired++;
      const oracle = this.prices.price(ctx.store, o.marketId);
      ctx.events.emit('clob.order_triggered', { order_id: o.id, owner: o.owner, number: o.number, market_id: o.marketId, trigger_price: o.triggerPrice, oracle_price: oracle }, ['owner', 'order_id', 'market_id']);
      const n = nest(ctx);
      try {
        const market = this.perps.marketInfo(n.ctx.store, o.marketId);
        if (market.status === 'halted') throw ErrMarketHalted(market.ticker);
        if (market.status === 'reduce_only' && !o.reduceOnly) throw ErrMarketReduceOnly(market.ticker);
        // The position count is the taker's to meet (a settlement error in the match is blamed on the maker).
        const sub = this.subaccounts.get(n.ctx.store, { owner: o.owner, number: o.number });
        if (!sub.positions.some((x) => x.marketId === o.marketId) && sub.positions.length >= MAX_POSITIONS) throw subaccountsErrors.ErrTooManyPositions(`${o.owner}/${o.number}`);
        // It joins the queue now, behind what rested before it fired (its placement-time seq would jump it ahead).
        const triggered: Order = { ...o, triggered: true, seq: this.nextId(n.ctx.store) };
        this.putOrder(n.ctx.store, triggered);
        this.execute(n.ctx, triggered, market, this.getParams(n.ctx.store), false);
        n.keep();
      } catch (e) {
        n.drop();
        if (!(e instanceof ChainError)) throw e;
        this.cancelOrder(ctx, o, `trigger_failed: ${e.def.name}`);
      }
    }
  }

  // --------------------------------------------------------- read side

  /** Impact bid/ask for an impact notional (uusdc): the average price of walking that much of the book. */
  impactPrices(_store: KVReader, marketId: number, impactNotional: bigint, quoteExponent: number): { bid?: bigint; ask?: bigint } {
    const book = this.books.get(marketId);
    if (!book) return {};
    // Exact: quote in units of 10^-max(−e,0) uusdc, so a level's quote q·px·10^e is an integer. The last level
    // supplies the exact (fractional) base that completes the notional, and the average price is one rational
    // rounded once (bids down, asks up). Rounding that base up to a whole quantum put the average below every
    // price walked on a market with coarse quanta (a false negative premium every block).
    const A = quoteExponent >= 0 ? 10n ** BigInt(quoteExponent) : 1n;
    const D = quoteExponent < 0 ? 10n ** BigInt(-quoteExponent) : 1n;
    const target = impactNotional * D;
    const walk = (side: 'buy' | 'sell'): bigint | undefined => {
      let quote = 0n; // Σ q·px·A of the whole levels walked
      let base = 0n; // Σ q of those levels
      let avg: bigint | undefined;
      book.forEachLevel(side, (price, qty) => {
        const px = BigInt(price);
        const q = BigInt(qty);
        const levelQuote = q * px * A;
        if (quote + levelQuote >= target) {
          // average = target / (A · (base + (target − quote)/(px·A))) = target·px / (A·base·px + target − quote)
          const num = target * px;
          const den = A * base * px + target - quote;
          avg = side === 'buy' ? num / den : (num + den - 1n) / den;
          return false;
        }
        quote += levelQuote;
        base += q;
        return true;
      });
      return avg;
    };
    return { bid: walk('buy'), ask: walk('sell') };
  }

  /** Aggregated levels, best first (price, size, order count). */
  levels(marketId: number, depth: number): { bids: Array<[bigint, bigint, number]>; asks: Array<[bigint, bigint, number]> } {
    const book = this.books.get(marketId);
    const conv = (l: [number, number, number]): [bigint, bigint, number] => [BigInt(l[0]), BigInt(l[1]), l[2]];
    return { bids: book ? book.levels('buy', depth).map(conv) : [], asks: book ? book.levels('sell', depth).map(conv) : [] };
  }

  /** Invariants over the store and the engines (every order's filled + remaining = quantity, book ↔ store agree, not crossed). */
  checkInvariants(state: KVReader): string[] {
    const broken: string[] = [];
    const inBook = new Map<number, number>();
    for (const [key, v] of state.scanTable(ORDER_TABLE)) {
      const o = decodeOrder(v);
      if (o.filled < 0n || o.filled >= o.quantity) broken.push(`${key}: filled ${o.filled} of ${o.quantity} (an open order has 0 ≤ filled < quantity)`);
      if (!o.triggered) continue;
      const e = this.books.get(o.marketId)?.get(Number(o.id));
      if (!e && this.hidden.has(Number(o.id))) continue; // expired, left open by the cap: out of the book
      if (!e) broken.push(`${key}: resting order ${o.id} missing from the book`);
      else if (BigInt(e.quantity) + o.filled !== o.quantity) broken.push(`order ${o.id}: book remaining ${e.quantity} + filled ${o.filled} ≠ quantity ${o.quantity}`);
      else if (BigInt(e.price) !== o.price || e.side !== o.side) broken.push(`order ${o.id}: book price/side differ from the store`);
      inBook.set(o.marketId, (inBook.get(o.marketId) ?? 0) + 1);
    }
    for (const [id, book] of this.books) {
      if (book.size !== (inBook.get(id) ?? 0)) broken.push(`market ${id}: book holds ${book.size} orders, store ${inBook.get(id) ?? 0}`);
      const bid = book.bestBid();
      const ask = book.bestAsk();
      if (bid !== undefined && ask !== undefined && bid >= ask) broken.push(`market ${id}: crossed book (bid ${bid} ≥ ask ${ask})`);
      for (const p of book.checkInvariants()) broken.push(`market ${id} engine: ${p}`);
    }
    return broken;
  }
}

/** Past its good-til-block or good-til-time: due for removal (the start of a block closes it, up to the cap). */
function isExpired(o: Order, ctx: { height: bigint; timeSec: bigint }): boolean {
  return (o.goodTilBlock > 0n && o.goodTilBlock < ctx.height) || (o.goodTilTime > 0n && o.goodTilTime < ctx.timeSec);
}

/**
 * Rest an order, with the engine's one limit a state-passing order can reach (2^53 quantums resting on a
 * side: a far-from-market order passes the margin check at its own price) as a typed error: a tx fails
 * with clob/22, a triggered order is cancelled; an engine error would halt the block.
 */
function addToBook(book: OrderBookEngine, o: Parameters<OrderBookEngine['add']>[0], seq: number): void {
  try {
    book.add(o, seq);
  } catch (e) {
    if (e instanceof ClobEngineError && e.code === 'overflow') throw ErrBookSideFull(`${o.side}: ${e.message}`);
    throw e;
  }
}

function heap(m: Map<number, LazyHeap>, id: number): LazyHeap {
  let h = m.get(id);
  if (!h) m.set(id, (h = new LazyHeap()));
  return h;
}

function pow10(e: number): bigint {
  return e > 0 ? 10n ** BigInt(e) : 1n;
}

/** Fee of a quote at a ppm rate: a charge rounds up, a rebate (negative rate) rounds down in size. */
export function feeOf(quote: bigint, ppm: bigint): bigint {
  if (ppm >= 0n) return ceilDiv(quote * ppm, PPM);
  return -floorDiv(quote * -ppm, PPM);
}

/** A nested branch + journal + event scope over ctx: keep() merges into ctx, drop() undoes everything. */
function nest(ctx: OrderCtx): { ctx: OrderCtx; keep(): void; drop(): void } {
  const store = new Branch(ctx.store);
  const journal = new Journal();
  const events = new EventSink();
  const inner: OrderCtx = { ...ctx, store, journal, events };
  return {
    ctx: inner,
    keep() {
      // Journal first, so an out-of-gas in the write is undone by the caller's revert.
      journal.mergeInto(ctx.journal);
      store.write();
      ctx.events.append(events.events);
    },
    drop() {
      journal.revert();
    },
  };
}

/** Prices (and triggers) on the tick grid, sizes on the step grid and at least the minimum. */
function checkGrid(o: PlaceOrderInput, market: MarketInfo): void {
  if (o.price % market.tickSize !== 0n) throw ErrPriceNotTickMultiple(`price ${o.price} is not a multiple of tick size ${market.tickSize}`);
  // a trigger is compared with the oracle price, but on the same grid as every other price of the market
  if (o.triggerPrice % market.tickSize !== 0n) throw ErrPriceNotTickMultiple(`trigger_price ${o.triggerPrice} is not a multiple of tick size ${market.tickSize}`);
  if (o.quantity % market.stepSize !== 0n) throw ErrSizeNotStepMultiple(`size ${o.quantity} is not a multiple of step size ${market.stepSize}`);
  if (o.quantity < market.minOrderSize) throw ErrSizeBelowMinimum(`size ${o.quantity} is below the minimum ${market.minOrderSize}`);
}
