/**
 * What `perpchain verify` reports for damage the main verify tests do not make: a mismatch at the last
 * logged height, a record filed under the wrong height, a log that ends before the node's state, an empty
 * log, a node store of another chain, a replay that fails after an earlier mismatch, and node state edited
 * on disk without touching the committed app hash (only the key-by-key diff can see it).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { App } from '../../chain/app.js';
import { SqliteStore } from '../../chain/store/sqlite.js';
import { leafHash } from '../../chain/store/merkle.js';
import { formatVerifyResult, verifyChain } from '../../chain/verify/index.js';
import { buildHome, deleteRecords, tamperRecord, type BuiltHome } from './lib/home.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-verify-reports-'));
const BLOCKS = 12;
let base: BuiltHome;
beforeAll(() => {
  base = buildHome(join(tmp, 'base'), BLOCKS, 5, 6);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

let copies = 0;
function copy(): { home: string; db: string } {
  const home = join(tmp, `c${copies++}`);
  cpSync(base.home, home, { recursive: true });
  return { home, db: join(home, 'data', 'state.db') };
}

/**
 * Edit the node's kv table directly (each value with its own Merkle leaf, so the store opens), leaving meta's
 * app hash alone: the committed hash still equals the replay's, only comparing keys can find the edit.
 */
function editKv(db: string, edit: (d: Database.Database) => void): void {
  const s = new SqliteStore(db);
  s.checkpoint(); // merge the logged change sets into kv first, so kv is the whole state
  s.close();
  const d = new Database(db);
  try {
    edit(d);
  } finally {
    d.close();
  }
}

describe('verify: classification and counts', () => {
  it('an untouched home reports the first and last replayed heights', () => {
    const r = verifyChain({ home: base.home });
    expect(r.ok).toBe(true);
    expect([r.firstHeight, r.lastHeight]).toEqual([1n, BigInt(BLOCKS)]);
    expect(formatVerifyResult(r)).toContain(`replayed ${BLOCKS} blocks (1–${BLOCKS},`);
  });

  it('a changed app hash at the last logged height is "last": nothing after it can say isolated or persistent', () => {
    const { home, db } = copy();
    tamperRecord(db, BigInt(BLOCKS), (rec) => {
      rec.appHash = Buffer.alloc(32, 0xbb);
    });
    const r = verifyChain({ home });
    expect(r.mismatch?.height).toBe(BigInt(BLOCKS));
    expect(r.mismatch?.kind).toBe('last');
    expect(formatVerifyResult(r)).toContain('it is the last block of the log');
  });

  it('a replay that fails later keeps the first mismatch and counts the failed height too', () => {
    const { home, db } = copy();
    tamperRecord(db, 3n, (rec) => {
      rec.appHash = Buffer.alloc(32, 0xcc);
    });
    // fault injection: the replaying App throws at height 8 (as a block it cannot execute would)
    const real = App.prototype.finalizeBlock;
    vi.spyOn(App.prototype, 'finalizeBlock').mockImplementation(function (this: App, req) {
      if (req.height === 8n) throw new Error('injected replay failure');
      return real.call(this, req);
    });
    const r = verifyChain({ home });
    expect(r.mismatch?.height).toBe(3n); // not replaced by the failure at 8
    expect(r.mismatch?.recorded).toBe('CC'.repeat(32));
    expect(r.mismatchedHeights).toBe(2); // height 3, and height 8 that could not be replayed
    expect(r.problems.join('\n')).toContain('replaying height 8 failed: injected replay failure');
  });
});

describe('verify: damaged logs', () => {
  it('a record filed under another height is reported as such, not replayed', () => {
    const { home, db } = copy();
    tamperRecord(db, 6n, (rec) => {
      rec.height = 7n;
    });
    const r = verifyChain({ home });
    expect(r.ok).toBe(false);
    expect(r.problems).toContain('the block log record stored at height 6 says height 7');
    expect(r.lastHeight).toBe(5n);
  });

  it('a log that ends before the node\'s state says where each ends', () => {
    const { home, db } = copy();
    deleteRecords(db, `height = ${BLOCKS}`);
    const r = verifyChain({ home });
    expect(r.ok).toBe(false);
    expect(r.problems).toContain(`the block log ends at ${BLOCKS - 1}, the node's state is at height ${BLOCKS}`);
  });

  it('an empty log is named as empty', () => {
    const { home, db } = copy();
    deleteRecords(db, '1 = 1');
    const r = verifyChain({ home });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['the block log is empty (a node started with blockLog: false, or nothing was committed yet)']);
  });

  it('a store of another chain than the genesis is named', () => {
    const { home, db } = copy();
    const d = new Database(db);
    d.prepare("UPDATE meta SET value = ? WHERE name = 'chain_id'").run(Buffer.from('some-other-chain'));
    d.close();
    const r = verifyChain({ home });
    expect(r.ok).toBe(false);
    expect(r.problems).toContain(`the store is of chain "some-other-chain", the genesis of "${base.traffic.chainId}"`);
  });
});

describe('verify: node state edited behind an unchanged app hash', () => {
  // the committed app hash and every logged hash still match the replay: only the key-by-key diff can tell
  it('a changed value is listed and fails the verification', () => {
    const { home, db } = copy();
    const key = `bank/bal/${base.traffic.traders[2]!.address}`;
    editKv(db, (d) => d.prepare('UPDATE kv SET value = ?, leaf = ? WHERE key = ?').run(Buffer.from([1, 2, 3]), leafHash(key, Buffer.from([1, 2, 3])), key));
    const r = verifyChain({ home });
    expect(r.mismatch).toBeUndefined();
    expect(r.finalAppHash).toBe(r.nodeAppHash);
    expect(r.stateDiff).toEqual([`${key} (different value)`]);
    expect(r.ok).toBe(false);
    expect(r.problems).toContain("the node's state differs from the replayed state in 1 keys");
  });

  it('a key deleted from the node and a key only the node has are both listed', () => {
    const { home, db } = copy();
    const gone = `bank/bal/${base.traffic.traders[1]!.address}`;
    editKv(db, (d) => {
      d.prepare('DELETE FROM kv WHERE key = ?').run(gone);
      d.prepare('INSERT INTO kv (key, value, leaf) VALUES (?, ?, ?)').run('zz/extra', Buffer.from([9]), leafHash('zz/extra', Buffer.from([9])));
    });
    const r = verifyChain({ home });
    expect(r.ok).toBe(false);
    expect([...r.stateDiff].sort()).toEqual([`${gone} (only in the replay)`, "zz/extra (only in the node's state)"]);
  });

  it('lists at most 20 differing keys and says "20 or more"', () => {
    const { home, db } = copy();
    editKv(db, (d) => {
      const ins = d.prepare('INSERT INTO kv (key, value, leaf) VALUES (?, ?, ?)');
      for (let i = 0; i < 25; i++) {
        const key = `zz/extra/${String(i).padStart(2, '0')}`;
        ins.run(key, Buffer.from([i]), leafHash(key, Buffer.from([i])));
      }
    });
    const r = verifyChain({ home });
    expect(r.stateDiff).toHaveLength(20);
    expect(r.problems).toContain("the node's state differs from the replayed state in 20 or more keys");
  });
});
