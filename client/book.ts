/**
 * A local copy of one market's order book, built from the `orderbook:<m>`
 * channel: a snapshot at height H, then one delta per block (H+1, H+2, …).
 * Every delta is checked three ways before the book is trusted again:
 *
 *   seq    must be the previous message's seq + 1 (the channel's numbering: nothing lost since the snapshot)
 *   height must be the previous height + 1 (no block skipped)
 *   checksum of the top 25 levels must equal the node's (the book is the node's)
 *
 * A failed check throws BookIntegrityError and marks the book not ready; the
 * managed book in client.ts then resubscribes for a fresh snapshot.
 */
import { bookChecksum, CHECKSUM_DEPTH, type WireLevel } from './checksum.js';
import type { BookDeltaData, BookSnapshotData, ChannelMessage } from './protocol.js';
import { quantumsToSize, unitsToPrice, type MarketSpec } from './units.js';
import type { Decimal } from 'decimal.js';

export interface Level {
  /** Price units. */
  price: bigint;
  /** Base quantums. */
  size: bigint;
  count: number;
}

export type BookIntegrityReason = 'seq_gap' | 'height_gap' | 'checksum_mismatch' | 'not_ready';

export class BookIntegrityError extends Error {
  override readonly name = 'BookIntegrityError';
  constructor(
    readonly reason: BookIntegrityReason,
    message: string,
  ) {
    super(message);
  }
}

class Side {
  /** Best first: bids descending, asks ascending. */
  readonly prices: bigint[] = [];
  readonly levels = new Map<bigint, Level>();

  constructor(private readonly descending: boolean) {}

  private index(price: bigint): { found: boolean; at: number } {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.prices[mid]!;
      if (p === price) return { found: true, at: mid };
      const before = this.descending ? p > price : p < price;
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return { found: false, at: lo };
  }

  set(price: bigint, size: bigint, count: number): void {
    const { found, at } = this.index(price);
    if (size === 0n) {
      if (found) {
        this.prices.splice(at, 1);
        this.levels.delete(price);
      }
      return;
    }
    if (!found) this.prices.splice(at, 0, price);
    this.levels.set(price, { price, size, count });
  }

  clear(): void {
    this.prices.length = 0;
    this.levels.clear();
  }

  top(depth: number): Level[] {
    const n = Math.min(depth, this.prices.length);
    const out: Level[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.levels.get(this.prices[i]!)!;
    return out;
  }
}

export class LocalOrderBook {
  private readonly bidSide = new Side(true);
  private readonly askSide = new Side(false);
  /** Height of the last snapshot or delta applied. */
  height = 0;
  /** Seq of the last message applied (per subscription). */
  seq = 0;
  /** Checksum the node sent with the last message. */
  nodeChecksum = 0;
  ready = false;

  constructor(readonly market: string) {}

  reset(): void {
    this.bidSide.clear();
    this.askSide.clear();
    this.ready = false;
    this.height = 0;
    this.seq = 0;
  }

  applySnapshot(msg: Pick<ChannelMessage<BookSnapshotData>, 'seq' | 'height' | 'data'>): void {
    this.bidSide.clear();
    this.askSide.clear();
    for (const l of msg.data.bids) this.bidSide.set(BigInt(l[0]), BigInt(l[1]), l[2]);
    for (const l of msg.data.asks) this.askSide.set(BigInt(l[0]), BigInt(l[1]), l[2]);
    this.height = msg.height;
    this.seq = msg.seq;
    this.nodeChecksum = msg.data.checksum;
    this.ready = true;
    this.verify();
  }

  /** Apply one delta; throws BookIntegrityError (and stops being ready) on a gap or checksum mismatch. */
  applyDelta(msg: Pick<ChannelMessage<BookDeltaData>, 'seq' | 'height' | 'data'>): void {
    if (!this.ready) throw new BookIntegrityError('not_ready', `${this.market}: delta at height ${msg.height} before a snapshot`);
    if (msg.seq !== this.seq + 1) return this.fail('seq_gap', `${this.market}: message seq ${msg.seq} after ${this.seq} (lost ${msg.seq - this.seq - 1})`);
    if (msg.height !== this.height + 1) return this.fail('height_gap', `${this.market}: delta for height ${msg.height} after ${this.height}`);
    for (const l of msg.data.bids) this.bidSide.set(BigInt(l[0]), BigInt(l[1]), l[2]);
    for (const l of msg.data.asks) this.askSide.set(BigInt(l[0]), BigInt(l[1]), l[2]);
    this.height = msg.height;
    this.seq = msg.seq;
    this.nodeChecksum = msg.data.checksum;
    this.verify();
  }

  private verify(): void {
    const mine = this.checksum();
    if (mine !== this.nodeChecksum) this.fail('checksum_mismatch', `${this.market}: local checksum ${mine} ≠ node's ${this.nodeChecksum} at height ${this.height}`);
  }

  private fail(reason: BookIntegrityReason, message: string): never {
    this.ready = false;
    throw new BookIntegrityError(reason, message);
  }

  /** Best-first levels. */
  bids(depth = Number.POSITIVE_INFINITY): Level[] {
    return this.bidSide.top(depth);
  }

  asks(depth = Number.POSITIVE_INFINITY): Level[] {
    return this.askSide.top(depth);
  }

  bestBid(): Level | undefined {
    return this.bidSide.top(1)[0];
  }

  bestAsk(): Level | undefined {
    return this.askSide.top(1)[0];
  }

  get levelCount(): { bids: number; asks: number } {
    return { bids: this.bidSide.prices.length, asks: this.askSide.prices.length };
  }

  /** Levels as the wire carries them ([price, size, count] strings), best first. */
  wire(depth = Number.POSITIVE_INFINITY): { bids: WireLevel[]; asks: WireLevel[] } {
    const f = (l: Level): WireLevel => [l.price.toString(), l.size.toString(), l.count];
    return { bids: this.bids(depth).map(f), asks: this.asks(depth).map(f) };
  }

  checksum(): number {
    const w = this.wire(CHECKSUM_DEPTH);
    return bookChecksum(w.bids, w.asks);
  }

  /** Levels in human units (Decimal price per coin, Decimal size in coins). */
  human(m: MarketSpec, depth = 10): { bids: Array<{ price: Decimal; size: Decimal; count: number }>; asks: Array<{ price: Decimal; size: Decimal; count: number }> } {
    const f = (l: Level) => ({ price: unitsToPrice(m, l.price), size: quantumsToSize(m, l.size), count: l.count });
    return { bids: this.bids(depth).map(f), asks: this.asks(depth).map(f) };
  }

  /** Test hook: overwrite one level locally (to exercise mismatch detection). */
  corruptForTest(side: 'bid' | 'ask', price: bigint, size: bigint): void {
    (side === 'bid' ? this.bidSide : this.askSide).set(price, size, 1);
  }
}
