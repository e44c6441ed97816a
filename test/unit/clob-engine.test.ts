import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ClobEngineError,
  MARKET_BUY_LIMIT,
  MARKET_SELL_LIMIT,
  MatchResult,
  OrderBookEngine,
  type MatchHooks,
  type RestingOrder,
  type Side,
  type StpMode,
} from '../../modules/clob/engine/index.js';

function book(opts: ConstructorParameters<typeof OrderBookEngine>[0] = {}): OrderBookEngine {
  return new OrderBookEngine(opts);
}

/** add with owner defaulting to 1000 + id (distinct owners). */
function put(e: OrderBookEngine, id: number, side: Side, price: number, quantity: number, owner = 1000 + id, flags = 0): number {
  return e.add({ id, owner, side, price, quantity, flags });
}

function ids(os: RestingOrder[]): number[] {
  return os.map((o) => o.id);
}

function take(e: OrderBookEngine, side: Side, limitPrice: number, quantity: number, owner = 1, stp: StpMode = 'cancel_resting', hooks?: MatchHooks) {
  return e.match({ owner, side, limitPrice, quantity, stp }, hooks).toObject();
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ClobEngineError);
    expect((err as ClobEngineError).code).toBe(code);
    return;
  }
  throw new Error(`expected ClobEngineError ${code}`);
}

describe('clob engine: resting orders and queries', () => {
  it('adds orders, tracks best prices, sizes and levels', () => {
    const e = book();
    expect(e.bestBid()).toBeUndefined();
    expect(e.bestAsk()).toBeUndefined();
    put(e, 1, 'buy', 99, 10);
    put(e, 2, 'buy', 98, 5);
    put(e, 3, 'buy', 99, 7);
    put(e, 4, 'sell', 101, 3);
    put(e, 5, 'sell', 103, 4);
    put(e, 6, 'sell', 101, 2);
    expect(e.size).toBe(6);
    expect(e.bestBid()).toBe(99);
    expect(e.bestAsk()).toBe(101);
    expect(e.levels('buy')).toEqual([
      [99, 17, 2],
      [98, 5, 1],
    ]);
    expect(e.levels('sell')).toEqual([
      [101, 5, 2],
      [103, 4, 1],
    ]);
    expect(e.levels('sell', 1)).toEqual([[101, 5, 2]]);
    expect(e.levels('buy', 0)).toEqual([]);
    expect(e.totalQuantity('buy')).toBe(22);
    expect(e.orderCount('sell')).toBe(3);
    expect(e.levelCount('buy')).toBe(2);
    expect(e.get(3)).toEqual({ id: 3, owner: 1003, side: 'buy', price: 99, quantity: 7, flags: 0, seq: 2 });
    expect(e.has(3)).toBe(true);
    expect(e.has(42)).toBe(false);
    expect(e.get(42)).toBeUndefined();
    expect(ids(e.orders())).toEqual([1, 3, 2, 4, 6, 5]);
    expect(ids(e.orders('sell'))).toEqual([4, 6, 5]);
    expect(ids(e.levelOrders('buy', 99))).toEqual([1, 3]);
    expect(e.levelOrders('buy', 97)).toEqual([]);
    e.assertConsistent();
  });

  it('forEachLevel walks best first and stops early', () => {
    const e = book();
    for (let i = 0; i < 5; i++) put(e, i + 1, 'sell', 100 + i, i + 1);
    const seen: number[] = [];
    e.forEachLevel('sell', (p) => {
      seen.push(p);
      return p < 102;
    });
    expect(seen).toEqual([100, 101, 102]);
    const seenOrders: number[] = [];
    e.forEachOrder('sell', (o) => {
      seenOrders.push(o.id);
      return seenOrders.length < 2;
    });
    expect(seenOrders).toEqual([1, 2]);
  });

  it('wouldCross answers the post-only question', () => {
    const e = book();
    expect(e.wouldCross('buy', 1_000_000)).toBe(false);
    put(e, 1, 'sell', 101, 1);
    put(e, 2, 'buy', 99, 1);
    expect(e.wouldCross('buy', 100)).toBe(false);
    expect(e.wouldCross('buy', 101)).toBe(true);
    expect(e.wouldCross('sell', 100)).toBe(false);
    expect(e.wouldCross('sell', 99)).toBe(true);
  });

  it('keeps flags and returns them on fills', () => {
    const e = book();
    put(e, 1, 'sell', 100, 5, 7, 0b101);
    expect(e.get(1)!.flags).toBe(5);
    const r = e.match({ owner: 1, side: 'buy', limitPrice: 100, quantity: 2, stp: 'cancel_resting' });
    expect(r.fillMakerFlags(0)).toBe(5);
    expect(r.fill(0)).toEqual({ makerId: 1, makerOwner: 7, makerFlags: 5, price: 100, quantity: 2, makerRemaining: 3 });
  });
});

