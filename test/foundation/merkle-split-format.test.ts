/**
 * The app hash format of a split bucket, written out naively from the comment in chain/store/merkle.ts
 * and compared with MerkleIndex. The existing from-the-spec test (store.test.ts) covers flat buckets only,
 * and the split tests there compare the index with itself (update vs bulk load vs another order), so a
 * change to the split form that every path shares (the threshold, the nibble order, the tag) went unseen.
 * Any such change is a consensus change: nodes that disagree on it fork at the first bucket of 65 keys.
 *
 *   bucket of ≤ 64 keys = sha256(0x01 ‖ keys ‖ leaf₁ ‖ … ‖ leafₙ)            (flat, as before splitting existed)
 *   bucket of > 64 keys = sha256(0x05 ‖ child₀ ‖ … ‖ child₁₅)                 child i = the keys whose sha256
 *                         has nibble i at this depth (high nibble of byte 0 first), each child by the same rule
 *                         one depth down; an empty child is 32 zero bytes
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { MAX_FLAT, MerkleIndex } from '../../chain/store/merkle.js';
import { groundKeys } from '../helpers/merkle.js';

const H = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const Z = Buffer.alloc(32);
const latin1 = (k: string) => Buffer.from(k, 'latin1');

/** FNV-1a over the key's bytes, folded to 16 bits: the top-level bucket (written out, not imported). */
function specBucket(key: string): number {
  let h = 0x811c9dc5;
  for (const c of latin1(key)) h = Math.imul(h ^ c, 0x01000193);
  return ((h >>> 16) ^ h) & 0xffff;
}

const keyHashes = new Map<string, string>();
/** Nibble `depth` of sha256(key), the most significant nibble first. */
function specNibble(key: string, depth: number): number {
  let h = keyHashes.get(key);
  if (h === undefined) keyHashes.set(key, (h = H(latin1(key)).toString('hex')));
  return parseInt(h[depth]!, 16);
}

const specLeaf = (k: string, x: Uint8Array) => H(Buffer.from([0]), u32(k.length), latin1(k), x);

function specNode(entries: Array<[string, Uint8Array]>, depth: number): Buffer {
  if (entries.length === 0) return Z;
  if (entries.length > 64) {
    const kids = Array.from({ length: 16 }, (_, i) => specNode(entries.filter(([k]) => specNibble(k, depth) === i), depth + 1));
    return H(Buffer.from([5]), ...kids);
  }
  const list = [...entries].sort((x, y) => (x[0] < y[0] ? -1 : 1));
  const keys = H(Buffer.from([3]), ...list.flatMap(([k]) => [u32(k.length), latin1(k)]));
  const leaves = list.map(([k, x]) => specLeaf(k, x));
  return H(Buffer.from([1]), keys, ...leaves);
}

function specRoot(entries: Array<[string, Uint8Array]>): string {
  const buckets = new Map<number, Array<[string, Uint8Array]>>();
  for (const e of entries) buckets.set(specBucket(e[0]), [...(buckets.get(specBucket(e[0])) ?? []), e]);
  let level: Buffer[] = Array.from({ length: 65_536 }, (_, b) => specNode(buckets.get(b) ?? [], 0));
  while (level.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 16) {
      const kids = level.slice(i, i + 16);
      up.push(kids.every((k) => k.equals(Z)) ? Z : H(Buffer.from([2]), ...kids));
    }
    level = up;
  }
  return level[0]!.toString('hex');
}

const rootOf = (m: MerkleIndex) => m.root().toString('hex');
const val = (k: string) => Buffer.from(`v:${k}`);

describe('the split bucket form, from the spec', () => {
  // one bucket a user can fill (ground client ids), beside a few keys elsewhere
  const target = specBucket('bank/bal/fee-collector');
  const ground = groundKeys(target, 1_200);
  const others: Array<[string, Uint8Array]> = ['bank/bal/alice', 'bank/bal/bob', 'perp/mkt/1'].map((k) => [k, val(k)]);
  const state = (n: number): Array<[string, Uint8Array]> => [...others, ...ground.slice(0, n).map((k): [string, Uint8Array] => [k, val(k)])];

  it('the ground keys share one bucket under the written-out FNV-1a fold', () => {
    expect(MAX_FLAT).toBe(64);
    expect(new Set(ground.map(specBucket))).toEqual(new Set([target]));
  });

  it('64 keys hash as one flat bucket, 65 as a split (one more than MAX_FLAT), and ~1,100 as nested splits', () => {
    for (const n of [MAX_FLAT, MAX_FLAT + 1, 1_100]) {
      const m = new MerkleIndex();
      m.update(state(n));
      expect(rootOf(m), `${n} keys in one bucket`).toBe(specRoot(state(n)));
    }
  });

  it('exactly 64 keys stay flat also when bulk loaded (startup) and as the child of a split bucket', () => {
    const bulk = new MerkleIndex();
    for (const [k, x] of state(MAX_FLAT).sort((a, b) => (a[0] < b[0] ? -1 : 1))) bulk.loadLeaf(k, specLeaf(k, x));
    bulk.rebuild();
    expect(rootOf(bulk)).toBe(specRoot(state(MAX_FLAT)));
    // 65 keys in the bucket, 64 of them under child 3 of the split: that child is one flat bucket
    const underThree = ground.filter((k) => specNibble(k, 0) === 3).slice(0, MAX_FLAT);
    const elsewhere = ground.find((k) => specNibble(k, 0) !== 3)!;
    expect(underThree.length).toBe(MAX_FLAT);
    const entries: Array<[string, Uint8Array]> = [...underThree, elsewhere].map((k) => [k, val(k)]);
    const m = new MerkleIndex();
    m.update(entries);
    expect(rootOf(m)).toBe(specRoot(entries));
  });

  it('growing a bucket key by key across the threshold and shrinking it back matches the spec at every count near 64', () => {
    const m = new MerkleIndex();
    m.update(state(MAX_FLAT - 2));
    for (let n = MAX_FLAT - 1; n <= MAX_FLAT + 2; n++) {
      m.update([[ground[n - 1]!, val(ground[n - 1]!)]]);
      expect(rootOf(m), `grown to ${n}`).toBe(specRoot(state(n)));
    }
    for (let n = MAX_FLAT + 1; n >= MAX_FLAT - 1; n--) {
      m.update([[ground[n]!, null]]);
      expect(rootOf(m), `shrunk to ${n}`).toBe(specRoot(state(n)));
    }
  });
});
