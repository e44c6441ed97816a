/**
 * Public types of the in-memory matching engine. Pure: no imports outside
 * this folder. All numbers are integers (`Number.isSafeInteger`).
 */

export type Side = 'buy' | 'sell';

/** Self-trade prevention mode of the taker (maker's own mode is irrelevant). */
export type StpMode = 'cancel_resting' | 'cancel_taking' | 'cancel_both';

export type MatchStatus = 'filled' | 'partially_filled' | 'unfilled';

/**
 * Why matching stopped with quantity left (null when the taker filled):
 * - `limit_price`: the best remaining opposite level is beyond the taker's limit.
 * - `book_empty`:  every opposite level at an acceptable price was visited.
 * - `self_trade`:  STP `cancel_taking` / `cancel_both` met an order of the taker's owner.
 * - `hook_stop`:   `hooks.allow` returned 0.
 */
export type StopReason = 'limit_price' | 'book_empty' | 'self_trade' | 'hook_stop';

export type RemovalReason = 'self_trade' | 'hook_removed';

/** Order as given to `add` (the keeper validated tick/step/min size/margin). */
export interface OrderInput {
  /** Unique per book, safe integer >= 0. */
  readonly id: number;
  /** Subaccount handle (safe integer), used for self-trade prevention. */
  readonly owner: number;
  readonly side: Side;
  /** Price in ticks, safe integer > 0. */
  readonly price: number;
  /** Remaining quantity in base quantums, safe integer > 0. */
  readonly quantity: number;
  /** Opaque int32 for the keeper (e.g. reduce-only bit). Default 0. */
  readonly flags?: number;
}

/** A resting order as the engine holds it. */
export interface RestingOrder {
  readonly id: number;
  readonly owner: number;
  readonly side: Side;
  readonly price: number;
  readonly quantity: number;
  readonly flags: number;
  /** Time priority: lower is earlier. Unique per book. */
  readonly seq: number;
}

export interface TakerOrder {
  readonly owner: number;
  readonly side: Side;
  /**
   * Worst acceptable price in ticks (buy: highest, sell: lowest), safe integer >= 0.
   * Market orders: pass a slippage bound, or MARKET_BUY_LIMIT / MARKET_SELL_LIMIT.
   */
  readonly limitPrice: number;
  /** Safe integer > 0. */
  readonly quantity: number;
  readonly stp: StpMode;
}

/**
 * Callbacks the keeper may supply to `match`. `allow` sees each maker of
 * another owner before it fills (never self-trade makers) and returns:
 * - `n < 0`  : remove this maker from the book (reported with reason `hook_removed`), no fill, continue;
 * - `n === 0`: no fill, stop matching (`stopReason = 'hook_stop'`), maker untouched;
 * - `n > 0`  : fill `min(n, qty)` at `price` (maker's price); maker keeps any remainder and its
 *              queue position; matching continues with the NEXT maker (a partially allowed maker is
 *              not offered again in the same call).
 * Must return a safe integer. `maker` is a reused view valid only during the call (copy it to keep it).
 * Must not call back into the engine (mutations throw `reentrant`).
 */
export interface MatchHooks {
  allow?(maker: RestingOrder, qty: number, price: number): number;
}

/** One fill, maker side. The taker's fills are these with the opposite sign. */
export interface Fill {
  readonly makerId: number;
  readonly makerOwner: number;
  readonly makerFlags: number;
  /** Execution price = the maker's price. */
  readonly price: number;
  readonly quantity: number;
  /** Maker quantity left after this fill; 0 means the maker was removed. */
  readonly makerRemaining: number;
}

export interface RemovedOrder {
  readonly id: number;
  readonly owner: number;
  readonly flags: number;
  readonly price: number;
  /** Quantity the order had when removed. */
  readonly quantity: number;
  readonly reason: RemovalReason;
}

/** Plain-object copy of a MatchResult. */
export interface MatchOutcome {
  readonly status: MatchStatus;
  readonly stopReason: StopReason | null;
  readonly side: Side;
  readonly quantity: number;
  readonly filled: number;
  readonly remaining: number;
  readonly fills: Fill[];
  readonly removed: RemovedOrder[];
}

/** `[price, totalQuantity, orderCount]` of one level. */
export type LevelTuple = [price: number, totalQuantity: number, orderCount: number];

export type AmendResult = 'reduced' | 'requeued' | 'unchanged' | 'not_found' | 'would_cross';
export type ReduceResult = 'reduced' | 'unchanged' | 'not_found' | 'not_a_decrease';

export interface FillableOptions {
  /** Taker owner: with it, STP is applied (see `stp`). */
  readonly owner?: number;
  /** STP mode used with `owner` (default `cancel_resting`: own orders are skipped, not counted). */
  readonly stp?: StpMode;
  /** Stop summing once this much is found (result is then >= upTo). */
  readonly upTo?: number;
}

/** Canonical dump: equal dumps <=> indistinguishable books. */
export interface BookDump {
  readonly nextSeq: number;
  /** Best first. Orders: [id, owner, quantity, flags, seq] in queue order. */
  readonly bids: DumpLevel[];
  readonly asks: DumpLevel[];
}
export interface DumpLevel {
  readonly price: number;
  readonly quantity: number;
  readonly orders: Array<[id: number, owner: number, quantity: number, flags: number, seq: number]>;
}

export interface EngineOptions {
  /** Initial order slot capacity (grows by doubling). Default 1024. */
  readonly initialCapacity?: number;
  /** First sequence number handed out. Default 0. */
  readonly nextSeq?: number;
  /** Record undo information (mark/rollback). Default true. */
  readonly journal?: boolean;
}

/** Use as `limitPrice` for an unbounded market buy / sell. */
export const MARKET_BUY_LIMIT = Number.MAX_SAFE_INTEGER;
export const MARKET_SELL_LIMIT = 0;

export type EngineErrorCode =
  | 'invalid_argument'
  | 'duplicate_id'
  | 'would_cross'
  | 'overflow'
  | 'reentrant'
  | 'bad_mark'
  | 'journal_disabled'
  | 'internal';

/**
 * Thrown only for contract violations by the caller (bad integers, duplicate
 * id, resting a crossing order, bad mark, re-entrant call) or internal
 * corruption. Business outcomes are return values, never exceptions.
 */
export class ClobEngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(`clob engine: ${code}: ${message}`);
    this.name = 'ClobEngineError';
  }
}