describe('clob engine: matching', () => {
  it('price-time priority: better price first, FIFO within a level', () => {
    const e = book();
    put(e, 1, 'sell', 101, 5);
    put(e, 2, 'sell', 100, 5);
    put(e, 3, 'sell', 101, 5);
    put(e, 4, 'sell', 100, 5);
    const r = take(e, 'buy', 101, 20);
    expect(r.fills.map((f) => [f.makerId, f.price])).toEqual([
      [2, 100],
      [4, 100],
      [1, 101],
      [3, 101],
    ]);
    expect(r.status).toBe('filled');
    expect(r.stopReason).toBeNull();
    expect(e.size).toBe(0);
    e.assertConsistent();
  });

  it('sell taker walks bids from the highest', () => {
    const e = book();
    put(e, 1, 'buy', 98, 5);
    put(e, 2, 'buy', 99, 5);
    put(e, 3, 'buy', 97, 5);
    const r = take(e, 'sell', 98, 7);
    expect(r.fills.map((f) => [f.makerId, f.price, f.quantity, f.makerRemaining])).toEqual([
      [2, 99, 5, 0],
      [1, 98, 2, 3],
    ]);
    expect(e.get(1)!.quantity).toBe(3);
    expect(e.bestBid()).toBe(98);
  });

  it('partial fills across several levels at the makers’ prices (price improvement), stops at the limit', () => {
    const e = book();
    put(e, 1, 'sell', 100, 3);
    put(e, 2, 'sell', 101, 4);
    put(e, 3, 'sell', 103, 5);
    put(e, 4, 'sell', 106, 5);
    const r = take(e, 'buy', 105, 20);
    expect(r.fills.map((f) => [f.price, f.quantity])).toEqual([
      [100, 3],
      [101, 4],
      [103, 5],
    ]);
    expect(r).toMatchObject({ status: 'partially_filled', stopReason: 'limit_price', filled: 12, remaining: 8, quantity: 20, side: 'buy' });
    expect(e.bestAsk()).toBe(106);
    // the keeper may rest the remainder of a GTC limit: it does not cross
    expect(e.wouldCross('buy', 105)).toBe(false);
    put(e, 5, 'buy', 105, r.remaining);
    e.assertConsistent();
  });

  it('partial fill of a maker keeps its queue position', () => {
    const e = book();
    put(e, 1, 'sell', 100, 10);
    put(e, 2, 'sell', 100, 10);
    take(e, 'buy', 100, 4);
    expect(ids(e.levelOrders('sell', 100))).toEqual([1, 2]);
    expect(e.get(1)!.quantity).toBe(6);
    const r = take(e, 'buy', 100, 7);
    expect(r.fills.map((f) => [f.makerId, f.quantity, f.makerRemaining])).toEqual([
      [1, 6, 0],
      [2, 1, 9],
    ]);
  });

  it('reports unfilled / book_empty / limit_price', () => {
    const e = book();
    expect(take(e, 'buy', 100, 5)).toMatchObject({ status: 'unfilled', stopReason: 'book_empty', filled: 0, remaining: 5, fills: [] });
    put(e, 1, 'sell', 101, 5);
    expect(take(e, 'buy', 100, 5)).toMatchObject({ status: 'unfilled', stopReason: 'limit_price' });
    expect(take(e, 'buy', 101, 8)).toMatchObject({ status: 'partially_filled', stopReason: 'book_empty', filled: 5, remaining: 3 });
  });

  it('market orders use the unbounded limits', () => {
    const e = book();
    put(e, 1, 'sell', 100, 5);
    put(e, 2, 'sell', 5_000_000, 5);
    put(e, 3, 'buy', 1, 5);
    expect(take(e, 'buy', MARKET_BUY_LIMIT, 10).filled).toBe(10);
    expect(take(e, 'sell', MARKET_SELL_LIMIT, 10)).toMatchObject({ filled: 5, stopReason: 'book_empty' });
  });

  it('rejects invalid takers (contract violations)', () => {
    const e = book();
    expectCode(() => e.match({ owner: 1, side: 'buy', limitPrice: 100, quantity: 0, stp: 'cancel_resting' }), 'invalid_argument');
    expectCode(() => e.match({ owner: 1, side: 'buy', limitPrice: 100.5, quantity: 1, stp: 'cancel_resting' }), 'invalid_argument');
    expectCode(() => e.match({ owner: 1, side: 'up' as Side, limitPrice: 100, quantity: 1, stp: 'cancel_resting' }), 'invalid_argument');
    expectCode(() => e.match({ owner: 1, side: 'buy', limitPrice: 100, quantity: 1, stp: 'none' as StpMode }), 'invalid_argument');
  });
});

