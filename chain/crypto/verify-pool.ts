import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { precheckSignature, verifySecp256k1 } from './secp256k1.js';

export interface VerifyItem {
  sig: Uint8Array;
  digest: Uint8Array;
  pubKey: Uint8Array;
}

const REC = 64 + 32 + 33;
/** Below this many signatures the thread hand-off costs more than it saves. */
const MIN_PARALLEL = 64;

/**
 * Verifies batches of signatures on worker threads. Speed only: a result is
 * exactly what verifySecp256k1 gives on the main thread (high-S and malformed
 * inputs are classified before dispatch), so using or not using the pool can
 * never change consensus.
 */
export class VerifyPool {
  private readonly workers: Worker[] = [];
  /** Batches on a thread: who runs it, how to finish it, and how to verify it here if that thread is lost. */
  private readonly pending = new Map<number, { worker: Worker; resolve: (ok: Uint8Array) => void; here: () => Uint8Array }>();
  private nextId = 1;
  private inFlight = 0;
  /** Threads that failed or exited on their own (their batches were verified on the calling thread). */
  lostThreads = 0;

  /** `workerUrl` is for tests (a thread that fails); the default is the verifier. */
  constructor(size = Math.max(1, availableParallelism()), workerUrl: URL = new URL('./verify-worker.mjs', import.meta.url)) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(workerUrl);
      w.on('message', ({ id, ok }: { id: number; ok: Uint8Array }) => {
        const done = this.pending.get(id);
        this.pending.delete(id);
        done?.resolve(ok);
      });
      // A thread that fails (it could not load the addon, it ran out of memory) must neither crash the
      // process (an 'error' without a listener is thrown in it) nor leave its batches unanswered (a block
      // would wait forever): drop it, and verify what it held here. Results are the same either way.
      w.on('error', () => this.lose(w));
      w.on('exit', () => this.lose(w));
      w.unref();
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  private lose(w: Worker): void {
    const i = this.workers.indexOf(w);
    if (i >= 0) {
      this.workers.splice(i, 1);
      this.lostThreads++;
    }
    for (const [id, p] of this.pending) {
      if (p.worker !== w) continue;
      this.pending.delete(id);
      p.resolve(p.here());
    }
  }

  async verify(items: readonly VerifyItem[]): Promise<boolean[]> {
    const result = new Array<boolean>(items.length).fill(false);
    const todo: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (precheckSignature(it.sig) === 'ok' && it.pubKey.length === 33 && it.digest.length === 32) todo.push(i);
    }
    if (todo.length < MIN_PARALLEL || this.workers.length === 0) {
      for (const i of todo) result[i] = verifySecp256k1(items[i]!.sig, items[i]!.digest, items[i]!.pubKey) === 'ok';
      return result;
    }
    const chunk = Math.ceil(todo.length / this.workers.length);
    const jobs: Promise<void>[] = [];
    // Idle workers are unref'd (they must not keep a finished process alive), but while a batch is
    // in flight they must: otherwise a process with nothing else to do exits silently, with code 0,
    // in the middle of an await (a CLI replay, a benchmark, a script).
    if (this.inFlight++ === 0) for (const w of this.workers) w.ref();
    // (a thread lost while in flight is not unref'd below: it has exited, and unref on it is a no-op)
    const workers = [...this.workers];
    for (let w = 0; w < workers.length; w++) {
      const idx = todo.slice(w * chunk, (w + 1) * chunk);
      if (idx.length === 0) continue;
      const packed = new Uint8Array(idx.length * REC);
      idx.forEach((i, j) => {
        const it = items[i]!;
        packed.set(it.sig, j * REC);
        packed.set(it.digest, j * REC + 64);
        packed.set(it.pubKey, j * REC + 96);
      });
      const id = this.nextId++;
      const worker = workers[w]!;
      const here = () => Uint8Array.from(idx, (i) => (verifySecp256k1(items[i]!.sig, items[i]!.digest, items[i]!.pubKey) === 'ok' ? 1 : 0));
      jobs.push(
        new Promise<Uint8Array>((resolve) => {
          this.pending.set(id, { worker, resolve, here });
          worker.postMessage({ id, n: idx.length, packed: packed.buffer }, [packed.buffer]);
        }).then((ok) => {
          idx.forEach((i, j) => (result[i] = ok[j] === 1));
        }),
      );
    }
    try {
      await Promise.all(jobs);
    } finally {
      if (--this.inFlight === 0) for (const w of this.workers) w.unref();
    }
    return result;
  }

  /**
   * Stop the threads. Each is asked to exit (after the batch it is on, and after its start if it is still
   * starting), not terminated: a termination that lands inside a call of the secp256k1 addon (its constructor
   * runs while a thread starts, so a pool closed right after it was made, as a refused or quick node start
   * does, hits it on a loaded machine) aborts the whole process with "terminate called after throwing an
   * instance of 'Napi::Error'". Only a thread that has not exited after `graceMs` is terminated.
   */
  async close(graceMs = 30_000): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(
      workers.map(async (w) => {
        if (w.threadId < 0) return; // (already gone)
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        w.ref(); // (an unref'd thread would not keep a process with nothing else to do alive until it has exited)
        w.postMessage({ close: true });
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
        try {
          if ((await Promise.race([exited, late])) === 'late') await w.terminate();
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
}
