/**
 * Child process of bench/statesync.bench.ts, so each side runs as a node
 * would, in a process of its own:
 *
 *   serve <dbPath> <snapshotDir>
 *       App.open on the state file (timed: the restart), then a snapshot of
 *       its height by the Snapshotter, with the App held in memory as a
 *       node holds it; every event-loop turn meanwhile is timed.
 *   restore <dbPath> <snapshotDir> <chainId> <appHashHex>
 *       an empty App on a new state file restores the snapshot (OfferSnapshot,
 *       every ApplySnapshotChunk, the install); the result must be at the
 *       snapshot's height and app hash.
 *
 * Prints one JSON line.
 */
import { App } from '../../chain/app.js';
import { SnapshotStore, Snapshotter } from '../../chain/snapshot/index.js';

const [mode, dbPath, snapshotDir, chainId, appHashHex] = process.argv.slice(2);
const now = () => performance.now();

if (mode === 'serve' && dbPath && snapshotDir) {
  let t = now();
  const app = App.open({ dbPath });
  const restartMs = now() - t;
  const store = new SnapshotStore(snapshotDir);
  const logs: string[] = [];
  const snapshotter = new Snapshotter({ store, dbPath, interval: 1, keepRecent: 1, chainId: () => app.chainId, initialHeight: () => app.initialHeight, log: (l) => logs.push(l) });
  const turns: number[] = [];
  let stop = false;
  let last = 0;
  const tick = () => {
    const x = now();
    turns.push(x - last);
    last = x;
    if (!stop) setImmediate(tick);
  };
  t = now();
  snapshotter.onCommit(app.height);
  last = now();
  setImmediate(tick);
  await snapshotter.idle();
  stop = true;
  const snapshotMs = now() - t;
  const snap = store.snapshots()[0];
  if (!snap) throw new Error(`no snapshot was taken: ${logs.join('; ')}`);
  turns.sort((a, b) => a - b);
  const mib = Number(/\(([\d.]+) MiB\)/.exec(logs.join(' '))?.[1] ?? NaN);
  console.log(
    JSON.stringify({ restartMs, snapshotMs, chunks: snap.chunks, mib, longestTurnMs: turns[turns.length - 1] ?? 0, medianTurnMs: turns[turns.length >> 1] ?? 0, height: String(app.height), appHash: Buffer.from(app.appHash).toString('hex'), rssMb: process.memoryUsage().rss / 2 ** 20 }),
  );
  app.close();
} else if (mode === 'restore' && dbPath && snapshotDir && chainId && appHashHex) {
  const store = new SnapshotStore(snapshotDir);
  const snap = store.snapshots()[0];
  if (!snap) throw new Error(`no snapshot in ${snapshotDir}`);
  const app = App.open({ dbPath, stateSyncChainId: chainId });
  const t = now();
  const offered = app.offerSnapshot(snap, Buffer.from(appHashHex, 'hex'));
  if (offered.result !== 'accept') throw new Error(`the snapshot was not accepted: ${offered.result}, ${offered.reason}`);
  let slowestChunkMs = 0;
  for (let i = 0; i < snap.chunks; i++) {
    const c0 = now();
    const r = app.applySnapshotChunk(i, store.chunk(snap.height, snap.format, i)!, 'bench');
    if (r.result !== 'accept') throw new Error(`chunk ${i}: ${r.result}, ${r.reason}`);
    slowestChunkMs = Math.max(slowestChunkMs, now() - c0);
  }
  const restoreMs = now() - t;
  if (app.height !== snap.height || Buffer.from(app.appHash).toString('hex') !== appHashHex) throw new Error('the restored node is not at the snapshot height and app hash');
  console.log(JSON.stringify({ restoreMs, slowestChunkMs, rssMb: process.memoryUsage().rss / 2 ** 20 }));
  app.close();
} else {
  console.error('usage: statesync-child.ts serve <dbPath> <snapshotDir> | restore <dbPath> <snapshotDir> <chainId> <appHashHex>');
  process.exit(2);
}
