/**
 * Crash safety with real processes and SIGKILL.
 *
 * A child process (fixtures/crash-child.ts) runs a deterministic chain
 * (fixtures/crash-workload.ts) on a sqlite file; the parent kills it with
 * SIGKILL at chosen points and then opens the same file (a fresh App, as a
 * restarted node would) and checks height, app hash and that the chain
 * continues exactly like an in-memory reference that never crashed.
 *
 * Then the real node: `perpchain start` holds a lock on its home (a second
 * start is refused), and after kill -9 it resumes at its last committed height.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from '../../chain/app.js';
import { initHome } from '../../chain/devnet/home.js';
import { blockRequest, initIfNew } from './fixtures/crash-workload.js';
import { startProc, type Proc } from '../helpers/proc.js';
import { hex, stateEntries } from '../helpers/state.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = join(root, 'test', 'foundation', 'fixtures', 'crash-child.ts');
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-crash-'));
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function child(dbPath: string, until: number, ...flags: string[]): Proc {
  const p = startProc(process.execPath, ['--import', 'tsx', fixture, dbPath, String(until), ...flags], { cwd: root });
  procs.push(p);
  return p;
}

/** App hashes of the never-crashed reference chain, computed lazily: ref(h) = hash after block h. */
const reference = (() => {
  const app = App.open();
  initIfNew(app);
  const hashes: string[] = [''];
  return (h: number): string => {
    while (hashes.length <= h) {
      app.finalizeBlock(blockRequest(app, BigInt(hashes.length)));
      app.commit();
      hashes.push(hex(app.appHash));
    }
    return hashes[h]!;
  };
})();

/** Open the db in this process (a restarted node), check it against the reference, run `more` blocks, close. */
function restartAndCheck(dbPath: string, expectHeight: (h: number) => void, more = 3): number {
  const app = App.open({ dbPath });
  const h = Number(app.info().lastBlockHeight);
  expectHeight(h);
  expect(hex(app.info().lastBlockAppHash), `hash at restart height ${h}`).toBe(reference(h));
  for (let i = 1; i <= more; i++) {
    const r = app.finalizeBlock(blockRequest(app, BigInt(h + i)));
    expect(r.txResults.filter((t) => t.code === 0).length).toBeGreaterThan(0);
    app.commit();
    expect(hex(app.appHash), `height ${h + i} after restart`).toBe(reference(h + i));
  }
  app.close();
  return h + more;
}

describe('crash safety: SIGKILL at chosen points, restart from the sqlite file', () => {
  it('(a) killed right after a Commit: restart reports that height and hash, and continues identically', async () => {
    const db = join(tmp, 'a.db');
    const p = child(db, 50, '--pause-after-commit');
    for (let h = 1; h < 6; h++) {
      await p.waitFor(new RegExp(`^committed ${h} `));
      p.send('next');
    }
    const m = await p.waitFor(/^committed 6 ([0-9A-F]{64})$/);
    const exit = await p.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    expect(m[1]).toBe(reference(6));
    restartAndCheck(db, (h) => expect(h).toBe(6));
  });

  it('(a) killed at full speed, twice: the store is never torn and holds a committed height', async () => {
    const db = join(tmp, 'a2.db');
    let p = child(db, 400);
    const seen = Number((await p.waitFor(/^committed (2[0-9]) /))[1]);
    await p.kill('SIGKILL');
    let next = restartAndCheck(db, (h) => expect(h).toBeGreaterThanOrEqual(seen), 2);
    // the same file again, in a new child
    p = child(db, 400);
    const ready = await p.waitFor(/^ready (\d+) ([0-9A-F]{64})$/);
    expect([Number(ready[1]), ready[2]]).toEqual([next, reference(next)]);
    const seen2 = next + 8;
    await p.waitFor(new RegExp(`^committed ${seen2} `));
    await p.kill('SIGKILL');
    next = restartAndCheck(db, (h) => expect(h).toBeGreaterThanOrEqual(seen2), 2);
    expect(next).toBeGreaterThan(seen2);
  });

  it('(b) killed between FinalizeBlock and Commit: restart at H−1; re-executing block H gives the same hash', async () => {
    const db = join(tmp, 'b.db');
    const p = child(db, 20, '--hold-before-commit', '8');
    const m = await p.waitFor(/^finalized 8 ([0-9A-F]{64})$/);
    await p.kill('SIGKILL');
    expect(p.lines.some((l) => l.includes('committed 8'))).toBe(false);
    const app = App.open({ dbPath: db });
    expect(app.info().lastBlockHeight).toBe(7n);
    expect(hex(app.info().lastBlockAppHash)).toBe(reference(7));
    expect(app.blockStore!.block(8n)).toBeUndefined();
    const r = app.finalizeBlock(blockRequest(app, 8n));
    expect(hex(r.appHash)).toBe(m[1]);
    expect(m[1]).toBe(reference(8));
    app.commit();
    const state = stateEntries(app);
    app.close();
    const again = App.open({ dbPath: db });
    expect([again.height, hex(again.appHash)]).toEqual([8n, reference(8)]);
    expect(stateEntries(again)).toEqual(state);
    again.close();
  });
});