describe('clob engine: self-trade prevention', () => {
  function setup(): OrderBookEngine {
    const e = book();
    put(e, 1, 'sell', 100, 5, 2); // other owner
    put(e, 2, 'sell', 100, 5, 1); // taker's own
    put(e, 3, 'sell', 100, 5, 3);
    put(e, 4, 'sell', 101, 5, 1); // taker's own
    put(e, 5, 'sell', 101, 5, 4);
    return e;
  }

  it('cancel_resting removes own makers, reports them and keeps matching', () => {
    const e = setup();
    const r = take(e, 'buy', 101, 12, 1, 'cancel_resting');
    expect(r.fills.map((f) => [f.makerId, f.quantity])).toEqual([
      [1, 5],
      [3, 5],
      [5, 2],
    ]);
    expect(r.removed).toEqual([
      { id: 2, owner: 1, flags: 0, price: 100, quantity: 5, reason: 'self_trade' },
      { id: 4, owner: 1, flags: 0, price: 101, quantity: 5, reason: 'self_trade' },
    ]);
    expect(r).toMatchObject({ status: 'filled', filled: 12, remaining: 0 });
    expect(ids(e.orders())).toEqual([5]);
    e.assertConsistent();
  });

  it('cancel_taking stops at the first own maker and leaves it resting', () => {
    const e = setup();
    const r = take(e, 'buy', 101, 12, 1, 'cancel_taking');
    expect(r.fills.map((f) => f.makerId)).toEqual([1]);
    expect(r.removed).toEqual([]);
    expect(r).toMatchObject({ status: 'partially_filled', stopReason: 'self_trade', filled: 5, remaining: 7 });
    expect(ids(e.orders())).toEqual([2, 3, 4, 5]);
  });

  it('cancel_both removes the own maker and stops', () => {
    const e = setup();
    const r = take(e, 'buy', 101, 12, 1, 'cancel_both');
    expect(r.fills.map((f) => f.makerId)).toEqual([1]);
    expect(r.removed.map((x) => [x.id, x.reason])).toEqual([[2, 'self_trade']]);
    expect(r).toMatchObject({ status: 'partially_filled', stopReason: 'self_trade', remaining: 7 });
    expect(ids(e.orders())).toEqual([3, 4, 5]);
  });

  it('an own maker first gives unfilled / self_trade', () => {
    const e = book();
    put(e, 1, 'buy', 100, 5, 9);
    expect(take(e, 'sell', 100, 5, 9, 'cancel_taking')).toMatchObject({ status: 'unfilled', stopReason: 'self_trade', remaining: 5 });
    expect(e.size).toBe(1);
  });

  it('the hook is never asked about own makers', () => {
    const e = setup();
    const asked: number[] = [];
    take(e, 'buy', 101, 100, 1, 'cancel_resting', {
      allow(m, q) {
        asked.push(m.id);
        return q;
      },
    });
    expect(asked).toEqual([1, 3, 5]);
  });
});

