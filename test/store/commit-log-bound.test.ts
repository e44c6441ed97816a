/**
 * The change log's safety bound (ARCHITECTURE.md, Commit): "with nobody merging, Commit merges after 1,024
 * blocks". A driver without idle time (no BackgroundMerger, no checkpoint calls) must not grow the log, and
 * with it every reopen's replay of it, without bound.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash } from '../../chain/store/merkle.js';
import { SqliteStore } from '../../chain/store/sqlite.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-log-bound-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('SqliteStore: unmerged change sets are bounded', () => {
  it('Commit merges the log itself once more than 1,024 change sets wait, and what loads is unchanged', () => {
    const db = new SqliteStore(join(tmp, 'bound.db'));
    const value = (h: number) => Buffer.from(`h${h}`);
    for (let h = 1; h <= 1_024; h++) db.commit({ height: BigInt(h), appHash: new Uint8Array(32), changes: [['t/k/x', value(h), leafHash('t/k/x', value(h))]] });
    expect(db.pendingChangeSets).toBe(1_024); // at the bound: nothing merged yet
    db.commit({ height: 1_025n, appHash: new Uint8Array(32), changes: [['t/k/x', value(1_025), leafHash('t/k/x', value(1_025))]] });
    expect(db.pendingChangeSets).toBe(0); // the 1,025th merged all of them
    expect([...db.loadAll()].map((e) => [e.key, e.value.toString()])).toEqual([['t/k/x', 'h1025']]);
    db.close();
  });
});
