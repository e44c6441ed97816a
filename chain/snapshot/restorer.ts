import { MerkleIndex, isLatin1, withLeafHashes } from '../store/merkle.js';
import { tableOf } from '../store/kv.js';
import { SNAPSHOT_FORMAT, SnapshotFormatError, decodeChunk, decodeMetadata, sha256, type SnapshotMeta } from './format.js';
import type { SnapshotInfo } from './store.js';

/** ResponseOfferSnapshot.Result, by name. */
export type OfferResult = 'accept' | 'abort' | 'reject' | 'reject_format' | 'reject_sender';
/** ResponseApplySnapshotChunk.Result, by name. */
export type ApplyChunkResult = 'accept' | 'abort' | 'retry' | 'retry_snapshot' | 'reject_snapshot';

export interface OfferOutcome {
  result: OfferResult;
  /** Why, for the log (a person reads it). */
  reason: string;
}

export interface ApplyOutcome {
  result: ApplyChunkResult;
  reason: string;
  refetchChunks: number[];
  rejectSenders: string[];
  /** Set when this chunk completed the snapshot and the state hashes to the trusted app hash. */
  restored?: RestoredState;
}

export interface RestoredState {
  height: bigint;
  appHash: Uint8Array;
  chainId: string;
  initialHeight: bigint;
  /** Every entry in key order, with its Merkle leaf. */
  entries: Array<[string, Uint8Array, Uint8Array]>;
  /** The Merkle index of exactly those entries (its root is appHash). */
  merkle: MerkleIndex;
}

interface InProgress {
  snapshot: SnapshotInfo;
  meta: SnapshotMeta;
  trustedAppHash: Buffer;
  next: number;
  lastKey: string;
  entries: Array<[string, Uint8Array, Uint8Array]>;
  merkle: MerkleIndex;
}

/**
 * The restoring side of state sync, as a state machine that knows nothing of
 * the App: OfferSnapshot checks a snapshot's metadata and accepts it,
 * ApplySnapshotChunk checks each chunk against the hash the metadata lists
 * for it (a chunk that differs came from a bad peer: fetched again from
 * another one), parses its entries (keys strictly ascending across the whole
 * snapshot), hashes them into a Merkle index, and after the last chunk
 * compares the root with the app hash CometBFT's light client verified.
 * Only that app hash is trusted; everything else comes from peers.
 */
export class SnapshotRestorer {
  private current: InProgress | undefined;

  /** Whether a snapshot is accepted and being applied. */
  get restoring(): boolean {
    return this.current !== undefined;
  }

  /**
   * `appHeight`: the App's committed height (state sync only fills an empty App).
   * `chainId`: the chain this node belongs to (its home's genesis); a snapshot of another is rejected. Required:
   * the chain id is not part of the app hash, so the metadata's is only a peer's word, and a node that took a
   * wrong one rejects every signed tx of the real chain (signatures cover the chain id) and halts on the next
   * block's app hash. Without it every offer is aborted.
   */
  offer(snapshot: SnapshotInfo, trustedAppHash: Uint8Array, ctx: { appHeight: bigint; chainId: string | undefined }): OfferOutcome {
    this.current = undefined; // a new offer replaces any restore in progress (CometBFT gave up on it)
    if (ctx.appHeight > 0n) return { result: 'abort', reason: `the app already holds state at height ${ctx.appHeight}: state sync only fills an empty node` };
    if (ctx.chainId === undefined || ctx.chainId === '') {
      return { result: 'abort', reason: "this node does not know its chain id (no config/genesis.json in its home), and a snapshot's own is only a peer's word: give the home the chain's genesis.json (or `perpchain init --chain-id <id>`) before state sync" };
    }
    if (snapshot.format !== SNAPSHOT_FORMAT) return { result: 'reject_format', reason: `snapshot format ${snapshot.format}; this version restores format ${SNAPSHOT_FORMAT}` };
    if (snapshot.height <= 0n) return { result: 'reject', reason: `snapshot height ${snapshot.height}` };
    if (trustedAppHash.length !== 32) return { result: 'reject', reason: `trusted app hash of ${trustedAppHash.length} bytes, expected 32` };
    let meta: SnapshotMeta;
    try {
      meta = decodeMetadata(snapshot.metadata);
    } catch (e) {
      return { result: 'reject', reason: `bad metadata: ${(e as Error).message}` };
    }
    if (meta.chunkHashes.length === 0 || meta.chunkHashes.length !== snapshot.chunks) {
      return { result: 'reject', reason: `the snapshot says ${snapshot.chunks} chunks, its metadata lists ${meta.chunkHashes.length}` };
    }
    if (!sha256(snapshot.metadata).equals(Buffer.from(snapshot.hash))) return { result: 'reject', reason: 'the snapshot hash is not the sha256 of its metadata' };
    if (meta.chainId !== ctx.chainId) return { result: 'reject', reason: `snapshot of chain "${meta.chainId}", this node is on "${ctx.chainId}"` };
    if (meta.initialHeight <= 0n || meta.initialHeight > snapshot.height) return { result: 'reject', reason: `initial height ${meta.initialHeight} for a snapshot at height ${snapshot.height}` };
    this.current = { snapshot, meta, trustedAppHash: Buffer.from(trustedAppHash), next: 0, lastKey: '', entries: [], merkle: new MerkleIndex() };
    return { result: 'accept', reason: `snapshot of height ${snapshot.height}, ${snapshot.chunks} chunks` };
  }

