import { App } from '../app.js';
import { VerifyPool } from '../crypto/verify-pool.js';
import type { Opened } from './close-on-failure.js';
import type { HomePaths, NodeConfig } from './home.js';
import { loadProgressPrinter } from './load-progress.js';

/**
 * The App of a node home, opened as both drivers run it (`perpchain start` and `perpchain abci`): the home's
 * store with the config's durability, invariant checks and retained blocks, a signature-verification pool,
 * the WAL copy on its own thread, and the load progress on `log`. The pool and then the App go on `opened`,
 * so a start that fails later closes them again.
 */
export function openNodeApp(paths: HomePaths, config: NodeConfig, opened: Opened, log: (line: string) => void): { app: App; pool: VerifyPool } {
  const pool = new VerifyPool();
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
  });
  opened.add(() => app.close());
  return { app, pool };
}
