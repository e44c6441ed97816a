/**
 * SIGKILL harness: a real node process (fixtures/crash-node.ts) executes a
 * fixed block file on a sqlite home; we kill it with SIGKILL at a chosen or
 * random point, then check, as a restarted node would see it:
 *
 *   1. the store opens (App.open recomputes the Merkle root of the state on
 *      disk and refuses a store whose state does not hash to the committed
 *      app hash) at a committed height: the one the kill point implies
 *      (mid-FinalizeBlock or mid-Commit of H → H−1; after Commit of H, or
 *      in the middle of the checkpoint that merges its change set → H;
 *      random → between the last "committed" and the last "finalized" line);
 *   2. its app hash is the never-crashed reference chain's at that height;
 *   3. no committed tx is lost or changed: the block log holds every height
 *      up to there, each with exactly the reference block's txs, time and
 *      app hash, and nothing above it;
 *   4. the next process re-executes the first uncommitted block to the same
 *      app hash as the reference (and as the killed process had computed, if
 *      it got that far).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, decodeBlockRecord } from '../../../chain/app.js';
import type { FinalizeBlockRequest } from '../../../chain/types.js';
import { startProc, type Proc } from '../../helpers/proc.js';
import { Rng } from '../../helpers/rng.js';
import { Traffic } from './traffic.js';
import { blockLine, hex, initLine } from './wire.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CRASH_NODE = join(root, 'test', 'reliability', 'fixtures', 'crash-node.ts');

export interface Reference {
  file: string;
  blocks: FinalizeBlockRequest[];
  /** hashes[h] = app hash after block h (hashes[0] unused). */
  hashes: string[];
  txCount: number;
}

/** Generate `n` blocks of traffic, write the block file and the reference app hashes. */
export function prepareBlocks(dir: string, n: number, seed: number, txsPerBlock = 10): Reference {
  const t = new Traffic({ seed, txsPerBlock });
  const app = App.open();
  const init = t.initChain();
  app.initChain(init);
  const blocks: FinalizeBlockRequest[] = [];
  const hashes = [''];
  let txCount = 0;
  for (let i = 0; i < n; i++) {
    const req = t.next(app);
    app.finalizeBlock(req);
    app.commit();
    blocks.push(req);
    hashes.push(hex(app.appHash));
    txCount += req.txs.length;
  }
  const file = join(dir, `blocks-${seed}-${n}.txt`);
  writeFileSync(file, [initLine(init), ...blocks.map(blockLine), ''].join('\n'));
  return { file, blocks, hashes, txCount };
}

export type KillPoint = 'finalize' | 'commit' | 'after' | 'checkpoint' | 'random';

export interface CycleResult {
  point: KillPoint;
  /** Height the killed process was working on (targeted) or had last reported. */
  atHeight: number;
  /** Committed height found on restart. */
  restartHeight: number;
  /** The last line the killed process printed. */
  lastLine: string;
  problems: string[];
}

export class CrashHarness {
  readonly results: CycleResult[] = [];
  kills = 0;
  reexecuted = 0;
  private procs: Proc[] = [];
  /** Hash the killed process computed for the block after its committed height, if it printed one. */
  private pendingFinalized: { height: number; hash: string } | undefined;
  committed = 0;

  constructor(
    readonly ref: Reference,
    readonly dbPath: string,
    readonly rng: Rng,
  ) {}

  private start(extra: string[] = []): Proc {
    const p = startProc(process.execPath, ['--import', 'tsx', CRASH_NODE, this.ref.file, this.dbPath, ...extra], { cwd: root });
    this.procs.push(p);
    return p;
  }

  /** Check what a restarted process must see on its first lines (ready + the re-executed block). */
  private async checkStart(p: Proc, problems: string[]): Promise<void> {
    const ready = await p.waitFor(/^ready (\d+) ([0-9A-F]*)$/, 60_000);
    const h = Number(ready[1]);
    if (h !== this.committed) problems.push(`restarted process reports height ${h}, the store check said ${this.committed}`);
    if (h > 0 && ready[2] !== this.ref.hashes[h]) problems.push(`restarted process reports hash ${ready[2]} at ${h}, reference ${this.ref.hashes[h]}`);
    if (h + 1 < this.ref.hashes.length) {
      const f = await p.waitFor(new RegExp(`^finalized ${h + 1} ([0-9A-F]{64})$`), 60_000);
      if (f[1] !== this.ref.hashes[h + 1]) problems.push(`re-executed block ${h + 1}: ${f[1]} ≠ reference ${this.ref.hashes[h + 1]}`);
      if (this.pendingFinalized && this.pendingFinalized.height === h + 1) {
        this.reexecuted++;
        if (this.pendingFinalized.hash !== f[1]) problems.push(`block ${h + 1} re-executed to ${f[1]}, the killed process had ${this.pendingFinalized.hash}`);
      }
    }
  }

