/**
 * Determinism across drivers: three Apps fed the same 200+ blocks of mixed
 * valid and invalid txs (seeded) must agree on the app hash and on every
 * ExecTxResult at every height.
 *
 *   A  in memory; CheckTx on every tx of the block first (warms the signature
 *      cache, as a mempool would), then FinalizeBlock + Commit.
 *   B  in memory; never CheckTx. Every ~11 blocks it first finalizes a
 *      different (truncated) version of the block and then the real one,
 *      as CometBFT does when it replays a height (the App must abandon the
 *      first pending block completely).
 *   C  on a sqlite file; signatures verified by a VerifyPool
 *      (finalizeBlockAsync); closed and reopened from disk every few blocks,
 *      and sometimes "crashed" between FinalizeBlock and Commit (closed
 *      without committing) and reopened to run the block again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../chain/app.js';
import { VerifyPool } from '../../chain/crypto/verify-pool.js';
import type { FinalizeBlockRequest, FinalizeBlockResult } from '../../chain/types.js';
import { GENESIS_TIME_NS, TEST_CHAIN_ID, genesisFor } from '../helpers/chain.js';
import { testKeys } from '../helpers/keys.js';
import { Rng } from '../helpers/rng.js';
import { hex, resultKey, stateEntries } from '../helpers/state.js';
import { Workload } from '../helpers/workload.js';

const SEED = 20260101;
const BLOCKS = 220;
const ACCOUNTS = 20;

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-det-'));
const pool = new VerifyPool(2);
afterAll(async () => {
  await pool.close();
  rmSync(tmp, { recursive: true, force: true });
});

function init(app: App, appState: Record<string, unknown>): void {
  app.initChain({ chainId: TEST_CHAIN_ID, timeNs: GENESIS_TIME_NS, initialHeight: 1n, appStateBytes: Buffer.from(JSON.stringify(appState)) });
}

function summary(r: FinalizeBlockResult) {
  return {
    appHash: hex(r.appHash),
    results: r.txResults.map(resultKey),
    events: JSON.stringify(r.txResults.map((t) => t.events)),
    blockEvents: JSON.stringify(r.events),
  };
}

describe('determinism: normal, no-CheckTx and reopened-from-disk Apps agree at every height', () => {
  it(`${BLOCKS} seeded blocks of mixed valid and invalid txs`, async () => {
    const keys = testKeys(ACCOUNTS, 'det');
    const appState = genesisFor(keys, 1_000_000_000_000n);
    const dbPath = join(tmp, 'c.db');
    const A = App.open();
    const B = App.open();
    let C = App.open({ dbPath, verifyPool: pool });
    for (const app of [A, B, C]) init(app, appState);

    const work = new Workload({ keys, seed: SEED });
    const rng = new Rng(SEED ^ 0x5eed);
    let timeNs = GENESIS_TIME_NS;
    let reopenIn = 4;
    const codes = new Map<string, number>();
    let ok = 0;
    let total = 0;
    let reopens = 0;
    let crashes = 0;
    let replays = 0;

    for (let h = 1n; h <= BigInt(BLOCKS); h++) {
      const n = rng.chance(0.05) ? rng.range(80, 160) : rng.range(0, 30);
      const txs = h === 1n ? [] : work.block(A, n);
      timeNs += BigInt(rng.range(1, 5)) * 1_000_000_000n + BigInt(rng.int(1_000_000));
      const req: FinalizeBlockRequest = { txs, height: h, timeNs, hash: rng.bytes(32), proposerAddress: new Uint8Array(20) };

      // A: CheckTx first, then the block.
      for (const tx of txs) A.checkTx({ tx, type: 'new' });
      const ra = summary(A.finalizeBlock(req));
      A.commit();

      // B: no CheckTx; sometimes a first, abandoned FinalizeBlock of a different block at this height.
      if (h % 11n === 0n && txs.length > 1) {
        B.finalizeBlock({ ...req, txs: txs.slice(0, txs.length >> 1), timeNs: timeNs - 1n });
        replays++;
      }
      const rb = summary(B.finalizeBlock(req));
      B.commit();

      // C: parallel signature verification; sometimes killed before Commit and reopened.
      let rc = summary(await C.finalizeBlockAsync(req));
      if (rng.chance(0.05)) {
        C.close(); // "crash" with a finalized, uncommitted block
        C = App.open({ dbPath, verifyPool: pool });
        expect(C.height).toBe(h - 1n);
        rc = summary(await C.finalizeBlockAsync(req));
        crashes++;
      }
      C.commit();
      if (--reopenIn === 0) {
        C.close();
        C = App.open({ dbPath, verifyPool: pool });
        reopenIn = rng.range(2, 8);
        reopens++;
        expect(C.height).toBe(h);
      }

      expect(rb, `B differs from A at height ${h}`).toEqual(ra);
      expect(rc, `C differs from A at height ${h}`).toEqual(ra);
      expect([hex(B.appHash), hex(C.appHash), hex(C.info().lastBlockAppHash)]).toEqual([ra.appHash, ra.appHash, ra.appHash]);

      for (const r of ra.results) {
        const [code, codespace] = r.split('/');
        codes.set(`${codespace}/${code}`, (codes.get(`${codespace}/${code}`) ?? 0) + 1);
        total++;
        if (code === '0') ok++;
      }
    }

    // The workload really was mixed: most kinds of outcome occurred, and a good share succeeded.
    expect(total).toBeGreaterThan(3_000);
    expect(ok / total).toBeGreaterThan(0.5);
    for (const c of ['/0', 'tx/3', 'tx/9', 'tx/12', 'bank/2']) expect(codes.get(c) ?? 0, `outcome ${c}`).toBeGreaterThan(0);
    expect(reopens).toBeGreaterThan(20);
    expect(crashes + replays).toBeGreaterThan(5);

    // Full states agree, and every invariant holds on each.
    const sa = stateEntries(A);
    expect(stateEntries(B)).toEqual(sa);
    C.close();
    C = App.open({ dbPath });
    expect(stateEntries(C)).toEqual(sa);
    for (const app of [A, B, C]) expect(app.runInvariants()).toEqual([]);
    expect(sa.some(([k]) => k.startsWith('sub/acc/'))).toBe(true);
    C.close();
  });
});
