/**
 * State sync: taking a snapshot on a serving node, and restoring it on an
 * empty one, at 100,000 and 1,000,000 accounts (the foundation benchmark's
 * synthetic state: an account and a balance each). Each side runs in a fresh
 * process, as a node does (bench/lib/statesync-child.ts):
 *
 *   serve     App.open of the state (the restart: the reference), then the
 *             Snapshotter takes the snapshot of its height while the App is
 *             held in memory: total time, chunks and size, and the longest
 *             and median event-loop turn meanwhile (what CometBFT's and the
 *             API's requests wait at most while a snapshot is written)
 *   restore   an empty App with its own sqlite file: OfferSnapshot and every
 *             ApplySnapshotChunk, through the group checks and the install;
 *             the restored height and app hash must be the snapshot's
 *
 *   node --import tsx bench/run.ts statesync [--sizes=100000,1000000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { testKeys } from '../test/helpers/keys.js';
import type { BenchFigures } from './run.js';
import { CHAIN_ID, SyntheticState, newApp, now } from './lib/foundation-state.js';

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
      const t = now();
      state.grow(n);
      const built = (now() - t) / 1000;
      const L = label(n);
      const snapDir = join(tmp, `snapshots-${L}`);
      const child = (...a: string[]) => {
        const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', join(here, 'lib', 'statesync-child.ts'), ...a], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (r.status !== 0) throw new Error(`statesync child (${a[0]}) failed: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
      };
      const served = child('serve', dbPath, snapDir);
      const restored = child('restore', join(tmp, `restored-${L}.db`), snapDir, CHAIN_ID, String(served.appHash));
      const num = (x: number | string | undefined) => Number(x);
      out[`snapshot_${L}_accounts_ms`] = Math.round(num(served.snapshotMs));
      out[`snapshot_longest_turn_${L}_accounts_ms`] = Math.round(num(served.longestTurnMs) * 10) / 10;
      out[`snapshot_chunks_${L}_accounts`] = num(served.chunks);
      out[`restore_${L}_accounts_ms`] = Math.round(num(restored.restoreMs));
      out[`restart_${L}_accounts_ms`] = Math.round(num(served.restartMs));
      console.log(
        `  ${n.toLocaleString('en-US')} accounts (built in ${built.toFixed(1)} s, not measured): snapshot ${(num(served.snapshotMs) / 1000).toFixed(2)} s, ${served.chunks} chunks (${served.mib} MiB), ` +
          `event-loop turns longest ${num(served.longestTurnMs).toFixed(1)} ms, median ${num(served.medianTurnMs).toFixed(2)} ms, serving node ${num(served.rssMb).toFixed(0)} MB resident; ` +
          `restore ${(num(restored.restoreMs) / 1000).toFixed(2)} s (slowest ApplySnapshotChunk ${num(restored.slowestChunkMs).toFixed(0)} ms, the last one installing the state; ${num(restored.rssMb).toFixed(0)} MB resident) vs restart ${(num(served.restartMs) / 1000).toFixed(2)} s (×${(num(restored.restoreMs) / num(served.restartMs)).toFixed(2)})`,
      );
      rmSync(join(tmp, `restored-${L}.db`), { force: true });
      rmSync(snapDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
