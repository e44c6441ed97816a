import { bech32 } from 'bech32';
import { hash } from 'node:crypto';

export const ADDRESS_PREFIX = 'perp';
const ADDRESS_BYTES = 20;

/** Cosmos address of a compressed secp256k1 key: bech32(prefix, ripemd160(sha256(pubkey))). */
export function addressFromPubKey(pubKey: Uint8Array): string {
  const sha = hash('sha256', pubKey, 'buffer');
  const rip = hash('ripemd160', sha, 'buffer');
  return bech32.encode(ADDRESS_PREFIX, bech32.toWords(rip));
}

/** Address of a module account: the first 20 bytes of sha256("module:" + name). */
export function moduleAddress(name: string): string {
  const h = hash('sha256', `module:${name}`, 'buffer').subarray(0, ADDRESS_BYTES);
  return bech32.encode(ADDRESS_PREFIX, bech32.toWords(h));
}

/** Returns a reason string when `s` is not a canonical perp address, undefined when it is. */
export function addressProblem(s: unknown): string | undefined {
  if (typeof s === 'string' && knownGood.has(s)) return undefined;
  const problem = checkAddress(s);
  if (problem === undefined) {
    // A pure function's memo (every tx re-validates its addresses; a bech32 decode costs a few µs):
    // bounded, and cleared wholesale when full, so it can only save work, never change an answer.
    if (knownGood.size >= KNOWN_GOOD_MAX) knownGood.clear();
    knownGood.add(s as string);
  }
  return problem;
}

const KNOWN_GOOD_MAX = 100_000;
const knownGood = new Set<string>();

function checkAddress(s: unknown): string | undefined {
  if (typeof s !== 'string' || s.length === 0) return 'address is empty';
  if (s.length > 90) return 'address is too long';
  if (s !== s.toLowerCase()) return `address "${s}" must be lower case`;
  let decoded;
  try {
    decoded = bech32.decode(s);
  } catch (e) {
    return `"${s}" is not a bech32 address (${(e as Error).message})`;
  }
  if (decoded.prefix !== ADDRESS_PREFIX) return `address "${s}" has prefix "${decoded.prefix}", expected "${ADDRESS_PREFIX}"`;
  const bytes = bech32.fromWordsUnsafe(decoded.words);
  if (!bytes || bytes.length !== ADDRESS_BYTES) return `address "${s}" must encode ${ADDRESS_BYTES} bytes`;
  return undefined;
}

export function isAddress(s: unknown): s is string {
  return addressProblem(s) === undefined;
}
