/**
 * DecodeCache (chain/store/decode-cache.ts) shares one decoded object between every reader of the same
 * stored bytes, so the object must be frozen: a caller that changed a cached market or price in place would
 * otherwise change what every later read of those bytes returns, without any store write (and without the
 * tx rollback that a store write gets).
 */
import { describe, expect, it } from 'vitest';
import { DecodeCache } from '../../chain/store/decode-cache.js';

describe('DecodeCache', () => {
  it('decodes each bytes object once, hands out a frozen value, and decodes new bytes afresh', () => {
    let calls = 0;
    const cache = new DecodeCache((b: Uint8Array) => {
      calls++;
      return { price: b[0]! };
    });
    const stored = Uint8Array.from([7]);
    const a = cache.get(stored);
    expect(cache.get(stored)).toBe(a);
    expect(calls).toBe(1);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => {
      (a as { price: number }).price = 9; // ES modules are strict: writing a frozen property throws
    }).toThrow(TypeError);
    expect(cache.get(stored).price).toBe(7);
    // a write puts a new bytes object: equal contents, decoded again
    expect(cache.get(Uint8Array.from([7]))).not.toBe(a);
    expect(calls).toBe(2);
  });
});