describe('clob engine: hooks', () => {
  it('sees the maker, the offered quantity and the price', () => {
    const e = book();
    put(e, 7, 'sell', 100, 5, 42, 3);
    const calls: unknown[] = [];
    take(e, 'buy', 100, 3, 1, 'cancel_resting', {
      allow(m, q, p) {
        calls.push({ ...m, q, p });
        return q;
      },
    });
    expect(calls).toEqual([{ id: 7, owner: 42, side: 'sell', price: 100, quantity: 5, flags: 3, seq: 0, q: 3, p: 100 }]);
  });

  it('partial: fills what is allowed, maker keeps remainder and priority, matching goes on with the next maker', () => {
    const e = book();
    put(e, 1, 'sell', 100, 10);
    put(e, 2, 'sell', 100, 10);
    put(e, 3, 'sell', 101, 10);
    const offered: Array<[number, number]> = [];
    const r = take(e, 'buy', 101, 30, 1, 'cancel_resting', {
      allow(m, q) {
        offered.push([m.id, q]);
        return m.id === 1 ? 4 : q;
      },
    });
    expect(offered).toEqual([
      [1, 10],
      [2, 10],
      [3, 10],
    ]);
    expect(r.fills.map((f) => [f.makerId, f.quantity, f.makerRemaining])).toEqual([
      [1, 4, 6],
      [2, 10, 0],
      [3, 10, 0],
    ]);
    expect(r).toMatchObject({ status: 'partially_filled', stopReason: 'book_empty', filled: 24, remaining: 6 });
    // maker 1 still rests at 100 with its priority: resting the taker would cross
    expect(ids(e.orders())).toEqual([1]);
    expect(e.wouldCross('buy', 101)).toBe(true);
    e.assertConsistent();
  });

  it('partial allowance above a level that is then emptied (level below the top removed)', () => {
    const e = book();
    put(e, 1, 'sell', 100, 10);
    put(e, 2, 'sell', 101, 10);
    put(e, 3, 'sell', 102, 10);
    const r = take(e, 'buy', 102, 25, 1, 'cancel_resting', { allow: (m, q) => (m.id === 1 ? 1 : q) });
    expect(r.fills.map((f) => [f.makerId, f.quantity])).toEqual([
      [1, 1],
      [2, 10],
      [3, 10],
    ]);
    expect(e.levels('sell')).toEqual([[100, 9, 1]]);
    e.assertConsistent();
  });

  it('a larger allowance than offered is clamped', () => {
    const e = book();
    put(e, 1, 'sell', 100, 10);
    const r = take(e, 'buy', 100, 3, 1, 'cancel_resting', { allow: () => 1_000 });
    expect(r.filled).toBe(3);
    expect(e.get(1)!.quantity).toBe(7);
  });

  it('0 stops matching and leaves the maker untouched', () => {
    const e = book();
    put(e, 1, 'sell', 100, 10);
    put(e, 2, 'sell', 100, 10);
    let n = 0;
    const r = take(e, 'buy', 100, 30, 1, 'cancel_resting', { allow: (_m, q) => (n++ === 0 ? q : 0) });
    expect(r).toMatchObject({ status: 'partially_filled', stopReason: 'hook_stop', filled: 10, remaining: 20 });
    expect(e.get(2)!.quantity).toBe(10);
    const r2 = take(e, 'buy', 100, 30, 1, 'cancel_resting', { allow: () => 0 });
    expect(r2).toMatchObject({ status: 'unfilled', stopReason: 'hook_stop' });
  });

  it('negative removes the maker (hook_removed) and continues', () => {
    const e = book();
    put(e, 1, 'sell', 100, 10, 5, 1);
    put(e, 2, 'sell', 100, 10);
    const r = take(e, 'buy', 100, 5, 1, 'cancel_resting', { allow: (m, q) => (m.id === 1 ? -1 : q) });
    expect(r.removed).toEqual([{ id: 1, owner: 5, flags: 1, price: 100, quantity: 10, reason: 'hook_removed' }]);
    expect(r.fills.map((f) => f.makerId)).toEqual([2]);
    expect(r.status).toBe('filled');
    expect(e.has(1)).toBe(false);
  });

  it('a missing allow means allow everything', () => {
    const e = book();
    put(e, 1, 'sell', 100, 10);
    expect(take(e, 'buy', 100, 10, 1, 'cancel_resting', {}).filled).toBe(10);
  });

  it('rejects non-integer answers and re-entrant calls, leaving a consistent book that rolls back', () => {
    const e = book();
    put(e, 1, 'sell', 100, 10);
    put(e, 2, 'sell', 100, 10);
    const before = e.dump();
    const m = e.mark();
    let calls = 0;
    expectCode(() => take(e, 'buy', 100, 20, 1, 'cancel_resting', { allow: (_m, q) => (calls++ === 0 ? q : 0.5) }), 'invalid_argument');
    e.assertConsistent();
    expect(e.has(1)).toBe(false);
    e.rollback(m);
    expect(e.dump()).toEqual(before);
    expectCode(() => take(e, 'buy', 100, 20, 1, 'cancel_resting', { allow: () => (e.cancel(2), 1) }), 'reentrant');
    expect(() =>
      take(e, 'buy', 100, 20, 1, 'cancel_resting', {
        allow() {
          throw new Error('keeper bug');
        },
      }),
    ).toThrow('keeper bug');
    // the engine is usable again after a throwing hook
    expect(take(e, 'buy', 100, 1).filled).toBe(1);
    e.assertConsistent();
  });
});

