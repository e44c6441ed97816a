/**
 * Wire compatibility of proto/tendermint (our protobufjs bundle) with
 * cosmjs-types' tendermint.abci (generated from CometBFT v0.38's protos):
 * every Request and Response member, with every field set to a non-default
 * value, encoded by cosmjs-types, decoded and re-encoded by our bundle gives
 * the same bytes, and decodes back to the same value. A wrong field number
 * or type anywhere breaks this.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';
import type { DeepPartial } from 'cosmjs-types/helpers';
import { tendermint } from '../../proto/gen/tendermint.js';
import * as codec from '../../chain/abci/codec.js';

const b = (s: string) => Buffer.from(s);
const time = { seconds: 1_767_225_601n, nanos: 123_456_789 };
const validator = { address: Buffer.alloc(20, 1), power: 77n };
const commitInfo = { round: 3, votes: [{ validator, blockIdFlag: 2 }, { validator: { address: Buffer.alloc(20, 2), power: 5n }, blockIdFlag: 3 }] };
const extendedCommitInfo = { round: 4, votes: [{ validator, voteExtension: b('ext'), extensionSignature: Buffer.alloc(64, 9), blockIdFlag: 2 }] };
const misbehavior = [{ type: 2, validator, height: 9n, time, totalVotingPower: 1000n }];
const consensusParams = {
  block: { maxBytes: 22_020_096n, maxGas: -1n },
  evidence: { maxAgeNumBlocks: 100_000n, maxAgeDuration: { seconds: 172_800n, nanos: 1 }, maxBytes: 1_048_576n },
  validator: { pubKeyTypes: ['ed25519', 'secp256k1'] },
  version: { app: 3n },
  abci: { voteExtensionsEnableHeight: 12n },
};
const validatorUpdates = [
  { pubKey: { ed25519: Buffer.alloc(32, 4) }, power: 10n },
  { pubKey: { secp256k1: Buffer.alloc(33, 2) }, power: 0n + 1n },
];
const events = [{ type: 'transfer', attributes: [{ key: 'amount', value: '5uusdc', index: true }, { key: 'memo', value: 'm', index: false }] }];
const snapshot = { height: 100n, format: 2, chunks: 7, hash: Buffer.alloc(32, 8), metadata: b('meta') };
const execTxResult = { code: 5, data: b('d'), log: 'l', info: 'i', gasWanted: 200_000n, gasUsed: 12_345n, events, codespace: 'bank' };

const requests: Record<string, DeepPartial<Request>> = {
  echo: { echo: { message: 'hi' } },
  flush: { flush: {} },
  info: { info: { version: '0.38.25', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' } },
  initChain: { initChain: { time, chainId: 'c', consensusParams, validators: validatorUpdates, appStateBytes: b('{"bank":{}}'), initialHeight: 5n } },
  query: { query: { data: b('k'), path: '/p', height: 3n, prove: true } },
  checkTx: { checkTx: { tx: b('tx'), type: 1 } },
  commit: { commit: {} },
  listSnapshots: { listSnapshots: {} },
  offerSnapshot: { offerSnapshot: { snapshot, appHash: Buffer.alloc(32, 3) } },
  loadSnapshotChunk: { loadSnapshotChunk: { height: 100n, format: 2, chunk: 6 } },
  applySnapshotChunk: { applySnapshotChunk: { index: 6, chunk: b('chunk'), sender: 'peer' } },
  prepareProposal: { prepareProposal: { maxTxBytes: 1_000_000n, txs: [b('a'), b('bb')], localLastCommit: extendedCommitInfo, misbehavior, height: 10n, time, nextValidatorsHash: Buffer.alloc(32, 5), proposerAddress: Buffer.alloc(20, 6) } },
  processProposal: { processProposal: { txs: [b('a')], proposedLastCommit: commitInfo, misbehavior, hash: Buffer.alloc(32, 7), height: 10n, time, nextValidatorsHash: Buffer.alloc(32, 5), proposerAddress: Buffer.alloc(20, 6) } },
  extendVote: { extendVote: { hash: Buffer.alloc(32, 7), height: 10n, time, txs: [b('a')], proposedLastCommit: commitInfo, misbehavior, nextValidatorsHash: Buffer.alloc(32, 5), proposerAddress: Buffer.alloc(20, 6) } },
  verifyVoteExtension: { verifyVoteExtension: { hash: Buffer.alloc(32, 7), validatorAddress: Buffer.alloc(20, 1), height: 10n, voteExtension: b('ext') } },
  finalizeBlock: { finalizeBlock: { txs: [b('a'), b('b')], decidedLastCommit: commitInfo, misbehavior, hash: Buffer.alloc(32, 7), height: 10n, time, nextValidatorsHash: Buffer.alloc(32, 5), proposerAddress: Buffer.alloc(20, 6) } },
};

const responses: Record<string, DeepPartial<Response>> = {
  exception: { exception: { error: 'boom' } },
  echo: { echo: { message: 'hi' } },
  flush: { flush: {} },
  info: { info: { data: 'perpchain', version: '0.1.0', appVersion: 1n, lastBlockHeight: 99n, lastBlockAppHash: Buffer.alloc(32, 1) } },
  initChain: { initChain: { consensusParams, validators: validatorUpdates, appHash: Buffer.alloc(32, 2) } },
  query: { query: { code: 1, log: 'l', info: 'i', index: 4n, key: b('k'), value: b('v'), proofOps: { ops: [{ type: 't', key: b('k'), data: b('d') }] }, height: 8n, codespace: 'q' } },
  checkTx: { checkTx: { code: 3, data: b('d'), log: 'l', info: 'i', gasWanted: 100n, gasUsed: 50n, events, codespace: 'tx' } },
  commit: { commit: { retainHeight: 42n } },
  listSnapshots: { listSnapshots: { snapshots: [snapshot, { ...snapshot, height: 200n }] } },
  offerSnapshot: { offerSnapshot: { result: 3 } },
  loadSnapshotChunk: { loadSnapshotChunk: { chunk: b('c') } },
  applySnapshotChunk: { applySnapshotChunk: { result: 3, refetchChunks: [1, 2, 300], rejectSenders: ['p1', 'p2'] } },
  prepareProposal: { prepareProposal: { txs: [b('a'), b('b')] } },
  processProposal: { processProposal: { status: 2 } },
  extendVote: { extendVote: { voteExtension: b('ext') } },
  verifyVoteExtension: { verifyVoteExtension: { status: 1 } },
  finalizeBlock: { finalizeBlock: { events, txResults: [execTxResult, { ...execTxResult, code: 0 }], validatorUpdates, consensusParamUpdates: consensusParams, appHash: Buffer.alloc(32, 3) } },
};

describe('tendermint.abci codec: our protobufjs bundle vs cosmjs-types', () => {
  it('covers every Request and Response member', () => {
    expect(Object.keys(requests).sort()).toEqual(Object.keys(Request.fromPartial({})).sort());
    expect(Object.keys(responses).sort()).toEqual(Object.keys(Response.fromPartial({})).sort());
  });

  for (const [name, partial] of Object.entries(requests)) {
    it(`Request.${name}: same bytes both ways`, () => {
      const bytes = Request.encode(Request.fromPartial(partial)).finish();
      const ours = tendermint.abci.Request.decode(bytes);
      expect(ours.value).toBe(name);
      const again = tendermint.abci.Request.encode(ours).finish();
      expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
      expect(Request.decode(again)).toEqual(Request.decode(bytes));
    });
  }

  for (const [name, partial] of Object.entries(responses)) {
    it(`Response.${name}: same bytes both ways`, () => {
      const bytes = Response.encode(Response.fromPartial(partial)).finish();
      const ours = tendermint.abci.Response.decode(bytes);
      expect(ours.value).toBe(name);
      const again = tendermint.abci.Response.encode(ours).finish();
      expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
    });
  }

  it('maps requests to the App types (times, 64-bit values, commit info, params, validators)', () => {
    // (decoding from a Buffer, as the server does, so bytes fields come out as Buffers)
    const fin = codec.finalizeBlockToApp(tendermint.abci.Request.decode(Buffer.from(Request.encode(Request.fromPartial(requests.finalizeBlock!)).finish())).finalizeBlock!);
    expect(fin.timeNs).toBe(1_767_225_601_123_456_789n);
    expect(fin.height).toBe(10n);
    expect(fin.decidedLastCommit).toEqual({ round: 3, votes: [{ validatorAddress: Buffer.alloc(20, 1), power: 77n, blockIdFlag: 2 }, { validatorAddress: Buffer.alloc(20, 2), power: 5n, blockIdFlag: 3 }] });
    expect(fin.misbehavior[0]).toMatchObject({ type: 'light_client_attack', height: 9n, totalVotingPower: 1000n });

    const init = codec.initChainToApp(tendermint.abci.Request.decode(Buffer.from(Request.encode(Request.fromPartial(requests.initChain!)).finish())).initChain!, {
      block: { maxBytes: 1n, maxGas: 1n },
      abci: { voteExtensionsEnableHeight: 0n },
    });
    expect(init.consensusParams).toEqual({ block: { maxBytes: 22_020_096n, maxGas: -1n }, abci: { voteExtensionsEnableHeight: 12n } });
    expect(init.validators).toEqual([
      { pubKeyType: 'ed25519', pubKeyBytes: Buffer.alloc(32, 4), power: 10n },
      { pubKeyType: 'secp256k1', pubKeyBytes: Buffer.alloc(33, 2), power: 1n },
    ]);
    expect(init.initialHeight).toBe(5n);
  });

  it('64-bit values beyond 2^53 and negative times survive both directions', () => {
    const big = 2n ** 62n + 12345n;
    expect(codec.toBigInt(codec.int64(big))).toBe(big);
    expect(codec.toBigInt(codec.int64(-big))).toBe(-big);
    expect(codec.toBigInt(codec.uint64(2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
    expect(() => codec.int64(2n ** 63n)).toThrow(RangeError);
    expect(codec.timeToNs(codec.nsToTime(-1n))).toBe(-1n);
    expect(codec.nsToTime(-1n)).toMatchObject({ nanos: 999_999_999 });
    const bytes = tendermint.abci.Response.encode({ finalizeBlock: codec.finalizeBlockFromApp({ events: [], txResults: [{ code: 0, codespace: '', log: '', data: new Uint8Array(), gasWanted: big, gasUsed: 1n, events: [] }], validatorUpdates: [], appHash: new Uint8Array() }) }).finish();
    expect(Response.decode(bytes).finalizeBlock!.txResults[0]!.gasWanted).toBe(big);
  });

  it('counts proto sizes of txs as CometBFT does (tag + uvarint length + bytes)', () => {
    expect(codec.protoSizeOfTxs([new Uint8Array(1), new Uint8Array(127), new Uint8Array(128), new Uint8Array(300)])).toBe(BigInt(3 + 129 + 131 + 303));
  });
});
