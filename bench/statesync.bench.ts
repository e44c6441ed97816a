/**
 * State sync: taking a snapshot on a serving node, and restoring it on an
 * empty one, at 100,000 and 1,000,000 accounts (the foundation benchmark's
 * synthetic state: an account and a balance each).
 *
 *   snapshot  Snapshotter on the state file, as the node runs it after a
 *             Commit: total time, chunks and size, and the longest and median
 *             event-loop turn meanwhile (what CometBFT's and the API's
 *             requests wait at most while a snapshot is written)
 *   restore   an empty App with its own sqlite file: OfferSnapshot and every
 *             ApplySnapshotChunk, through the root check and the install; the
 *             restored app hash must equal the snapshot's
 *   restart   the reference: App.open of the same state in a fresh process
 *             (bench/lib/restart-child.ts), the other way a node gets that
 *             state into memory; restore / restart is printed
 *
 *   node --import tsx bench/run.ts statesync [--sizes=100000,1000000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { App } from '../chain/app.js';
import { SqliteStore } from '../chain/store/sqlite.js';
import { SnapshotStore, Snapshotter } from '../chain/snapshot/index.js';
import { testKeys } from '../test/helpers/keys.js';
import type { BenchFigures } from './run.js';
import { CHAIN_ID, SyntheticState, newApp, now, syntheticAddress } from './lib/foundation-state.js';

export const name = 'statesync';
export const description = 'state-sync snapshot (time, size, longest event-loop turn) and restore at 100k and 1M accounts, beside a restart of the same state';

function arg(args: string[], key: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`--${key}=`));
  return a ? a.slice(key.length + 3) : dflt;
}

const here = dirname(fileURLToPath(import.meta.url));
const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1000}k`);

export async function run(args: string[]): Promise<BenchFigures> {
  const sizes = arg(args, 'sizes', '100000,1000000').split(',').map(Number);
  const out: BenchFigures = {};
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-bench-statesync-'));
  try {
    const dbPath = join(tmp, 'serving.db');
    newApp(dbPath, testKeys(10, 'bench-statesync')).close();
    const state = new SyntheticState(dbPath);
    for (const n of sizes) {
      let t = now();
      state.grow(n);
      const built = (now() - t) / 1000;
      const db = new SqliteStore(dbPath, { readonly: true });
      const { height, appHash } = db.lastCommitted();
      db.close();
      const L = label(n);

      // ---------------------------------------------------------- snapshot
      const store = new SnapshotStore(join(tmp, `snapshots-${L}`));
      const logs: string[] = [];
      const snapshotter = new Snapshotter({ store, dbPath, interval: 1, keepRecent: 1, chainId: () => CHAIN_ID, initialHeight: () => 1n, log: (l) => logs.push(l) });
      const turns: number[] = [];
      let last = now();
      let stop = false;
      const tick = () => {
        const x = now();
        turns.push(x - last);
        last = x;
        if (!stop) setImmediate(tick);
      };
      (globalThis as { gc?: () => void }).gc?.();
      t = now();
      last = t;
      snapshotter.onCommit(height);
      setImmediate(tick);
      await snapshotter.idle();
      stop = true;
      const snapMs = now() - t;
      const snap = store.snapshots()[0];
      if (!snap) throw new Error(`no snapshot was taken: ${logs.join('; ')}`);
      turns.sort((a, b) => a - b);
      const mib = snap.chunks ? logs.map((l) => /\(([\d.]+) MiB\)/.exec(l)?.[1]).find(Boolean) : undefined;

      // ----------------------------------------------------------- restore
      (globalThis as { gc?: () => void }).gc?.();
      const target = App.open({ dbPath: join(tmp, `restored-${L}.db`), stateSyncChainId: CHAIN_ID });
      t = now();
      const offered = target.offerSnapshot(snap, appHash);
      if (offered.result !== 'accept') throw new Error(`the snapshot was not accepted: ${offered.result}, ${offered.reason}`);
      for (let i = 0; i < snap.chunks; i++) {
        const r = target.applySnapshotChunk(i, store.chunk(snap.height, snap.format, i)!, 'bench');
        if (r.result !== 'accept') throw new Error(`chunk ${i}: ${r.result}, ${r.reason}`);
      }
      const restoreMs = now() - t;
      if (!Buffer.from(target.appHash).equals(Buffer.from(appHash)) || target.height !== height) throw new Error('the restored node is not at the snapshot height and app hash');
      target.close();

      // ----------------------------------------------------------- restart (reference)
      const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'lib', 'restart-child.ts'), dbPath, syntheticAddress(0)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (child.status !== 0) throw new Error(`restart child failed: ${child.stderr}`);
      const restartMs = (JSON.parse(child.stdout.trim().split('\n').pop()!) as { ms: number }).ms;

      out[`snapshot_${L}_accounts_ms`] = Math.round(snapMs);
      out[`snapshot_longest_turn_${L}_accounts_ms`] = Math.round(turns[turns.length - 1]! * 10) / 10;
      out[`snapshot_chunks_${L}_accounts`] = snap.chunks;
      out[`restore_${L}_accounts_ms`] = Math.round(restoreMs);
      out[`restart_${L}_accounts_ms`] = Math.round(restartMs);
      console.log(
        `  ${n.toLocaleString('en-US')} accounts (built in ${built.toFixed(1)} s, not measured): snapshot ${(snapMs / 1000).toFixed(2)} s, ${snap.chunks} chunks (${mib ?? '?'} MiB), ` +
          `event-loop turns longest ${turns[turns.length - 1]!.toFixed(1)} ms, median ${turns[turns.length >> 1]!.toFixed(2)} ms; ` +
          `restore ${(restoreMs / 1000).toFixed(2)} s vs restart ${(restartMs / 1000).toFixed(2)} s (×${(restoreMs / restartMs).toFixed(2)})`,
      );
      rmSync(join(tmp, `restored-${L}.db`), { force: true });
      rmSync(join(tmp, `snapshots-${L}`), { recursive: true, force: true });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
