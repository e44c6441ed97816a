// Reproduction (not a test; minutes, and it aborts the process on the code before the fix): threads running
// chain/crypto/verify-worker.mjs are stopped at random points of their start, 4 at a time, as VerifyPool does
// for a node that is stopped (or refused) right after it started.
//
//   node test/devnet-node/lib/terminate-abort-repro.mjs terminate [rounds] [max delay ms] [worker file]
//   node test/devnet-node/lib/terminate-abort-repro.mjs close     [rounds] [max delay ms] [worker file]
//
// `terminate` is what VerifyPool.close() did (worker.terminate()): on a loaded machine, where a thread takes a
// few hundred ms to start (pick a max delay about that long), a termination that lands inside the secp256k1
// addon's constructor aborts the whole process: "terminate called after throwing an instance of
// 'Napi::Error'", exit 134 (SIGABRT). `close` is what it does now ({ close: true }, the thread exits by
// itself); it needs the fixed worker file (the default). The old worker file: `git show <commit>^:chain/crypto/verify-worker.mjs`
// saved next to the current one (it resolves secp256k1 from its own directory).
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { setTimeout } from 'node:timers/promises';

const [mode = 'terminate', rounds = '300', maxDelay = '400', file] = process.argv.slice(2);
const url = file ? pathToFileURL(resolve(file)) : new URL('../../../chain/crypto/verify-worker.mjs', import.meta.url);
const codes = {};
for (let i = 0; i < Number(rounds); i++) {
  const ws = [0, 1, 2, 3].map(() => new Worker(url));
  await setTimeout(Math.random() * Number(maxDelay));
  await Promise.all(
    ws.map(
      (w) =>
        new Promise((done) => {
          w.once('exit', (c) => ((codes[c] = (codes[c] ?? 0) + 1), done()));
          if (mode === 'terminate') void w.terminate();
          else w.postMessage({ close: true });
        }),
    ),
  );
}
console.log(`survived ${rounds} rounds (${mode}) of ${fileURLToPath(url)}; thread exit codes ${JSON.stringify(codes)}`);
