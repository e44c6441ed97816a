import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HomeLock } from '../../chain/store/lock.js';

/** The home lock: held by a live owner, taken over from a dead one, also when the dead owner's pid was reused. */
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-lock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('HomeLock', () => {
  it('is refused while its owner lives, and released by it', () => {
    const path = join(tmp, 'LOCK-own');
    const lock = HomeLock.acquire(path);
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a home locked by another live process', async () => {
    const path = join(tmp, 'LOCK-live');
    // the child takes the lock with the same code, then stays alive
    const lockModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'chain', 'store', 'lock.ts')).href;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(lockModule)}).then((m) => { m.HomeLock.acquire(${JSON.stringify(path)}); console.log('locked'); setTimeout(() => {}, 60000); })`]);
    try {
      // wait for the child to say it holds the lock (a fixed wait lost the race on a loaded machine)
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        child.on('exit', (c) => reject(new Error(`the child exited (${c}) before taking the lock`)));
      });
      expect(existsSync(path)).toBe(true);
      expect(() => HomeLock.acquire(path)).toThrow(/another perpchain process \(pid \d+\) is using this home/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over a lock whose pid is gone, or now belongs to a different process (a pid reused after a reboot)', () => {
    const gone = join(tmp, 'LOCK-gone');
    writeFileSync(gone, '999999999\n');
    HomeLock.acquire(gone).release();
    if (!existsSync('/proc/1/stat')) return; // (the reuse check needs Linux's /proc)
    const reused = join(tmp, 'LOCK-reused');
    writeFileSync(reused, '1\nsome-other-boot:12345'); // pid 1 is alive, but it is not the process that took the lock
    const lock = HomeLock.acquire(reused);
    expect(readFileSync(reused, 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
  });
});
