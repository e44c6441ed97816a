/**
 * The determinism harness: one traffic generator, four App instances that
 * must agree on every app hash and every tx result at every height.
 *
 *   A  normal: in memory, CheckTx on every tx of the block first (as a
 *      mempool would), then FinalizeBlock + Commit. The traffic generator's
 *      reference (it reads sequences, prices, positions and orders from A).
 *   B  no CheckTx at all; now and then first finalizes a different block at
 *      the same height (reordered, truncated, other time) and abandons it, as
 *      CometBFT does when it re-runs a height after a round change.
 *   C  on a sqlite file with a VerifyPool (parallel signature checks,
 *      finalizeBlockAsync); closed and reopened from disk at random heights,
 *      and sometimes "crashed" between FinalizeBlock and Commit (closed with
 *      the block uncommitted) and reopened to run the block again.
 *   D  a separate process (fixtures/replica.ts) reading the blocks on a pipe,
 *      with checkInvariantsEveryBlock; prints height, app hash and a digest
 *      of the results, which are compared with A's.
 *
 * After every block A is also checked against every module invariant, the
 * whole-chain ledger (lib/ledger.ts) and the per-order accounting
 * (lib/orders-ledger.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from '../../../chain/app.js';
import { VerifyPool } from '../../../chain/crypto/verify-pool.js';
import type { FinalizeBlockRequest, FinalizeBlockResult } from '../../../chain/types.js';
import { startProc, type Proc } from '../../helpers/proc.js';
import { Rng } from '../../helpers/rng.js';
import { allInvariantProblems, invariantNames } from './ledger.js';
import { OrdersLedger } from './orders-ledger.js';
import { Traffic, type TrafficOptions } from './traffic.js';
import { blockLine, hex, initLine, resultDigest } from './wire.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const REPLICA = join(root, 'test', 'reliability', 'fixtures', 'replica.ts');

export interface FleetOptions extends TrafficOptions {
  blocks: number;
  /** Run the separate-process instance D (default true). */
  process?: boolean;
  /** Check invariants on A every `invariantsEvery` blocks (default 1). */
  invariantsEvery?: number;
  onProgress?: (s: FleetStats) => void;
  progressEvery?: number;
  /** Keep C's sqlite home after the run (for `perpchain verify`); returns its path in stats. */
  keepDb?: string;
}

export interface FleetStats {
  blocks: number;
  txs: number;
  okTxs: number;
  codes: Map<string, number>;
  events: Map<string, number>;
  cancelReasons: Map<string, number>;
  clamped: number;
  /** Blocks that ended with the insurance fund below $1 (it ran dry), and its lowest balance. */
  fundDryBlocks: number;
  fundMin: bigint;
  reopens: number;
  crashes: number;
  replays: number;
  processBlocks: number;
  invariantChecks: number;
  invariantNames: string[];
  ordersPlaced: number;
  fills: number;
  placeResponsesChecked: number;
  mismatches: string[];
  invariantProblems: string[];
  ms: number;
  /** Wall time by part: traffic generation, each instance, checks. */
  timing: Record<'gen' | 'A' | 'B' | 'C' | 'checks', number>;
  finalAppHash: string;
  dbPath?: string;
}

function inc<K>(m: Map<K, number>, k: K, n = 1): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

