import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Value } from './kv.js';
import { leafMatches } from './merkle.js';

export type Durability = 'normal' | 'full';

/** Rows per multi-row upsert statement in commit(). */
const PUT_ROWS = 64;
/** loadAll copies values and leaves into slabs of this size. */
const SLAB_BYTES = 1 << 20;
/** loadAll({ thread }) gives up when its reader thread is silent this long. */
const LOAD_WORKER_SILENCE_MS = 120_000;
/** Logged change sets beyond this are merged by Commit itself. */
const MAX_PENDING_BLOCKS = 1024;
/** Default bytes Commit may append to the WAL before it copies the WAL into the database itself (if nobody checkpoints). */
const MAX_WAL_BYTES = 256 * 2 ** 20;

/**
 * A change set as one blob: u32 count, then per entry u16 key length, key
 * (latin1), u8 flag (1 = deleted), and unless deleted u32 value length, value,
 * 32-byte leaf.
 */
export function encodeChangeSet(changes: ReadonlyArray<[string, Value | null, Uint8Array | null]>): Buffer {
  let size = 4;
  for (const [k, v] of changes) size += 2 + k.length + 1 + (v === null ? 0 : 4 + v.length + 32);
  const out = Buffer.allocUnsafe(size);
  let o = out.writeUInt32BE(changes.length, 0);
  for (const [k, v, leaf] of changes) {
    o = out.writeUInt16BE(k.length, o);
    o += out.write(k, o, 'latin1');
    if (v === null || leaf === null) {
      out[o++] = 1;
      continue;
    }
    out[o++] = 0;
    o = out.writeUInt32BE(v.length, o);
    out.set(v, o);
    o += v.length;
    out.set(leaf, o);
    o += 32;
  }
  return out;
}

export function decodeChangeSet(b: Buffer): Array<[string, Uint8Array | null, Uint8Array | null]> {
  const n = b.readUInt32BE(0);
  const out: Array<[string, Uint8Array | null, Uint8Array | null]> = [];
  let o = 4;
  for (let i = 0; i < n; i++) {
    const kl = b.readUInt16BE(o);
    o += 2;
    const key = b.toString('latin1', o, o + kl);
    o += kl;
    const deleted = b[o++] === 1;
    if (deleted) {
      out.push([key, null, null]);
      continue;
    }
    const vl = b.readUInt32BE(o);
    o += 4;
    const value = b.subarray(o, o + vl);
    o += vl;
    out.push([key, value, b.subarray(o, o + 32)]);
    o += 32;
  }
  return out;
}

function corruptLeaf(key: string, path: string): Error {
  return new Error(`store is corrupt: the value of "${key}" in ${path} does not match its Merkle leaf`);
}

type DecodedChangeSet = Array<[string, Uint8Array | null, Uint8Array | null]>;

interface SliceCursor {
  height: bigint;
  changes: DecodedChangeSet;
  next: number;
}

export interface CommitBatch {
  height: bigint;
  appHash: Uint8Array;
  /** Sorted change set: value null = delete; leaf = the Merkle leaf hash of the new value. */
  changes: Array<[string, Value | null, Uint8Array | null]>;
  /** Encoded BlockRecord for the block log, if the block is to be logged. */
  blockRecord?: Uint8Array;
  /** Block log entries below this height are deleted (pruning); 0 keeps all. */
  pruneBelow?: bigint;
}

/**
 * Persistence of committed state in one sqlite file (WAL). Each Commit is one
 * sqlite transaction holding the block's change set, the new height and app
 * hash, and the block log entry: that transaction is the crash boundary.
 *
 * The change set is appended as one row of the `changes` log (a single blob
 * insert, whatever the number of keys), and merged into the `kv` table later
 * by checkpoint(), which the node runs between blocks. So Commit's cost does
 * not include updating a B-tree at thousands of random keys; readers see kv
 * plus the not-yet-merged log (loadAll merges them).
 *
 * WAL with synchronous=NORMAL survives a killed process (the tests kill -9
 * it); synchronous=FULL (durability 'full') also survives power loss at the
 * cost of an fsync per block.
 */
