// Worker thread of VerifyPool: verifies packed batches of secp256k1 signatures.
// Plain JavaScript so it runs without a TypeScript loader in the worker.
// Input: { id, n, packed } where packed = n × (64 sig ‖ 32 digest ‖ 33 pubkey).
// Output: { id, ok: Uint8Array(n) } with 1 = valid.
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('secp256k1/bindings');
const REC = 64 + 32 + 33;

parentPort.on('message', ({ id, n, packed }) => {
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