  apply(index: number, chunk: Uint8Array, sender: string): ApplyOutcome {
    const c = this.current;
    const out = (result: ApplyChunkResult, reason: string, extra: Partial<ApplyOutcome> = {}): ApplyOutcome => ({ result, reason, refetchChunks: [], rejectSenders: [], ...extra });
    if (!c) return out('abort', 'no snapshot was accepted');
    if (index !== c.next) {
      // CometBFT applies chunks in order; anything else means its view and ours differ: start the snapshot over
      this.current = undefined;
      return out('retry_snapshot', `chunk ${index} arrived, expected chunk ${c.next}`);
    }
    if (!sha256(chunk).equals(c.meta.chunkHashes[index]!)) {
      return out('retry', `chunk ${index} from ${sender || 'a peer'} does not match the hash in the snapshot's metadata`, { refetchChunks: [index], rejectSenders: sender ? [sender] : [] });
    }
    // From here on the chunk is the one the metadata names: if it is bad, the snapshot is.
    const fail = (reason: string): ApplyOutcome => {
      this.current = undefined;
      return out('reject_snapshot', reason);
    };
    let entries: Array<[string, Uint8Array]>;
    try {
      entries = decodeChunk(chunk);
    } catch (e) {
      if (e instanceof SnapshotFormatError) return fail(`chunk ${index}: ${e.message}`);
      throw e;
    }
    for (const [key] of entries) {
      if (!(key > c.lastKey)) return fail(`chunk ${index}: key "${key.slice(0, 80)}" does not sort after "${c.lastKey.slice(0, 80)}"`);
      if (!isLatin1(key)) return fail(`chunk ${index}: key "${key.slice(0, 80)}" is not one byte per character`);
      try {
        tableOf(key);
      } catch {
        return fail(`chunk ${index}: "${key.slice(0, 80)}" is not a store key`);
      }
      c.lastKey = key;
    }
    for (const [key, value, leaf] of withLeafHashes(entries)) {
      c.merkle.loadLeaf(key, leaf!);
      c.entries.push([key, value!, leaf!]);
    }
    c.next++;
    if (c.next < c.snapshot.chunks) return out('accept', `chunk ${index + 1} of ${c.snapshot.chunks}`);
    c.merkle.rebuild();
    const root = c.merkle.root();
    if (!root.equals(c.trustedAppHash)) {
      return fail(`the restored state hashes to ${root.toString('hex').toUpperCase()}, the chain's app hash at height ${c.snapshot.height} is ${c.trustedAppHash.toString('hex').toUpperCase()}`);
    }
    this.current = undefined;
    return out('accept', `restored ${c.entries.length} entries at height ${c.snapshot.height}`, {
      restored: { height: c.snapshot.height, appHash: root, chainId: c.meta.chainId, initialHeight: c.meta.initialHeight, entries: c.entries, merkle: c.merkle },
    });
  }
}
