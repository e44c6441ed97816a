import { LevelIndex } from './levels.js';
import { MatchResult, REASON_HOOK, REASON_SELF_TRADE } from './result.js';
import {
  ClobEngineError,
  type AmendResult,
  type BookDump,
  type DumpLevel,
  type EngineOptions,
  type FillableOptions,
  type LevelTuple,
  type MatchHooks,
  type OrderInput,
  type ReduceResult,
  type RestingOrder,
  type Side,
  type StpMode,
  type TakerOrder,
} from './types.js';

const NIL = -1;
const BUY = 0;
const SELL = 1;
const SIDES: readonly Side[] = ['buy', 'sell'];
const MAX = Number.MAX_SAFE_INTEGER;

// Journal records are written field by field with the opcode LAST so the
// journal can be walked backwards. Widths include the opcode.
const OP_ADD = 1; // [slot, prevNextSeq, OP]
const OP_REMOVE = 2; // [slot, id, owner, price, side, qty, flags, seq, prev, next, OP]
const OP_QTY = 3; // [slot, oldQty, OP]
const OP_SEQ = 4; // [oldNextSeq, OP]
const W_ADD = 3;
const W_REMOVE = 11;
const W_QTY = 3;
const W_SEQ = 2;

const STP_RESTING = 0;
const STP_TAKING = 1;
const STP_BOTH = 2;

function sideCode(side: Side): number {
  if (side === 'buy') return BUY;
  if (side === 'sell') return SELL;
  throw new ClobEngineError('invalid_argument', `side must be 'buy' or 'sell', got ${String(side)}`);
}

function stpCode(stp: StpMode): number {
  if (stp === 'cancel_resting') return STP_RESTING;
  if (stp === 'cancel_taking') return STP_TAKING;
  if (stp === 'cancel_both') return STP_BOTH;
  throw new ClobEngineError('invalid_argument', `stp must be cancel_resting | cancel_taking | cancel_both, got ${String(stp)}`);
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) {
    throw new ClobEngineError('invalid_argument', `${name} must be a safe integer >= ${min}, got ${String(v)}`);
  }
}

function checkFlags(v: number): void {
  if (typeof v !== 'number' || (v | 0) !== v) throw new ClobEngineError('invalid_argument', `flags must be an int32, got ${String(v)}`);
}

function g64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function g32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/** Reused object handed to `hooks.allow` (valid only during the call). */
class MakerView implements RestingOrder {
  id = 0;
  owner = 0;
  side: Side = 'buy';
  price = 0;
  quantity = 0;
  flags = 0;
  seq = 0;
}

/**
 * Pure, deterministic, in-memory price-time order book of one market.
 *
 * - Orders live in pooled slots (struct of typed arrays), linked into a FIFO
 *   per price level (intrusive doubly linked list): O(1) cancel by id.
 * - Active levels per side are a sorted typed array with the best level last.
 * - Every mutation is journaled; `rollback(mark)` restores a state that is
 *   indistinguishable from the one at `mark` (same levels, queue order, ids,
 *   quantities, flags, seqs, next seq), including internal slot layout.
 *
 * See README.md in this folder for semantics and complexity.
 */
export class OrderBookEngine {
  // ---- order slots
  private cap: number;
  private sId: Float64Array;
  private sOwner: Float64Array;
  private sPrice: Float64Array;
  private sQty: Float64Array;
  private sSeq: Float64Array;
  private sFlags: Int32Array;
  private sSide: Uint8Array;
  private sPrev: Int32Array;
  private sNext: Int32Array;
  private sLevel: Int32Array;
  private sFree: Int32Array;
  private sFreeTop = 0;
  private index = new Map<number, number>();

  // ---- levels
  private lvCap: number;
  private lvPrice: Float64Array;
  private lvQty: Float64Array;
  private lvHead: Int32Array;
  private lvTail: Int32Array;
  private lvCount: Int32Array;
  private lvFree: Int32Array;
  private lvFreeTop = 0;
  private bids: LevelIndex;
  private asks: LevelIndex;
  private sideQty = new Float64Array(2);
  private sideCount = new Int32Array(2);

  // ---- sequence, journal, guards
  private seqNext: number;
  private jr: Float64Array;
  private jlen = 0;
  private jbase = 0;
  private readonly journaling: boolean;
  private busy = false;
  /** Bumped by every call that may change the book (never undone, also not by a rollback): see `version`. */
  private changes = 0;
  private readonly view = new MakerView();
  private readonly result = new MatchResult();

