/**
 * SqliteStore.commit is the crash boundary: the change set, the height, the app hash and the block log
 * entry are written in one sqlite transaction, so a commit that fails partway leaves the store exactly at
 * the previous commit. The crash tests (kill -9) land between transactions almost always, so nothing
 * showed what happens when a commit breaks inside: here its last statement fails (a prune height sqlite
 * cannot bind), after the change set, height and hash rows were already written within it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash } from '../../chain/store/merkle.js';
import { SqliteStore } from '../../chain/store/sqlite.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-commit-boundary-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const change = (k: string, x: string | null): [string, Uint8Array | null, Uint8Array | null] =>
  x === null ? [k, null, null] : [k, Buffer.from(x), leafHash(k, Buffer.from(x))];
const loaded = (db: SqliteStore) => [...db.loadAll()].map((e) => [e.key, e.value.toString()]);

describe('SqliteStore.commit: all or nothing', () => {
  it('a commit that fails on its last statement leaves height, app hash, state and block log at the previous commit', () => {
    const path = join(tmp, 'torn.db');
    const db = new SqliteStore(path);
    const hash1 = new Uint8Array(32).fill(1);
    db.commit({ height: 1n, appHash: hash1, changes: [change('t/a/1', 'one'), change('t/a/2', 'two')], blockRecord: Buffer.from('block 1') });
    // block 2 updates one key, deletes the other, adds a third, logs a record, then its prune fails
    expect(() =>
      db.commit({
        height: 2n,
        appHash: new Uint8Array(32).fill(2),
        changes: [change('t/a/1', 'ONE'), change('t/a/2', null), change('t/a/3', 'three')],
        blockRecord: Buffer.from('block 2'),
        pruneBelow: 2n ** 64n, // out of sqlite's integer range: the statement throws
      }),
    ).toThrow();
    const expectAtBlock1 = (s: SqliteStore) => {
      expect(s.lastCommitted().height).toBe(1n);
      expect(Buffer.from(s.lastCommitted().appHash).equals(Buffer.from(hash1))).toBe(true);
      expect(loaded(s)).toEqual([['t/a/1', 'one'], ['t/a/2', 'two']]);
      expect(s.lastBlockHeight()).toBe(1n);
      expect(s.block(2n)).toBeUndefined();
    };
    expectAtBlock1(db);
    // a merge now must not pick up a half-written change set either
    db.checkpoint();
    expectAtBlock1(db);
    db.close();
    const reopened = new SqliteStore(path);
    expectAtBlock1(reopened);
    reopened.close();
  });
});
