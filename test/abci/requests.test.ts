/**
 * The remaining request types over the socket: Echo, Info, Query (module
 * JSON paths, app/info, store/ with a Merkle proof, errors), the snapshot
 * calls (nothing offered, offers aborted), vote extensions (ACCEPT/REJECT
 * enums, commit info passed through), and CheckTx RECHECK after a Commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckTxType,
  ResponseApplySnapshotChunk_Result as ChunkResult,
  ResponseOfferSnapshot_Result as OfferResult,
  ResponseVerifyVoteExtension_VerifyStatus as VerifyStatus,
} from 'cosmjs-types/tendermint/abci/types';
import { BlockIDFlag } from 'cosmjs-types/tendermint/types/validator';
import { App } from '../../chain/app.js';
import { verifyProof, type MerkleProof } from '../../chain/store/merkle.js';
import { MERKLE_PROOF_OP, type AbciServer } from '../../chain/abci/index.js';
import type { ExtendVoteRequest, FinalizeBlockRequest, PrepareProposalRequest } from '../../chain/types.js';
import { testKeys } from '../helpers/keys.js';
import { AbciTestClient, encodeRequest } from './client.js';
import { appFinalize, blockHash, finalizeRequest, initChainRequest, prepareRequest, referenceChain, startTestServer, ts, VALIDATOR } from './harness.js';

describe('ABCI requests', () => {
  const keys = testKeys(3, 'abci-requests');
  const ref = referenceChain({ keys, balance: 50_000_000n });
  const seen: { prepare?: PrepareProposalRequest; extend?: ExtendVoteRequest; finalize?: FinalizeBlockRequest } = {};
  let app: App;
  let server: AbciServer;
  let c: AbciTestClient;

  beforeAll(async () => {
    app = App.open({});
    // Record what reaches the App, to check the pass-through of commit info.
    const prepare = app.prepareProposal.bind(app);
    app.prepareProposal = (r) => ((seen.prepare = r), prepare(r));
    const extend = app.extendVote.bind(app);
    app.extendVote = (r) => ((seen.extend = r), extend(r));
    const finalize = app.finalizeBlockAsync.bind(app);
    app.finalizeBlockAsync = (r) => ((seen.finalize = r), finalize(r));
    ({ server } = await startTestServer({ app }));
    c = await AbciTestClient.connect(server.address);
    await c.call({ initChain: initChainRequest(ref.appState) });
    await c.call({ finalizeBlock: finalizeRequest(1n, []) });
    await c.call({ commit: {} });
    ref.app.finalizeBlock(appFinalize(1n, []));
    ref.app.commit();
  });

  afterAll(async () => {
    c?.destroy();
    await server?.close();
    app?.close();
  });

  it('echo', async () => {
    expect((await c.call({ echo: { message: 'hello perpchain ✓' } })).echo!.message).toBe('hello perpchain ✓');
  });

  it('info', async () => {
    const r = (await c.call({ info: {} })).info!;
    expect(r).toMatchObject({ data: 'perpchain', version: '0.1.0', appVersion: 1n, lastBlockHeight: 1n });
    expect(Buffer.from(r.lastBlockAppHash).equals(Buffer.from(ref.app.appHash))).toBe(true);
  });

  it('query: bank/balance/<addr> and app/info answer JSON at the committed height', async () => {
    const bal = (await c.call({ query: { path: `/bank/balance/${keys[1]!.address}`, data: new Uint8Array(), height: 0n, prove: false } })).query!;
    expect(bal.code).toBe(0);
    expect(bal.height).toBe(1n);
    expect(JSON.parse(Buffer.from(bal.value).toString())).toEqual({ address: keys[1]!.address, denom: 'uusdc', amount: '50000000' });

    const info = (await c.call({ query: { path: 'app/info', data: new Uint8Array(), height: 0n, prove: false } })).query!;
    expect(JSON.parse(Buffer.from(info.value).toString())).toMatchObject({ chain_id: 'perpchain-test-1', height: '1', app_hash: Buffer.from(ref.app.appHash).toString('hex').toUpperCase() });
  });

  it('query: store/<key> with prove returns the value and a Merkle proof against the app hash', async () => {
    const key = `bank/bal/${keys[0]!.address}`;
    const r = (await c.call({ query: { path: `store/${key}`, data: new Uint8Array(), height: 0n, prove: true } })).query!;
    expect(r.code).toBe(0);
    expect(Buffer.from(r.value).toString()).toBe('50000000');
    expect(r.proofOps?.ops.length).toBe(1);
    const op = r.proofOps!.ops[0]!;
    expect(op.type).toBe(MERKLE_PROOF_OP);
    expect(Buffer.from(op.key).toString()).toBe(key);
    const proof = JSON.parse(Buffer.from(op.data).toString()) as MerkleProof;
    expect(verifyProof(proof, r.value, ref.app.appHash)).toBe(true);
  });

  it('query errors are codes, not exceptions', async () => {
    const unknown = (await c.call({ query: { path: 'nope/nothing', data: new Uint8Array(), height: 0n, prove: false } })).query!;
    expect(unknown).toMatchObject({ code: 2, codespace: 'query' });
    expect(unknown.log).toMatch(/no query/);
    const old = (await c.call({ query: { path: 'app/info', data: new Uint8Array(), height: 7n, prove: false } })).query!;
    expect(old).toMatchObject({ code: 3, codespace: 'query' });
  });

  it('snapshots: none listed by a node without any, an offer to a node with state aborted, chunks empty, never UNKNOWN', async () => {
    expect((await c.call({ listSnapshots: {} })).listSnapshots!.snapshots).toEqual([]);
    const snapshot = { height: 1n, format: 1, chunks: 1, hash: Buffer.alloc(32, 1), metadata: new Uint8Array() };
    expect((await c.call({ offerSnapshot: { snapshot, appHash: Buffer.alloc(32) } })).offerSnapshot!.result).toBe(OfferResult.ABORT);
    expect((await c.call({ offerSnapshot: { appHash: Buffer.alloc(32) } })).offerSnapshot!.result).toBe(OfferResult.REJECT);
    expect((await c.call({ loadSnapshotChunk: { height: 1n, format: 1, chunk: 0 } })).loadSnapshotChunk!.chunk.length).toBe(0);
    expect((await c.call({ applySnapshotChunk: { index: 0, chunk: Buffer.from('x'), sender: 'peer' } })).applySnapshotChunk!.result).toBe(ChunkResult.ABORT);
  });

  it('vote extensions: ExtendVote passes the block and its commit info; VerifyVoteExtension ACCEPT/REJECT', async () => {
    const proposedLastCommit = { round: 2, votes: [{ validator: { address: VALIDATOR.address, power: 10n }, blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_COMMIT }, { validator: { address: Buffer.alloc(20, 3), power: 4n }, blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_ABSENT }] };
    const ext = await c.call({ extendVote: { hash: blockHash(2n), height: 2n, time: ts(5_000_000_123n), txs: [Buffer.from('t')], proposedLastCommit, misbehavior: [], nextValidatorsHash: Buffer.alloc(32, 9), proposerAddress: VALIDATOR.address } });
    expect(ext.extendVote!.voteExtension.length).toBe(0);
    expect(seen.extend).toMatchObject({ height: 2n, timeNs: 5_000_000_123n });
    expect((seen.extend as unknown as { proposedLastCommit: unknown }).proposedLastCommit).toEqual({
      round: 2,
      votes: [
        { validatorAddress: VALIDATOR.address, power: 10n, blockIdFlag: 2 },
        { validatorAddress: Buffer.alloc(20, 3), power: 4n, blockIdFlag: 1 },
      ],
    });

    // The statuses are the App's decisions, mapped to the enums (never UNKNOWN).
    const status = (ext: Uint8Array) => (app.verifyVoteExtension({ hash: blockHash(2n), validatorAddress: VALIDATOR.address, height: 2n, voteExtension: ext }) === 'accept' ? VerifyStatus.ACCEPT : VerifyStatus.REJECT);
    const empty = new Uint8Array();
    const malformed = Buffer.from([0x0a, 0xff]); // a length prefix running past the end: not a vote extension
    expect(status(empty)).toBe(VerifyStatus.ACCEPT);
    expect(status(malformed)).toBe(VerifyStatus.REJECT);
    for (const ext of [empty, malformed]) {
      const r = await c.call({ verifyVoteExtension: { hash: blockHash(2n), validatorAddress: VALIDATOR.address, height: 2n, voteExtension: ext } });
      expect(r.verifyVoteExtension!.status).toBe(status(ext));
    }
  });

  it('PrepareProposal passes local_last_commit with extensions; FinalizeBlock passes decided_last_commit and misbehavior', async () => {
    const req = prepareRequest(2n, []);
    req.localLastCommit = {
      round: 1,
      votes: [{ validator: { address: VALIDATOR.address, power: 10n }, blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_COMMIT, voteExtension: Buffer.from('ext'), extensionSignature: Buffer.alloc(64, 5) }],
    };
    await c.call({ prepareProposal: req });
    expect(seen.prepare!.localLastCommit).toEqual({
      round: 1,
      votes: [{ validatorAddress: VALIDATOR.address, power: 10n, blockIdFlag: 2, voteExtension: Buffer.from('ext'), extensionSignature: Buffer.alloc(64, 5) }],
    });
    expect(seen.prepare!.maxTxBytes).toBe(4_000_000n);

    const fin = finalizeRequest(2n, []);
    fin.misbehavior = [{ type: 1, validator: { address: Buffer.alloc(20, 3), power: 4n }, height: 1n, time: ts(7_000_000_000n), totalVotingPower: 14n }];
    await c.call({ finalizeBlock: fin });
    expect(seen.finalize!.decidedLastCommit).toEqual({ round: 0, votes: [{ validatorAddress: VALIDATOR.address, power: 10n, blockIdFlag: 2 }] });
    expect((seen.finalize as unknown as { misbehavior: unknown }).misbehavior).toEqual([
      { type: 'duplicate_vote', validatorAddress: Buffer.alloc(20, 3), power: 4n, height: 1n, timeNs: 7_000_000_000n, totalVotingPower: 14n },
    ]);
    await c.call({ commit: {} });
    ref.app.finalizeBlock(appFinalize(2n, []));
    ref.app.commit();
  });

  it('RECHECK after Commit: a tx whose sequence a committed block used becomes invalid; others stay valid', async () => {
    const [a, b, other] = keys;
    const seqA = ref.nextSequence(a!.address);
    const mempoolTx = await ref.send(a!, b!.address, 1n, { sequence: seqA }); // in our mempool
    const blockTx = await ref.send(a!, other!.address, 2n, { sequence: seqA }); // same sequence, reached the proposer elsewhere
    const survivor = await ref.send(b!, a!.address, 3n);
    const mem = await AbciTestClient.connect(server.address);
    await mem.writeRaw(Buffer.concat([encodeRequest({ checkTx: { tx: mempoolTx, type: CheckTxType.NEW } }), encodeRequest({ checkTx: { tx: survivor, type: CheckTxType.NEW } }), encodeRequest({ flush: {} })]));
    const [n1, n2] = await mem.nextN(3);
    expect([n1!.checkTx!.code, n2!.checkTx!.code]).toEqual([0, 0]);

    const fin = await c.call({ finalizeBlock: finalizeRequest(3n, [blockTx]) });
    expect(fin.finalizeBlock!.txResults[0]!.code).toBe(0);
    // Between FinalizeBlock and Commit, queries still see the committed state.
    const q = (await mem.call({ query: { path: `bank/balance/${other!.address}`, data: new Uint8Array(), height: 0n, prove: false } })).query!;
    expect(q.height).toBe(2n);
    expect(JSON.parse(Buffer.from(q.value).toString()).amount).toBe('50000000');
    await c.call({ commit: {} });

    // After Commit CometBFT rechecks what is left in its mempool, in order.
    await mem.writeRaw(Buffer.concat([encodeRequest({ checkTx: { tx: mempoolTx, type: CheckTxType.RECHECK } }), encodeRequest({ checkTx: { tx: survivor, type: CheckTxType.RECHECK } }), encodeRequest({ flush: {} })]));
    const [r1, r2] = await mem.nextN(3);
    expect(r1!.checkTx!.code).not.toBe(0);
    expect(r1!.checkTx!.codespace).toBe('tx');
    expect(r1!.checkTx!.log).toMatch(/sequence/);
    expect(r2!.checkTx!.code).toBe(0);
    // Submitting it again fails the same way.
    expect((await mem.call({ checkTx: { tx: mempoolTx, type: CheckTxType.NEW } })).checkTx!.code).toBe(r1!.checkTx!.code);
    mem.destroy();
  });
});
