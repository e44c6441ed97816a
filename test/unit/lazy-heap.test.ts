import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LazyHeap, NumberLazyHeap, SortedRunHeap } from '../../chain/collections/lazy-heap.js';

describe('heaps', () => {
  it('NumberLazyHeap pops in (key, insertion) order for any interleaving of pushes and pops', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -50, max: 50 }).map((k) => ({ push: k })), fc.constant({ pop: true as const })), { maxLength: 300 }), (ops) => {
        const h = new NumberLazyHeap();
        const model: Array<{ k: number; v: number }> = [];
        let v = 0;
        for (const op of ops) {
          if ('push' in op) {
            h.push(op.push, v);
            model.push({ k: op.push, v: v++ });
          } else {
            model.sort((a, b) => a.k - b.k || a.v - b.v);
            expect(h.popValue()).toBe(model.shift()?.v);
          }
          expect(h.size).toBe(model.length);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('NumberLazyHeap.drainBelow takes exactly the entries below the bound, by pops or in one pass, and later pops keep (key, insertion) order', () => {
    const op = fc.oneof(
      { weight: 30, arbitrary: fc.integer({ min: -30, max: 30 }).map((k) => ({ push: k })) },
      { weight: 3, arbitrary: fc.constant({ pop: true as const }) },
      // rare, so most drains find more than the 32 entries popped one by one
      { weight: 1, arbitrary: fc.integer({ min: -32, max: 32 }).map((b) => ({ drain: b })) },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 300, maxLength: 800 }), (ops) => {
        const h = new NumberLazyHeap();
        let model: Array<{ k: number; v: number }> = [];
        let v = 0;
        for (const o of ops) {
          if ('push' in o) {
            h.push(o.push, v);
            model.push({ k: o.push, v: v++ });
          } else if ('drain' in o) {
            const got: number[] = [];
            h.drainBelow(o.drain, got);
            expect(got.sort((a, b) => a - b)).toEqual(model.filter((m) => m.k < o.drain).map((m) => m.v).sort((a, b) => a - b));
            model = model.filter((m) => m.k >= o.drain);
          } else {
            model.sort((a, b) => a.k - b.k || a.v - b.v);
            expect(h.popValue()).toBe(model.shift()?.v);
          }
          expect(h.size).toBe(model.length);
        }
        model.sort((a, b) => a.k - b.k || a.v - b.v);
        for (const m of model) expect(h.popValue()).toBe(m.v);
        expect(h.popValue()).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
  it('SortedRunHeap pops in the same (key, insertion) order for any interleaving of pushes, pops, drains and seals', () => {
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: -50, max: 50 }).map((k) => ({ push: k })) },
      { weight: 3, arbitrary: fc.constant({ pop: true as const }) },
      { weight: 1, arbitrary: fc.constant({ seal: true as const }) },
      { weight: 1, arbitrary: fc.integer({ min: -60, max: 1_010 }).map((b) => ({ drain: b })) },
      // a burst big enough to cross the heap part's self-sealing threshold
      { weight: 1, arbitrary: fc.integer({ min: 4_000, max: 9_000 }).map((n) => ({ burst: n })) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer(), (ops, seed) => {
        const h = new SortedRunHeap();
        const model: Array<{ k: number; v: number }> = [];
        let v = 0;
        let x = seed | 1;
        const push = (k: number) => {
          h.push(k, v);
          model.push({ k, v: v++ });
        };
        for (const o of ops) {
          if ('push' in o) push(o.push);
          else if ('burst' in o) {
            for (let i = 0; i < o.burst; i++) {
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              push(x % 1000);
            }
          } else if ('seal' in o) h.seal();
          else if ('drain' in o) {
            const got: number[] = [];
            h.drainBelow(o.drain, got);
            const want = model.filter((m) => m.k < o.drain).map((m) => m.v);
            expect(got.sort((a, b) => a - b)).toEqual(want.sort((a, b) => a - b));
            model.splice(0, model.length, ...model.filter((m) => m.k >= o.drain));
          } else {
            model.sort((a, b) => a.k - b.k || a.v - b.v);
            const m = model.shift();
            expect(h.peekKey()).toBe(m?.k);
            expect(h.popValue()).toBe(m?.v);
          }
          expect(h.size).toBe(model.length);
        }
        model.sort((a, b) => a.k - b.k || a.v - b.v);
        for (const m of model) expect(h.popValue()).toBe(m.v);
        expect(h.popValue()).toBeUndefined();
      }),
      { numRuns: 40 },
    );
  });
  it('SortedRunHeap.drainBelow takes exactly the entries below the bound from a sealed run and the heap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: -22, max: 22 }), { minLength: 1, maxLength: 8 }),
        (sealed, later, bounds) => {
          const h = new SortedRunHeap();
          let model: Array<{ k: number; v: number }> = [];
          let v = 0;
          for (const k of sealed) {
            h.push(k, v);
            model.push({ k, v: v++ });
          }
          h.seal();
          for (const k of later) {
            h.push(k, v);
            model.push({ k, v: v++ });
          }
          for (const b of [...bounds].sort((x, y) => x - y)) {
            const got: number[] = [];
            h.drainBelow(b, got);
            expect(got.sort((x, y) => x - y)).toEqual(model.filter((m) => m.k < b).map((m) => m.v).sort((x, y) => x - y));
            model = model.filter((m) => m.k >= b);
            expect(h.size).toBe(model.length);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
  it('LazyHeap pops in (key, id) order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.bigInt({ min: -100n, max: 100n }), fc.nat(1000)), { maxLength: 200 }), (items) => {
        const h = new LazyHeap();
        for (const [k, id] of items) h.push(k, id);
        const sorted = [...items].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
        for (const [k, id] of sorted) expect(h.pop()).toEqual({ key: k, id });
        expect(h.pop()).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});
