import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeInt, encodeInt } from '../../chain/codec/amount.js';

/** What decodeInt must equal for any bytes: BigInt's parser over the latin1 text (or its SyntaxError). */
function reference(b: Uint8Array): bigint | 'throws' {
  try {
    return BigInt(Buffer.from(b).toString('latin1'));
  } catch {
    return 'throws';
  }
}

function decoded(b: Uint8Array): bigint | 'throws' {
  try {
    return decodeInt(b);
  } catch {
    return 'throws';
  }
}

describe('state integer codec (encodeInt / decodeInt)', () => {
  it('round-trips every bigint, around the 15-digit fast path and far beyond it', () => {
    const edges = [0n, 1n, -1n, 999_999_999_999_999n, 1_000_000_000_000_000n, -999_999_999_999_999n, 2n ** 53n, -(2n ** 53n) - 1n, 2n ** 128n - 1n];
    for (const v of edges) expect(decodeInt(encodeInt(v))).toBe(v);
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }), (v) => decodeInt(encodeInt(v)) === v),
      { numRuns: 2000 },
    );
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }), (v) => decodeInt(encodeInt(v)) === v), { numRuns: 2000 });
  });

  it('reads arbitrary short bytes exactly as BigInt reads their text (leading zeros, "-", "-0", spaces, letters)', () => {
    const special = ['', '-', '-0', '007', '-007', ' 1', '1 ', '+1', '1e3', '0x10', '12a', '--1'];
    for (const s of special) expect(decoded(Buffer.from(s, 'latin1'))).toEqual(reference(Buffer.from(s, 'latin1')));
    const byte = fc.constantFrom(...'0123456789-+ x'.split('').map((c) => c.charCodeAt(0)), 0, 255);
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 18 }), (bytes) => {
        const b = Uint8Array.from(bytes);
        return decoded(b) === reference(b) || (decoded(b) === 'throws' && reference(b) === 'throws');
      }),
      { numRuns: 5000 },
    );
  });

  it('reads a view into a larger buffer only within the view', () => {
    const big = Buffer.from('xx12345yy', 'latin1');
    expect(decodeInt(big.subarray(2, 7))).toBe(12345n);
    expect(decoded(new Uint8Array(big.buffer, big.byteOffset + 1, 4))).toBe(reference(big.subarray(1, 5)));
    expect(decodeInt(new Uint8Array(big.buffer, big.byteOffset + 3, 3))).toBe(234n);
  });
});