  constructor(options: EngineOptions = {}) {
    const cap = options.initialCapacity ?? 1024;
    checkInt('initialCapacity', cap, 1);
    const seq = options.nextSeq ?? 0;
    checkInt('nextSeq', seq, 0);
    this.seqNext = seq;
    this.journaling = options.journal ?? true;
    this.cap = cap;
    this.sId = new Float64Array(cap);
    this.sOwner = new Float64Array(cap);
    this.sPrice = new Float64Array(cap);
    this.sQty = new Float64Array(cap);
    this.sSeq = new Float64Array(cap);
    this.sFlags = new Int32Array(cap);
    this.sSide = new Uint8Array(cap);
    this.sPrev = new Int32Array(cap);
    this.sNext = new Int32Array(cap);
    this.sLevel = new Int32Array(cap);
    this.sFree = new Int32Array(cap);
    for (let i = cap - 1; i >= 0; i--) this.sFree[this.sFreeTop++] = i;
    const lc = Math.max(16, cap >>> 2);
    this.lvCap = lc;
    this.lvPrice = new Float64Array(lc);
    this.lvQty = new Float64Array(lc);
    this.lvHead = new Int32Array(lc);
    this.lvTail = new Int32Array(lc);
    this.lvCount = new Int32Array(lc);
    this.lvFree = new Int32Array(lc);
    for (let i = lc - 1; i >= 0; i--) this.lvFree[this.lvFreeTop++] = i;
    this.bids = new LevelIndex(1, 64);
    this.asks = new LevelIndex(-1, 64);
    this.jr = new Float64Array(this.journaling ? 4096 : 0);
  }

  // =================================================================== queries

  /** Number of resting orders. */
  get size(): number {
    return this.index.size;
  }

  /** Sequence number the next `add` without explicit seq (or requeue) gets. */
  get nextSeq(): number {
    return this.seqNext;
  }

  has(id: number): boolean {
    return this.index.has(id);
  }

  /** Copy of the resting order, or undefined. */
  get(id: number): RestingOrder | undefined {
    const s = this.index.get(id);
    return s === undefined ? undefined : this.orderAt(s);
  }

  bestBid(): number | undefined {
    const b = this.bids;
    return b.n > 0 ? b.keys[b.n - 1]! : undefined;
  }

  bestAsk(): number | undefined {
    const a = this.asks;
    return a.n > 0 ? -a.keys[a.n - 1]! : undefined;
  }

  /** Whether a `side` order at `price` would take liquidity (post-only check). */
  wouldCross(side: Side, price: number): boolean {
    if (sideCode(side) === BUY) {
      const a = this.asks;
      return a.n > 0 && price >= -a.keys[a.n - 1]!;
    }
    const b = this.bids;
    return b.n > 0 && price <= b.keys[b.n - 1]!;
  }

  /** Resting orders on a side. */
  orderCount(side: Side): number {
    return this.sideCount[sideCode(side)]!;
  }

  /** Σ quantity resting on a side (always <= MAX_SAFE_INTEGER). */
  totalQuantity(side: Side): number {
    return this.sideQty[sideCode(side)]!;
  }

  /** Number of price levels on a side. */
  levelCount(side: Side): number {
    return this.levelIndex(sideCode(side)).n;
  }

  /** Aggregated levels of `side`, best first: [price, totalQuantity, orderCount]. */
  levels(side: Side, depth = Number.POSITIVE_INFINITY): LevelTuple[] {
    const out: LevelTuple[] = [];
    this.forEachLevel(side, (p, q, c) => {
      if (out.length >= depth) return false;
      out.push([p, q, c]);
      return true;
    });
    return out;
  }

  /**
   * Walk the levels of `side` best first; stop when `cb` returns false.
   * Do not mutate the engine from `cb`.
   */
  forEachLevel(side: Side, cb: (price: number, totalQuantity: number, orderCount: number) => boolean | void): void {
    const li = this.levelIndex(sideCode(side));
    for (let pos = li.n - 1; pos >= 0; pos--) {
      const lv = li.ids[pos]!;
      if (cb(this.lvPrice[lv]!, this.lvQty[lv]!, this.lvCount[lv]!) === false) return;
    }
  }

  /**
   * Walk the orders of `side` in priority order (best level first, FIFO within
   * a level); stop when `cb` returns false. Each order is a fresh copy.
   * Do not mutate the engine from `cb`.
   */
  forEachOrder(side: Side, cb: (order: RestingOrder) => boolean | void): void {
    const li = this.levelIndex(sideCode(side));
    for (let pos = li.n - 1; pos >= 0; pos--) {
      for (let s = this.lvHead[li.ids[pos]!]!; s !== NIL; s = this.sNext[s]!) {
        if (cb(this.orderAt(s)) === false) return;
      }
    }
  }

  /** All orders in priority order: bids best first, then asks best first (or one side). */
  orders(side?: Side): RestingOrder[] {
    const out: RestingOrder[] = [];
    const push = (o: RestingOrder): void => void out.push(o);
    if (side === undefined || side === 'buy') this.forEachOrder('buy', push);
    if (side === undefined || side === 'sell') this.forEachOrder('sell', push);
    return out;
  }

  /** Queue of one level in FIFO order (empty if the level does not exist). */
  levelOrders(side: Side, price: number): RestingOrder[] {
    const sc = sideCode(side);
    const li = this.levelIndex(sc);
    const pos = li.find(sc === BUY ? price : -price);
    const out: RestingOrder[] = [];
    if (pos < 0) return out;
    for (let s = this.lvHead[li.ids[pos]!]!; s !== NIL; s = this.sNext[s]!) out.push(this.orderAt(s));
    return out;
  }

