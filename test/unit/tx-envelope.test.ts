/**
 * The chain decodes the cosmos tx envelope with protobufjs code generated from
 * proto/cosmos (our own copy of the SDK's field numbers); clients encode it
 * with cosmjs-types. This checks the two agree on random envelopes, including
 * fields the chain does not read (skipped, as cosmjs-types skips unknowns) and
 * 64-bit values beyond 2^53.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthInfo, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { cosmos } from '../../proto/gen/cosmos.js';
import { toBigInt } from '../../chain/codec/amount.js';
import { encodeTxMsgData } from '../../chain/tx/tx-msg-data.js';
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import { Any } from 'cosmjs-types/google/protobuf/any';

const pb = cosmos.tx.v1beta1;
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const bytes = fc.uint8Array({ maxLength: 40 });
const any = fc.record({ typeUrl: fc.string({ maxLength: 30 }), value: bytes });
const coin = fc.record({ denom: fc.string({ maxLength: 10 }), amount: fc.string({ maxLength: 20 }) });
const modeInfo = fc.oneof(
  fc.record({ single: fc.record({ mode: fc.integer({ min: 0, max: 127 }) }) }),
  fc.record({ multi: fc.record({ bitarray: fc.record({ extraBitsStored: fc.nat(7), elems: bytes }), modeInfos: fc.constant([{ single: { mode: 1 } }] as Array<{ single: { mode: number } }>) }) }),
);

describe('tx envelope: protobufjs decoders from proto/cosmos read what cosmjs-types writes', () => {
  it('agrees on every field the chain reads, for random bodies, auth infos and TxRaws', () => {
    fc.assert(
      fc.property(
        fc.record({
          messages: fc.array(any, { maxLength: 3 }),
          memo: fc.string({ maxLength: 40 }),
          timeoutHeight: u64,
          extensionOptions: fc.array(any, { maxLength: 2 }),
          nonCriticalExtensionOptions: fc.array(any, { maxLength: 2 }),
        }),
        fc.record({
          signerInfos: fc.array(fc.record({ publicKey: fc.option(any, { nil: undefined }), modeInfo: modeInfo, sequence: u64 }), { maxLength: 2 }),
          fee: fc.option(fc.record({ amount: fc.array(coin, { maxLength: 2 }), gasLimit: u64, payer: fc.string({ maxLength: 10 }), granter: fc.string({ maxLength: 10 }) }), { nil: undefined }),
          tip: fc.option(fc.record({ amount: fc.array(coin, { maxLength: 1 }), tipper: fc.string({ maxLength: 10 }) }), { nil: undefined }),
        }),
        fc.array(bytes, { maxLength: 3 }),
        (b, a, signatures) => {
          const bodyBytes = TxBody.encode(TxBody.fromPartial(b)).finish();
          const authInfoBytes = AuthInfo.encode(AuthInfo.fromPartial(a as Parameters<typeof AuthInfo.fromPartial>[0])).finish();
          const rawBytes = TxRaw.encode(TxRaw.fromPartial({ bodyBytes, authInfoBytes, signatures })).finish();

          const raw = pb.TxRaw.decode(rawBytes);
          const ref = TxRaw.decode(rawBytes);
          expect([raw.bodyBytes, raw.authInfoBytes, raw.signatures].map((x) => Buffer.from(Buffer.concat([x].flat())).toString('hex'))).toEqual(
            [ref.bodyBytes, ref.authInfoBytes, ref.signatures].map((x) => Buffer.from(Buffer.concat([x].flat())).toString('hex')),
          );
          expect(raw.signatures.length).toBe(ref.signatures.length);

          const body = pb.TxBody.decode(raw.bodyBytes);
          const refBody = TxBody.decode(ref.bodyBytes);
          const anys = (xs: Array<{ typeUrl?: string | null; value?: Uint8Array | null }>) => xs.map((x) => [x.typeUrl ?? '', Buffer.from(x.value ?? []).toString('hex')]);
          expect(anys(body.messages)).toEqual(anys(refBody.messages));
          expect(body.memo).toBe(refBody.memo);
          expect(toBigInt(body.timeoutHeight)).toBe(refBody.timeoutHeight);
          expect(anys(body.extensionOptions)).toEqual(anys(refBody.extensionOptions));
          expect(anys(body.nonCriticalExtensionOptions)).toEqual(anys(refBody.nonCriticalExtensionOptions));

          const auth = pb.AuthInfo.decode(raw.authInfoBytes);
          const refAuth = AuthInfo.decode(ref.authInfoBytes);
          expect(auth.signerInfos.length).toBe(refAuth.signerInfos.length);
          auth.signerInfos.forEach((si, i) => {
            const r = refAuth.signerInfos[i]!;
            expect(si.publicKey ? anys([si.publicKey]) : null).toEqual(r.publicKey ? anys([r.publicKey]) : null);
            expect(si.modeInfo?.single?.mode ?? null).toEqual(r.modeInfo?.single?.mode ?? null);
            expect(Boolean(si.modeInfo?.multi)).toBe(Boolean(r.modeInfo?.multi));
            expect(toBigInt(si.sequence)).toBe(r.sequence);
          });
          expect(Boolean(auth.fee)).toBe(Boolean(refAuth.fee));
          if (auth.fee && refAuth.fee) {
            expect(toBigInt(auth.fee.gasLimit)).toBe(refAuth.fee.gasLimit);
            expect((auth.fee.amount ?? []).map((c) => [c.denom, c.amount])).toEqual(refAuth.fee.amount.map((c) => [c.denom, c.amount]));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('decodes a secp256k1 public key like cosmjs-types', async () => {
    const { PubKey } = await import('cosmjs-types/cosmos/crypto/secp256k1/keys');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), (key) => {
        const enc = PubKey.encode({ key }).finish();
        expect(Buffer.from(pb.Secp256k1PubKey.decode(enc).key).toString('hex')).toBe(Buffer.from(PubKey.decode(enc).key).toString('hex'));
      }),
    );
  });

  it("writes a tx result's TxMsgData byte for byte as cosmjs-types does (empty response values included)", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ typeUrl: fc.string({ minLength: 1, maxLength: 40 }), value: fc.uint8Array({ maxLength: 30 }) }), { minLength: 1, maxLength: 4 }), (responses) => {
        const ours = Buffer.from(encodeTxMsgData(responses)).toString('hex');
        const ref = Buffer.from(TxMsgData.encode({ data: [], msgResponses: responses.map((r) => Any.fromPartial(r)) }).finish()).toString('hex');
        expect(ours).toBe(ref);
        expect(TxMsgData.decode(encodeTxMsgData(responses)).msgResponses.map((a) => [a.typeUrl, Buffer.from(a.value).toString('hex')])).toEqual(
          responses.map((r) => [r.typeUrl, Buffer.from(r.value).toString('hex')]),
        );
      }),
      { numRuns: 500 },
    );
    expect(Buffer.from(encodeTxMsgData([{ typeUrl: '/x.MsgR', value: new Uint8Array() }])).toString('hex')).toBe(
      Buffer.from(TxMsgData.encode({ data: [], msgResponses: [Any.fromPartial({ typeUrl: '/x.MsgR', value: new Uint8Array() })] }).finish()).toString('hex'),
    );
  });
});
