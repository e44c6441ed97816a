/**
 * The WAL copy thread (SqliteStore walThread) is an accelerator: if it fails (its open of the database can fail
 * when the file is removed right after a quick close, on a loaded machine), the process must not die of an
 * unhandled 'error' event (a CI run lost a whole vitest worker that way), and the WAL copy falls back to the
 * store's own connection.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { SqliteStore } from '../../chain/store/sqlite.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-walthread-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('SqliteStore: a failing WAL copy thread', () => {
  it('is absorbed: no unhandled error, later copies run on the store connection, close works', () => {
    const store = new SqliteStore(join(tmp, 'a.db'), { walThread: true });
    const inner = store as unknown as { walWorker?: { worker: Worker } };
    const worker = inner.walWorker!.worker;
    // what the thread reports when its open fails; with no listener EventEmitter throws it
    expect(() => worker.emit('error', new Error('SQLITE_CANTOPEN: unable to open database file'))).not.toThrow();
    expect(inner.walWorker).toBeUndefined();
    store.commit({ height: 1n, appHash: new Uint8Array(32), changes: [] });
    expect(() => store.checkpoint()).not.toThrow();
    expect(store.lastCommitted().height).toBe(1n);
    store.close();
  });
});