describe('the devnet node (bin/perpchain.mjs start)', () => {
  const cli = join(root, 'bin', 'perpchain.mjs');
  const start = (home: string) => {
    const p = startProc(process.execPath, [cli, 'start', '--home', home, '--api-port', '0', '--block-interval', '40'], { cwd: root });
    procs.push(p);
    return p;
  };

  it('refuses a second process on the same home; after kill -9 it resumes at its last committed height', async () => {
    const home = join(tmp, 'home');
    // Create the home here with one dev account (the CLI's default makes six HD wallets, ~3 s).
    await initHome({ home, chainId: 'perpchain-crash-1', accounts: 1 });
    const first = start(home);
    await first.waitFor(/^node running/, 30_000);
    await first.waitFor(/^block 3 /, 10_000);

    // A second node on the same home exits non-zero with the lock message (and does not disturb the first).
    const second = start(home);
    const exit2 = await second.exited;
    expect(exit2.code).not.toBe(0);
    expect(second.lines.join('\n')).toMatch(/another perpchain process \(pid \d+\) is using this home/);
    // and says nothing that reads as if it had started (it used to list the development accounts first)
    expect(second.lines.join('\n')).not.toMatch(/development accounts|node running/);
    await first.waitFor(/^block 6 /, 10_000);

    const killed = await first.kill('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const blocks = first.lines.map((l) => l.match(/^out: block (\d+) .*app_hash ([0-9A-F]{16})…/)).filter((m): m is RegExpMatchArray => m !== null);
    const last = blocks.at(-1)!;
    const lastHeight = Number(last[1]);
    expect(existsSync(join(home, 'LOCK'))).toBe(true); // left behind by the killed process

    // Restart: the stale lock is taken over, the node resumes where it was.
    const third = start(home);
    const resumed = await third.waitFor(/resuming chain \S+ at height (\d+), app hash ([0-9A-F]{64})/, 30_000);
    const h = Number(resumed[1]);
    // SIGKILL may land between the sqlite commit of block N+1 and its log line, never earlier.
    expect([lastHeight, lastHeight + 1]).toContain(h);
    if (h === lastHeight) expect(resumed[2]!.slice(0, 16)).toBe(last[2]);
    await third.waitFor(new RegExp(`^block ${h + 2} `), 10_000);

    // A graceful stop releases the lock.
    const exit3 = await third.kill('SIGTERM');
    expect(exit3.code).toBe(0);
    expect(third.lines.join('\n')).toMatch(/stopped at height \d+/);
    expect(existsSync(join(home, 'LOCK'))).toBe(false);
  });
});
