import { closeSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Locks this process holds, by the lock file's real path (a home reached through a symlink is the same home):
 * a lock file with our own pid is stale only if no live HomeLock of ours holds it.
 */
const heldHere = new Map<string, HomeLock>();

function keyOf(path: string): string {
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return resolve(path); // (the directory does not exist: acquire fails on it anyway)
  }
}

/**
 * An exclusive lock on a node home: a LOCK file holding the owner's pid and,
 * on Linux, who that pid was (boot id and process start time). A second
 * process on the same home is refused with a clear message; a lock left by a
 * process that no longer exists (kill -9) is taken over, also when its pid
 * now belongs to another process (after a reboot a killed node's pid is
 * often reused, e.g. by pid 1, which refused the home for good). Two nodes
 * in one process (a library user, a test) are refused too.
 */
export class HomeLock {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly key: string,
  ) {}

  static acquire(path: string): HomeLock {
    const key = keyOf(path);
    if (heldHere.has(key)) throw new Error(`this process already runs a perpchain node on this home (${path}); stop it first, or use another --home`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, `${process.pid}\n${identity(process.pid) ?? ''}`);
        closeSync(fd);
        const lock = new HomeLock(path, key);
        heldHere.set(key, lock);
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const [pidLine = '', who = ''] = readFileSync(path, 'utf8').split('\n');
        const pid = Number(pidLine.trim());
        const now = Number.isInteger(pid) && pid > 0 ? identity(pid) : undefined;
        const samePid = who === '' || now === undefined || who === now; // (no identity to compare: trust the pid)
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) && samePid) {
          throw new Error(`another perpchain process (pid ${pid}) is using this home (${path}); stop it first, or use another --home`);
        }
        unlinkSync(path); // stale lock from a process that is gone
      }
    }
    throw new Error(`could not acquire lock ${path}`);
  }

  /** Idempotent: a second call (a second stop, an error path) never frees a lock taken after this one. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (heldHere.get(this.key) === this) heldHere.delete(this.key);
    try {
      if (readFileSync(this.path, 'utf8').split('\n')[0]!.trim() === String(process.pid)) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** "<boot id>:<start time>" of a process on Linux (undefined elsewhere or when it is gone). */
function identity(pid: number): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after "pid (comm) ": state is field 3, starttime field 22
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return start ? `${boot}:${start}` : undefined;
  } catch {
    return undefined;
  }
}
