import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../chain/store/sqlite.js';

/**
 * SqliteStore's block-log pruning (CommitBatch.pruneBelow): the block records below the given height are
 * deleted in the same transaction as the commit, the record at that height and above are kept, and 0 (or
 * no value) keeps everything. The App does not prune its own log today (RELIABILITY.md: retain_blocks only
 * tells CometBFT), so this store-level contract had no test: deleting the prune statement passed the suite.
 */
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-prune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const record = (h: number) => Buffer.from(`block ${h}`);
const heights = (db: SqliteStore) => [...db.blocks()].map((b) => Number(b.height));

function commit(db: SqliteStore, h: number, pruneBelow?: bigint): void {
  db.commit({ height: BigInt(h), appHash: new Uint8Array(32).fill(h), changes: [], blockRecord: record(h), ...(pruneBelow !== undefined ? { pruneBelow } : {}) });
}

describe('block log pruning', () => {
  it('deletes the records strictly below pruneBelow, keeps that height and above, and 0 or none prunes nothing', () => {
    const path = join(tmp, 'prune.db');
    const db = new SqliteStore(path);
    for (let h = 1; h <= 5; h++) commit(db, h);
    commit(db, 6, 0n); // 0 = keep all
    expect(heights(db)).toEqual([1, 2, 3, 4, 5, 6]);
    commit(db, 7, 4n);
    expect(heights(db)).toEqual([4, 5, 6, 7]); // 4 itself is kept: "below this height"
    expect(db.block(3n)).toBeUndefined();
    expect(db.block(4n)).toEqual(record(4));
    expect(db.lastBlockHeight()).toBe(7n);
    db.close();
    // it is persistent (the same sqlite transaction as the commit), not a view
    const again = new SqliteStore(path);
    expect(heights(again)).toEqual([4, 5, 6, 7]);
    expect(again.lastCommitted().height).toBe(7n);
    again.close();
  });
});
