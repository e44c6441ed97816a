/**
 * SqliteStore.hasPrefix answers for the committed state: the merged kv table with the not-yet-merged change
 * log over it. The verifier (chain/verify) uses it to tell whether a home has validators in state, so a key
 * that lives only in the log, or one the log deleted, must count as the log says.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash } from '../../chain/store/merkle.js';
import { SqliteStore } from '../../chain/store/sqlite.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-has-prefix-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const put = (k: string): [string, Uint8Array, Uint8Array] => [k, Buffer.from('x'), leafHash(k, Buffer.from('x'))];
const del = (k: string): [string, null, null] => [k, null, null];

describe('SqliteStore.hasPrefix', () => {
  it('sees keys in the merged table and in the unmerged log, and not keys the log deleted', () => {
    const db = new SqliteStore(join(tmp, 'prefix.db'));
    db.commit({ height: 1n, appHash: new Uint8Array(32), changes: [put('app/val/a'), put('bank/bal/x')] });
    db.checkpoint(); // block 1 merged into kv
    db.commit({ height: 2n, appHash: new Uint8Array(32), changes: [put('perp/mkt/1'), del('app/val/a')] }); // still in the log
    expect(db.pendingChangeSets).toBe(1);
    expect(db.hasPrefix('perp/mkt/')).toBe(true); // only in the log
    expect(db.hasPrefix('bank/bal/')).toBe(true); // only in kv
    expect(db.hasPrefix('app/val/')).toBe(false); // in kv, deleted by the log
    expect(db.hasPrefix('clob/')).toBe(false);
    db.checkpoint();
    expect(db.hasPrefix('perp/mkt/')).toBe(true);
    expect(db.hasPrefix('app/val/')).toBe(false);
    db.close();
  });
});