describe('clob engine: cancel, reduce, amend', () => {
  function level(): OrderBookEngine {
    const e = book();
    for (let i = 1; i <= 4; i++) put(e, i, 'buy', 100, i);
    put(e, 9, 'buy', 99, 1);
    return e;
  }

  it.each([
    ['head', 1, [2, 3, 4]],
    ['middle', 3, [1, 2, 4]],
    ['tail', 4, [1, 2, 3]],
  ])('cancel at the %s of a queue', (_where, id, rest) => {
    const e = level();
    expect(e.cancel(id)).toMatchObject({ id, price: 100, quantity: id });
    expect(ids(e.levelOrders('buy', 100))).toEqual(rest);
    expect(e.levels('buy')[0]).toEqual([100, 10 - id, 3]);
    e.assertConsistent();
  });

  it('cancel of the last order of a level removes the level; unknown id gives undefined', () => {
    const e = level();
    expect(e.cancel(9)).toMatchObject({ id: 9, price: 99 });
    expect(e.levels('buy').map((l) => l[0])).toEqual([100]);
    for (const id of [1, 2, 3, 4]) e.cancel(id);
    expect(e.bestBid()).toBeUndefined();
    expect(e.size).toBe(0);
    expect(e.cancel(1)).toBeUndefined();
    e.assertConsistent();
  });

  it('reduce keeps priority', () => {
    const e = level();
    expect(e.reduce(3, 1)).toBe('reduced');
    expect(ids(e.levelOrders('buy', 100))).toEqual([1, 2, 3, 4]);
    expect(e.levels('buy')[0]).toEqual([100, 8, 4]);
    expect(e.reduce(3, 1)).toBe('unchanged');
    expect(e.reduce(3, 2)).toBe('not_a_decrease');
    expect(e.reduce(77, 1)).toBe('not_found');
    expectCode(() => e.reduce(3, 0), 'invalid_argument');
    const r = take(e, 'sell', 100, 5);
    expect(r.fills.map((f) => [f.makerId, f.quantity])).toEqual([
      [1, 1],
      [2, 2],
      [3, 1],
      [4, 1],
    ]);
    e.assertConsistent();
  });

  it('amend: decrease keeps priority, increase and price change requeue at the tail with a new seq', () => {
    const e = level();
    expect(e.amend(2, { quantity: 1 })).toBe('reduced');
    expect(ids(e.levelOrders('buy', 100))).toEqual([1, 2, 3, 4]);
    const seqBefore = e.get(2)!.seq;
    expect(e.amend(2, { quantity: 5 })).toBe('requeued');
    expect(ids(e.levelOrders('buy', 100))).toEqual([1, 3, 4, 2]);
    expect(e.get(2)!.seq).toBeGreaterThan(seqBefore);
    expect(e.amend(1, { price: 99 })).toBe('requeued');
    expect(ids(e.levelOrders('buy', 99))).toEqual([9, 1]);
    expect(e.get(1)).toMatchObject({ price: 99, quantity: 1, owner: 1001 });
    expect(e.amend(1, { price: 99, quantity: 1 })).toBe('unchanged');
    expect(e.amend(1, {})).toBe('unchanged');
    expect(e.amend(77, { quantity: 1 })).toBe('not_found');
    // a requeue at a reduced size and a new price
    expect(e.amend(3, { price: 98, quantity: 2 })).toBe('requeued');
    expect(e.get(3)).toMatchObject({ price: 98, quantity: 2 });
    e.assertConsistent();
  });

  it('amend refuses a price that would cross, changing nothing', () => {
    const e = level();
    put(e, 20, 'sell', 102, 1);
    const before = e.dump();
    expect(e.amend(1, { price: 102 })).toBe('would_cross');
    expect(e.dump()).toEqual(before);
    expect(e.amend(1, { price: 101 })).toBe('requeued');
  });
});

