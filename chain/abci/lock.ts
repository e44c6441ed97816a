/**
 * One App call at a time across all connections (CometBFT's Go socket server
 * holds a global mutex around every request; this is the same rule). A
 * synchronous call on a free lock runs at once, with no promise in between;
 * an async call (FinalizeBlock) holds the lock until it settles, and callers
 * that arrive meanwhile run afterwards in arrival order.
 */
export class AppLock {
  private busy = false;
  private readonly waiters: Array<() => void> = [];

  get locked(): boolean {
    return this.busy;
  }

  run<T>(fn: () => T | Promise<T>): T | Promise<T> {
    if (!this.busy) {
      this.busy = true;
      return this.exec(fn);
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.exec(fn));
  }

  /** Runs fn with the lock held (busy is already true) and releases it when fn is done. */
  private exec<T>(fn: () => T | Promise<T>): T | Promise<T> {
    let r: T | Promise<T>;
    try {
      r = fn();
    } catch (e) {
      this.release();
      throw e;
    }
    if (isPromise(r)) {
      return r.then(
        (v) => {
          this.release();
          return v;
        },
        (e: unknown) => {
          this.release();
          throw e;
        },
      );
    }
    this.release();
    return r;
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next(); // hand over: busy stays true
    else this.busy = false;
  }
}

export function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