export class SqliteStore {
  private readonly db: Database.Database;
  private readonly putKv: Database.Statement;
  private readonly delKv: Database.Statement;
  private readonly putMeta: Database.Statement;
  private readonly getMeta: Database.Statement;
  private readonly putBlock: Database.Statement;
  private readonly pruneBlocks: Database.Statement;
  private readonly commitTx: (b: CommitBatch) => number;
  private readonly checkpointTx: (maxBlocks: number) => number;
  private readonly sliceTx: (maxRows: number, cursor: SliceCursor | undefined) => { rows: number; blocks: number; cursor: SliceCursor | undefined; empty: boolean };
  /**
   * How far checkpointSlice got into the oldest change set (rows before `next` are merged). Kept in
   * memory only, and set only after the slice's transaction committed; a reopened store starts that
   * change set again from its first row, which is harmless (merging a row twice writes the same value).
   */
  private cursor: SliceCursor | undefined;
  private readonly readonly: boolean;
  private pending = 0;
  /** Change-set bytes Commit appended since the WAL was last copied into the database. */
  private walBytes = 0;

  private readonly maxWalBytes: number;

  /** The WAL-copy thread (walThread option) and its shared counters; see wal-worker.mjs. */
  private walWorker: { worker: Worker; ctrl: Int32Array } | undefined;