describe('clob engine: fillableQuantity', () => {
  it('sums acceptable opposite quantity, with STP and an early cap', () => {
    const e = book();
    put(e, 1, 'sell', 100, 5, 2);
    put(e, 2, 'sell', 100, 5, 1);
    put(e, 3, 'sell', 101, 5, 3);
    put(e, 4, 'sell', 103, 5, 4);
    expect(e.fillableQuantity('buy', 99)).toBe(0);
    expect(e.fillableQuantity('buy', 100)).toBe(10);
    expect(e.fillableQuantity('buy', 102)).toBe(15);
    expect(e.fillableQuantity('buy', MARKET_BUY_LIMIT)).toBe(20);
    expect(e.fillableQuantity('sell', 1)).toBe(0);
    expect(e.fillableQuantity('buy', 103, { owner: 1 })).toBe(15);
    expect(e.fillableQuantity('buy', 103, { owner: 1, stp: 'cancel_taking' })).toBe(5);
    expect(e.fillableQuantity('buy', 103, { owner: 1, stp: 'cancel_both' })).toBe(5);
    expect(e.fillableQuantity('buy', 103, { upTo: 6 })).toBe(10);
    expect(e.fillableQuantity('buy', 103, { owner: 9, upTo: 6 })).toBe(10);
    // agrees with an actual match
    const m = e.mark();
    expect(take(e, 'buy', 103, 100, 1, 'cancel_resting').filled).toBe(15);
    e.rollback(m);
    expect(take(e, 'buy', 103, 100, 1, 'cancel_taking').filled).toBe(5);
  });
});

