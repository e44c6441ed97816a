import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SignDoc } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { signBytes } from '../../chain/tx/decode.js';

describe('signBytes', () => {
  it('equals cosmjs-types SignDoc.encode for any body, auth info, chain id and account number', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 40 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (body, auth, chainId, num) => {
        const ours = signBytes({ bodyBytes: body, authInfoBytes: auth, signatures: [] }, chainId, num);
        const theirs = SignDoc.encode({ bodyBytes: body, authInfoBytes: auth, chainId, accountNumber: num }).finish();
        expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
