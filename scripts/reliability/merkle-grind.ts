/**
 * Measures the Merkle tree under a grinding attack: keys ground into the bucket of one hot key (as client ids
 * can be), inserted in blocks of 4,352, and the cost of updating the hot key afterwards (BENCHMARKS.md, ninth session).
 *   node --import tsx scripts/reliability/merkle-grind.ts
 */
import { MerkleIndex, bucketOf } from '../../chain/store/merkle.js';
import { groundKeys } from '../../test/helpers/merkle.js';
const hot = 'bank/bal/perp1feecollector';
const keys = groundKeys(bucketOf(hot), 80_000);
const m = new MerkleIndex();
m.update([[hot, Buffer.from('1')]]);
const v = Buffer.alloc(20, 7);
for (let i = 0; i < keys.length; i += 4352) {
  const t = performance.now();
  m.update(keys.slice(i, i + 4352).map((k) => [k, v] as [string, Uint8Array]));
  m.root();
  const ins = performance.now() - t;
  if ((i / 4352) % 4 === 0 || i + 4352 >= keys.length) {
    const t2 = performance.now();
    for (let r = 0; r < 20; r++) { m.update([[hot, Buffer.from(String(r))]]); m.root(); }
    console.log(`${i + 4352} keys in the bucket: block of 4,352 inserts ${ins.toFixed(1)} ms; one update of the hot key ${((performance.now() - t2) / 20).toFixed(3)} ms; proof entries ${m.prove(hot).entries.length}, inner ${m.prove(hot).inner.length}`);
  }
}
