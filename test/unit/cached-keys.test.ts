/**
 * chain/store/kv.ts cachedKeys: a key builder that reuses key strings. It
 * must give exactly prefix + suffix for every input, across cache resets and
 * for suffixes too long to keep.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cachedKeys, tableOf } from '../../chain/store/kv.js';

describe('cachedKeys', () => {
  it('always returns prefix + suffix, through cache resets and for long suffixes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.string({ minLength: 101, maxLength: 140 })), { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), (suffixes, limit) => {
        const key = cachedKeys('m/t/', limit);
        for (const s of [...suffixes, ...suffixes.slice().reverse()]) {
          const before = key.cached;
          const k = key(s);
          expect(k).toBe(`m/t/${s}`);
          expect(tableOf(k)).toBe('m/t/');
          expect(key.cached).toBeLessThanOrEqual(limit);
          if (s.length > 100) expect(key.cached).toBe(before); // long suffixes are never kept
        }
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('two builders with different prefixes never share keys', () => {
    const a = cachedKeys('bank/bal/');
    const b = cachedKeys('auth/acc/');
    expect(a('perp1x')).toBe('bank/bal/perp1x');
    expect(b('perp1x')).toBe('auth/acc/perp1x');
    expect(a('perp1x')).toBe('bank/bal/perp1x');
  });
});