export async function runFleet(o: FleetOptions): Promise<FleetStats> {
  const t0 = performance.now();
  const traffic = new Traffic(o);
  const rng = new Rng(o.seed ^ 0x0c0ffee);
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-fleet-'));
  const dbPath = o.keepDb ?? join(tmp, 'c.db');
  const pool = new VerifyPool(1);
  const stats: FleetStats = {
    blocks: 0,
    txs: 0,
    okTxs: 0,
    codes: new Map(),
    events: new Map(),
    cancelReasons: new Map(),
    clamped: 0,
    fundDryBlocks: 0,
    fundMin: -1n,
    reopens: 0,
    crashes: 0,
    replays: 0,
    processBlocks: 0,
    invariantChecks: 0,
    invariantNames: [],
    ordersPlaced: 0,
    fills: 0,
    placeResponsesChecked: 0,
    mismatches: [],
    invariantProblems: [],
    ms: 0,
    timing: { gen: 0, A: 0, B: 0, C: 0, checks: 0 },
    finalAppHash: '',
  };
  const A = App.open();
  const B = App.open();
  let C = App.open({ dbPath, verifyPool: pool });
  stats.invariantNames = invariantNames(A);
  const init = traffic.initChain();
  for (const app of [A, B, C]) app.initChain(init);

  // D: the separate process
  let D: Proc | undefined;
  const expected = new Map<bigint, string>();
  let dDone: Promise<void> = Promise.resolve();
  if (o.process !== false) {
    D = startProc(process.execPath, ['--import', 'tsx', REPLICA], { cwd: root });
    D.send(initLine(init));
    await D.waitFor(/^ready$/, 60_000);
    D.child.stdin!.on('error', () => undefined);
    const proc = D;
    dDone = new Promise<void>((resolve) => {
      const onLine = (line: string) => {
        if (line.startsWith('done') || line.startsWith('error')) {
          if (line.startsWith('error')) stats.mismatches.push(`D (separate process): ${line}`);
          resolve();
          return;
        }
        const m = /^(\d+) ([0-9A-F]+) ([0-9A-F]+)$/.exec(line);
        if (!m) return;
        const h = BigInt(m[1]!);
        const want = expected.get(h);
        stats.processBlocks++;
        if (want !== `${m[2]} ${m[3]}`) stats.mismatches.push(`D differs from A at height ${h}: ${m[2]} ${m[3]} vs ${want}`);
        expected.delete(h);
      };
      createInterface({ input: proc.child.stdout! }).on('line', onLine);
      void proc.exited.then(() => setTimeout(resolve, 100));
    });
  }

  const ledger = new OrdersLedger();
  let reopenIn = rng.range(5, 40);
  const every = o.invariantsEvery ?? 1;

  try {
    for (let i = 0; i < o.blocks; i++) {
      let tm = performance.now();
      const lap = (k: keyof FleetStats['timing']) => {
        const now = performance.now();
        stats.timing[k] += now - tm;
        tm = now;
      };
      const req = traffic.next(A);
      const h = req.height;
      lap('gen');

      // A: CheckTx every tx, then the block.
      for (const tx of req.txs) A.checkTx({ tx, type: 'new' });
      const ra = A.finalizeBlock(req);
      A.commit();
      const da = resultDigest(ra);
      lap('A');

      // B: no CheckTx; sometimes an abandoned different block first.
      if (rng.chance(1 / 12) && req.txs.length > 1) {
        const alt: FinalizeBlockRequest = { ...req, txs: rng.shuffle(req.txs).slice(0, rng.range(0, req.txs.length - 1)), timeNs: req.timeNs + 1n };
        B.finalizeBlock(alt);
        stats.replays++;
      }
      const rb = B.finalizeBlock(req);
      B.commit();
      lap('B');

      // C: parallel signatures; sometimes crashed before Commit; reopened at random heights.
      let rc = await C.finalizeBlockAsync(req);
      if (rng.chance(1 / 25)) {
        C.close();
        C = App.open({ dbPath, verifyPool: pool });
        if (C.height !== h - 1n) stats.mismatches.push(`C reopened after a crash before Commit at height ${C.height}, expected ${h - 1n}`);
        if (C.height === 0n) C.initChain(init); // before the first Commit nothing is persisted: InitChain again (as CometBFT does)
        rc = await C.finalizeBlockAsync(req);
        stats.crashes++;
      }
      C.commit();
      if (rng.chance(0.7)) C.checkpoint(); // as the nodes do between blocks; otherwise the change log grows (reopen merges kv + log)
      if (--reopenIn === 0) {
        C.close();
        C = App.open({ dbPath, verifyPool: pool });
        reopenIn = rng.range(5, 40);
        stats.reopens++;
        if (C.height !== h || hex(C.appHash) !== hex(A.appHash)) stats.mismatches.push(`C reopened at ${C.height} ${hex(C.appHash)}, expected ${h} ${hex(A.appHash)}`);
      }

      lap('C');
      // D: stream the block; its answer is checked when it arrives.
      if (D) {
        expected.set(h, `${hex(ra.appHash)} ${da}`);
        D.send(blockLine(req));
      }

      const db = resultDigest(rb);
      const dc = resultDigest(rc);
      if (db !== da) stats.mismatches.push(`B differs from A at height ${h}: ${describeDiff(ra, rb)}`);
      if (dc !== da) stats.mismatches.push(`C differs from A at height ${h}: ${describeDiff(ra, rc)}`);
      if (stats.mismatches.length > 5) break;

      // Invariants and per-order accounting on A.
      if ((i + 1) % every === 0 || i === o.blocks - 1) {
        const problems = allInvariantProblems(A);
        stats.invariantChecks++;
        for (const p of problems) stats.invariantProblems.push(`height ${h}: ${p}`);
      }
      for (const p of ledger.block(ra)) stats.invariantProblems.push(`height ${h}: orders: ${p}`);
      if (stats.invariantProblems.length > 20) break;
      lap('checks');

      // Statistics.
      stats.blocks++;
      const fund = A.keepers.liquidation.insuranceFund(A.state);
      if (stats.fundMin < 0n || fund < stats.fundMin) stats.fundMin = fund;
      if (fund < 1_000_000n) stats.fundDryBlocks++;
      for (const r of ra.txResults) {
        stats.txs++;
        if (r.code === 0) stats.okTxs++;
        inc(stats.codes, `${r.codespace || 'ok'}/${r.code}`);
        for (const e of r.events) countEvent(stats, e);
      }
      for (const e of ra.events) countEvent(stats, e);
      if (o.onProgress && (i + 1) % (o.progressEvery ?? 500) === 0) {
        stats.ms = performance.now() - t0;
        o.onProgress(stats);
      }
    }
    for (const p of ledger.checkOpen(A)) stats.invariantProblems.push(`end: orders: ${p}`);
    stats.ordersPlaced = ledger.placed;
    stats.fills = ledger.fills;
    stats.placeResponsesChecked = ledger.checkedResponses;
    stats.finalAppHash = hex(A.appHash);
    if (hex(B.appHash) !== stats.finalAppHash || hex(C.appHash) !== stats.finalAppHash) stats.mismatches.push('final app hashes differ');
    if (D) {
      D.send('end');
      await dDone;
      if (expected.size > 0) stats.mismatches.push(`D never answered for ${expected.size} heights (first ${[...expected.keys()][0]})`);
    }
  } finally {
    await D?.kill('SIGKILL');
    C.close();
    await pool.close();
    if (!o.keepDb) rmSync(tmp, { recursive: true, force: true });
  }
  stats.ms = performance.now() - t0;
  if (o.keepDb) stats.dbPath = dbPath;
  (stats as FleetStats & { kinds: Map<string, number> }).kinds = traffic.kinds;
  return stats;
}

