/**
 * Child process of bench/foundation.bench.ts, so a large state is measured in
 * a fresh process (as a restarted node is), not in the bench's crowded heap:
 *
 *   1. App.open on the sqlite file and one query: the restart time;
 *   2. optionally, blocks of pre-signed txs (read from a file written by the
 *      bench): signatures verified first (untimed, VerifyPool), then timed
 *      FinalizeBlock, Commit and the post-Commit checkpoint of each block;
 *      the last block's change set is merged in 2,000-row slices instead (as
 *      the node does), its longest slice and total timed.
 * The App copies its WAL on a thread of its own (walThread), as the node does.
 *
 * Prints one JSON line.
 *   node --import tsx bench/lib/restart-child.ts <dbPath> <address to query> [<txs file> <txs per block>]
 */
import { readFileSync } from 'node:fs';
import { App } from '../../chain/app.js';
import { VerifyPool } from '../../chain/crypto/verify-pool.js';
import { MERGE_SLICE_ROWS } from '../../chain/devnet/merger.js';
import { blockReq, chunks } from './foundation-state.js';

const [dbPath, address, txsFile, perBlock] = process.argv.slice(2);
if (!dbPath || !address) {
  console.error('usage: restart-child.ts <dbPath> <address> [<txs file> <txs per block>]');
  process.exit(2);
}
const t0 = performance.now();
const pool = txsFile ? new VerifyPool() : undefined;
const app = App.open({ dbPath, walThread: true, ...(pool ? { verifyPool: pool } : {}) });
const q = app.query({ path: `bank/balance/${address}`, data: new Uint8Array(), height: 0n, prove: false });
const ms = performance.now() - t0;
if (q.code !== 0) {
  console.error(q.log);
  process.exit(1);
}
const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
const rssMb = process.memoryUsage().rss / 2 ** 20;
const finalize: number[] = [];
const commit: number[] = [];
const checkpoint: number[] = [];
const slices = { count: 0, longest: 0, total: 0 };
if (txsFile && perBlock) {
  const buf = readFileSync(txsFile);
  const txs: Uint8Array[] = [];
  for (let o = 0; o < buf.length; ) {
    const n = buf.readUInt32BE(o);
    txs.push(buf.subarray(o + 4, o + 4 + n));
    o += 4 + n;
  }
  const blocks = chunks(txs, Number(perBlock));
  for (const [i, b] of blocks.entries()) {
    await app.prefetchSignatures(b);
    let t = performance.now();
    const r = app.finalizeBlock(blockReq(app.height + 1n, b));
    finalize.push(performance.now() - t);
    const bad = r.txResults.find((x) => x.code !== 0);
    if (bad) throw new Error(`a bench tx failed: ${bad.log}`);
    t = performance.now();
    app.commit();
    commit.push(performance.now() - t);
    // the node merges the block's change log into the kv table between blocks (off Commit's path)
    if (i < blocks.length - 1) {
      t = performance.now();
      app.checkpoint();
      checkpoint.push(performance.now() - t);
      continue;
    }
    for (;;) {
      t = performance.now();
      const r = app.checkpointSlice(MERGE_SLICE_ROWS);
      const ms = performance.now() - t;
      slices.count++;
      slices.total += ms;
      slices.longest = Math.max(slices.longest, ms);
      if (!r.more) break;
    }
  }
}
console.log(JSON.stringify({ ms, heapMb, rssMb, finalize, commit, checkpoint, slices }));
app.close();
await pool?.close();