  /**
   * Opposite quantity a `side` taker with `limitPrice` could reach, walking
   * best first. Without `owner` it is the plain level sum. With `owner`, STP is
   * applied: `cancel_resting` (default) skips the owner's orders; `cancel_taking`
   * and `cancel_both` stop at the first one. Hooks are not simulated: for an
   * exact FOK, match under a mark and roll back if `remaining > 0`.
   */
  fillableQuantity(side: Side, limitPrice: number, options: FillableOptions = {}): number {
    const sc = sideCode(side);
    checkInt('limitPrice', limitPrice, 0);
    const opp = sc === BUY ? this.asks : this.bids;
    const keyLimit = opp.sign * limitPrice;
    const upTo = options.upTo ?? MAX;
    const owner = options.owner;
    const stop = owner !== undefined && stpCode(options.stp ?? 'cancel_resting') !== STP_RESTING;
    let sum = 0;
    for (let pos = opp.n - 1; pos >= 0 && sum < upTo; pos--) {
      if (opp.keys[pos]! < keyLimit) break;
      const lv = opp.ids[pos]!;
      if (owner === undefined) {
        sum += this.lvQty[lv]!;
        continue;
      }
      for (let s = this.lvHead[lv]!; s !== NIL; s = this.sNext[s]!) {
        if (this.sOwner[s] === owner) {
          if (stop) return sum;
          continue;
        }
        sum += this.sQty[s]!;
        if (sum >= upTo) return sum;
      }
    }
    return sum;
  }

  // =================================================================== mutations

  /**
   * Rest an order at the tail of its level (or, with `seq`, at its seq position:
   * used to rebuild a book from storage; seqs must be unique per book). The
   * caller guarantees it does not cross (else throws `would_cross`).
   * Returns the order's seq. Next seq becomes max(nextSeq, seq + 1).
   */
  add(order: OrderInput, seq?: number): number {
    this.guard();
    this.changes++;
    const side = sideCode(order.side);
    const { id, owner, price, quantity } = order;
    const flags = order.flags ?? 0;
    checkInt('id', id, 0);
    checkInt('owner', owner, -MAX);
    checkInt('price', price, 1);
    checkInt('quantity', quantity, 1);
    checkFlags(flags);
    if (seq !== undefined) checkInt('seq', seq, 0);
    if (this.index.has(id)) throw new ClobEngineError('duplicate_id', `order ${id} is already in the book`);
    this.checkRest(side, price, quantity, 0);
    const prevNext = this.seqNext;
    let after = NIL;
    let s: number;
    if (seq === undefined) {
      s = this.insertTail(id, owner, side, price, quantity, flags, prevNext);
      this.seqNext = prevNext + 1;
    } else {
      const lv = this.findLevel(side, price);
      if (lv !== NIL) {
        after = this.lvTail[lv]!;
        while (after !== NIL && this.sSeq[after]! > seq) after = this.sPrev[after]!;
        if (after !== NIL && this.sSeq[after] === seq) {
          throw new ClobEngineError('invalid_argument', `seq ${seq} already used by order ${this.sId[after]}`);
        }
      }
      if (seq + 1 > MAX) throw new ClobEngineError('overflow', 'seq exhausted');
      s = this.allocSlot();
      this.fillSlot(s, id, owner, side, price, quantity, flags, seq);
      const l = this.levelFor(side, price);
      this.sLevel[s] = l;
      this.linkBetween(l, s, after, after === NIL ? this.lvHead[l]! : this.sNext[after]!);
      this.account(s, l, side, quantity);
      if (seq >= prevNext) this.seqNext = seq + 1;
    }
    if (this.journaling) this.j3(s, prevNext, OP_ADD);
    return this.sSeq[s]!;
  }

  /** Remove an order; returns it (as it was), or undefined if absent. O(1). */
  cancel(id: number): RestingOrder | undefined {
    this.guard();
    this.changes++;
    const s = this.index.get(id);
    if (s === undefined) return undefined;
    const o = this.orderAt(s);
    this.removeSlot(s);
    return o;
  }

  /** Decrease the quantity in place, keeping queue priority. */
  reduce(id: number, newQuantity: number): ReduceResult {
    this.guard();
    this.changes++;
    checkInt('newQuantity', newQuantity, 1);
    const s = this.index.get(id);
    if (s === undefined) return 'not_found';
    const cur = this.sQty[s]!;
    if (newQuantity === cur) return 'unchanged';
    if (newQuantity > cur) return 'not_a_decrease';
    this.setQty(s, newQuantity);
    return 'reduced';
  }

