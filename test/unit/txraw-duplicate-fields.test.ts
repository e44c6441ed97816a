import { describe, expect, it } from 'vitest';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { isCanonicalTxRaw } from '../../chain/tx/decode.js';

/**
 * A TxRaw that repeats its body or auth-info field decodes (protobuf keeps the last occurrence) to the same
 * message as the canonical bytes, but hashes differently: a third party could re-wrap a signed tx under a
 * new hash (the malleability the canonical check exists to stop). Only field 3 (signatures) may repeat.
 * The random cases of txraw-canonical.test.ts almost never produce a repeated length-delimited field 1 or 2
 * that parses, so these are written out.
 */
const body = [0x0a, 0x01, 0x07]; // field 1, 1 byte
const auth = [0x12, 0x01, 0x08]; // field 2, 1 byte
const sig = [0x1a, 0x01, 0x09]; // field 3, 1 byte

function reencodes(b: number[]): boolean {
  return Buffer.from(TxRaw.encode(TxRaw.decode(Uint8Array.from(b))).finish()).equals(Buffer.from(b));
}

describe('canonical TxRaw: repeated fields', () => {
  it('a repeated body or auth info is not canonical (decodes, but does not re-encode to the same bytes)', () => {
    for (const b of [[...body, ...body, ...auth, ...sig], [...body, ...auth, ...auth, ...sig]]) {
      expect(reencodes(b)).toBe(false);
      expect(isCanonicalTxRaw(Uint8Array.from(b))).toBe(false);
    }
  });

  it('repeated signatures are canonical (field 3 is a repeated field)', () => {
    const b = [...body, ...auth, ...sig, ...sig];
    expect(reencodes(b)).toBe(true);
    expect(isCanonicalTxRaw(Uint8Array.from(b))).toBe(true);
  });
});
