/**
 * `perpchain abci` as a process, driven the way CometBFT drives it: blocks
 * finalized and committed over the socket, each change set merged into the
 * store's main table in the background (BackgroundMerger, WAL copied on its
 * own thread), then a clean stop on SIGTERM. The state on disk must then be
 * fully merged and equal to a reference App fed the same blocks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from '../../chain/app.js';
import { SqliteStore } from '../../chain/store/sqlite.js';
import { startProc, type Proc } from '../helpers/proc.js';
import { hex, stateEntries } from '../helpers/state.js';
import { buildHome } from '../reliability/lib/home.js';
import { AbciTestClient } from './client.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'perpchain.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-abci-cmd-'));
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('perpchain abci (the validator process)', () => {
  it('commits blocks over the socket, merges each change set in the background, and stops cleanly with everything merged', async () => {
    const b = buildHome(join(tmp, 'home'), 12, 51, 8);
    // the reference App works on a copy, so the process has the home's file to itself
    const refDb = join(tmp, 'ref.db');
    copyFileSync(b.db, refDb);
    const ref = App.open({ dbPath: refDb });
    const addr = `unix://${join(tmp, 'abci.sock')}`;
    const p = startProc(process.execPath, [cli, 'abci', '--home', b.home, '--addr', addr, '--no-api'], { cwd: root });
    procs.push(p);
    await p.waitFor(/abci server listening on/, 60_000);
    const client = await AbciTestClient.connect(addr);
    for (let i = 0; i < 6; i++) {
      const req = b.traffic.next(ref);
      const want = ref.finalizeBlock(req);
      ref.commit();
      const got = await client.call({
        finalizeBlock: { txs: req.txs, height: req.height, time: { seconds: req.timeNs / 1_000_000_000n, nanos: Number(req.timeNs % 1_000_000_000n) }, hash: req.hash, proposerAddress: req.proposerAddress },
      });
      expect(hex(got.finalizeBlock!.appHash)).toBe(hex(want.appHash));
      await client.call({ commit: {} });
    }
    const info = await client.call({ info: {} });
    expect(info.info?.lastBlockHeight).toBe(18n);
    client.destroy();
    await new Promise((r) => setTimeout(r, 300)); // the merges run between requests; give the last one a moment
    await p.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    expect(p.lines.filter((l) => /checkpoint failed|Error/.test(l))).toEqual([]);

    const store = new SqliteStore(b.db);
    expect(store.lastCommitted().height).toBe(18n);
    expect(store.pendingChangeSets).toBe(0); // every change set merged into kv before the stop
    store.close();
    const reopened = App.open({ dbPath: b.db });
    expect(hex(reopened.appHash)).toBe(hex(ref.appHash));
    expect(stateEntries(reopened)).toEqual(stateEntries(ref));
    reopened.close();
    ref.close();
  });
});
