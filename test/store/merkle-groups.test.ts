import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GROUPS, MerkleIndex, bucketOf, groupHash, groupOf, leafHash, rootOfGroups } from '../../chain/store/merkle.js';

/**
 * State-sync restores verify a state group by group (the tree's depth-3 nodes, 16 buckets each) against
 * hashes whose root is the trusted app hash: groupHash and rootOfGroups must give exactly the tree's values,
 * for any state, including buckets split because they hold more than 64 keys.
 */
function groupsOf(entries: Map<string, Uint8Array>): Buffer {
  const byGroup = new Map<number, Array<[string, Uint8Array, number]>>();
  for (const [k, v] of entries) {
    const b = bucketOf(k);
    const g = groupOf(b);
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push([k, leafHash(k, v), b]);
  }
  const out = Buffer.alloc(GROUPS * 32);
  for (let g = 0; g < GROUPS; g++) {
    const list = (byGroup.get(g) ?? []).sort((x, y) => x[2] - y[2] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    groupHash(g, list.map(([k, leaf]) => [k, leaf] as const)).copy(out, g * 32);
  }
  return out;
}

function rootOf(entries: Map<string, Uint8Array>): Buffer {
  const m = new MerkleIndex();
  m.update([...entries]);
  return m.root();
}

describe('group hashes', () => {
  it('the root of the group hashes is the tree root, for random states', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,4}\/[a-z]{1,4}\/[a-z0-9]{0,12}$/), fc.uint8Array({ maxLength: 40 }), { maxKeys: 300 }), (d) => {
        const entries = new Map(Object.entries(d));
        expect(rootOfGroups(groupsOf(entries)).toString('hex')).toBe(rootOf(entries).toString('hex'));
      }),
      { numRuns: 60 },
    );
  });

  it('holds for a bucket split because it holds more than 64 keys, and for the empty state', () => {
    const entries = new Map<string, Uint8Array>();
    for (let i = 0; entries.size < 200; i++) {
      const k = `bank/bal/key${i}`;
      if (bucketOf(k) === bucketOf('bank/bal/key0')) entries.set(k, Buffer.from(String(i)));
    }
    for (let i = 0; i < 500; i++) entries.set(`auth/acc/other${i}`, Buffer.from([i & 255]));
    expect(rootOfGroups(groupsOf(entries)).toString('hex')).toBe(rootOf(entries).toString('hex'));
    expect(rootOfGroups(Buffer.alloc(GROUPS * 32)).equals(Buffer.alloc(32))).toBe(true);
    expect(rootOf(new Map()).equals(Buffer.alloc(32))).toBe(true);
  });

  it('a group hash changes with any entry of the group, and refuses entries out of (bucket, key) order or of another group', () => {
    const k1 = 'bank/bal/a';
    const g = groupOf(bucketOf(k1));
    const base = groupHash(g, [[k1, leafHash(k1, Buffer.from('1'))]]);
    expect(groupHash(g, [[k1, leafHash(k1, Buffer.from('2'))]]).equals(base)).toBe(false);
    expect(groupHash(g, []).equals(Buffer.alloc(32))).toBe(true);
    let other = 'x/y/0';
    for (let i = 0; groupOf(bucketOf(other)) === g; i++) other = `x/y/${i}`;
    expect(() => groupHash(g, [[other, leafHash(other, Buffer.from('1'))]])).toThrow(/not in group/);
  });
});
