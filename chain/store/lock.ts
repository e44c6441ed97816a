import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/**
 * An exclusive lock on a node home: a LOCK file holding the owner's pid.
 * A second process on the same home is refused with a clear message; a lock
 * left by a process that no longer exists (kill -9) is taken over.
 */
export class HomeLock {
  private constructor(readonly path: string) {}

  static acquire(path: string): HomeLock {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new HomeLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(readFileSync(path, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
          throw new Error(`another perpchain process (pid ${pid}) is using this home (${path}); stop it first, or use another --home`);
        }
        unlinkSync(path); // stale lock from a process that is gone
      }
    }
    throw new Error(`could not acquire lock ${path}`);
  }

  release(): void {
    try {
      if (readFileSync(this.path, 'utf8').trim() === String(process.pid)) unlinkSync(this.path);
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