  /** One start–kill–check cycle. */
  async cycle(point: KillPoint, maxAhead = 6): Promise<CycleResult> {
    const problems: string[] = [];
    const last = this.ref.blocks.length;
    if (this.committed + 2 > last) throw new Error(`the block file (${last} blocks) is too short for another cycle at height ${this.committed}`);
    const target = Math.min(last, this.committed + 2 + this.rng.int(maxAhead));
    // A random kill lands wherever the process is after a random while, but never past a bound: the process
    // pauses after committing block `bound` (a faster App would otherwise run off the end of the block file).
    const bound = Math.min(last, this.committed + 2 + this.rng.int(4 * maxAhead));
    const p = point === 'random' ? this.start(['--pause', 'after', String(bound)]) : this.start(['--pause', point, String(target)]);
    await this.checkStart(p, problems);
    let atHeight = target;
    if (point === 'random') {
      // Let it run a random while (it executes blocks back to back), then kill.
      const ms = 5 + this.rng.int(400);
      await new Promise((r) => setTimeout(r, ms));
    } else {
      await p.waitFor(new RegExp(`^at ${point} ${target}$`), 60_000);
    }
    const exit = await p.kill('SIGKILL');
    this.kills++;
    if (exit.signal !== 'SIGKILL' && !p.lines.some((l) => l.startsWith('out: done'))) problems.push(`process ended with ${JSON.stringify(exit)} instead of SIGKILL`);
    const outs = p.lines.filter((l) => l.startsWith('out: ')).map((l) => l.slice(5));
    const lastLine = outs.at(-1) ?? '';
    const lastCommitted = Math.max(this.committed, ...outs.map((l) => /^committed (\d+) /.exec(l)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])));
    const lastFinalized = Math.max(0, ...outs.map((l) => /^finalized (\d+) /.exec(l)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])));
    for (const l of outs) {
      const m = /^(finalized|committed) (\d+) ([0-9A-F]{64})$/.exec(l);
      if (m && m[3] !== this.ref.hashes[Number(m[2])]) problems.push(`the process printed ${l}, reference ${this.ref.hashes[Number(m[2])]}`);
    }
    if (point === 'random') atHeight = lastFinalized;

    // The restarted node's view of the store.
    const app = App.open({ dbPath: this.dbPath });
    try {
      const h = Number(app.height);
      const want = point === 'after' || point === 'checkpoint' ? [target] : point === 'random' ? [lastCommitted, lastFinalized] : [target - 1];
      if (point === 'random' ? h < want[0]! || h > Math.max(want[0]!, want[1]!) : h !== want[0]) {
        problems.push(`restart at height ${h}; the kill point (${point} at ${atHeight}) implies ${point === 'random' ? `${want[0]}..${want[1]}` : want[0]}`);
      }
      if (h > 0 && hex(app.appHash) !== this.ref.hashes[h]) problems.push(`restart hash ${hex(app.appHash)} at ${h} ≠ reference ${this.ref.hashes[h]}`);
      problems.push(...this.checkBlockLog(app, h));
      this.committed = h;
      const fin = outs.map((l) => /^finalized (\d+) ([0-9A-F]{64})$/.exec(l)).filter((m): m is RegExpExecArray => !!m).find((m) => Number(m[1]) === h + 1);
      this.pendingFinalized = fin ? { height: h + 1, hash: fin[2]! } : undefined;
    } finally {
      app.close();
    }
    const r: CycleResult = { point, atHeight, restartHeight: this.committed, lastLine, problems };
    this.results.push(r);
    return r;
  }

  /** Every committed height's block-log record = the reference block; nothing above the committed height. */
  checkBlockLog(app: App, h: number): string[] {
    const problems: string[] = [];
    let seen = 0;
    for (const row of app.blockStore!.blocks(1n)) {
      const height = Number(row.height);
      if (height > h) {
        problems.push(`block log has height ${height} above the committed ${h}`);
        break;
      }
      seen++;
      const rec = decodeBlockRecord(row.record);
      const want = this.ref.blocks[height - 1]!;
      if (rec.height !== BigInt(height) || rec.timeNs !== want.timeNs) problems.push(`block log ${height}: height/time differ`);
      if (rec.txs.length !== want.txs.length || rec.txs.some((t, i) => !Buffer.from(t).equals(Buffer.from(want.txs[i]!)))) problems.push(`block log ${height}: txs differ from the block executed (lost or changed)`);
      if (hex(rec.appHash) !== this.ref.hashes[height]) problems.push(`block log ${height}: app hash ${hex(rec.appHash)} ≠ ${this.ref.hashes[height]}`);
    }
    if (seen !== h) problems.push(`block log holds ${seen} blocks, committed height ${h}`);
    return problems;
  }

  /** Run the rest of the chain in one process and check the end. */
  async finish(): Promise<string[]> {
    const problems: string[] = [];
    const p = this.start();
    await this.checkStart(p, problems);
    const n = this.ref.blocks.length;
    await p.waitFor(new RegExp(`^done ${n}$`), 600_000);
    await p.exited;
    const app = App.open({ dbPath: this.dbPath });
    try {
      if (Number(app.height) !== n || hex(app.appHash) !== this.ref.hashes[n]) problems.push(`final ${app.height} ${hex(app.appHash)} ≠ reference ${n} ${this.ref.hashes[n]}`);
      problems.push(...this.checkBlockLog(app, n));
      this.committed = n;
    } finally {
      app.close();
    }
    return problems;
  }

  async close(): Promise<void> {
    for (const p of this.procs) await p.kill('SIGKILL');
  }
}
