/**
 * Two nodes on one home inside one process (a library user embedding the devnet node, a test) are refused
 * like two processes: both would write the same sqlite store. The lock used to count a LOCK file holding this
 * process's own pid as stale and hand it over.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HomeLock } from '../../chain/store/lock.js';
import { DevnetNode } from '../../chain/devnet/node.js';
import { startTestNode, waitFor } from '../e2e/node.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-lock-here-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('HomeLock within one process', () => {
  it('refuses a second acquire of a lock this process holds, and allows it again after release', () => {
    const path = join(tmp, 'LOCK');
    const first = HomeLock.acquire(path);
    expect(() => HomeLock.acquire(path)).toThrow(/this process already runs a perpchain node on this home/);
    expect(() => HomeLock.acquire(join(tmp, '.', 'LOCK'))).toThrow(/already runs/); // the same file by another spelling
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(String(process.pid)); // the holder's lock is untouched
    first.release();
    expect(existsSync(path)).toBe(false);
    HomeLock.acquire(path).release();
  });

  it('a second devnet node on a running node\'s home is refused; the first keeps making blocks', async () => {
    const t = await startTestNode({ blockIntervalMs: 20, accounts: 1 });
    try {
      await expect(DevnetNode.start({ home: t.home, apiPort: 0, log: () => {} })).rejects.toThrow(/this process already runs a perpchain node on this home/);
      const h = t.node.app.height;
      await waitFor(() => t.node.app.height > h + 1n, 10_000, 'more blocks from the first node');
    } finally {
      await t.stop();
    }
  });
});

describe('HomeLock within one process: the same home by another path, and a second release', () => {
  it('refuses the same home reached through a symlink', () => {
    const real = join(tmp, 'home');
    mkdirSync(real);
    symlinkSync(real, join(tmp, 'link'));
    const first = HomeLock.acquire(join(real, 'LOCK'));
    try {
      expect(() => HomeLock.acquire(join(tmp, 'link', 'LOCK'))).toThrow(/already runs/);
      expect(existsSync(join(real, 'LOCK'))).toBe(true);
    } finally {
      first.release();
    }
  });

  it('an old lock released twice does not free the lock taken after it', () => {
    const path = join(tmp, 'LOCK-twice');
    const a = HomeLock.acquire(path);
    a.release();
    const b = HomeLock.acquire(path);
    a.release(); // e.g. a second stop()
    expect(existsSync(path)).toBe(true);
    expect(() => HomeLock.acquire(path)).toThrow(/already runs/);
    b.release();
    expect(existsSync(path)).toBe(false);
  });
});
