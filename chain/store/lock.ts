import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';

/** Locks this process holds: a lock file with our own pid is stale only if no live HomeLock of ours holds it. */
const heldHere = new Set<string>();

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
  private constructor(readonly path: string) {}

  static acquire(path: string): HomeLock {
    const key = resolve(path);
    if (heldHere.has(key)) throw new Error(`this process already runs a perpchain node on this home (${path}); stop it first, or use another --home`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, `${process.pid}\n${identity(process.pid) ?? ''}`);
        closeSync(fd);
        heldHere.add(key);
        return new HomeLock(path);
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

  release(): void {
    heldHere.delete(resolve(this.path));
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