describe('clob engine: undo journal', () => {
  it('rollback restores the exact state after adds, cancels, matches, reduces, amends', () => {
    const e = book({ initialCapacity: 4 }); // forces slot-pool growth inside the rolled back span
    put(e, 1, 'buy', 99, 10);
    put(e, 2, 'buy', 99, 10);
    put(e, 3, 'buy', 98, 10);
    put(e, 4, 'sell', 101, 10);
    put(e, 5, 'sell', 101, 10, 7);
    put(e, 6, 'sell', 102, 10);
    const before = e.dump();
    const orders = e.orders();
    const m = e.mark();
    e.cancel(2);
    e.reduce(1, 3);
    put(e, 7, 'buy', 99, 4);
    put(e, 8, 'buy', 97, 4);
    e.match({ owner: 7, side: 'buy', limitPrice: 102, quantity: 25, stp: 'cancel_resting' }); // removes 5 (STP), eats 4, part of 6
    e.amend(3, { price: 100 });
    e.amend(7, { quantity: 9 });
    e.setNextSeq(e.nextSeq + 50);
    for (let i = 10; i < 30; i++) put(e, i, 'sell', 110 + (i % 3), 1);
    e.match({ owner: 1, side: 'sell', limitPrice: 1, quantity: 100, stp: 'cancel_both' });
    e.assertConsistent();
    expect(e.dump()).not.toEqual(before);
    e.rollback(m);
    expect(e.dump()).toEqual(before);
    expect(e.orders()).toEqual(orders);
    expect(e.nextSeq).toBe(6);
    e.assertConsistent();
    // the rolled back book keeps working exactly like a fresh one fed the same orders
    const f = book();
    for (const o of orders) f.add(o);
    for (const x of [e, f]) {
      x.match({ owner: 3, side: 'sell', limitPrice: 99, quantity: 15, stp: 'cancel_resting' });
      put(x, 50, 'sell', 100, 1);
      put(x, 51, 'buy', 97, 1);
    }
    expect(e.dump()).toEqual(f.dump());
  });

  it('nested marks unwind newest first like per-tx undo closures', () => {
    const e = book();
    const undo: Array<() => void> = [];
    const dumps = [e.dump()];
    for (let tx = 0; tx < 5; tx++) {
      const m = e.mark();
      undo.push(() => e.rollback(m));
      put(e, tx * 2 + 1, 'buy', 90 + tx, 5);
      put(e, tx * 2 + 2, 'sell', 100 + tx, 5);
      if (tx === 3) take(e, 'buy', 101, 7);
      dumps.push(e.dump());
    }
    // a failed tx: undo only the last
    undo.pop()!();
    expect(e.dump()).toEqual(dumps[4]);
    // an abandoned block: everything newest first
    while (undo.length) undo.pop()!();
    expect(e.dump()).toEqual(dumps[0]);
    expect(e.size).toBe(0);
  });

  it('rollback to the current mark is a no-op; bad marks are refused', () => {
    const e = book();
    put(e, 1, 'buy', 1, 1);
    const m = e.mark();
    e.rollback(m);
    expect(e.size).toBe(1);
    expectCode(() => e.rollback(m + 1), 'bad_mark');
    expectCode(() => e.rollback(m - 1), 'bad_mark'); // inside a record
    expectCode(() => e.rollback(1.5), 'bad_mark');
    e.commit();
    expect(e.journalLength).toBe(0);
    expectCode(() => e.rollback(0), 'bad_mark'); // before the commit
    const m2 = e.mark();
    expect(m2).toBe(m);
    e.cancel(1);
    e.rollback(m2);
    expect(e.size).toBe(1);
  });

  it('journal: false engines refuse marks', () => {
    const e = book({ journal: false });
    put(e, 1, 'buy', 1, 1);
    expectCode(() => e.mark(), 'journal_disabled');
    expect(e.journalLength).toBe(0);
  });
});

describe('clob engine: sequence and rebuild', () => {
  it('add(order, seq) rebuilds the same priority whatever the load order', () => {
    const e = book();
    put(e, 1, 'buy', 99, 1);
    put(e, 2, 'buy', 99, 2);
    put(e, 3, 'buy', 99, 3);
    put(e, 4, 'sell', 105, 3);
    e.cancel(2);
    put(e, 5, 'buy', 99, 4);
    e.setNextSeq(100);
    const stored = e.orders();
    const rebuilt = book();
    for (const o of [...stored].reverse()) rebuilt.add(o, o.seq);
    expect(rebuilt.nextSeq).toBe(5);
    rebuilt.setNextSeq(100);
    expect(rebuilt.dump()).toEqual(e.dump());
    rebuilt.assertConsistent();
    expect(put(rebuilt, 6, 'buy', 99, 1)).toBe(100);
  });

  it('explicit seqs: duplicates in a level are refused, next seq only moves up', () => {
    const e = book({ nextSeq: 10 });
    expect(put(e, 1, 'buy', 99, 1)).toBe(10);
    expectCode(() => e.add({ id: 2, owner: 1, side: 'buy', price: 99, quantity: 1 }, 10), 'invalid_argument');
    expect(e.add({ id: 3, owner: 1, side: 'buy', price: 99, quantity: 1 }, 3)).toBe(3);
    expect(ids(e.levelOrders('buy', 99))).toEqual([3, 1]);
    expect(e.nextSeq).toBe(11);
    expectCode(() => e.setNextSeq(5), 'invalid_argument');
    e.assertConsistent();
  });
});

