import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { isCanonicalTxRaw } from '../../chain/tx/decode.js';

/** The scanner must agree with "re-encoding gives the same bytes" on every input. */
function reference(b: Uint8Array): boolean {
  try {
    return Buffer.from(TxRaw.encode(TxRaw.decode(b)).finish()).equals(Buffer.from(b));
  } catch {
    return false;
  }
}

describe('canonical TxRaw check', () => {
  it('agrees with decode + re-encode on valid encodings and on arbitrary bytes', () => {
    const raw = fc.record({ bodyBytes: fc.uint8Array({ maxLength: 200 }), authInfoBytes: fc.uint8Array({ maxLength: 200 }), signatures: fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 3 }) });
    fc.assert(
      fc.property(raw, (r) => {
        const b = TxRaw.encode(r).finish();
        expect(isCanonicalTxRaw(b)).toBe(true);
        expect(isCanonicalTxRaw(Buffer.concat([b, Buffer.from([0])]))).toBe(reference(Buffer.concat([b, Buffer.from([0])])));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        expect(isCanonicalTxRaw(b)).toBe(reference(b));
      }),
      { numRuns: 5000 },
    );
  });
  it('refuses padded varints, reordered and unknown fields, empty body', () => {
    expect(isCanonicalTxRaw(Uint8Array.from([0x0a, 0x81, 0x00, 0x01]))).toBe(false); // length 1 written in two bytes
    expect(isCanonicalTxRaw(Uint8Array.from([0x12, 0x01, 0x01, 0x0a, 0x01, 0x01]))).toBe(false); // auth info before body
    expect(isCanonicalTxRaw(Uint8Array.from([0x0a, 0x01, 0x01, 0x22, 0x00]))).toBe(false); // field 4
    expect(isCanonicalTxRaw(Uint8Array.from([0x0a, 0x00]))).toBe(false);
    expect(isCanonicalTxRaw(Uint8Array.from([0x0a, 0x01, 0x01, 0x1a, 0x00, 0x1a, 0x00]))).toBe(true);
  });
});
