/**
 * One ABCI request → one App call → one encoded response. No state of its
 * own; every decision is the App's.
 */
import { tendermint } from '../../proto/gen/tendermint.js';
import { DEFAULT_CONSENSUS_PARAMS, type App } from '../app.js';
import * as codec from './codec.js';
import { encodeCheckTxFrame, encodeFinalizeBlockFrame, encodeResponseFrame } from './encode.js';

import abci = tendermint.abci;

/** The App methods the server drives (an App, or a test double with the same shape). */
export type AbciApp = Pick<
  App,
  | 'info'
  | 'initChain'
  | 'query'
  | 'checkTx'
  | 'prefetchSignatures'
  | 'prepareProposal'
  | 'processProposal'
  | 'extendVote'
  | 'verifyVoteExtension'
  | 'finalizeBlockAsync'
  | 'commit'
  | 'listSnapshots'
  | 'loadSnapshotChunk'
  | 'offerSnapshot'
  | 'applySnapshotChunk'
>;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type AbciLogger = (level: LogLevel, message: string) => void;

/** A request the server cannot serve (unknown type, undecodable body): answered with an exception. */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

export type RequestType = NonNullable<abci.Request['value']>;

/** Connection-independent request handling. */
export class AbciHandler {
  constructor(
    readonly app: AbciApp,
    private readonly log: AbciLogger,
  ) {}

  /**
   * Answer one request. Returns the encoded Response frame (or a promise of
   * it, for the async App calls). Throws on App errors and bad requests: the
   * caller turns the error into Response.exception.
   */
  handle(req: abci.Request): Buffer | Promise<Buffer> {
    const app = this.app;
    const frame = encodeResponseFrame;
    switch (req.value) {
      case 'echo':
        return frame({ echo: { message: req.echo!.message ?? '' } });
      case 'flush':
        return frame({ flush: {} });
      case 'info': {
        const r = req.info!;
        this.log('debug', `Info from CometBFT ${r.version || '?'} (block protocol ${r.blockVersion?.toString() ?? '?'}, p2p ${r.p2pVersion?.toString() ?? '?'}, abci ${r.abciVersion || '?'})`);
        const info = app.info();
        return frame({ info: codec.infoFromApp(info) });
      }
      case 'initChain': {
        const r = codec.initChainToApp(req.initChain!, DEFAULT_CONSENSUS_PARAMS);
        const out = app.initChain(r);
        this.log('info', `InitChain ${r.chainId} initial height ${r.initialHeight}: genesis app hash ${hex(out.appHash)}`);
        return frame({ initChain: codec.initChainFromApp(r, out) });
      }
      case 'query':
        return frame({ query: codec.queryFromApp(app.query(codec.queryToApp(req.query!))) });
      case 'checkTx':
        return encodeCheckTxFrame(app.checkTx(codec.checkTxToApp(req.checkTx!)));
      case 'prepareProposal': {
        const r = codec.prepareProposalToApp(req.prepareProposal!);
        const out = app.prepareProposal(r);
        const size = codec.protoSizeOfTxs(out.txs);
        // CometBFT panics on an over-size proposal; say why here first.
        if (size > r.maxTxBytes) throw new Error(`PrepareProposal returned ${size} bytes of txs, max_tx_bytes is ${r.maxTxBytes}`);
        return frame({ prepareProposal: { txs: out.txs } });
      }
      case 'processProposal': {
        const r = codec.processProposalToApp(req.processProposal!);
        const status = codec.proposalStatusFromApp(app.processProposal(r));
        if (status === abci.ResponseProcessProposal.ProposalStatus.REJECT) this.log('warn', `ProcessProposal rejected the proposal at height ${r.height} (${r.txs.length} txs)`);
        return frame({ processProposal: { status } });
      }
      case 'extendVote': {
        const out = app.extendVote(codec.extendVoteToApp(req.extendVote!));
        return frame({ extendVote: { voteExtension: out.voteExtension } });
      }
      case 'verifyVoteExtension':
        return frame({ verifyVoteExtension: { status: codec.verifyStatusFromApp(app.verifyVoteExtension(codec.verifyVoteExtensionToApp(req.verifyVoteExtension!))) } });
      case 'finalizeBlock': {
        const r = codec.finalizeBlockToApp(req.finalizeBlock!);
        return app.finalizeBlockAsync(r).then((out) => {
          if (out.txResults.length !== r.txs.length) throw new Error(`FinalizeBlock returned ${out.txResults.length} tx results for ${r.txs.length} txs`);
          let failed = 0;
          for (const t of out.txResults) if (t.code !== 0) failed++;
          this.log('info', `FinalizeBlock ${r.height}: ${r.txs.length} txs (${failed} failed), app hash ${hex(out.appHash)}`);
          return encodeFinalizeBlockFrame(out);
        });
      }
      case 'commit': {
        const out = app.commit();
        return frame({ commit: { retainHeight: codec.int64(out.retainHeight) } });
      }
      // State sync (chain/snapshot/README.md): this node's snapshots, and restoring an empty node from a peer's.
      case 'listSnapshots':
        return frame({ listSnapshots: { snapshots: app.listSnapshots().map(codec.snapshotFromApp) } });
      case 'loadSnapshotChunk': {
        const r = req.loadSnapshotChunk!;
        return frame({ loadSnapshotChunk: { chunk: app.loadSnapshotChunk(codec.toBigInt(r.height), r.format ?? 0, r.chunk ?? 0) } });
      }
      case 'offerSnapshot': {
        const r = req.offerSnapshot!;
        // A request without a snapshot is malformed: REJECT it (CometBFT then offers the next one).
        if (!r.snapshot) return frame({ offerSnapshot: { result: abci.ResponseOfferSnapshot.Result.REJECT } });
        const out = app.offerSnapshot(codec.snapshotToApp(r.snapshot), r.appHash ?? new Uint8Array());
        return frame({ offerSnapshot: { result: codec.offerResultFromApp(out.result) } });
      }
      case 'applySnapshotChunk': {
        const r = req.applySnapshotChunk!;
        const out = app.applySnapshotChunk(r.index ?? 0, r.chunk ?? new Uint8Array(), r.sender ?? '');
        return frame({ applySnapshotChunk: { result: codec.applyChunkResultFromApp(out.result), refetchChunks: out.refetchChunks, rejectSenders: out.rejectSenders } });
      }
      default:
        throw new BadRequestError('unknown or empty request type');
    }
  }
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}
