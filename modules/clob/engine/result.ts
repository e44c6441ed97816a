import type { Fill, MatchOutcome, MatchStatus, RemovalReason, RemovedOrder, Side, StopReason } from './types.js';

const REASONS: readonly RemovalReason[] = ['self_trade', 'hook_removed'];
/** @internal */
export const REASON_SELF_TRADE = 0;
/** @internal */
export const REASON_HOOK = 1;

function grow64(a: Float64Array, n: number) {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function grow32(a: Int32Array, n: number) {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/**
 * Result of one `match` call, stored column-wise in reusable buffers so a
 * match allocates nothing per fill.
 *
 * Lifetime: unless you pass your own `out` object to `match`, the engine
 * returns the SAME MatchResult instance on every call and overwrites it; read
 * what you need (or call `toObject()`) before the next `match` on that engine.
 */
export class MatchResult {
  status: MatchStatus = 'unfilled';
  stopReason: StopReason | null = null;
  side: Side = 'buy';
  /** Taker quantity asked. */
  quantity = 0;
  /** Taker quantity filled (= Σ fillQuantity). */
  filled = 0;
  /** quantity - filled; the engine never rests it. */
  remaining = 0;
  fillCount = 0;
  removedCount = 0;

  private fId = new Float64Array(16);
  private fOwner = new Float64Array(16);
  private fPrice = new Float64Array(16);
  private fQty = new Float64Array(16);
  private fLeft = new Float64Array(16);
  private fFlags = new Int32Array(16);
  private rId = new Float64Array(8);
  private rOwner = new Float64Array(8);
  private rPrice = new Float64Array(8);
  private rQty = new Float64Array(8);
  private rFlags = new Int32Array(8);
  private rReason = new Int32Array(8);

  /** @internal */
  _reset(side: Side, quantity: number): void {
    this.status = 'unfilled';
    this.stopReason = null;
    this.side = side;
    this.quantity = quantity;
    this.filled = 0;
    this.remaining = quantity;
    this.fillCount = 0;
    this.removedCount = 0;
  }

  /** @internal */
  _pushFill(id: number, owner: number, flags: number, price: number, qty: number, left: number): void {
    const i = this.fillCount;
    if (i === this.fId.length) {
      const n = i * 2;
      this.fId = grow64(this.fId, n);
      this.fOwner = grow64(this.fOwner, n);
      this.fPrice = grow64(this.fPrice, n);
      this.fQty = grow64(this.fQty, n);
      this.fLeft = grow64(this.fLeft, n);
      this.fFlags = grow32(this.fFlags, n);
    }
    this.fId[i] = id;
    this.fOwner[i] = owner;
    this.fFlags[i] = flags;
    this.fPrice[i] = price;
    this.fQty[i] = qty;
    this.fLeft[i] = left;
    this.fillCount = i + 1;
  }

  /** @internal */
  _pushRemoved(id: number, owner: number, flags: number, price: number, qty: number, reason: number): void {
    const i = this.removedCount;
    if (i === this.rId.length) {
      const n = i * 2;
      this.rId = grow64(this.rId, n);
      this.rOwner = grow64(this.rOwner, n);
      this.rPrice = grow64(this.rPrice, n);
      this.rQty = grow64(this.rQty, n);
      this.rFlags = grow32(this.rFlags, n);
      this.rReason = grow32(this.rReason, n);
    }
    this.rId[i] = id;
    this.rOwner[i] = owner;
    this.rFlags[i] = flags;
    this.rPrice[i] = price;
    this.rQty[i] = qty;
    this.rReason[i] = reason;
    this.removedCount = i + 1;
  }

  private fi(i: number): number {
    if (!(i >= 0 && i < this.fillCount && Number.isInteger(i))) throw new RangeError(`fill index ${i} out of range [0, ${this.fillCount})`);
    return i;
  }
  private ri(i: number): number {
    if (!(i >= 0 && i < this.removedCount && Number.isInteger(i))) throw new RangeError(`removed index ${i} out of range [0, ${this.removedCount})`);
    return i;
  }

  fillMakerId(i: number): number {
    return this.fId[this.fi(i)]!;
  }
  fillMakerOwner(i: number): number {
    return this.fOwner[this.fi(i)]!;
  }
  fillMakerFlags(i: number): number {
    return this.fFlags[this.fi(i)]!;
  }
  fillPrice(i: number): number {
    return this.fPrice[this.fi(i)]!;
  }
  fillQuantity(i: number): number {
    return this.fQty[this.fi(i)]!;
  }
  fillMakerRemaining(i: number): number {
    return this.fLeft[this.fi(i)]!;
  }
  fill(i: number): Fill {
    this.fi(i);
    return {
      makerId: this.fId[i]!,
      makerOwner: this.fOwner[i]!,
      makerFlags: this.fFlags[i]!,
      price: this.fPrice[i]!,
      quantity: this.fQty[i]!,
      makerRemaining: this.fLeft[i]!,
    };
  }

  removedId(i: number): number {
    return this.rId[this.ri(i)]!;
  }
  removedOwner(i: number): number {
    return this.rOwner[this.ri(i)]!;
  }
  removedFlags(i: number): number {
    return this.rFlags[this.ri(i)]!;
  }
  removedPrice(i: number): number {
    return this.rPrice[this.ri(i)]!;
  }
  removedQuantity(i: number): number {
    return this.rQty[this.ri(i)]!;
  }
  removedReason(i: number): RemovalReason {
    return REASONS[this.rReason[this.ri(i)]!]!;
  }
  removedOrder(i: number): RemovedOrder {
    this.ri(i);
    return {
      id: this.rId[i]!,
      owner: this.rOwner[i]!,
      flags: this.rFlags[i]!,
      price: this.rPrice[i]!,
      quantity: this.rQty[i]!,
      reason: REASONS[this.rReason[i]!]!,
    };
  }

  /** Fresh array of fills (allocates). */
  getFills(): Fill[] {
    const out: Fill[] = [];
    for (let i = 0; i < this.fillCount; i++) out.push(this.fill(i));
    return out;
  }

  /** Fresh array of removed makers (allocates). */
  getRemoved(): RemovedOrder[] {
    const out: RemovedOrder[] = [];
    for (let i = 0; i < this.removedCount; i++) out.push(this.removedOrder(i));
    return out;
  }

  /** Detached plain-object copy, safe to keep across match calls. */
  toObject(): MatchOutcome {
    return {
      status: this.status,
      stopReason: this.stopReason,
      side: this.side,
      quantity: this.quantity,
      filled: this.filled,
      remaining: this.remaining,
      fills: this.getFills(),
      removed: this.getRemoved(),
    };
  }

  toJSON(): MatchOutcome {
    return this.toObject();
  }
}
