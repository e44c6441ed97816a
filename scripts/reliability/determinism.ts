/**
 * The long determinism run: four App instances (normal, no-CheckTx,
 * restarted-from-disk, separate process) fed the same seeded blocks must agree
 * on every app hash and tx result; invariants checked after every block.
 *
 *   node --import tsx scripts/reliability/determinism.ts [--blocks 10000] [--seed 1] [--txs 10] [--keep-db PATH]
 *
 * Exit code 0 when every instance agreed and every invariant held.
 * --keep-db keeps instance C's sqlite file (a node home's data/state.db) so
 * `perpchain verify` can replay it afterwards.
 */
import { cpus, loadavg } from 'node:os';
import { formatStats, runFleet } from '../../test/reliability/lib/fleet.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const blocks = Number(arg('blocks', '10000'));
const seed = Number(arg('seed', '1'));
const txs = Number(arg('txs', '10'));
const keepDb = process.argv.includes('--keep-db') ? arg('keep-db', '') : undefined;
console.log(`determinism: ${blocks} blocks, seed ${seed}, ~${txs} user txs/block; ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const stats = await runFleet({
  blocks,
  seed,
  txsPerBlock: txs,
  ...(keepDb ? { keepDb } : {}),
  progressEvery: Math.max(100, Math.floor(blocks / 20)),
  onProgress: (s) => console.log(`  ${s.blocks} blocks, ${s.txs} txs, ${(s.ms / 1000).toFixed(0)} s, ${(s.blocks / (s.ms / 1000)).toFixed(1)} blocks/s, mismatches ${s.mismatches.length}, invariant problems ${s.invariantProblems.length}; load ${loadavg()[0]!.toFixed(2)}`),
});
console.log(formatStats(stats));
console.log(`kinds: ${[...((stats as unknown as { kinds: Map<string, number> }).kinds ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join(' ')}`);
console.log(`final app hash ${stats.finalAppHash}; load at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const ok = stats.mismatches.length === 0 && stats.invariantProblems.length === 0 && stats.blocks === blocks;
console.log(ok ? 'OK: all instances agreed at every height; every invariant held' : 'FAILED');
process.exit(ok ? 0 : 1);
