/**
 * Forged proofs of absence for a present key, assembled from real hashes of the tree (a node has all of
 * them), that verifyProof must refuse. store.test.ts covers forgeries in the 4 bucket levels; these two go
 * through checks it leaves unexercised: the proof's bucket must be the key's bucket, and each inner row of a
 * split bucket must be exactly 16 32-byte hashes. Without either check the forgery below verifies.
 * And the other side of the key check: the tree hashes a key one byte per char, so every char up to U+00FF
 * (not only ASCII) is provable; only wider chars are refused (store.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { MAX_FLAT, MerkleIndex, bucketOf, positionNibble, verifyProof, type MerkleProof } from '../../chain/store/merkle.js';
import { groundKeys } from '../helpers/merkle.js';

const val = (k: string) => Buffer.from(`v:${k}`);

describe('verifyProof refuses absence forged from real hashes', () => {
  it('another bucket\'s honest proof relabelled with the key (its entries do not hold the key)', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `bank/bal/acct${i}`);
    const m = new MerkleIndex();
    m.update(keys.map((k) => [k, val(k)]));
    const root = m.root();
    const key = keys[0]!;
    const other = keys.find((k) => bucketOf(k) !== bucketOf(key))!;
    const honest = m.prove(other);
    expect(verifyProof(honest, val(other), root)).toBe(true);
    // the other bucket's path, entries and all, claimed for `key`: everything hashes up to the real root
    expect(verifyProof({ ...honest, key }, null, root)).toBe(false);
    expect(verifyProof(m.prove(key), val(key), root)).toBe(true);
  });

  it('a split bucket\'s row re-cut so the key\'s slot holds a real empty child (rows of other lengths)', () => {
    // 65 keys in one bucket (so it splits), none of them under child 7: that child is an empty slot
    const EMPTY = 7;
    const target = bucketOf('bank/bal/fee-collector');
    const keys = groundKeys(target, 600).filter((k) => positionNibble(k, 0) !== EMPTY).slice(0, MAX_FLAT + 1);
    expect(keys.length).toBe(MAX_FLAT + 1);
    const m = new MerkleIndex();
    m.update(keys.map((k) => [k, val(k)]));
    const root = m.root();
    // a present key under a child other than the first and last (the re-cut needs slots on both sides)
    const key = keys.find((k) => positionNibble(k, 0) !== 0 && positionNibble(k, 0) !== 15)!;
    const honest = m.prove(key);
    expect(honest.inner.length).toBe(1);
    expect(verifyProof(honest, val(key), root)).toBe(true);
    // the same 16 × 32 bytes, cut as [before the empty child][…][the empty child at the key's slot][…][after it]
    const row = honest.inner[0]!;
    expect(row[EMPTY]).toBe('00'.repeat(32));
    const joined = row.join('');
    const cut = new Array<string>(16).fill('');
    cut[0] = joined.slice(0, EMPTY * 64);
    cut[positionNibble(key, 0)] = joined.slice(EMPTY * 64, EMPTY * 64 + 64);
    cut[15] = joined.slice(EMPTY * 64 + 64);
    expect(cut.join('')).toBe(joined); // the split node's hash input is unchanged
    const forged: MerkleProof = { ...honest, inner: [cut], entries: [] };
    expect(verifyProof(forged, null, root)).toBe(false);
  });
});

describe('provable keys', () => {
  it('a key with chars from U+0080 to U+00FF (one byte each) gets a proof of absence that verifies', () => {
    const m = new MerkleIndex();
    m.update([['bank/bal/cafe', val('bank/bal/cafe')]]);
    const key = 'bank/bal/caf\u00e9\u00ff';
    expect(verifyProof(m.prove(key), null, m.root())).toBe(true);
    expect(verifyProof(m.prove(key), val(key), m.root())).toBe(false);
  });
});
