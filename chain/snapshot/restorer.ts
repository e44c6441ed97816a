import { GROUPS, MerkleIndex, bucketOf, groupHash, groupOf, isLatin1, leafHashInto, rootOfGroups } from '../store/merkle.js';
import { tableOf } from '../store/kv.js';
import { CHUNK_BYTES, ChunkReader, SNAPSHOT_FORMAT, SnapshotFormatError, decodeMetadata, sha256, type SnapshotMeta } from './format.js';
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
  /** Every entry with its Merkle leaf, in (bucket, key) order (the store and the committed maps take any order). */
  entries: Array<[string, Uint8Array, Uint8Array]>;
  /** The Merkle index of exactly those entries (its root is appHash). */
  merkle: MerkleIndex;
}

interface InProgress {
  snapshot: SnapshotInfo;
  meta: SnapshotMeta;
  trustedAppHash: Buffer;
  /** The next chunk expected. */
  next: number;
  /** Bucket and key of the last entry (entries come in (bucket, key) order). */
  lastBucket: number;
  lastKey: string;
  /** The group being received and its entries so far (not yet checked). */
  group: number;
  pending: Array<[string, Uint8Array, Uint8Array]>;
  pendingBytes: number;
  /** Entries of checked groups. */
  entries: Array<[string, Uint8Array, Uint8Array]>;
  merkle: MerkleIndex;
  /** Peers that sent this snapshot's chunks (all of them advertised this exact snapshot). */
  senders: Set<string>;
}

/**
 * Most bytes of entries held before their group can be checked, counting
 * ENTRY_OVERHEAD per entry for what holding it costs beyond its bytes. A
 * group is 1/4,096 of the state (about 100 KiB at 1,000,000 accounts), so
 * only a group that users forced hundreds of thousands of keys into comes
 * near this; a forged group of junk is refused at this size instead of
 * filling the memory.
 */
export const MAX_UNCHECKED_BYTES = 32 * 2 ** 20;
export const ENTRY_OVERHEAD = 100;

