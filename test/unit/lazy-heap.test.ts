import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LazyHeap, NumberLazyHeap } from '../../chain/collections/lazy-heap.js';

describe('heaps', () => {
  it('NumberLazyHeap pops in (key, insertion) order for any interleaving of pushes and pops', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -50, max: 50 }).map((k) => ({ push: k })), fc.constant({ pop: true as const })), { maxLength: 300 }), (ops) => {
        const h = new NumberLazyHeap<number>();
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
