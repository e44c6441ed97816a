/**
 * One worker of a parallel sweep: runs the grid points the parent hands it,
 * one at a time, and reports progress, the finished row or the error.
 */
import { parentPort } from 'node:worker_threads';
import type { SweepPoint } from './config.js';
import { runPoint, type WorkerMessage } from './sweep.js';

const port = parentPort;
if (!port) throw new Error('sweep-worker-main.ts runs as a worker thread of runSweepParallel');
const send = (m: WorkerMessage) => port.postMessage(m);

port.on('message', (m: { i: number; n: number; point: SweepPoint; outDir: string; baseDir?: string }) => {
  try {
    const row = runPoint(m.point, m.i, m.n, { outDir: m.outDir, ...(m.baseDir ? { baseDir: m.baseDir } : {}), onProgress: (p) => send({ type: 'progress', i: m.i, p }) });
    send({ type: 'done', i: m.i, row });
  } catch (e) {
    send({ type: 'error', i: m.i, message: e instanceof Error ? e.message : String(e) });
  }
});
