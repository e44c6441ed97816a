/**
 * AppLock: one App call at a time across all ABCI connections (CometBFT's Go
 * server holds one mutex around every request). chain/abci/README.md: a
 * synchronous call on a free lock runs at once; an async call (FinalizeBlock)
 * holds the lock until it settles, and calls arriving meanwhile run after
 * it, in arrival order.
 */
import { describe, expect, it } from 'vitest';
import { AppLock } from '../../chain/abci/lock.js';

/** A promise the test settles by hand (an App call still working). */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('AppLock', () => {
  it('a synchronous call on a free lock runs at once and returns its value, not a promise', () => {
    const lock = new AppLock();
    const r = lock.run(() => 42);
    expect(r).toBe(42);
    expect(lock.locked).toBe(false);
  });

  it('calls that arrive while an async call holds the lock run after it, in arrival order', async () => {
    const lock = new AppLock();
    const order: string[] = [];
    const finalize = deferred();
    const a = lock.run(async () => {
      order.push('finalize start');
      await finalize.promise;
      order.push('finalize end');
    });
    const later = ['commit', 'checkTx 1', 'checkTx 2', 'query'].map((name) => lock.run(() => void order.push(name)));
    await settle();
    expect(order).toEqual(['finalize start']); // nothing jumps in while FinalizeBlock works
    finalize.resolve();
    await Promise.all([a, ...later]);
    expect(order).toEqual(['finalize start', 'finalize end', 'commit', 'checkTx 1', 'checkTx 2', 'query']);
    expect(lock.locked).toBe(false);
  });

  it('the lock is handed over to a waiting async call: a call arriving while it works waits for it too', async () => {
    const lock = new AppLock();
    const order: string[] = [];
    const first = deferred();
    const second = deferred();
    const a = lock.run(() => first.promise.then(() => void order.push('first done')));
    const b = lock.run(async () => {
      order.push('second start');
      await second.promise;
      order.push('second done');
    });
    first.resolve();
    await settle();
    expect(order).toEqual(['first done', 'second start']);
    expect(lock.locked).toBe(true);
    // A synchronous call now (another connection's CheckTx) must not run inside the second call.
    const c = lock.run(() => void order.push('third'));
    expect(order).toEqual(['first done', 'second start']);
    second.resolve();
    await Promise.all([a, b, c]);
    expect(order).toEqual(['first done', 'second start', 'second done', 'third']);
  });

  it('a call that throws or rejects releases the lock for the next one', async () => {
    const lock = new AppLock();
    expect(() => lock.run(() => {
      throw new Error('cannot persist');
    })).toThrow('cannot persist');
    expect(lock.run(() => 'after a throw')).toBe('after a throw');
    const failing = lock.run(() => Promise.reject(new Error('disk on fire')));
    const next = lock.run(() => 'after a rejection');
    await expect(failing).rejects.toThrow('disk on fire');
    await expect(next).resolves.toBe('after a rejection');
    expect(lock.locked).toBe(false);
  });
});
