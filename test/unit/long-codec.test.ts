import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Long from 'long';
import { toLong } from '../../chain/codec/long.js';
import { toBigInt } from '../../chain/codec/amount.js';

/** The 64-bit field conversions take fast paths (safe integers, Long halves): they must agree with the decimal route. */
describe('64-bit field conversions', () => {
  it('toLong(bigint) and toBigInt(Long) round-trip over the whole int64 and uint64 ranges, as the decimal route does', () => {
    const edges = [0n, 1n, -1n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n) + 1n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n];
    const values = fc.oneof(fc.constantFrom(...edges), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }));
    fc.assert(
      fc.property(values, (v) => {
        const l = toLong(v);
        const viaString = Long.fromString(v.toString(), v >= 0n);
        expect(l.equals(viaString) && l.unsigned === viaString.unsigned).toBe(true);
        expect(toBigInt(l)).toBe(v);
        expect(toBigInt(viaString)).toBe(BigInt(viaString.toString()));
      }),
      { numRuns: 2000 },
    );
  });
  it('numbers convert like their truncation; strings and nullish values as before', () => {
    expect(toLong(42.9).toString()).toBe('42');
    expect(toLong(-7).toString()).toBe('-7');
    expect(toBigInt(toLong(Number.MAX_SAFE_INTEGER))).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(toBigInt('123')).toBe(123n);
    expect(toBigInt(undefined)).toBe(0n);
    expect(toBigInt(Long.fromString('18446744073709551615', true))).toBe(2n ** 64n - 1n);
    expect(toBigInt(Long.fromString('-9223372036854775808', false))).toBe(-(2n ** 63n));
  });
});
