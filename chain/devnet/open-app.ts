import { App } from '../app.js';
import { VerifyPool } from '../crypto/verify-pool.js';
import type { Opened } from './close-on-failure.js';
import type { HomePaths, NodeConfig } from './home.js';
import { loadProgressPrinter } from './load-progress.js';
import { existsSync, readFileSync } from 'node:fs';
import { SnapshotStore, Snapshotter } from '../snapshot/index.js';

/**
 * The App of a node home, opened as both drivers run it (`perpchain start` and `perpchain abci`): the home's
 * store with the config's durability, invariant checks and retained blocks, a signature-verification pool,
 * the WAL copy on its own thread, and the load progress on `log`. The pool and then the App go on `opened`,
 * so a start that fails later closes them again. Also the home's state-sync snapshots: those on disk are
 * offered to peers, and a Snapshotter takes new ones every `snapshots.interval` blocks (stop it before the
 * App closes; `opened` does).
 */
export function openNodeApp(paths: HomePaths, config: NodeConfig, opened: Opened, log: (line: string) => void): { app: App; pool: VerifyPool; snapshotter: Snapshotter } {
  const pool = new VerifyPool();
  const snapshots = new SnapshotStore(paths.snapshots);
  opened.add(() => pool.close());
  const app = App.open({
    dbPath: paths.db,
    durability: config.durability,
    verifyPool: pool,
    checkInvariantsEveryBlock: config.check_invariants,
    retainBlocks: BigInt(config.retain_blocks),
    log,
    onLoadProgress: loadProgressPrinter(log),
    walThread: true,
    snapshots,
    ...homeChainId(paths),
  });
  opened.add(() => app.close());
  const snapshotter = new Snapshotter({
    store: snapshots,
    dbPath: paths.db,
    interval: config.snapshots.interval,
    keepRecent: config.snapshots.keep_recent,
    chainId: () => app.chainId,
    initialHeight: () => app.initialHeight,
    log,
  });
  app.onCommit((b) => snapshotter.onCommit(b.height));
  opened.add(() => snapshotter.stop());
  return { app, pool, snapshotter };
}

/**
 * The chain id and initial height of the home's genesis, if it has one: a snapshot offered for state sync
 * must be of that chain (neither is in the app hash, so a snapshot's own are only a peer's word).
 */
function homeChainId(paths: HomePaths): { stateSyncChainId?: string; stateSyncInitialHeight?: bigint } {
  if (!existsSync(paths.genesis)) return {};
  try {
    const g = JSON.parse(readFileSync(paths.genesis, 'utf8')) as { chain_id?: unknown; initial_height?: unknown };
    if (typeof g.chain_id !== 'string' || g.chain_id === '') return {};
    const ih = typeof g.initial_height === 'string' && /^[0-9]+$/.test(g.initial_height) ? BigInt(g.initial_height) : 1n;
    return { stateSyncChainId: g.chain_id, stateSyncInitialHeight: ih > 0n ? ih : 1n }; // (CometBFT reads 0 as 1)
  } catch {
    return {}; // the drivers report a broken genesis themselves where they need it
  }
}
