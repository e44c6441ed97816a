import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** Native libsecp256k1 binding (prebuilt in the npm package, else compiled at install). */
const native = require('secp256k1/bindings') as {
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pub: Uint8Array): boolean;
  publicKeyVerify(pub: Uint8Array): boolean;
};

/** secp256k1 group order n and n/2: a signature with s > n/2 is "high-S" (malleable twin). */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N >> 1n;

export type SigCheck = 'ok' | 'bad' | 'high_s';

const N_BYTES = Buffer.from(N.toString(16).padStart(64, '0'), 'hex');
const HALF_N_BYTES = Buffer.from(HALF_N.toString(16).padStart(64, '0'), 'hex');
const ZERO32 = Buffer.alloc(32);

/** Classify a 64-byte r‖s signature without verifying it: high-S and out-of-range scalars are rejected up front. */
export function precheckSignature(sig: Uint8Array): SigCheck {
  if (sig.length !== 64) return 'bad';
  // Big-endian 32-byte scalars compare as byte strings.
  const b = Buffer.from(sig.buffer, sig.byteOffset, 64);
  const r = b.subarray(0, 32);
  const s = b.subarray(32, 64);
  if (r.equals(ZERO32) || r.compare(N_BYTES) >= 0 || s.equals(ZERO32) || s.compare(N_BYTES) >= 0) return 'bad';
  if (s.compare(HALF_N_BYTES) > 0) return 'high_s';
  return 'ok';
}

/** Verify sig over a 32-byte digest with a 33-byte compressed public key. */
export function verifySecp256k1(sig: Uint8Array, digest: Uint8Array, pubKey: Uint8Array): SigCheck {
  const pre = precheckSignature(sig);
  if (pre !== 'ok') return pre;
  if (pubKey.length !== 33) return 'bad';
  try {
    return native.ecdsaVerify(sig, digest, pubKey) ? 'ok' : 'bad';
  } catch {
    return 'bad'; // unparsable public key
  }
}

export function isValidPubKey(pubKey: Uint8Array): boolean {
  try {
    return pubKey.length === 33 && native.publicKeyVerify(pubKey);
  } catch {
    return false;
  }
}
