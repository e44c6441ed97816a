/**
 * `perpchain verify --home` replays from the InitChain request the node recorded in its store, so a home
 * without `config/genesis.json` (one `perpchain abci` made: it needs no `init`, its genesis is CometBFT's)
 * verifies. It used to insist on the file before looking at the store. A home with neither is refused with a
 * message that says both are missing; --genesis still needs its file. The report names its source once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifyResult, verifyChain } from '../../chain/verify/index.js';
import Database from 'better-sqlite3';
import { buildHome, type BuiltHome } from './lib/home.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-verify-nogenesis-'));
let base: BuiltHome;
beforeAll(() => {
  base = buildHome(join(tmp, 'base'), 12, 7, 6);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('perpchain verify --home without a genesis file', () => {
  it('replays from the recorded InitChain request and says so once', () => {
    const home = join(tmp, 'no-genesis');
    cpSync(base.home, home, { recursive: true });
    rmSync(join(home, 'config', 'genesis.json'));
    const r = verifyChain({ home });
    expect(r.ok).toBe(true);
    expect(r.blocks).toBe(12);
    expect(r.genesisFromStore).toBe(true);
    const text = formatVerifyResult(r);
    expect(text).toMatch(/from the InitChain request recorded in \S+state\.db in /);
    expect(text).not.toMatch(/state\.db and \S+state\.db/);
  });

  it('a store with no recorded InitChain and no genesis file is refused, naming both', () => {
    const home = join(tmp, 'neither');
    cpSync(base.home, home, { recursive: true });
    rmSync(join(home, 'config', 'genesis.json'));
    // as a store from before perpchain recorded InitChain requests
    const db = new Database(join(home, 'data', 'state.db'));
    db.prepare("DELETE FROM meta WHERE name = 'init_chain'").run();
    db.close();
    expect(() => verifyChain({ home })).toThrow(/no genesis at .*genesis\.json, and .*state\.db recorded no InitChain request/);
    // an explicit --genesis must exist
    expect(() => verifyChain({ genesis: join(home, 'nope.json'), db: join(home, 'data', 'state.db') })).toThrow(/no genesis at .*nope\.json/);
  });
});
