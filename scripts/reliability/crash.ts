/**
 * Many SIGKILLs: a node process runs a file of traffic blocks on a sqlite
 * home and is killed again and again — inside FinalizeBlock, inside Commit
 * (mid sqlite transaction), after Commit, inside the checkpoint that merges
 * the change log into kv, and at random moments — and after
 * each kill the store is checked against a never-crashed reference
 * (test/reliability/lib/crash.ts).
 *
 *   node --import tsx scripts/reliability/crash.ts [--kills 200] [--seed 1]
 *
 * Exit 0 when every restart was at the implied committed height with the
 * reference hash, the block log lost or changed nothing, and every
 * re-executed block hashed as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrashHarness, prepareBlocks, type KillPoint } from '../../test/reliability/lib/crash.js';
import { Rng } from '../../test/helpers/rng.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const kills = Number(arg('kills', '200'));
const seed = Number(arg('seed', '1'));
const dir = mkdtempSync(join(tmpdir(), 'perpchain-crash-run-'));
const t0 = performance.now();
console.log(`crash: ${kills} kills, seed ${seed}; ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const blocks = kills * 8 + 60; // worst case: a targeted cycle moves ≤ 5 blocks on, a random one ≤ 17 (its bound), 1 in 5 cycles random
const ref = prepareBlocks(dir, blocks, seed, 10);
console.log(`  reference chain: ${blocks} blocks, ${ref.txCount} txs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const rng = new Rng(seed ^ 0xdead);
const h = new CrashHarness(ref, join(dir, 'node.db'), rng);
const points: KillPoint[] = ['finalize', 'commit', 'after', 'checkpoint', 'random'];
const byPoint = new Map<KillPoint, number>();
const failures: string[] = [];
try {
  for (let i = 0; i < kills; i++) {
    const point = points[i % points.length]!;
    const r = await h.cycle(point, 4);
    byPoint.set(point, (byPoint.get(point) ?? 0) + 1);
    for (const p of r.problems) failures.push(`kill ${i + 1} (${point} at ${r.atHeight}): ${p}`);
    if (point !== 'random' && r.lastLine !== `at ${point} ${r.atHeight}`) failures.push(`kill ${i + 1}: meant ${point} at ${r.atHeight}, last line "${r.lastLine}"`);
    if ((i + 1) % 20 === 0) console.log(`  ${i + 1} kills, committed height ${h.committed}, re-executed ${h.reexecuted}, problems ${failures.length}, ${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg()[0]!.toFixed(2)}`);
    if (failures.length > 10) break;
  }
  failures.push(...(await h.finish()));
} finally {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`kills: ${h.kills} (${[...byPoint].map(([k, v]) => `${k} ${v}`).join(', ')}); blocks re-executed after a kill and compared with the killed process's hash: ${h.reexecuted}; final height ${h.committed}; ${((performance.now() - t0) / 1000).toFixed(0)} s; load at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (failures.length) {
  console.log(`FAILED:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('OK: every restart at the implied committed height with the reference hash; no committed tx lost or changed; every uncommitted block re-executed to the same hash');