  /**
   * Amend price and/or quantity. Same price and a smaller quantity keeps
   * priority (`reduced`); a price change or a size increase removes the order
   * and re-adds it at the tail with a new seq (`requeued`). A requeue whose new
   * price would cross the book is refused (`would_cross`, nothing changes):
   * the keeper then cancels and matches the replacement as a taker.
   */
  amend(id: number, change: { price?: number; quantity?: number }): AmendResult {
    this.guard();
    this.changes++;
    const s = this.index.get(id);
    const price = change.price;
    const quantity = change.quantity;
    if (price !== undefined) checkInt('price', price, 1);
    if (quantity !== undefined) checkInt('quantity', quantity, 1);
    if (s === undefined) return 'not_found';
    const curPrice = this.sPrice[s]!;
    const curQty = this.sQty[s]!;
    const newPrice = price ?? curPrice;
    const newQty = quantity ?? curQty;
    if (newPrice === curPrice) {
      if (newQty === curQty) return 'unchanged';
      if (newQty < curQty) {
        this.setQty(s, newQty);
        return 'reduced';
      }
    }
    const side = this.sSide[s]!;
    if (this.crosses(side, newPrice)) return 'would_cross';
    this.checkRest(side, newPrice, newQty, curQty);
    const oid = this.sId[s]!;
    const owner = this.sOwner[s]!;
    const flags = this.sFlags[s]!;
    this.removeSlot(s);
    const prevNext = this.seqNext;
    const ns = this.insertTail(oid, owner, side, newPrice, newQty, flags, prevNext);
    this.seqNext = prevNext + 1;
    if (this.journaling) this.j3(ns, prevNext, OP_ADD);
    return 'requeued';
  }

  /**
   * Match a taker against the opposite side, best price first, FIFO within a
   * level, while the level price is acceptable. Fills execute at the maker's
   * price. The taker is never rested. See MatchHooks for the hook contract and
   * README.md for STP. Returns `out` if given, else the engine's reused result
   * object (overwritten by the next match).
   */
  match(taker: TakerOrder, hooks?: MatchHooks, out?: MatchResult): MatchResult {
    this.guard();
    this.changes++;
    const side = sideCode(taker.side);
    const stp = stpCode(taker.stp);
    const quantity = taker.quantity;
    const limitPrice = taker.limitPrice;
    const owner = taker.owner;
    checkInt('quantity', quantity, 1);
    checkInt('limitPrice', limitPrice, 0);
    checkInt('owner', owner, -MAX);
    const res = out ?? this.result;
    res._reset(taker.side, quantity);
    this.busy = true;
    try {
      this.run(res, side, owner, limitPrice, quantity, stp, hooks);
    } finally {
      this.busy = false;
    }
    return res;
  }

  private run(res: MatchResult, side: number, owner: number, limitPrice: number, quantity: number, stp: number, hooks: MatchHooks | undefined): void {
    const opp = side === BUY ? this.asks : this.bids;
    const keyLimit = opp.sign * limitPrice;
    const allow = hooks === undefined ? undefined : hooks.allow;
    const sOwner = this.sOwner;
    const sQty = this.sQty;
    const sNext = this.sNext;
    let remaining = quantity;
    let stop: MatchResult['stopReason'] = null;
    // Levels are visited by position, top down. A visited level either is
    // removed (positions below are unchanged) or keeps makers a hook only
    // partially allowed (skipped for the rest of this call): either way the
    // next level to visit is at pos - 1.
    let pos = opp.n - 1;
    outer: while (true) {
      if (pos < 0) {
        stop = 'book_empty';
        break;
      }
      if (opp.keys[pos]! < keyLimit) {
        stop = 'limit_price';
        break;
      }
      const lv = opp.ids[pos]!;
      const price = this.lvPrice[lv]!;
      let s = this.lvHead[lv]!;
      while (s !== NIL) {
        const next = sNext[s]!;
        if (sOwner[s] === owner) {
          if (stp === STP_TAKING) {
            stop = 'self_trade';
            break outer;
          }
          res._pushRemoved(this.sId[s]!, owner, this.sFlags[s]!, price, sQty[s]!, REASON_SELF_TRADE);
          this.removeSlot(s);
          if (stp === STP_BOTH) {
            stop = 'self_trade';
            break outer;
          }
          s = next;
          continue;
        }
        const mq = sQty[s]!;
        let q = mq < remaining ? mq : remaining;
        if (allow !== undefined) {
          const v = this.view;
          v.id = this.sId[s]!;
          v.owner = sOwner[s]!;
          v.side = SIDES[this.sSide[s]!]!;
          v.price = price;
          v.quantity = mq;
          v.flags = this.sFlags[s]!;
          v.seq = this.sSeq[s]!;
          const a = allow.call(hooks, v, q, price);
          if (!Number.isSafeInteger(a)) throw new ClobEngineError('invalid_argument', `hooks.allow must return a safe integer, got ${String(a)}`);
          if (a < 0) {
            res._pushRemoved(this.sId[s]!, sOwner[s]!, this.sFlags[s]!, price, mq, REASON_HOOK);
            this.removeSlot(s);
            s = next;
            continue;
          }
          if (a === 0) {
            stop = 'hook_stop';
            break outer;
          }
          if (a < q) q = a;
        }
        remaining -= q;
        const left = mq - q;
        res._pushFill(this.sId[s]!, sOwner[s]!, this.sFlags[s]!, price, q, left);
        if (left === 0) this.removeSlot(s);
        else this.setQty(s, left);
        if (remaining === 0) break outer;
        s = next;
      }
      pos--;
    }
    const filled = quantity - remaining;
    res.filled = filled;
    res.remaining = remaining;
    res.status = remaining === 0 ? 'filled' : filled > 0 ? 'partially_filled' : 'unfilled';
    res.stopReason = remaining === 0 ? null : stop;
  }

