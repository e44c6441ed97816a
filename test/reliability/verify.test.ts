/**
 * The replay verifier (chain/verify, `perpchain verify`): a node home's
 * block log re-executed from its genesis in a fresh App confirms every app
 * hash; a changed tx, app hash, time, a missing or pruned block, or a state
 * changed on disk behind a consistent log is found at the right height with
 * a readable report. Also through the real CLI on a real devnet node's home.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { formatVerifyResult, verifyChain } from '../../chain/verify/index.js';
import { initHome } from '../../chain/devnet/home.js';
import { startProc, type Proc } from '../helpers/proc.js';
import { buildHome, corruptBalance, deleteRecords, tamperRecord, type BuiltHome } from './lib/home.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'perpchain.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-rel-verify-'));
const procs: Proc[] = [];
let base: BuiltHome;
const BLOCKS = 60;

beforeAll(() => {
  base = buildHome(join(tmp, 'base'), BLOCKS, 31, 8);
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** A copy of the base home to tamper with. */
function copy(name: string): { home: string; db: string } {
  const home = join(tmp, name);
  cpSync(base.home, home, { recursive: true });
  return { home, db: join(home, 'data', 'state.db') };
}

/** Index of a tx of block h that succeeded (a signed order or transfer), to change. */
function successfulTx(h: number): number {
  const req = base.blocks[h - 1]!;
  const i = req.txs.findIndex((t) => {
    try {
      return TxRaw.decode(t).signatures.length === 1 && t.length > 200;
    } catch {
      return false;
    }
  });
  return i;
}

describe('perpchain verify: replay a node\'s block log from genesis', () => {
  it('an untouched home verifies: every recorded hash, and the node\'s state equals the replay', () => {
    const progress: bigint[] = [];
    const r = verifyChain({ home: base.home, checkInvariants: true, progressMs: 0, onProgress: (p) => progress.push(p.height) });
    expect(formatVerifyResult(r)).toMatch(/^OK: every recorded app hash matches/m);
    expect(r.ok).toBe(true);
    expect(r.blocks).toBe(BLOCKS);
    expect(r.finalAppHash).toBe(base.hashes[BLOCKS]);
    expect(r.txs).toBe(base.blocks.reduce((s, b) => s + b.txs.length, 0));
    expect(progress.length).toBeGreaterThan(10); // progress is reported while replaying
    // a third party needs only the two files
    const r2 = verifyChain({ genesis: base.genesis, db: base.db });
    expect(r2.ok).toBe(true);
  });

  it('a changed tx is detected at its height; the replay shows the tx no longer verifies and the state diverged', () => {
    const { home, db } = copy('tx');
    const h = 37;
    const i = successfulTx(h);
    expect(i).toBeGreaterThanOrEqual(0);
    tamperRecord(db, BigInt(h), (rec) => {
      const raw = TxRaw.decode(rec.txs[i]!);
      const body = Buffer.from(raw.bodyBytes);
      body[body.length - 3] = body[body.length - 3]! ^ 0x01; // one bit of the signed body
      rec.txs[i] = TxRaw.encode({ ...raw, bodyBytes: body }).finish();
    });
    const r = verifyChain({ home });
    expect(r.ok).toBe(false);
    expect(r.mismatch?.height).toBe(BigInt(h));
    expect(r.mismatch?.recorded).toBe(base.hashes[h]);
    expect(r.mismatch?.kind).toBe('persistent');
    const text = formatVerifyResult(r);
    expect(text).toContain(`MISMATCH at height ${h}`);
    expect(text).toMatch(new RegExp(`tx #${i}: tx/(9|3|4|11) `));
    expect(text).toContain('was most likely changed');
    expect(text).toMatch(/state diverged at this height/);
  });

  it('a changed app hash is detected at its height and recognised as the only difference', () => {
    const { home, db } = copy('hash');
    const h = 23;
    tamperRecord(db, BigInt(h), (rec) => {
      rec.appHash = Buffer.alloc(32, 0xaa);
    });
    const r = verifyChain({ home });
    expect(r.mismatch?.height).toBe(BigInt(h));
    expect(r.mismatch?.recorded).toBe('AA'.repeat(32));
    expect(r.mismatch?.computed).toBe(base.hashes[h]);
    expect(r.mismatch?.kind).toBe('isolated');
    expect(r.mismatchedHeights).toBe(1);
    expect(formatVerifyResult(r)).toContain('only the app hash recorded at this height differs');
    // --stop-at-first stops there
    const s = verifyChain({ home, stopAtFirst: true });
    expect([s.mismatch?.height, s.lastHeight]).toEqual([BigInt(h), BigInt(h)]);
  });

  it('a changed block time, a missing block and a pruned log are reported', () => {
    const t = copy('time');
    tamperRecord(t.db, 12n, (rec) => {
      rec.timeNs += 1n;
    });
    expect(verifyChain({ home: t.home }).mismatch?.height).toBe(12n);

    const g = copy('gap');
    deleteRecords(g.db, 'height = 30');
    const rg = verifyChain({ home: g.home });
    expect(rg.ok).toBe(false);
    expect(rg.problems.join('\n')).toContain('jumps from height 29 to 31');

    const p = copy('pruned');
    deleteRecords(p.db, 'height < 5');
    expect(verifyChain({ home: p.home }).problems.join('\n')).toMatch(/starts at height 5, not at the initial height 1: older blocks were pruned/);
  });

  it("a node state changed on disk behind a consistent log: the replay matches every recorded hash but not the node's state", () => {
    const { home, db } = copy('state');
    corruptBalance(db, base.traffic.traders[3]!.address, 1_000_000n, false); // the log untouched: the node itself refuses to start on this
    const r = verifyChain({ home });
    expect(r.ok).toBe(false);
    expect(r.mismatch).toBeUndefined();
    expect(r.stateDiff).toEqual([`bank/bal/${base.traffic.traders[3]!.address} (different value)`]);
    expect(formatVerifyResult(r)).toMatch(/node's committed app hash [0-9A-F]{64} ≠ replayed/);
  });

  it('the CLI on a real devnet node\'s home: OK while untouched (exit 0), the tampered height otherwise (exit 1)', async () => {
    const home = join(tmp, 'devnet');
    await initHome({ home, chainId: 'perpchain-verify-1', accounts: 1 });
    // a real node: the devnet producer with its price feeder (real crash-minute data through MsgUpdatePrices)
    const node = startProc(process.execPath, [cli, 'start', '--home', home, '--api-port', '0', '--block-interval', '30'], { cwd: root });
    procs.push(node);
    await node.waitFor(/^block 12 /, 60_000);
    await node.kill('SIGTERM');
    const run = async (args: string[]) => {
      const p = startProc(process.execPath, [cli, 'verify', ...args], { cwd: root });
      procs.push(p);
      const exit = await p.exited;
      return { code: exit.code, out: p.lines.join('\n') };
    };
    const ok = await run(['--home', home]);
    expect(ok.out).toMatch(/OK: every recorded app hash matches the replay/);
    expect(ok.code).toBe(0);
    tamperRecord(join(home, 'data', 'state.db'), 7n, (rec) => {
      rec.appHash = Buffer.alloc(32, 1);
    });
    const bad = await run(['--genesis', join(home, 'config', 'genesis.json'), '--db', join(home, 'data', 'state.db')]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('MISMATCH at height 7');
    const none = await run(['--home', join(tmp, 'nowhere')]);
    expect(none.code).toBe(2);
  });
});
