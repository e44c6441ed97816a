/**
 * Measures the Merkle tree under a grinding attack: keys ground into the bucket of one hot key (as client ids
 * can be), inserted in blocks of 4,352, and the cost of updating the hot key afterwards (BENCHMARKS.md, ninth session).
 *   node --import tsx scripts/reliability/merkle-grind.ts
 */
import { MerkleIndex, bucketOf } from '../../chain/store/merkle.js';
function groundKeys(target: number, n: number, tag = 'g'): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const prefix = `clob/cid/${tag}${i}/`;
    let h0 = 0x811c9dc5;
    for (let j = 0; j < prefix.length; j++) h0 = Math.imul(h0 ^ prefix.charCodeAt(j), 0x01000193);
    for (let a = 33; a < 127 && out.length < n; a++) { const ha = Math.imul(h0 ^ a, 0x01000193);
      for (let b = 33; b < 127 && out.length < n; b++) { const hb = Math.imul(ha ^ b, 0x01000193);
        for (let c = 33; c < 127 && out.length < n; c++) { const h = Math.imul(hb ^ c, 0x01000193);
          if ((((h >>> 16) ^ h) & 0xffff) === target) out.push(prefix + String.fromCharCode(a, b, c)); } } } }
  return out;
}
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
