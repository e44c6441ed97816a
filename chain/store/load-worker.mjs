// Worker thread of SqliteStore.loadAll({ thread: true }): reads the kv table in
// key order on its own read-only connection, checks every row's Merkle leaf,
// and hands the rows to the loading thread in packed batches, so the reading
// and hashing overlap the loader's work (building maps and the Merkle index).
// Plain JavaScript so it runs without a TypeScript loader in the worker.
//
// Input (workerData): { path, port, ctrl }; ctrl = Int32Array over a
// SharedArrayBuffer: [0] batches posted, [1] batches the loader consumed.
// Output on `port`: { rows, used, n } where rows[0, used) = n × (u16 key length ‖ key latin1 ‖
// u32 value length ‖ value ‖ 32-byte leaf), then { done: true }, or { error }.
import { workerData } from 'node:worker_threads';
import { hash } from 'node:crypto';

const { path, port, ctrl: ctrlBuf } = workerData;
const ctrl = new Int32Array(ctrlBuf);
/** A batch is posted once it holds this many bytes. */
const BATCH_BYTES = 4 << 20;
/** At most this many posted batches wait for the loader: memory stays bounded if it is slower. */
const AHEAD = 8;

// The leaf of (key, value): sha256(0x00 ‖ u32be(len key) ‖ key ‖ value), as
// leafHash in merkle.ts defines it (a test loads through both paths).
let input = Buffer.allocUnsafeSlow(1024);
function leafMatches(key, value, leaf) {
  const n = 5 + key.length + value.length;
  if (n > input.length) input = Buffer.allocUnsafeSlow(2 * n);
  input[0] = 0;
  input.writeUInt32BE(key.length, 1);
  input.latin1Write(key, 5);
  input.set(value, 5 + key.length);
  return leaf.length === 32 && hash('sha256', input.subarray(0, n), 'buffer').equals(leaf);
}

function post(message, transfer) {
  port.postMessage(message, transfer);
  Atomics.add(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
}

let db;
try {
  // imported here, inside the try: a failure to load the driver is reported, not a silent exit
  const { default: Database } = await import('better-sqlite3');
  db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('cache_size = -65536');
  const stmt = db.prepare('SELECT key, value, leaf FROM kv ORDER BY key').raw(true);
  let buf = Buffer.allocUnsafeSlow(BATCH_BYTES);
  let used = 0;
  let n = 0;
  const flush = () => {
    if (n === 0) return;
    // wait while the loader is AHEAD batches behind
    for (;;) {
      const consumed = Atomics.load(ctrl, 1);
      if (Atomics.load(ctrl, 0) - consumed < AHEAD) break;
      Atomics.wait(ctrl, 1, consumed, 1000);
    }
    const rows = buf.buffer; // handed over, not copied: the loader keeps it as the storage of the values
    post({ rows, used, n }, [rows]);
    buf = Buffer.allocUnsafeSlow(BATCH_BYTES);
    used = 0;
    n = 0;
  };
  for (const [key, value, leaf] of stmt.iterate()) {
    if (!leafMatches(key, value, leaf)) throw new Error(`store is corrupt: the value of "${key}" in ${path} does not match its Merkle leaf`);
    const size = 2 + key.length + 4 + value.length + 32;
    if (used + size > buf.length) {
      flush();
      if (size > buf.length) buf = Buffer.allocUnsafeSlow(size);
    }
    buf.writeUInt16BE(key.length, used);
    buf.latin1Write(key, used + 2);
    used += 2 + key.length;
    buf.writeUInt32BE(value.length, used);
    buf.set(value, used + 4);
    used += 4 + value.length;
    buf.set(leaf, used);
    used += 32;
    n++;
  }
  flush();
  post({ done: true });
} catch (e) {
  post({ error: e instanceof Error ? e.message : String(e) });
} finally {
  db?.close();
}