  // =================================================================== journal

  /** Journal position to roll back to later. Marks stay valid until `commit()` or a rollback below them. */
  mark(): number {
    this.guard();
    if (!this.journaling) throw new ClobEngineError('journal_disabled', 'engine was created with journal: false');
    return this.jbase + this.jlen;
  }

  /**
   * Undo every mutation made after `mark`, newest first, restoring the exact
   * prior state (levels, FIFO positions, quantities, ids, seqs, next seq).
   * Rolling back to the current position is a no-op. Marks taken after `mark`
   * become invalid (positions are reused).
   */
  rollback(mark: number): void {
    this.guard();
    if (!this.journaling) throw new ClobEngineError('journal_disabled', 'engine was created with journal: false');
    const target = mark - this.jbase;
    if (!Number.isSafeInteger(mark) || target < 0 || target > this.jlen) {
      throw new ClobEngineError('bad_mark', `mark ${mark} outside journal [${this.jbase}, ${this.jbase + this.jlen}]`);
    }
    const j = this.jr;
    // Dry walk: the mark must sit on a record boundary.
    let p = this.jlen;
    while (p > target) p -= this.width(j[p - 1]!);
    if (p !== target) throw new ClobEngineError('bad_mark', `mark ${mark} is not a record boundary`);
    if (this.jlen > target) this.changes++;
    while (this.jlen > target) {
      const op = j[this.jlen - 1]!;
      const at = this.jlen - this.width(op);
      this.jlen = at;
      if (op === OP_ADD) {
        this.detach(j[at]!);
        this.seqNext = j[at + 1]!;
      } else if (op === OP_QTY) {
        const s = j[at]!;
        const old = j[at + 1]!;
        const d = old - this.sQty[s]!;
        this.sQty[s] = old;
        this.lvQty[this.sLevel[s]!]! += d;
        this.sideQty[this.sSide[s]!]! += d;
      } else if (op === OP_REMOVE) {
        this.undoRemove(j, at);
      } else if (op === OP_SEQ) {
        this.seqNext = j[at]!;
      } else {
        throw new ClobEngineError('internal', `corrupt journal opcode ${op}`);
      }
    }
  }

  /** Forget all undo information (e.g. once the block is committed). Outstanding marks become invalid. */
  commit(): void {
    this.guard();
    this.jbase += this.jlen;
    this.jlen = 0;
    if (this.jr.length > 1 << 20) this.jr = new Float64Array(4096);
  }

  /**
   * A number that differs whenever the book may have changed since it was last read (adds, cancels, reductions,
   * amends, matches, rollbacks; not marks or commits): a reader that saw it unchanged can keep what it read.
   */
  get version(): number {
    return this.changes;
  }

  /** Journal entries (numbers) held since the last commit. */
  get journalLength(): number {
    return this.jlen;
  }

  /** Raise the next seq (restore it from storage after a rebuild). Journaled. */
  setNextSeq(n: number): void {
    this.guard();
    checkInt('nextSeq', n, this.seqNext);
    if (this.journaling) this.j2(this.seqNext, OP_SEQ);
    this.seqNext = n;
  }

  // =================================================================== export / checks

  /** Canonical dump: two books are indistinguishable iff their dumps are deep-equal. */
  dump(): BookDump {
    const side = (sc: number): DumpLevel[] => {
      const li = this.levelIndex(sc);
      const levels: DumpLevel[] = [];
      for (let pos = li.n - 1; pos >= 0; pos--) {
        const lv = li.ids[pos]!;
        const orders: DumpLevel['orders'] = [];
        for (let s = this.lvHead[lv]!; s !== NIL; s = this.sNext[s]!) {
          orders.push([this.sId[s]!, this.sOwner[s]!, this.sQty[s]!, this.sFlags[s]!, this.sSeq[s]!]);
        }
        levels.push({ price: this.lvPrice[lv]!, quantity: this.lvQty[lv]!, orders });
      }
      return levels;
    };
    return { nextSeq: this.seqNext, bids: side(BUY), asks: side(SELL) };
  }

  /** Independent copy of the book (journal NOT copied: the copy starts with an empty journal). */
  clone(): OrderBookEngine {
    const c = new OrderBookEngine({ initialCapacity: 1, journal: this.journaling, nextSeq: this.seqNext });
    c.cap = this.cap;
    c.sId = this.sId.slice();
    c.sOwner = this.sOwner.slice();
    c.sPrice = this.sPrice.slice();
    c.sQty = this.sQty.slice();
    c.sSeq = this.sSeq.slice();
    c.sFlags = this.sFlags.slice();
    c.sSide = this.sSide.slice();
    c.sPrev = this.sPrev.slice();
    c.sNext = this.sNext.slice();
    c.sLevel = this.sLevel.slice();
    c.sFree = this.sFree.slice();
    c.sFreeTop = this.sFreeTop;
    c.index = new Map(this.index);
    c.lvCap = this.lvCap;
    c.lvPrice = this.lvPrice.slice();
    c.lvQty = this.lvQty.slice();
    c.lvHead = this.lvHead.slice();
    c.lvTail = this.lvTail.slice();
    c.lvCount = this.lvCount.slice();
    c.lvFree = this.lvFree.slice();
    c.lvFreeTop = this.lvFreeTop;
    c.bids = this.bids.clone();
    c.asks = this.asks.clone();
    c.sideQty = this.sideQty.slice();
    c.sideCount = this.sideCount.slice();
    return c;
  }

