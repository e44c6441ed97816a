/**
 * The direct encoders of ResponseCheckTx and ResponseFinalizeBlock frames
 * (chain/abci/encode.ts) against two independent encoders: byte-identical to
 * cosmjs-types' canonical output for arbitrary results (UTF-8, empty and
 * default fields, 64-bit and negative gas), and decodable by our protobufjs
 * bundle to the same values.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Response } from 'cosmjs-types/tendermint/abci/types';
import { tendermint } from '../../proto/gen/tendermint.js';
import { encodeCheckTxFrame, encodeFinalizeBlockFrame, encodeResponseFrame } from '../../chain/abci/encode.js';
import { readUvarint } from '../../chain/abci/framing.js';
import { toBigInt } from '../../chain/abci/codec.js';
import type { AbciEvent, ExecTxResult, FinalizeBlockResult } from '../../chain/types.js';

const text = fc.oneof(fc.constant(''), fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ minLength: 60, maxLength: 200 }));
const event: fc.Arbitrary<AbciEvent> = fc.record({
  type: text,
  attributes: fc.array(fc.record({ key: text, value: text, index: fc.boolean() }), { maxLength: 4 }),
});
const gas = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 1_000_000n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
const result: fc.Arbitrary<ExecTxResult> = fc.record({
  code: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200 }), fc.constant(0xffffffff)),
  codespace: text,
  log: text,
  data: fc.oneof(fc.constant(new Uint8Array()), fc.uint8Array({ maxLength: 40 })),
  gasWanted: gas,
  gasUsed: gas,
  events: fc.array(event, { maxLength: 3 }),
});

/** The frame's body after checking its length prefix. */
function body(frame: Buffer): Buffer {
  const [len, n] = readUvarint(frame, 0)!;
  expect(frame.length).toBe(n + len);
  return frame.subarray(n);
}

function cosmjsResult(r: ExecTxResult) {
  return { code: r.code, data: r.data, log: r.log, info: '', gasWanted: r.gasWanted, gasUsed: r.gasUsed, events: r.events, codespace: r.codespace };
}

describe('direct response encoders', () => {
  it('ResponseCheckTx: same bytes as cosmjs-types, same values through protobufjs', () => {
    fc.assert(
      fc.property(result, (r) => {
        const mine = body(encodeCheckTxFrame(r));
        const theirs = Response.encode(Response.fromPartial({ checkTx: cosmjsResult(r) })).finish();
        expect(mine.toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
        const back = tendermint.abci.Response.decode(mine).checkTx!;
        expect(back.code).toBe(r.code);
        expect(toBigInt(back.gasWanted)).toBe(r.gasWanted);
        expect(toBigInt(back.gasUsed)).toBe(r.gasUsed);
        expect(back.log).toBe(Buffer.from(r.log).toString()); // lone surrogates become U+FFFD, as in any UTF-8 encoder
      }),
      { numRuns: 500 },
    );
  });

  it('ResponseFinalizeBlock: same bytes as cosmjs-types', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 3 }), fc.array(result, { maxLength: 6 }), fc.uint8Array({ maxLength: 32 }), (events, txResults, appHash) => {
        const r: FinalizeBlockResult = { events, txResults, validatorUpdates: [], appHash };
        const mine = body(encodeFinalizeBlockFrame(r));
        const theirs = Response.encode(Response.fromPartial({ finalizeBlock: { events, txResults: txResults.map(cosmjsResult), appHash } })).finish();
        expect(mine.toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('a FinalizeBlock with validator or param updates goes through protobufjs and decodes the same', () => {
    const r: FinalizeBlockResult = {
      events: [],
      txResults: [{ code: 0, codespace: '', log: '', data: new Uint8Array(), gasWanted: 1n, gasUsed: 1n, events: [] }],
      validatorUpdates: [{ pubKeyType: 'ed25519', pubKeyBytes: Buffer.alloc(32, 1), power: 5n }],
      consensusParamUpdates: { block: { maxBytes: 100n, maxGas: -1n }, abci: { voteExtensionsEnableHeight: 9n } },
      appHash: Buffer.alloc(32, 2),
    };
    const got = Response.decode(body(encodeFinalizeBlockFrame(r))).finalizeBlock!;
    expect(got.validatorUpdates).toEqual([{ pubKey: { ed25519: new Uint8Array(Buffer.alloc(32, 1)) }, power: 5n }]);
    expect(got.consensusParamUpdates).toMatchObject({ block: { maxBytes: 100n, maxGas: -1n }, abci: { voteExtensionsEnableHeight: 9n } });
  });

  it('refuses values that do not fit the wire types, and recovers for the next response', () => {
    const bad = { code: -1, codespace: '', log: '', data: new Uint8Array(), gasWanted: 0n, gasUsed: 0n, events: [] };
    expect(() => encodeCheckTxFrame(bad)).toThrow(RangeError);
    expect(() => encodeCheckTxFrame({ ...bad, code: 0, gasUsed: 2n ** 63n })).toThrow(RangeError);
    const ok = { ...bad, code: 3, log: 'fine' };
    expect(Response.decode(body(encodeCheckTxFrame(ok))).checkTx).toMatchObject({ code: 3, log: 'fine' });
    expect(Response.decode(body(encodeResponseFrame({ echo: { message: 'x' } }))).echo!.message).toBe('x');
  });
});
