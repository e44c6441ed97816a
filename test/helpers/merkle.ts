/**
 * n ASCII keys in bucket `target`, ground the way an attacker would (a prefix, then the 3-char suffixes whose
 * FNV state lands there): fast enough to put thousands of keys in one bucket.
 */
export function groundKeys(target: number, n: number, tag = 'g'): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const prefix = `clob/cid/${tag}${i}/`;
    let h0 = 0x811c9dc5;
    for (let j = 0; j < prefix.length; j++) h0 = Math.imul(h0 ^ prefix.charCodeAt(j), 0x01000193);
    for (let a = 33; a < 127 && out.length < n; a++) {
      const ha = Math.imul(h0 ^ a, 0x01000193);
      for (let b = 33; b < 127 && out.length < n; b++) {
        const hb = Math.imul(ha ^ b, 0x01000193);
        for (let c = 33; c < 127 && out.length < n; c++) {
          const h = Math.imul(hb ^ c, 0x01000193);
          if ((((h >>> 16) ^ h) & 0xffff) === target) out.push(prefix + String.fromCharCode(a, b, c));
        }
      }
    }
  }
  return out;
}