  /** Structural self-check; returns the broken facts (empty when consistent). */
  checkInvariants(): string[] {
    const problems: string[] = [];
    const seen = new Set<number>();
    const seqs = new Set<number>();
    let total = 0;
    for (const sc of [BUY, SELL]) {
      const li = this.levelIndex(sc);
      let sideQ = 0;
      let sideC = 0;
      for (let pos = 0; pos < li.n; pos++) {
        const lv = li.ids[pos]!;
        const price = this.lvPrice[lv]!;
        const where = `${SIDES[sc]} level ${price}`;
        if (li.keys[pos] !== li.sign * price) problems.push(`${where}: key ${li.keys[pos]} != sign*price`);
        if (pos > 0 && !(li.keys[pos - 1]! < li.keys[pos]!)) problems.push(`${where}: levels not strictly sorted`);
        if (!Number.isSafeInteger(price) || price <= 0) problems.push(`${where}: bad price`);
        let q = 0;
        let c = 0;
        let prev = NIL;
        let lastSeq = -1;
        for (let s = this.lvHead[lv]!; s !== NIL; s = this.sNext[s]!) {
          if (c > this.cap) {
            problems.push(`${where}: queue cycle`);
            break;
          }
          const id = this.sId[s]!;
          if (this.sPrev[s] !== prev) problems.push(`${where}: order ${id} prev link broken`);
          if (this.sLevel[s] !== lv) problems.push(`${where}: order ${id} points to another level`);
          if (this.sSide[s] !== sc) problems.push(`${where}: order ${id} has the wrong side`);
          if (this.sPrice[s] !== price) problems.push(`${where}: order ${id} price ${this.sPrice[s]}`);
          const oq = this.sQty[s]!;
          if (!Number.isSafeInteger(oq) || oq <= 0) problems.push(`${where}: order ${id} quantity ${oq}`);
          const seq = this.sSeq[s]!;
          if (!(seq > lastSeq)) problems.push(`${where}: order ${id} seq ${seq} not after ${lastSeq} (FIFO broken)`);
          if (seq >= this.seqNext) problems.push(`${where}: order ${id} seq ${seq} >= nextSeq ${this.seqNext}`);
          if (seqs.has(seq)) problems.push(`${where}: duplicate seq ${seq}`);
          seqs.add(seq);
          lastSeq = seq;
          if (this.index.get(id) !== s) problems.push(`${where}: index does not point to order ${id}`);
          if (seen.has(s)) problems.push(`${where}: slot ${s} linked twice`);
          seen.add(s);
          q += oq;
          c++;
          prev = s;
        }
        if (this.lvTail[lv] !== prev) problems.push(`${where}: tail link broken`);
        if (c === 0) problems.push(`${where}: empty level`);
        if (this.lvCount[lv] !== c) problems.push(`${where}: count ${this.lvCount[lv]} != ${c}`);
        if (this.lvQty[lv] !== q) problems.push(`${where}: total ${this.lvQty[lv]} != Σ orders ${q}`);
        sideQ += q;
        sideC += c;
      }
      if (this.sideQty[sc] !== sideQ) problems.push(`${SIDES[sc]}: side total ${this.sideQty[sc]} != ${sideQ}`);
      if (this.sideCount[sc] !== sideC) problems.push(`${SIDES[sc]}: side count ${this.sideCount[sc]} != ${sideC}`);
      if (sideQ > MAX) problems.push(`${SIDES[sc]}: side total exceeds 2^53`);
      total += sideC;
    }
    const bb = this.bestBid();
    const ba = this.bestAsk();
    if (bb !== undefined && ba !== undefined && bb >= ba) problems.push(`crossed book: best bid ${bb} >= best ask ${ba}`);
    if (this.index.size !== total) problems.push(`index holds ${this.index.size} ids, queues hold ${total} orders`);
    if (this.sFreeTop + total !== this.cap) problems.push(`slot leak: ${this.sFreeTop} free + ${total} used != ${this.cap}`);
    if (this.lvFreeTop + this.bids.n + this.asks.n !== this.lvCap) problems.push('level slot leak');
    return problems;
  }

  /** Throws an Error listing every broken invariant. */
  assertConsistent(): void {
    const p = this.checkInvariants();
    if (p.length > 0) throw new ClobEngineError('internal', `inconsistent book:\n  ${p.join('\n  ')}`);
  }

  // =================================================================== internals

  private guard(): void {
    if (this.busy) throw new ClobEngineError('reentrant', 'the engine must not be called from a match hook');
  }

