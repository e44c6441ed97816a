/**
 * `verifyChain` with a genesis file it cannot read (malformed JSON, given with --genesis) throws the reader's
 * error and closes the store it had opened: a library caller that goes on (a test runner, a tool verifying
 * many homes) is left no open database handle. It used to leave the store open.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChain } from '../../chain/verify/index.js';
import { SqliteStore } from '../../chain/store/sqlite.js';
import { buildHome, type BuiltHome } from './lib/home.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-verify-badgenesis-'));
let base: BuiltHome;
beforeAll(() => {
  base = buildHome(join(tmp, 'base'), 4, 7, 3);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('perpchain verify with a malformed genesis file', () => {
  it('throws and closes every store it opened', () => {
    const bad = join(tmp, 'bad-genesis.json');
    writeFileSync(bad, '{"chain_id": "perpchain-1", ');
    const opened: SqliteStore[] = [];
    const open = vi.spyOn(SqliteStore.prototype, 'beginSnapshot').mockImplementation(function (this: SqliteStore) {
      opened.push(this);
    });
    const closed = vi.spyOn(SqliteStore.prototype, 'close');
    try {
      expect(() => verifyChain({ genesis: bad, db: join(base.home, 'data', 'state.db') })).toThrow(/genesis|JSON/i);
      expect(opened).toHaveLength(1);
      expect(closed.mock.contexts).toContain(opened[0]);
    } finally {
      open.mockRestore();
      closed.mockRestore();
    }
  });
});
