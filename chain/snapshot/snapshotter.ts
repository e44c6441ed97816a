import { SqliteStore } from '../store/sqlite.js';
import { GROUPS, bucketOf, groupHash, leafMatches, rootOfGroups } from '../store/merkle.js';
import { CHUNK_BYTES, ChunkWriter, encodeMetadata, sha256 } from './format.js';
import type { SnapshotStore, SnapshotWriter } from './store.js';

/** Entries read per event-loop turn while a snapshot is written. */
export const SNAPSHOT_SLICE_ENTRIES = 1_000;

export interface SnapshotterOptions {
  store: SnapshotStore;
  /** The node's state file: the snapshot is read through a connection of its own. */
  dbPath: string;
  /** Take a snapshot after every Commit of a height divisible by this; 0 = never. */
  interval: number;
  /** Snapshots kept (older ones are deleted when a new one is complete). */
  keepRecent: number;
  chainId: () => string;
  initialHeight: () => bigint;
  log: (line: string) => void;
  sliceEntries?: number;
  chunkBytes?: number;
  /** Called when a snapshot is complete (tests). */
  onSnapshot?: (height: bigint) => void;
}

interface Run {
  height: bigint;
  appHash: Buffer;
  db: SqliteStore;
  view: ReturnType<SqliteStore['stateView']>;
  /** Phase 1: the keys, in key order, being sorted into their buckets. */
  keys: Generator<string> | undefined;
  buckets: Array<string[] | undefined>;
  /** Phase 2: the next group, bucket slot in it and key index in that bucket; the group's keys and leaves so far. */
  group: number;
  slot: number;
  index: number;
  groupKeys: string[];
  /** The group's leaves, 32 bytes each in key order (one buffer reused for every group). */
  groupLeaves: Buffer;
  groupHashes: Buffer;
  cut: ChunkWriter;
  writer: SnapshotWriter;
  hashes: Buffer[];
  entries: number;
  bytes: number;
}

/**
 * Takes state-sync snapshots off the consensus path. At the Commit of a
 * snapshot height it opens a read transaction on a connection of its own,
 * synchronously, so the snapshot is exactly that height's state however many
 * blocks commit while it is written (sqlite's WAL keeps the reader's view).
 * Then, a slice per event-loop turn so CometBFT's and the API's requests are
 * served in between: it sorts the keys into their app-hash buckets, reads the
 * entries group by group (each value checked against its stored leaf), cuts
 * them into chunks written off the thread, and hashes each group; the groups'
 * root must be the height's app hash before the snapshot is listed. A snapshot
 * height reached while the previous one is still being written is skipped.
 */