  private levelIndex(sc: number): LevelIndex {
    return sc === BUY ? this.bids : this.asks;
  }

  private orderAt(s: number): RestingOrder {
    return {
      id: this.sId[s]!,
      owner: this.sOwner[s]!,
      side: SIDES[this.sSide[s]!]!,
      price: this.sPrice[s]!,
      quantity: this.sQty[s]!,
      flags: this.sFlags[s]!,
      seq: this.sSeq[s]!,
    };
  }

  private crosses(side: number, price: number): boolean {
    if (side === BUY) {
      const a = this.asks;
      return a.n > 0 && price >= -a.keys[a.n - 1]!;
    }
    const b = this.bids;
    return b.n > 0 && price <= b.keys[b.n - 1]!;
  }

  /** Precondition checks for resting `qty` at `price` (replacing `minus` on the same side). */
  private checkRest(side: number, price: number, qty: number, minus: number): void {
    if (this.crosses(side, price)) {
      throw new ClobEngineError('would_cross', `${SIDES[side]} at ${price} crosses the book (bid ${this.bestBid()}, ask ${this.bestAsk()})`);
    }
    if (this.sideQty[side]! - minus + qty > MAX) throw new ClobEngineError('overflow', `resting quantity on ${SIDES[side]} would exceed 2^53`);
    if (this.seqNext + 1 > MAX) throw new ClobEngineError('overflow', 'seq exhausted');
  }

  private fillSlot(s: number, id: number, owner: number, side: number, price: number, qty: number, flags: number, seq: number): void {
    this.sId[s] = id;
    this.sOwner[s] = owner;
    this.sSide[s] = side;
    this.sPrice[s] = price;
    this.sQty[s] = qty;
    this.sFlags[s] = flags;
    this.sSeq[s] = seq;
  }

  private account(s: number, lv: number, side: number, qty: number): void {
    this.lvQty[lv]! += qty;
    this.lvCount[lv]!++;
    this.sideQty[side]! += qty;
    this.sideCount[side]!++;
    this.index.set(this.sId[s]!, s);
  }

  /** Allocate, fill and append a slot at the tail of its level (not journaled). */
  private insertTail(id: number, owner: number, side: number, price: number, qty: number, flags: number, seq: number): number {
    const s = this.allocSlot();
    this.fillSlot(s, id, owner, side, price, qty, flags, seq);
    const lv = this.levelFor(side, price);
    this.sLevel[s] = lv;
    const tail = this.lvTail[lv]!;
    this.sPrev[s] = tail;
    this.sNext[s] = NIL;
    if (tail === NIL) this.lvHead[lv] = s;
    else this.sNext[tail] = s;
    this.lvTail[lv] = s;
    this.account(s, lv, side, qty);
    return s;
  }

  private linkBetween(lv: number, s: number, prev: number, next: number): void {
    this.sPrev[s] = prev;
    this.sNext[s] = next;
    if (prev === NIL) this.lvHead[lv] = s;
    else this.sNext[prev] = s;
    if (next === NIL) this.lvTail[lv] = s;
    else this.sPrev[next] = s;
  }

  private setQty(s: number, q: number): void {
    const old = this.sQty[s]!;
    if (this.journaling) this.j3(s, old, OP_QTY);
    const d = q - old;
    this.sQty[s] = q;
    this.lvQty[this.sLevel[s]!]! += d;
    this.sideQty[this.sSide[s]!]! += d;
  }

  private removeSlot(s: number): void {
    if (this.journaling) {
      if (this.jlen + W_REMOVE > this.jr.length) this.growJournal(W_REMOVE);
      const j = this.jr;
      const p = this.jlen;
      j[p] = s;
      j[p + 1] = this.sId[s]!;
      j[p + 2] = this.sOwner[s]!;
      j[p + 3] = this.sPrice[s]!;
      j[p + 4] = this.sSide[s]!;
      j[p + 5] = this.sQty[s]!;
      j[p + 6] = this.sFlags[s]!;
      j[p + 7] = this.sSeq[s]!;
      j[p + 8] = this.sPrev[s]!;
      j[p + 9] = this.sNext[s]!;
      j[p + 10] = OP_REMOVE;
      this.jlen = p + W_REMOVE;
    }
    this.detach(s);
  }

  /** Unlink a slot, fix totals, drop an emptied level, free the slot (not journaled). */
  private detach(s: number): void {
    const lv = this.sLevel[s]!;
    const side = this.sSide[s]!;
    const q = this.sQty[s]!;
    const p = this.sPrev[s]!;
    const n = this.sNext[s]!;
    if (p === NIL) this.lvHead[lv] = n;
    else this.sNext[p] = n;
    if (n === NIL) this.lvTail[lv] = p;
    else this.sPrev[n] = p;
    this.lvQty[lv]! -= q;
    this.sideQty[side]! -= q;
    this.sideCount[side]!--;
    this.index.delete(this.sId[s]!);
    if (--this.lvCount[lv]! === 0) this.dropLevel(side, lv);
    this.sFree[this.sFreeTop++] = s;
  }

