/**
 * checkpointSlice keeps its place inside the oldest change set in memory (the decoded rows and how far it
 * got). When Commit logs a change set again at that same height (INSERT OR REPLACE: the new set replaces
 * the row), the place must be dropped, or the next slices would merge the rest of the old, decoded set and
 * then delete the row: the new set's values would never reach the kv table.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash } from '../../chain/store/merkle.js';
import { SqliteStore } from '../../chain/store/sqlite.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-slice-relog-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const keys = Array.from({ length: 10 }, (_, i) => `t/k/${i}`);
const set = (tag: string): Array<[string, Uint8Array, Uint8Array]> => keys.map((k) => [k, Buffer.from(tag), leafHash(k, Buffer.from(tag))]);

describe('SqliteStore.checkpointSlice and a height logged again', () => {
  it('after a change set is replaced at the height a slice is partway through, the merge writes the new set', () => {
    const path = join(tmp, 'relog.db');
    const db = new SqliteStore(path);
    db.commit({ height: 1n, appHash: new Uint8Array(32), changes: set('old') });
    expect(db.checkpointSlice(3)).toEqual({ rows: 3, blocks: 0, more: true }); // 3 of 10 rows merged
    db.commit({ height: 1n, appHash: new Uint8Array(32), changes: set('new') }); // the same height, logged again
    for (let i = 0; i < 20 && db.checkpointSlice(3).more; i++);
    expect(db.pendingChangeSets).toBe(0);
    db.close();
    // reopened: the log is empty, so this is the kv table alone
    const again = new SqliteStore(path);
    expect(again.pendingChangeSets).toBe(0);
    expect([...again.loadAll()].map((e) => e.value.toString())).toEqual(keys.map(() => 'new'));
    again.close();
  });
});
