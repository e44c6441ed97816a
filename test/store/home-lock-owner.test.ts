/**
 * HomeLock rules the existing tests (test/unit/home-lock.test.ts) leave open: a lock written by a live
 * process is refused whether or not it carries the owner's identity (a lock file of an older version has
 * the pid only), and release() removes only a lock that is still ours. The live owner here is this test's
 * parent process (alive for the whole run, not this process), so no child has to start in time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HomeLock } from '../../chain/store/lock.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-lock-owner-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** "<boot id>:<start time>" of a live pid, as lock.ts records it (Linux /proc). */
function identityOf(pid: number): string {
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return `${boot}:${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
}

const linux = existsSync('/proc/self/stat');
const owner = process.ppid; // a live process other than this one

describe.skipIf(!linux)('HomeLock and a live owner', () => {
  it('refuses a lock holding a live pid and that process\'s identity', () => {
    const path = join(tmp, 'LOCK-identity');
    writeFileSync(path, `${owner}\n${identityOf(owner)}`);
    expect(() => HomeLock.acquire(path)).toThrow(new RegExp(`another perpchain process \\(pid ${owner}\\)`));
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(String(owner)); // left as it was
  });

  it('refuses a lock holding a live pid and no identity (nothing to compare: the pid is trusted)', () => {
    const path = join(tmp, 'LOCK-pid-only');
    writeFileSync(path, `${owner}\n`);
    expect(() => HomeLock.acquire(path)).toThrow(/another perpchain process/);
  });

  it('release() leaves a lock that another process has taken since', () => {
    const path = join(tmp, 'LOCK-taken');
    const lock = HomeLock.acquire(path);
    writeFileSync(path, `${owner}\n${identityOf(owner)}`); // ours was judged stale and taken over
    lock.release();
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(String(owner));
  });
});