  constructor(readonly path: string, opts: { durability?: Durability; readonly?: boolean; maxWalBytes?: number; walThread?: boolean } = {}) {
    this.maxWalBytes = opts.maxWalBytes ?? MAX_WAL_BYTES;
    try {
      this.db = new Database(path, { readonly: opts.readonly ?? false });
    } catch (e) {
      throw new Error(`cannot open ${path}: ${(e as Error).message}`);
    }
    // the first reads of a connection are where a file that is not (or no longer) a database shows: name it
    try {
      if (!opts.readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma(`synchronous = ${opts.durability === 'full' ? 'FULL' : 'NORMAL'}`);
        // sqlite would copy the WAL into the database (and fsync) inside whichever transaction crosses
        // 1,000 pages: usually a Commit right after a merge, which made Commit several times slower every few
        // blocks. checkpoint() does that copy between blocks instead (see walCheckpoint).
        this.db.pragma('wal_autocheckpoint = 0');
        this.db.exec(`
          CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, leaf BLOB NOT NULL) WITHOUT ROWID;
          CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
          CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, record BLOB NOT NULL);
          CREATE TABLE IF NOT EXISTS changes (height INTEGER PRIMARY KEY, data BLOB NOT NULL);
        `);
      }
      this.db.pragma('cache_size = -262144'); // 256 MiB page cache
    } catch (e) {
      this.db.close();
      throw new Error(`${path}: ${(e as Error).message}`);
    }
    this.putKv = this.db.prepare('INSERT INTO kv (key, value, leaf) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, leaf = excluded.leaf');
    this.delKv = this.db.prepare('DELETE FROM kv WHERE key = ?');
    this.putMeta = this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
    this.getMeta = this.db.prepare('SELECT value FROM meta WHERE name = ?');
    this.putBlock = this.db.prepare('INSERT OR REPLACE INTO blocks (height, record) VALUES (?, ?)');
    this.pruneBlocks = this.db.prepare('DELETE FROM blocks WHERE height < ?');
    // Upserts go PUT_ROWS to a statement: one native call per 64 rows instead of one per row (≈2× faster Commit).
    const putMany = this.db.prepare(
      `INSERT INTO kv (key, value, leaf) VALUES ${new Array(PUT_ROWS).fill('(?, ?, ?)').join(', ')} ON CONFLICT(key) DO UPDATE SET value = excluded.value, leaf = excluded.leaf`,
    );
    const putChanges = this.db.prepare('INSERT OR REPLACE INTO changes (height, data) VALUES (?, ?)');
    this.commitTx = this.db.transaction((b: CommitBatch): number => {
      const data = encodeChangeSet(b.changes);
      putChanges.run(b.height, data);
      this.putMeta.run('height', Buffer.from(b.height.toString()));
      this.putMeta.run('app_hash', Buffer.from(b.appHash));
      if (b.blockRecord) this.putBlock.run(b.height, b.blockRecord);
      if (b.pruneBelow && b.pruneBelow > 0n) this.pruneBlocks.run(b.pruneBelow);
      return data.length + (b.blockRecord?.length ?? 0);
    });
    const oldest = this.db.prepare('SELECT height, data FROM changes ORDER BY height LIMIT ?').safeIntegers(true);
    const oldestHeight = this.db.prepare('SELECT height FROM changes ORDER BY height LIMIT 1').safeIntegers(true).pluck();
    const changesAt = this.db.prepare('SELECT data FROM changes WHERE height = ?').safeIntegers(true).pluck();
    const dropChanges = this.db.prepare('DELETE FROM changes WHERE height = ?');
    /** Upsert / delete changes[from, to) into kv, in order: runs of upserts batched, a delete first flushes the run before it. */
    const merge = (changes: DecodedChangeSet, from: number, to: number): void => {
      const args: unknown[] = [];
      const flush = () => {
        for (let i = 0; i < args.length; i += 3) this.putKv.run(args[i], args[i + 1], args[i + 2]);
        args.length = 0;
      };
      for (let i = from; i < to; i++) {
        const [k, v, leaf] = changes[i]!;
        if (v === null) {
          flush();
          this.delKv.run(k);
          continue;
        }
        args.push(k, v, leaf);
        if (args.length === PUT_ROWS * 3) {
          putMany.run(args);
          args.length = 0;
        }
      }
      flush();
    };
    this.checkpointTx = this.db.transaction((maxBlocks: number) => {
      const rows = oldest.all(Math.min(maxBlocks, 1_000_000)) as Array<{ height: bigint; data: Buffer }>;
      for (const row of rows) {
        const changes = decodeChangeSet(row.data);
        merge(changes, 0, changes.length);
        dropChanges.run(row.height);
      }
      return rows.length;
    });
    this.sliceTx = this.db.transaction((maxRows: number, start: SliceCursor | undefined) => {
      let cursor = start;
      let rows = 0;
      let blocks = 0;
      let empty = false;
      while (rows < maxRows) {
        const height = oldestHeight.get() as bigint | undefined;
        if (height === undefined) {
          empty = true;
          break;
        }
        if (!cursor || cursor.height !== height) cursor = { height, changes: decodeChangeSet(changesAt.get(height) as Buffer), next: 0 };
        const end = Math.min(cursor.changes.length, cursor.next + (maxRows - rows));
        merge(cursor.changes, cursor.next, end);
        rows += end - cursor.next;
        cursor = { ...cursor, next: end };
        if (end === cursor.changes.length) {
          // the change set's last rows and its removal from the log commit together
          dropChanges.run(height);
          cursor = undefined;
          blocks++;
        }
      }
      return { rows, blocks, cursor, empty };
    });
    this.readonly = opts.readonly ?? false;
    if (opts.walThread && !this.readonly && path !== ':memory:') {
      const ctrl = new Int32Array(new SharedArrayBuffer(12));
      const worker = new Worker(new URL('./wal-worker.mjs', import.meta.url), { workerData: { path, ctrl: ctrl.buffer } });
      worker.unref();
      // A copy thread that fails (it could not open the file: removed right after a quick close, on a slow
      // machine) must not take the process down with an unhandled 'error': copy on this connection instead.
      worker.on('error', () => {
        if (this.walWorker?.worker === worker) this.walWorker = undefined;
      });
      this.walWorker = { worker, ctrl };
    }
    this.pending = (this.db.prepare('SELECT COUNT(*) AS n FROM changes').get() as { n: number }).n;
  }

  commit(batch: CommitBatch): void {
    this.walBytes += this.commitTx(batch);
    // a change set logged again at the height a slice is partway through replaces what it decoded
    if (this.cursor?.height === batch.height) this.cursor = undefined;
    this.pending++;
    // Safety bounds if nobody checkpoints (a driver without idle time): merge in the commit itself.
    if (this.pending > MAX_PENDING_BLOCKS) this.checkpoint();
    else if (this.walBytes > this.maxWalBytes) this.walCheckpoint();
  }

