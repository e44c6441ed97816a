import { SqliteStore } from '../store/sqlite.js';
import { CHUNK_BYTES, ChunkWriter, encodeMetadata, sha256 } from './format.js';
import type { SnapshotStore, SnapshotWriter } from './store.js';

/** Entries read per event-loop turn while a snapshot is written. */
export const SNAPSHOT_SLICE_ENTRIES = 4_000;

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
  db: SqliteStore;
  rows: Generator<{ key: string; value: Buffer; leaf: Buffer }>;
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
 * blocks commit while it is written (sqlite's WAL keeps the reader's view);
 * then it reads, checks and cuts the state into chunks a slice per
 * event-loop turn, so CometBFT's and the API's requests are served in
 * between. The snapshot is listed only once complete. A snapshot height
 * reached while the previous one is still being written is skipped.
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
      const at = db.lastCommitted().height;
      if (at !== height) throw new Error(`the store is at height ${at}`);
      this.run = { height, db, rows: db.loadAll(), cut: new ChunkWriter(o.chunkBytes ?? CHUNK_BYTES), writer: o.store.begin(height), hashes: [], entries: 0, bytes: 0 };
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
        let n = 0;
        let done = false;
        while (n < per) {
          const next = r.rows.next();
          if (next.done) {
            done = true;
            break;
          }
          const { key, value } = next.value;
          const closed = r.cut.add(key, value);
          r.entries++;
          n++;
          if (closed) {
            await this.write(r, closed);
            break; // the write was this slice's last step
          }
        }
        if (!done) continue;
        const last = r.cut.finish();
        if (last) await this.write(r, last);
        const metadata = encodeMetadata({ chainId: o.chainId(), initialHeight: o.initialHeight(), chunkHashes: r.hashes });
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
      r.rows.return(undefined); // closes the open kv read before its transaction ends
      r.db.endSnapshot();
      r.db.close();
      this.run = undefined;
    }
  }

  private async write(r: Run, chunk: Buffer): Promise<void> {
    r.hashes.push(sha256(chunk));
    r.bytes += chunk.length;
    await r.writer.writeChunk(chunk);
  }
}
