/**
 * The simulator signs its agents' txs with the chain's protobufjs copy of the
 * cosmos envelope. Those bytes must be exactly what a stock cosmjs-types
 * client builds for the same tx (the reference below is the cosmjs-types
 * construction the simulator used before), so the App's ante sees ordinary
 * client txs. libsecp256k1 signs deterministically (RFC 6979), so the whole
 * TxRaw, signature included, must match byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthInfo, SignDoc, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import type { Any } from 'cosmjs-types/google/protobuf/any';
import { MIN_GAS_PRICE_MICRO, SimKey, signTx, type SignOptions } from '../../sim/tx.js';

function reference(key: SimKey, msgs: Any[], o: SignOptions): Uint8Array {
  const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: msgs })).finish();
  const fee = (o.gas * MIN_GAS_PRICE_MICRO + 999_999n) / 1_000_000n;
  const authInfoBytes = AuthInfo.encode(
    AuthInfo.fromPartial({
      signerInfos: [{ publicKey: key.pubKeyAny, modeInfo: { single: { mode: SignMode.SIGN_MODE_DIRECT } }, sequence: o.sequence }],
      fee: { amount: [{ denom: 'uusdc', amount: fee.toString() }], gasLimit: o.gas },
    }),
  ).finish();
  const signDoc = SignDoc.encode({ bodyBytes, authInfoBytes, chainId: o.chainId, accountNumber: o.accountNumber }).finish();
  return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [key.sign(signDoc)] }).finish();
}

describe('simulator txs', () => {
  it('are byte-identical to the cosmjs-types construction (zero sequence, empty message values, large numbers)', () => {
    const keys = [new SimKey(1, 'a'), new SimKey(7, 'maker-3')];
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.array(fc.record({ typeUrl: fc.string({ minLength: 1, maxLength: 30 }), value: fc.uint8Array({ maxLength: 24 }) }), { minLength: 1, maxLength: 3 }),
        fc.record({
          chainId: fc.constantFrom('perpchain-sim-1', 'x'),
          accountNumber: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
          sequence: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
          gas: fc.oneof(fc.constant(200_000n), fc.bigInt({ min: 1n, max: 2n ** 63n })),
        }),
        (key, msgs, o) => {
          expect(hex(signTx(key, msgs, o))).toBe(hex(reference(key, msgs, o)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