  /** Size of the database file (pages in use, without the WAL). */
  fileBytes(): number {
    return (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /** Blocks whose change sets are logged but not yet merged into kv. */
  get pendingChangeSets(): number {
    return this.pending;
  }

  /**
   * Merge logged change sets into the kv table, oldest first, in one sqlite
   * transaction; at most `maxBlocks` of them. Safe at any moment: a crash
   * mid-way rolls the transaction back and the log still holds everything.
   */
  checkpoint(maxBlocks = Number.MAX_SAFE_INTEGER): number {
    if (this.readonly) return 0;
    if (this.pending === 0) {
      if (this.walBytes > 0) this.walCheckpoint();
      return 0;
    }
    const n = this.checkpointTx(maxBlocks);
    this.pending -= n;
    this.cursor = undefined; // a change set it was partway through has been merged whole (again: harmless)
    this.walCheckpoint();
    return n;
  }

  /**
   * Merge at most `maxRows` logged rows into the kv table, oldest first, in
   * one sqlite transaction, continuing where the previous slice stopped: a
   * driver merges a large change set in short steps between other work
   * (at 1,000,000 accounts a 10,000-key block takes a few hundred ms to merge
   * whole). A change set leaves the log with its last slice. Returns the rows
   * merged, the change sets finished, and whether any remain.
   */
  checkpointSlice(maxRows: number): { rows: number; blocks: number; more: boolean } {
    if (this.readonly || this.pending === 0) {
      if (!this.readonly && this.walBytes > 0) this.walCheckpoint();
      return { rows: 0, blocks: 0, more: false };
    }
    const r = this.sliceTx(Math.max(1, Math.floor(maxRows)), this.cursor);
    this.cursor = r.cursor;
    // the log is the truth: once it is empty nothing is pending, whatever the count said (a height
    // logged twice is one row but was counted twice), so a driver looping on `more` always ends
    this.pending = r.empty ? 0 : this.pending - r.blocks;
    if (this.pending === 0) this.walCheckpoint();
    return { rows: r.rows, blocks: r.blocks, more: this.pending > 0 };
  }

  /**
   * Copy the WAL's committed pages into the database file (what sqlite's
   * auto-checkpoint would do, switched off here so that it never lands inside
   * Commit). PASSIVE: it never waits for readers; pages a reader still needs
   * are copied next time.
   */
  private walCheckpoint(): void {
    const w = this.walWorker;
    if (w) {
      // the copy thread runs it (requests made while it copies are folded into its next pass)
      Atomics.add(w.ctrl, 0, 1);
      Atomics.notify(w.ctrl, 0);
    } else this.db.pragma('wal_checkpoint(PASSIVE)');
    this.walBytes = 0;
  }

  /** WAL copies the copy thread has finished (walThread option; tests and benchmarks wait on it). */
  walCopiesDone(): number {
    return this.walWorker ? Atomics.load(this.walWorker.ctrl, 1) : 0;
  }

  /**
   * Replace everything with a restored state (state sync), in one transaction: the kv table holds exactly
   * `entries` (key order, each with its Merkle leaf), the change log and the block log are emptied, and the
   * height, app hash and the given meta entries are set. `init_chain` is removed: a restored node has no
   * genesis to replay from (`restored_height` says where its history starts).
   */
  replaceState(o: { height: bigint; appHash: Uint8Array; entries: ReadonlyArray<readonly [string, Uint8Array, Uint8Array]>; meta: Record<string, Uint8Array> }): void {
    // The entries may come in any order. Into the kv B-tree in key order is several times faster than in
    // random order, and sqlite's own sorter orders 2,000,000 rows faster than a sort in JavaScript: they
    // go into an unindexed temporary table first, PUT_ROWS per statement, and from there in key order.
    this.db.exec('DROP TABLE IF EXISTS temp.restore; CREATE TEMP TABLE restore (key TEXT NOT NULL, value BLOB NOT NULL, leaf BLOB NOT NULL)');
    const putMany = this.db.prepare(`INSERT INTO temp.restore (key, value, leaf) VALUES ${new Array(PUT_ROWS).fill('(?, ?, ?)').join(', ')}`);
    const putOne = this.db.prepare('INSERT INTO temp.restore (key, value, leaf) VALUES (?, ?, ?)');
    try {
      this.db.transaction(() => {
        this.db.exec('DELETE FROM kv; DELETE FROM changes; DELETE FROM blocks');
        this.db.prepare("DELETE FROM meta WHERE name = 'init_chain'").run();
        const args: Array<string | Uint8Array> = [];
        let i = 0;
        for (; i + PUT_ROWS <= o.entries.length; i += PUT_ROWS) {
          args.length = 0;
          for (let j = i; j < i + PUT_ROWS; j++) args.push(...o.entries[j]!);
          putMany.run(...args);
        }
        for (; i < o.entries.length; i++) putOne.run(...o.entries[i]!);
        this.db.exec('INSERT INTO kv (key, value, leaf) SELECT key, value, leaf FROM temp.restore ORDER BY key');
        for (const [name, value] of Object.entries(o.meta)) this.putMeta.run(name, value);
        this.putMeta.run('height', Buffer.from(o.height.toString()));
        this.putMeta.run('app_hash', Buffer.from(o.appHash));
      })();
    } finally {
      this.db.exec('DROP TABLE IF EXISTS temp.restore');
    }
    this.cursor = undefined;
    // the whole state went through the WAL: copy it into the database file now rather than after a later merge
    this.walBytes += 1;
    this.walCheckpoint();
  }

  lastCommitted(): { height: bigint; appHash: Uint8Array } {
    const h = this.getMeta.get('height') as { value: Buffer } | undefined;
    const a = this.getMeta.get('app_hash') as { value: Buffer } | undefined;
    return { height: h ? BigInt(h.value.toString()) : 0n, appHash: a ? new Uint8Array(a.value) : new Uint8Array() };
  }

  meta(name: string): Buffer | undefined {
    return (this.getMeta.get(name) as { value: Buffer } | undefined)?.value;
  }

  setMeta(name: string, value: Uint8Array): void {
    this.putMeta.run(name, Buffer.from(value));
  }

  /**
   * Stream every committed entry in key order. Each stored leaf is checked
   * against its value: the caller rebuilds the app hash from the leaves, so
   * without this check a value damaged on disk (its leaf intact) would pass
   * the startup hash check and only show later, as a consensus failure.
   *
   * With `thread`, a worker reads and checks the kv table while the caller
   * consumes (see load-worker.mjs); the entries are the same either way.
   */
  *loadAll(opts: { thread?: boolean } = {}): Generator<{ key: string; value: Buffer; leaf: Buffer }> {
    // The not-yet-merged log, newest change per key, merged into the kv stream in key order.
    const latest = new Map<string, [Buffer | null, Buffer | null]>();
    const logged = this.db.prepare('SELECT data FROM changes ORDER BY height').raw(true);
    for (const [data] of logged.iterate() as Iterable<[Buffer]>) {
      for (const [k, v, leaf] of decodeChangeSet(data)) latest.set(k, [v === null ? null : Buffer.from(v), leaf === null ? null : Buffer.from(leaf)]);
    }
    const pending = [...latest.keys()].sort();
    let p = 0;
    const take = (k: string): { key: string; value: Buffer; leaf: Buffer } | undefined => {
      const [v, leaf] = latest.get(k)!;
      if (v === null || leaf === null) return undefined; // deleted since the last merge
      if (!leafMatches(k, v, leaf)) throw corruptLeaf(k, this.path);
      return { key: k, value: v, leaf };
    };
    for (const row of opts.thread ? this.kvRowsThreaded() : this.kvRows()) {
      const key = row.key;
      while (p < pending.length && pending[p]! < key) {
        const e = take(pending[p++]!);
        if (e) yield e;
      }
      if (p < pending.length && pending[p] === key) {
        // the logged version replaces the merged one
        const e = take(pending[p++]!);
        if (e) yield e;
        continue;
      }
      yield row;
    }
    while (p < pending.length) {
      const e = take(pending[p++]!);
      if (e) yield e;
    }
  }

  /**
   * The committed state as the current read transaction sees it (call inside beginSnapshot), for reading it
   * in an order other than the key's (state-sync snapshots): every key in key order, and any key's value
   * and leaf (views valid until the next get()). The not-yet-merged change log is read once, here, and laid
   * over the kv table.
   */
  stateView(): { keys(): Generator<string>; get(key: string): { value: Buffer; leaf: Buffer } | undefined } {
    const latest = new Map<string, [Buffer, Buffer] | null>();
    for (const [data] of this.db.prepare('SELECT data FROM changes ORDER BY height').raw(true).iterate() as Iterable<[Buffer]>) {
      for (const [k, v, leaf] of decodeChangeSet(data)) latest.set(k, v === null || leaf === null ? null : [Buffer.from(v), Buffer.from(leaf)]);
    }
    // value ‖ leaf as one hex string (see kvRows: a Buffer per returned blob costs more than the read)
    const one = this.db.prepare('SELECT hex(value) || hex(leaf) FROM kv WHERE key = ?').pluck(true);
    const allKeys = this.db.prepare('SELECT key FROM kv ORDER BY key').raw(true);
    const path = this.path;
    // get() decodes into this one buffer (a Buffer per row is off-heap memory whose churn forces full collections)
    let scratch = Buffer.allocUnsafeSlow(64 * 1024);
    return {
      *keys(): Generator<string> {
        const pending = [...latest.keys()].sort();
        let p = 0;
        for (const [key] of allKeys.iterate() as Iterable<[string]>) {
          for (; p < pending.length && pending[p]! < key; p++) if (latest.get(pending[p]!)) yield pending[p]!;
          if (p < pending.length && pending[p] === key) {
            if (latest.get(pending[p++]!)) yield key;
            continue;
          }
          yield key;
        }
        for (; p < pending.length; p++) if (latest.get(pending[p]!)) yield pending[p]!;
      },
      get(key: string): { value: Buffer; leaf: Buffer } | undefined {
        const l = latest.get(key);
        if (l !== undefined) return l === null ? undefined : { value: l[0], leaf: l[1] };
        const hex = one.get(key) as string | undefined;
        if (hex === undefined) return undefined;
        const n = hex.length >>> 1;
        if (n < 32) throw new Error(`store is corrupt: the row of "${key}" in ${path} is too short to hold its Merkle leaf`);
        if (n > scratch.length) scratch = Buffer.allocUnsafeSlow(2 * n);
        scratch.write(hex, 0, n, 'hex');
        return { value: scratch.subarray(0, n - 32), leaf: scratch.subarray(n - 32, n) };
      },
    };
  }

  /** The kv table in key order, each leaf checked, read on this thread. */
  private *kvRows(): Generator<{ key: string; value: Buffer; leaf: Buffer }> {
    // value ‖ leaf come back as one hex string per row: the driver makes a Buffer, with its own
    // ArrayBuffer, for every blob it returns, and at millions of rows those short-lived
    // ArrayBuffers, more than the reading, made startup slow; a string is an ordinary heap object.
    const stmt = this.db.prepare('SELECT key, hex(value) || hex(leaf) FROM kv ORDER BY key').raw(true);
    // Rows are copied into shared 1 MiB slabs and handed out as views: a state of millions of
    // entries then costs a few hundred ArrayBuffers instead of millions.
    let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    let used = 0;
    for (const [key, hex] of stmt.iterate() as Iterable<[string, string]>) {
      const n = hex.length >>> 1;
      if (n < 32) throw new Error(`store is corrupt: the row of "${key}" in ${this.path} is too short to hold its Merkle leaf`);
      if (used + n > slab.length) {
        slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, n));
        used = 0;
      }
      slab.write(hex, used, n, 'hex');
      const value = slab.subarray(used, used + n - 32);
      const leaf = slab.subarray(used + n - 32, used + n);
      used += n;
      if (!leafMatches(key, value, leaf)) throw corruptLeaf(key, this.path);
      yield { key, value, leaf };
    }
  }