/**
 * The restoring side of state sync, as a state machine that knows nothing of
 * the App. Only the app hash CometBFT's light client verified is trusted;
 * everything else comes from peers. OfferSnapshot checks that the metadata's
 * group hashes (the tree's depth-3 nodes) add up to that app hash, before any
 * chunk is fetched. ApplySnapshotChunk checks each chunk against the hash the
 * metadata lists for it (a chunk that differs came from a bad peer: fetched
 * again from another one), parses its entries (strictly in (bucket, key)
 * order across the whole snapshot), and checks every group against its hash
 * as soon as the group is complete: a forged entry is caught within its
 * group, and memory holds no more than one unchecked group.
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
  offer(snapshot: SnapshotInfo, trustedAppHash: Uint8Array, ctx: { appHeight: bigint; chainId: string | undefined; initialHeight?: bigint }): OfferOutcome {
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
    if (ctx.initialHeight !== undefined && meta.initialHeight !== ctx.initialHeight) {
      return { result: 'reject', reason: `snapshot says the chain began at height ${meta.initialHeight}, this node's genesis says ${ctx.initialHeight}` };
    }
    const root = rootOfGroups(meta.groupHashes);
    if (!root.equals(Buffer.from(trustedAppHash))) {
      return { result: 'reject', reason: `the metadata's group hashes add up to ${root.toString('hex').toUpperCase()}, the chain's app hash at height ${snapshot.height} is ${Buffer.from(trustedAppHash).toString('hex').toUpperCase()}` };
    }
    this.current = {
      snapshot,
      meta,
      trustedAppHash: Buffer.from(trustedAppHash),
      next: 0,
      lastBucket: -1,
      lastKey: '',
      group: 0,
      pending: [],
      pendingBytes: 0,
      entries: [],
      merkle: new MerkleIndex(),
      senders: new Set(),
    };
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
    // From here on the chunk is the one the metadata names: if it is bad, so is the snapshot, and every peer
    // that served its chunks advertised this exact snapshot (CometBFT fetches a snapshot's chunks only from
    // those): all of them are rejected.
    if (sender) c.senders.add(sender);
    const fail = (reason: string): ApplyOutcome => {
      this.current = undefined;
      return out('reject_snapshot', reason, { rejectSenders: [...c.senders] });
    };
    // Format 1 never writes an empty chunk: a peer's metadata could list ~127,000 of them, each fetched over
    // the network before the state turned out to be missing at the end.
    if (chunk.length === 0) return fail(`chunk ${index} is empty`);
    // Format 1 closes a chunk before the entry that would take it past CHUNK_BYTES, so a larger chunk is one
    // entry: anything else is refused before it is read.
    if (chunk.length > CHUNK_BYTES && ChunkReader.firstEntryBytes(chunk) !== chunk.length) {
      return fail(`chunk ${index} holds ${chunk.length} bytes, more than ${CHUNK_BYTES}, and is not a single entry`);
    }
    // One copy of the whole chunk, the values views into it: the restored state keeps every entry, and the
    // request buffer it came in is not held. Entries are read and checked one at a time (never decoded whole first).
    const reader = new ChunkReader(Buffer.from(chunk));
    // leaves go 32 bytes each into slabs (one allocation per SLAB entries, not one per entry)
    const SLAB = 1024;
    let slab = Buffer.allocUnsafeSlow(32 * SLAB);
    let used = 0;
    for (;;) {
      let e: [string, Buffer] | undefined;
      try {
        e = reader.next();
      } catch (err) {
        if (err instanceof SnapshotFormatError) return fail(`chunk ${index}: ${err.message}`);
        throw err;
      }
      if (!e) break;
      const [key, value] = e;
      if (!isLatin1(key)) return fail(`chunk ${index}: key "${key.slice(0, 80)}" is not one byte per character`);
      try {
        tableOf(key);
      } catch {
        return fail(`chunk ${index}: "${key.slice(0, 80)}" is not a store key`);
      }
      const b = bucketOf(key);
      if (b < c.lastBucket || (b === c.lastBucket && !(key > c.lastKey))) return fail(`chunk ${index}: key "${key.slice(0, 80)}" (bucket ${b}) does not come after "${c.lastKey.slice(0, 80)}" (bucket ${c.lastBucket})`);
      c.lastBucket = b;
      c.lastKey = key;
      const problem = this.closeGroupsBefore(c, groupOf(b));
      if (problem) return fail(`chunk ${index}: ${problem}`);
      if (c.pendingBytes + key.length + value.length + ENTRY_OVERHEAD > MAX_UNCHECKED_BYTES) {
        return fail(`chunk ${index}: group ${c.group} passes ${MAX_UNCHECKED_BYTES} bytes before it can be checked`);
      }
      if (used === SLAB) {
        slab = Buffer.allocUnsafeSlow(32 * SLAB);
        used = 0;
      }
      leafHashInto(key, value, slab, 32 * used);
      const leaf = slab.subarray(32 * used, 32 * used + 32);
      used++;
      c.pending.push([key, value, leaf]);
      c.pendingBytes += key.length + value.length + ENTRY_OVERHEAD;
    }
    c.next++;
    if (c.next < c.snapshot.chunks) return out('accept', `chunk ${index + 1} of ${c.snapshot.chunks}`);
    const problem = this.closeGroupsBefore(c, GROUPS);
    if (problem) return fail(`after the last chunk: ${problem}`);
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

  /** Check the group being received and every group before `group` (those with no entries must be empty); undefined when all match. */
  private closeGroupsBefore(c: InProgress, group: number): string | undefined {
    for (; c.group < group; c.group++) {
      const expected = c.meta.groupHashes.subarray(c.group * 32, c.group * 32 + 32);
      const got = groupHash(c.group, c.pending.map((e) => [e[0], e[2]] as const));
      if (!got.equals(expected)) {
        return `the ${c.pending.length} entries of group ${c.group} hash to ${got.toString('hex').toUpperCase()}, the metadata says ${Buffer.from(expected).toString('hex').toUpperCase()}`;
      }
      for (const e of c.pending) {
        c.merkle.loadLeaf(e[0], e[2]);
        c.entries.push(e);
      }
      c.pending = [];
      c.pendingBytes = 0;
    }
    return undefined;
  }
}
