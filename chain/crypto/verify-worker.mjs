// Worker thread of VerifyPool: verifies packed batches of secp256k1 signatures.
// Plain JavaScript so it runs without a TypeScript loader in the worker.
// Input: { id, n, packed } where packed = n × (64 sig ‖ 32 digest ‖ 33 pubkey).
// Output: { id, ok: Uint8Array(n) } with 1 = valid. { close: true }: finish and exit (VerifyPool.close).
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('secp256k1/bindings');
const REC = 64 + 32 + 33;

parentPort.on('message', ({ id, n, packed, close }) => {
  // VerifyPool.close(): end by running out of work, never by worker.terminate(). The addon (node-addon-api,
  // C++ exceptions) aborts the whole process when a termination lands inside one of its calls (a Napi::Error
  // escapes: "terminate called after throwing an instance of 'Napi::Error'"), e.g. `new Secp256k1()` above
  // in a thread that is still starting; a message is only handled once the module has loaded.
  if (close) {
    parentPort.close();
    return;
  }
  const buf = new Uint8Array(packed);
  const ok = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * REC;
    try {
      ok[i] = native.ecdsaVerify(buf.subarray(o, o + 64), buf.subarray(o + 64, o + 96), buf.subarray(o + 96, o + REC)) ? 1 : 0;
    } catch {
      ok[i] = 0;
    }
  }
  parentPort.postMessage({ id, ok }, [ok.buffer]);
});