  /**
   * The kv table in key order, read and checked by a worker thread on its own
   * read-only connection (load-worker.mjs) while this thread consumes the
   * rows: at millions of entries the reading and hashing then overlap the
   * caller's work. Synchronous like kvRows (App.open is): the worker's
   * batches are taken off a MessageChannel with receiveMessageOnPort, and
   * this thread sleeps on a shared counter between them.
   */
  private *kvRowsThreaded(): Generator<{ key: string; value: Buffer; leaf: Buffer }> {
    const ctrl = new Int32Array(new SharedArrayBuffer(8));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), { workerData: { path: this.path, port: port2, ctrl: ctrl.buffer }, transferList: [port2] });
    let idleWaits = 0;
    try {
      for (;;) {
        const m = receiveMessageOnPort(port1)?.message as { rows: ArrayBuffer; used: number; n: number } | { done: true } | { error: string } | undefined;
        if (!m) {
          // nothing yet: sleep until the worker posts again (it counts every message), looking at the
          // port at least every 10 ms; a worker that died without a word (it catches its own errors)
          // would leave us here, so give up after a long silence
          const posted = Atomics.load(ctrl, 0);
          if (Atomics.wait(ctrl, 0, posted, 10) === 'timed-out' && ++idleWaits * 10 >= LOAD_WORKER_SILENCE_MS) {
            throw new Error(`loading ${this.path}: the reader thread sent nothing for ${LOAD_WORKER_SILENCE_MS / 1000} s`);
          }
          continue;
        }
        idleWaits = 0;
        if ('error' in m) throw new Error(m.error);
        if ('done' in m) return;
        Atomics.add(ctrl, 1, 1); // consumed: the worker may read ahead again
        Atomics.notify(ctrl, 1);
        // the batch's buffer becomes the storage of its values and leaves (views, no copy)
        const b = Buffer.from(m.rows, 0, m.used);
        let o = 0;
        for (let i = 0; i < m.n; i++) {
          const kl = (b[o]! << 8) | b[o + 1]!;
          const key = b.toString('latin1', o + 2, o + 2 + kl);
          o += 2 + kl;
          const vl = b.readUInt32BE(o);
          o += 4;
          const value = b.subarray(o, o + vl);
          o += vl;
          const leaf = b.subarray(o, o + 32);
          o += 32;
          yield { key, value, leaf };
        }
      }
    } finally {
      port1.close();
      void worker.terminate();
    }
  }

  /**
   * Hold one read snapshot until endSnapshot(): every read in between sees the same committed state, while
   * a node keeps writing (WAL). Without it a reader of a live home saw the block log, the height and the
   * state at different heights. Reads on a load worker thread (loadAll with thread) are outside it.
   */
  beginSnapshot(): void {
    this.db.exec('BEGIN');
    this.db.prepare('SELECT count(*) FROM meta').get(); // the snapshot starts at the first read
  }

  endSnapshot(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
  }

  /** Whether the committed state (the kv table with the not-yet-merged change log over it) holds a key starting with `prefix`. */
  hasPrefix(prefix: string): boolean {
    const latest = new Map<string, boolean>();
    for (const [data] of this.db.prepare('SELECT data FROM changes ORDER BY height').raw(true).iterate() as Iterable<[Buffer]>) {
      for (const [k, v] of decodeChangeSet(data)) if (k.startsWith(prefix)) latest.set(k, v !== null);
    }
    for (const present of latest.values()) if (present) return true;
    const rows = this.db.prepare('SELECT key FROM kv WHERE key >= ? AND key < ?').raw(true).iterate(prefix, prefix + '\uffff') as Iterable<[string]>;
    for (const [k] of rows) if (latest.get(k) !== false) return true;
    return false;
  }

  /** The highest height in the block log (undefined when it is empty). */
  lastBlockHeight(): bigint | undefined {
    const row = this.db.prepare('SELECT MAX(height) AS h FROM blocks').safeIntegers(true).get() as { h: bigint | null };
    return row.h ?? undefined;
  }

  block(height: bigint): Buffer | undefined {
    return (this.db.prepare('SELECT record FROM blocks WHERE height = ?').get(height) as { record: Buffer } | undefined)?.record;
  }

  *blocks(fromHeight = 0n): Generator<{ height: bigint; record: Buffer }> {
    const stmt = this.db.prepare('SELECT height, record FROM blocks WHERE height >= ? ORDER BY height').safeIntegers(true);
    for (const row of stmt.iterate(fromHeight) as Iterable<{ height: bigint; record: Buffer }>) yield row;
  }

  close(): void {
    const w = this.walWorker;
    if (w) {
      // let the copy thread finish its pass and close its connection before ours goes (bounded wait)
      Atomics.store(w.ctrl, 2, 1);
      // Also bump the request count: a thread between its look at the close flag and its wait on the count
      // would otherwise sleep through this notify (the count it waits on unchanged) and hold us the full 10 s.
      Atomics.add(w.ctrl, 0, 1);
      Atomics.notify(w.ctrl, 0);
      Atomics.wait(w.ctrl, 2, 1, 10_000);
      void w.worker.terminate();
      this.walWorker = undefined;
    }
    this.db.close();
  }
}
