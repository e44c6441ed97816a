/**
 * The order-book checksum of the perpchain feed (see chain/api/README.md):
 *
 *   text     = top N bids (best first) as "price:size:count" joined by ","
 *              + "|" + top N asks (best first), the same way
 *   checksum = CRC-32 (IEEE 802.3, poly 0xEDB88320) of the ASCII text, unsigned
 *
 * price and size are the chain's integers (price units and base quantums) in
 * plain decimal, count is the number of orders at the level; N = 25.
 * Pure and dependency-free so browsers, the SDK and the node compute it alike.
 */
export const CHECKSUM_DEPTH = 25;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE) of an ASCII/Latin-1 string, unsigned. */
export function crc32(text: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < text.length; i++) c = TABLE[(c ^ text.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A level as it travels on the wire: [price, size, order count]. */
export type WireLevel = [string, string, number];

/** The text the checksum is computed on (exported for debugging a mismatch). */
export function checksumText(bids: ReadonlyArray<readonly [string | bigint | number, string | bigint | number, number]>, asks: ReadonlyArray<readonly [string | bigint | number, string | bigint | number, number]>, depth = CHECKSUM_DEPTH): string {
  const side = (ls: ReadonlyArray<readonly [string | bigint | number, string | bigint | number, number]>) => {
    let s = '';
    const n = Math.min(depth, ls.length);
    for (let i = 0; i < n; i++) {
      const l = ls[i]!;
      s += (i ? ',' : '') + String(l[0]) + ':' + String(l[1]) + ':' + String(l[2]);
    }
    return s;
  };
  return side(bids) + '|' + side(asks);
}

/** Checksum of a book given best-first levels of each side. */
export function bookChecksum(bids: ReadonlyArray<readonly [string | bigint | number, string | bigint | number, number]>, asks: ReadonlyArray<readonly [string | bigint | number, string | bigint | number, number]>, depth = CHECKSUM_DEPTH): number {
  return crc32(checksumText(bids, asks, depth));
}
