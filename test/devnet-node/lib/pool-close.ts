/**
 * VerifyPool closed while its threads are still starting, as a refused or quick DevnetNode start does:
 *
 *   node --import tsx test/devnet-node/lib/pool-close.ts [rounds]
 *
 * Prints `RESULT <json>`: how many threads worker.terminate() was called on, the exit codes of every pool
 * thread (1: terminated once running; a thread terminated while still starting reports 0) and how many had
 * not exited by the time close() resolved. Run in a child process: a termination inside a
 * call of the secp256k1 addon aborts the process that closed the pool.
 */
import { Worker } from 'node:worker_threads';
import { VerifyPool } from '../../../chain/crypto/verify-pool.js';

// count the terminations (a thread terminated while still starting even reports exit code 0)
let terminated = 0;
const terminate = Worker.prototype.terminate;
Worker.prototype.terminate = function (this: Worker) {
  terminated++;
  return terminate.call(this);
};

const rounds = Number(process.argv[2] ?? 10);
const codes: number[] = [];
let openAfterClose = 0;
for (let i = 0; i < rounds; i++) {
  const pool = new VerifyPool(2);
  const workers = (pool as unknown as { workers: Worker[] }).workers.slice();
  const exited = workers.map(() => false);
  workers.forEach((w, j) => w.once('exit', (code) => (codes.push(code), (exited[j] = true))));
  // half the rounds close at once (threads still starting), half a little later (threads loaded, idle)
  if (i % 2) await new Promise((r) => setTimeout(r, 50));
  await pool.close();
  openAfterClose += exited.filter((e) => !e).length;
  // a pool used after close verifies on this thread
  const none = await pool.verify([]);
  if (none.length !== 0) throw new Error('verify after close');
}
console.log(`RESULT ${JSON.stringify({ codes, openAfterClose, terminated })}`);