export class Snapshotter {
  private run: Run | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: SnapshotterOptions) {}

  /** Call after each Commit (App.onCommit). */
  onCommit(height: bigint): void {
    const o = this.o;
    if (this.stopped || o.interval <= 0 || height % BigInt(o.interval) !== 0n) return;
    if (this.run) {
      o.log(`snapshot of height ${height} skipped: the one of height ${this.run.height} is still being written (raise snapshot_interval?)`);
      return;
    }
    if (o.store.has(height)) return;
    let db: SqliteStore | undefined;
    try {
      db = new SqliteStore(o.dbPath, { readonly: true });
      db.beginSnapshot();
      const at = db.lastCommitted();
      if (at.height !== height) throw new Error(`the store is at height ${at.height}`);
      const view = db.stateView();
      this.run = {
        height,
        appHash: Buffer.from(at.appHash),
        db,
        view,
        keys: view.keys(),
        buckets: new Array<string[] | undefined>(GROUPS * 16),
        group: 0,
        slot: 0,
        index: 0,
        groupKeys: [],
        groupLeaves: Buffer.allocUnsafeSlow(64 * 1024),
        groupHashes: Buffer.alloc(GROUPS * 32),
        cut: new ChunkWriter(o.chunkBytes ?? CHUNK_BYTES),
        writer: o.store.begin(height),
        hashes: [],
        entries: 0,
        bytes: 0,
      };
    } catch (e) {
      db?.close();
      o.log(`snapshot of height ${height} not taken: ${(e as Error).message}`);
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no snapshot is being written. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stop at the next slice; a snapshot in progress is discarded. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private async loop(): Promise<void> {
    const r = this.run!;
    const o = this.o;
    const per = o.sliceEntries ?? SNAPSHOT_SLICE_ENTRIES;
    try {
      for (;;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.stopped) {
          r.writer.abort();
          return;
        }
        if (r.keys) {
          this.sortKeys(r, 4 * per); // (a key costs a fraction of an entry)
          continue;
        }
        if (r.group < GROUPS) {
          const closed = this.readEntries(r, per);
          if (closed) await this.write(r, closed);
          continue;
        }
        const last = r.cut.finish();
        if (last) await this.write(r, last);
        const root = rootOfGroups(r.groupHashes);
        if (!root.equals(r.appHash)) throw new Error(`the state read hashes to ${root.toString('hex').toUpperCase()}, not to the app hash of height ${r.height}`);
        const metadata = encodeMetadata({ chainId: o.chainId(), initialHeight: o.initialHeight(), chunkHashes: r.hashes, groupHashes: r.groupHashes });
        r.writer.finish(sha256(metadata), metadata);
        const pruned = o.store.prune(o.keepRecent);
        o.log(
          `snapshot of height ${r.height}: ${r.entries.toLocaleString('en-US')} entries in ${r.hashes.length} chunks (${(r.bytes / 2 ** 20).toFixed(1)} MiB)` +
            (pruned.length ? `; deleted the one${pruned.length > 1 ? 's' : ''} of height ${pruned.join(', ')}` : ''),
        );
        o.onSnapshot?.(r.height);
        return;
      }
    } catch (e) {
      r.writer.abort();
      o.log(`snapshot of height ${r.height} failed: ${(e as Error).message}`);
    } finally {
      r.keys?.return(undefined); // closes the open kv read before its transaction ends
      r.db.endSnapshot();
      r.db.close();
      this.run = undefined;
    }
  }

  /** Phase 1: up to `n` keys into their buckets (key order in, so each bucket comes out sorted). */
  private sortKeys(r: Run, n: number): void {
    for (let i = 0; i < n; i++) {
      const next = r.keys!.next();
      if (next.done) {
        r.keys = undefined;
        return;
      }
      const b = bucketOf(next.value);
      (r.buckets[b] ??= []).push(next.value);
    }
  }

  /** Phase 2: up to `n` entries, group by group; returns a chunk if one closed (the slice ends there). */
  private readEntries(r: Run, n: number): Buffer | undefined {
    for (let done = 0; r.group < GROUPS; ) {
      const bucket = r.buckets[r.group * 16 + r.slot];
      if (bucket && r.index < bucket.length) {
        if (done >= n) return undefined;
        const key = bucket[r.index++]!;
        const e = r.view.get(key);
        if (!e) throw new Error(`"${key}" vanished from the read transaction`);
        if (!leafMatches(key, e.value, e.leaf)) throw new Error(`store is corrupt: the value of "${key}" does not match its Merkle leaf`);
        // (the view's bytes are overwritten by the next read: the leaf is copied)
        const at = 32 * r.groupKeys.length;
        if (at + 32 > r.groupLeaves.length) {
          const bigger = Buffer.allocUnsafeSlow(2 * r.groupLeaves.length);
          r.groupLeaves.copy(bigger, 0, 0, at);
          r.groupLeaves = bigger;
        }
        r.groupLeaves.set(e.leaf, at);
        r.groupKeys.push(key);
        r.entries++;
        done++;
        const closed = r.cut.add(key, e.value);
        if (closed) return closed;
        continue;
      }
      // this bucket is done: on to the next one, closing the group after its 16th
      r.buckets[r.group * 16 + r.slot] = undefined;
      r.index = 0;
      if (++r.slot < 16) continue;
      const entries = r.groupKeys.map((k, i) => [k, r.groupLeaves.subarray(32 * i, 32 * i + 32)] as const);
      groupHash(r.group, entries).copy(r.groupHashes, r.group * 32);
      r.groupKeys = [];
      r.slot = 0;
      r.group++;
    }
    return undefined;
  }

  private async write(r: Run, chunk: Buffer): Promise<void> {
    r.hashes.push(sha256(chunk));
    r.bytes += chunk.length;
    await r.writer.writeChunk(chunk);
  }
}
