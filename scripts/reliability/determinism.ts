/**
 * The long determinism run: four App instances (normal, no-CheckTx,
 * restarted-from-disk, separate process) fed the same seeded blocks must agree
 * on every app hash and tx result; invariants checked after every block.
 *
 *   node --import tsx scripts/reliability/determinism.ts [--blocks 10000] [--seed 1] [--txs 10] [--home DIR]
 *
 * Exit code 0 when every instance agreed and every invariant held.
 * --home DIR keeps instance C's store as DIR/data/state.db with the matching
 * DIR/config/genesis.json: a node home that `perpchain verify --home DIR`
 * replays afterwards.
 */
import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatStats, runFleet } from '../../test/reliability/lib/fleet.js';
import { genesisDoc } from '../../test/reliability/lib/home.js';
import { Traffic } from '../../test/reliability/lib/traffic.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const blocks = Number(arg('blocks', '10000'));
const seed = Number(arg('seed', '1'));
const txs = Number(arg('txs', '10'));
const home = process.argv.includes('--home') ? arg('home', '') : undefined;
let keepDb: string | undefined;
if (home) {
  mkdirSync(join(home, 'config'), { recursive: true });
  mkdirSync(join(home, 'data'), { recursive: true });
  const t = new Traffic({ seed, txsPerBlock: txs });
  writeFileSync(join(home, 'config', 'genesis.json'), JSON.stringify(genesisDoc(t, t.initChain().timeNs), null, 2) + '\n');
  keepDb = join(home, 'data', 'state.db');
}
console.log(`determinism: ${blocks} blocks, seed ${seed}, ~${txs} user txs/block; ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const stats = await runFleet({
  blocks,
  seed,
  txsPerBlock: txs,
  ...(keepDb ? { keepDb } : {}),
  progressEvery: Math.max(100, Math.floor(blocks / 20)),
  onProgress: (s) => console.log(`  ${s.blocks} blocks, ${s.txs} txs (${s.okTxs} ok), liquidations ${s.events.get('liquidation.liquidated') ?? 0}, adl ${s.events.get('liquidation.adl') ?? 0}, bad debt ${s.events.get('liquidation.bad_debt') ?? 0}, fund dry ${s.fundDryBlocks}, ${(s.ms / 1000).toFixed(0)} s, ${(s.blocks / (s.ms / 1000)).toFixed(1)} blocks/s, mismatches ${s.mismatches.length}, invariant problems ${s.invariantProblems.length}; load ${loadavg()[0]!.toFixed(2)}`),
});
console.log(formatStats(stats));
console.log(`kinds: ${[...((stats as unknown as { kinds: Map<string, number> }).kinds ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join(' ')}`);
console.log(`final app hash ${stats.finalAppHash}; load at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const ok = stats.mismatches.length === 0 && stats.invariantProblems.length === 0 && stats.blocks === blocks;
console.log(ok ? 'OK: all instances agreed at every height; every invariant held' : 'FAILED');
process.exit(ok ? 0 : 1);