describe('clob engine: contract violations throw ClobEngineError', () => {
  it('duplicate id, crossing add, invalid integers', () => {
    const e = book();
    put(e, 1, 'buy', 100, 1);
    put(e, 2, 'sell', 102, 1);
    expectCode(() => put(e, 1, 'buy', 99, 1), 'duplicate_id');
    expectCode(() => put(e, 3, 'buy', 102, 1), 'would_cross');
    expectCode(() => put(e, 3, 'sell', 100, 1), 'would_cross');
    expectCode(() => put(e, 3, 'buy', 99.5, 1), 'invalid_argument');
    expectCode(() => put(e, 3, 'buy', 0, 1), 'invalid_argument');
    expectCode(() => put(e, 3, 'buy', 99, 0), 'invalid_argument');
    expectCode(() => put(e, -3, 'buy', 99, 1), 'invalid_argument');
    expectCode(() => put(e, 2 ** 53, 'buy', 99, 1), 'invalid_argument');
    expectCode(() => put(e, 3, 'buy', 99, 1, 1, 2 ** 31), 'invalid_argument');
    expectCode(() => put(e, 3, 'buy', 99, Number.MAX_SAFE_INTEGER), 'overflow');
    expect(e.size).toBe(2);
    e.assertConsistent();
  });
});

describe('clob engine: results and copies', () => {
  it('reuses its result object unless given one; toObject detaches', () => {
    const e = book();
    put(e, 1, 'sell', 100, 10);
    const r1 = e.match({ owner: 1, side: 'buy', limitPrice: 100, quantity: 1, stp: 'cancel_resting' });
    const kept = r1.toObject();
    const r2 = e.match({ owner: 1, side: 'buy', limitPrice: 100, quantity: 2, stp: 'cancel_resting' });
    expect(r2).toBe(r1);
    expect(r1.filled).toBe(2);
    expect(kept.filled).toBe(1);
    const mine = new MatchResult();
    const r3 = e.match({ owner: 1, side: 'buy', limitPrice: 100, quantity: 3, stp: 'cancel_resting' }, undefined, mine);
    expect(r3).toBe(mine);
    expect(r1.filled).toBe(2);
    expect(() => mine.fillPrice(1)).toThrow(RangeError);
    expect(JSON.parse(JSON.stringify(mine))).toMatchObject({ filled: 3, fills: [{ makerId: 1, quantity: 3, makerRemaining: 4 }] });
  });

  it('grows its result buffers for many fills', () => {
    const e = book({ initialCapacity: 8 });
    for (let i = 1; i <= 500; i++) put(e, i, 'sell', 100 + (i % 7), 1, i % 2 === 0 ? 1 : 1000 + i);
    const r = e.match({ owner: 1, side: 'buy', limitPrice: MARKET_BUY_LIMIT, quantity: 1000, stp: 'cancel_resting' });
    expect(r.fillCount + r.removedCount).toBe(500);
    expect(r.removedCount).toBe(250);
    expect(r.getFills().reduce((s, f) => s + f.quantity, 0)).toBe(r.filled);
    expect(e.size).toBe(0);
    e.assertConsistent();
  });

  it('clone is an independent copy', () => {
    const e = book();
    put(e, 1, 'buy', 99, 5);
    put(e, 2, 'sell', 101, 5);
    const c = e.clone();
    expect(c.dump()).toEqual(e.dump());
    take(c, 'buy', 101, 5);
    put(c, 3, 'buy', 98, 1);
    expect(e.dump()).not.toEqual(c.dump());
    expect(e.size).toBe(2);
    c.assertConsistent();
    e.assertConsistent();
  });
});

describe('clob engine: purity', () => {
  it('imports nothing outside its folder and uses no clock, randomness, env or I/O', () => {
    const dir = join(import.meta.dirname, '../../modules/clob/engine');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const m of src.matchAll(/from\s+'([^']+)'/g)) expect(m[1], `${f} imports ${m[1]}`).toMatch(/^\.\/[\w-]+\.js$/);
      expect(src, f).not.toMatch(/Math\.random|Date\.now|new Date|setTimeout|setInterval|process\.|performance\.|require\(|import\(/);
    }
  });
});