  private undoRemove(j: Float64Array, at: number): void {
    const s = j[at]!;
    if (this.sFreeTop === 0 || this.sFree[this.sFreeTop - 1] !== s) {
      throw new ClobEngineError('internal', `undo out of order: slot ${s} is not the last freed slot`);
    }
    this.sFreeTop--;
    const side = j[at + 4]!;
    const price = j[at + 3]!;
    const qty = j[at + 5]!;
    this.fillSlot(s, j[at + 1]!, j[at + 2]!, side, price, qty, j[at + 6]!, j[at + 7]!);
    const lv = this.levelFor(side, price);
    this.sLevel[s] = lv;
    this.linkBetween(lv, s, j[at + 8]!, j[at + 9]!);
    this.account(s, lv, side, qty);
  }

  private width(op: number): number {
    if (op === OP_REMOVE) return W_REMOVE;
    if (op === OP_ADD) return W_ADD;
    if (op === OP_QTY) return W_QTY;
    if (op === OP_SEQ) return W_SEQ;
    throw new ClobEngineError('internal', `corrupt journal opcode ${op}`);
  }

  private j3(a: number, b: number, op: number): void {
    if (this.jlen + 3 > this.jr.length) this.growJournal(3);
    const p = this.jlen;
    this.jr[p] = a;
    this.jr[p + 1] = b;
    this.jr[p + 2] = op;
    this.jlen = p + 3;
  }

  private j2(a: number, op: number): void {
    if (this.jlen + 2 > this.jr.length) this.growJournal(2);
    this.jr[this.jlen] = a;
    this.jr[this.jlen + 1] = op;
    this.jlen += 2;
  }

  private growJournal(need: number): void {
    this.jr = g64(this.jr, Math.max(4096, this.jr.length * 2, this.jlen + need));
  }

  private allocSlot(): number {
    if (this.sFreeTop === 0) this.growSlots();
    return this.sFree[--this.sFreeTop]!;
  }

  private growSlots(): void {
    const old = this.cap;
    const cap = old * 2;
    this.sId = g64(this.sId, cap);
    this.sOwner = g64(this.sOwner, cap);
    this.sPrice = g64(this.sPrice, cap);
    this.sQty = g64(this.sQty, cap);
    this.sSeq = g64(this.sSeq, cap);
    this.sFlags = g32(this.sFlags, cap);
    const side = new Uint8Array(cap);
    side.set(this.sSide);
    this.sSide = side;
    this.sPrev = g32(this.sPrev, cap);
    this.sNext = g32(this.sNext, cap);
    this.sLevel = g32(this.sLevel, cap);
    // Only called with an empty free stack: new slots go under everything freed later (LIFO undo stays exact).
    const free = new Int32Array(cap);
    let top = 0;
    for (let i = cap - 1; i >= old; i--) free[top++] = i;
    this.sFree = free;
    this.sFreeTop = top;
    this.cap = cap;
  }

  private allocLevel(): number {
    if (this.lvFreeTop === 0) {
      const old = this.lvCap;
      const cap = old * 2;
      this.lvPrice = g64(this.lvPrice, cap);
      this.lvQty = g64(this.lvQty, cap);
      this.lvHead = g32(this.lvHead, cap);
      this.lvTail = g32(this.lvTail, cap);
      this.lvCount = g32(this.lvCount, cap);
      const free = new Int32Array(cap);
      let top = 0;
      for (let i = cap - 1; i >= old; i--) free[top++] = i;
      this.lvFree = free;
      this.lvFreeTop = top;
      this.lvCap = cap;
    }
    return this.lvFree[--this.lvFreeTop]!;
  }

  private findLevel(side: number, price: number): number {
    const li = side === BUY ? this.bids : this.asks;
    const pos = li.find(side === BUY ? price : -price);
    return pos < 0 ? NIL : li.ids[pos]!;
  }

  /** Level of `price` on `side`, created (empty) if absent. */
  private levelFor(side: number, price: number): number {
    const li = side === BUY ? this.bids : this.asks;
    const key = side === BUY ? price : -price;
    const n = li.n;
    let pos = n;
    if (n > 0) {
      const top = li.keys[n - 1]!;
      if (top === key) return li.ids[n - 1]!;
      if (top > key) {
        pos = li.lowerBound(key);
        if (li.keys[pos] === key) return li.ids[pos]!;
      }
    }
    const lv = this.allocLevel();
    this.lvPrice[lv] = price;
    this.lvQty[lv] = 0;
    this.lvCount[lv] = 0;
    this.lvHead[lv] = NIL;
    this.lvTail[lv] = NIL;
    li.insertAt(pos, key, lv);
    return lv;
  }

  private dropLevel(side: number, lv: number): void {
    const li = side === BUY ? this.bids : this.asks;
    const pos = li.find(side === BUY ? this.lvPrice[lv]! : -this.lvPrice[lv]!);
    if (pos < 0) throw new ClobEngineError('internal', `level ${this.lvPrice[lv]} not indexed`);
    li.removeAt(pos);
    this.lvFree[this.lvFreeTop++] = lv;
  }
}