function countEvent(stats: FleetStats, e: { type: string; attributes: Array<{ key: string; value: string }> }): void {
  inc(stats.events, e.type);
  if (e.type === 'prices.update' && e.attributes.some((a) => a.key === 'clamped' && a.value === 'true')) stats.clamped++;
  if (e.type === 'clob.order_cancelled') inc(stats.cancelReasons, e.attributes.find((a) => a.key === 'reason')?.value ?? '?');
}

function describeDiff(a: FinalizeBlockResult, b: FinalizeBlockResult): string {
  if (hex(a.appHash) !== hex(b.appHash)) {
    const i = a.txResults.findIndex((r, j) => r.code !== b.txResults[j]?.code || r.log !== b.txResults[j]?.log);
    return `app hash ${hex(b.appHash)} vs ${hex(a.appHash)}${i >= 0 ? `; first differing tx result #${i}: ${b.txResults[i]?.codespace}/${b.txResults[i]?.code} "${b.txResults[i]?.log}" vs ${a.txResults[i]?.codespace}/${a.txResults[i]?.code} "${a.txResults[i]?.log}"` : ''}`;
  }
  return 'same app hash, different tx results or events';
}

export function formatStats(s: FleetStats): string {
  const top = (m: Map<string, number>, n = 40) =>
    [...m.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  return [
    `blocks ${s.blocks}, txs ${s.txs} (${s.okTxs} ok), ${(s.ms / 1000).toFixed(1)} s`,
    `C: ${s.reopens} reopens, ${s.crashes} crashes before Commit; B: ${s.replays} abandoned blocks; D: ${s.processBlocks} blocks checked`,
    `invariant checks ${s.invariantChecks} × ${s.invariantNames.length} (${s.invariantNames.join(', ')}) + per-order accounting (${s.ordersPlaced} orders, ${s.fills} fills, ${s.placeResponsesChecked} responses)`,
    `insurance fund: lowest ${s.fundMin} uusdc, below $1 after ${s.fundDryBlocks} blocks; clamped prices ${s.clamped}; time: ${Object.entries(s.timing).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`,
    `codes: ${top(s.codes)}`,
    `events: ${top(s.events)}`,
    `cancel reasons: ${top(s.cancelReasons)}`,
    ...(s.mismatches.length ? [`MISMATCHES:\n  ${s.mismatches.join('\n  ')}`] : []),
    ...(s.invariantProblems.length ? [`INVARIANT PROBLEMS:\n  ${s.invariantProblems.slice(0, 20).join('\n  ')}`] : []),
  ].join('\n');
}
