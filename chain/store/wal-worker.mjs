// Worker thread of SqliteStore({ walThread: true }): copies the WAL's committed
// pages into the database file (PRAGMA wal_checkpoint(PASSIVE)) on its own
// connection, so that copy (100+ ms after a large merge, with an fsync) does
// not hold the thread that serves requests. sqlite allows a checkpoint from
// any connection while others read and write; PASSIVE never waits for them.
// Plain JavaScript so it runs without a TypeScript loader in the worker.
//
// Input (workerData): { path, ctrl } with ctrl = Int32Array over a
// SharedArrayBuffer: [0] copies requested, [1] copies done, [2] 1 = close.
import { workerData } from 'node:worker_threads';

const ctrl = new Int32Array(workerData.ctrl);
let db;
try {
  const { default: Database } = await import('better-sqlite3');
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('wal_autocheckpoint = 0');
  let done = 0;
  for (;;) {
    if (Atomics.load(ctrl, 2) === 1) break;
    const requested = Atomics.load(ctrl, 0);
    if (requested === done) {
      Atomics.wait(ctrl, 0, requested);
      continue;
    }
    done = requested; // requests made while copying are served by the next pass
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy or failed: harmless (the WAL keeps the pages); the next request tries again
    }
    Atomics.store(ctrl, 1, done);
    Atomics.notify(ctrl, 1);
  }
} finally {
  db?.close();
  Atomics.store(ctrl, 2, 2); // closed
  Atomics.notify(ctrl, 2);
}
