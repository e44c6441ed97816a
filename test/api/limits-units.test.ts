/**
 * The API's limit arithmetic (chain/api/limits.ts) on a hand-driven clock,
 * and the SDK's local book (client/book.ts) rules the wire tests do not pin:
 * the exact token counts of api.max_messages_per_second (burst = rate, no
 * more after idling), when refusals become a flood that disconnects
 * (more refusals in one second than the rate), the connection count per
 * address, a delta before any snapshot, and a resync snapshot that replaces
 * the whole local book.
 */
import { describe, expect, it } from 'vitest';
import { AddressCounter, TokenBucket } from '../../chain/api/limits.js';
import { BookIntegrityError, LocalOrderBook } from '../../client/book.js';
import { bookChecksum, type WireLevel } from '../../client/checksum.js';

const takes = (b: TokenBucket, now: number, n: number) => Array.from({ length: n }, () => b.take(now));

describe('TokenBucket (api.max_messages_per_second)', () => {
  it('allows exactly `rate` messages at once, and no more after a long idle (burst = rate)', () => {
    const b = new TokenBucket(3, 0);
    expect(takes(b, 0, 4)).toEqual(['ok', 'ok', 'ok', 'refused']);
    // ten quiet seconds do not bank thirty messages
    expect(takes(b, 10_000, 4)).toEqual(['ok', 'ok', 'ok', 'refused']);
  });

  it('refills at `rate` per second', () => {
    const b = new TokenBucket(4, 0);
    takes(b, 0, 4);
    // 500 ms: two tokens back
    expect(takes(b, 500, 3)).toEqual(['ok', 'ok', 'refused']);
  });

  it('a flood is more refusals within one second than the rate; the count starts again each second', () => {
    const b = new TokenBucket(2, 0);
    // 2 accepted, then 2 refusals are still "refused" (not more than the rate), the 3rd is a flood
    expect(takes(b, 0, 5)).toEqual(['ok', 'ok', 'refused', 'refused', 'flood']);

    const c = new TokenBucket(2, 0);
    expect(takes(c, 0, 4)).toEqual(['ok', 'ok', 'refused', 'refused']);
    // exactly one second later the refusal window is new: the next refusal is the first of this second
    expect(takes(c, 1000, 3)).toEqual(['ok', 'ok', 'refused']);
  });
});

describe('AddressCounter (api.max_connections_per_ip)', () => {
  it('admits `max` connections per address, and a closed one frees its slot', () => {
    const a = new AddressCounter();
    expect([a.tryAdd('1.2.3.4', 2), a.tryAdd('1.2.3.4', 2), a.tryAdd('1.2.3.4', 2)]).toEqual([true, true, false]);
    expect(a.tryAdd('5.6.7.8', 2)).toBe(true); // another address has its own count
    a.remove('1.2.3.4');
    expect(a.count('1.2.3.4')).toBe(1);
    expect(a.tryAdd('1.2.3.4', 2)).toBe(true);
    expect(a.tryAdd('1.2.3.4', 2)).toBe(false);
  });
});

describe('LocalOrderBook', () => {
  const snap = (bids: WireLevel[], asks: WireLevel[], height: number, seq: number) => ({ seq, height, data: { market_id: 0, ticker: 'BTC-USD', bids, asks, checksum: bookChecksum(bids, asks) } });

  it('refuses a delta before any snapshot (a fresh book is not the node\'s)', () => {
    const b = new LocalOrderBook('BTC-USD');
    // seq 1, height 1 would pass the gap checks of an empty book at 0/0
    const delta = { seq: 1, height: 1, data: { bids: [] as WireLevel[], asks: [] as WireLevel[], checksum: bookChecksum([], []) } };
    expect(() => b.applyDelta(delta)).toThrow(BookIntegrityError);
    try {
      b.applyDelta(delta);
    } catch (e) {
      expect((e as BookIntegrityError).reason).toBe('not_ready');
    }
    expect(b.ready).toBe(false);
  });

  it('a resync snapshot replaces the whole book: levels gone since the old snapshot do not linger', () => {
    const b = new LocalOrderBook('BTC-USD');
    b.applySnapshot(snap([['100', '5', 1], ['99', '1', 1]], [['105', '2', 1]], 10, 10));
    b.applySnapshot(snap([['100', '4', 1]], [['106', '1', 1]], 20, 20));
    expect(b.ready).toBe(true);
    expect(b.wire()).toEqual({ bids: [['100', '4', 1]], asks: [['106', '1', 1]] });
  });
});
