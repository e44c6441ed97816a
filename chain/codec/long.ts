import Long from 'long';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** bigint/number → protobufjs Long for 64-bit fields (unsigned when non-negative, so uint64 up to 2^64 − 1 is exact). */
export function toLong(v: bigint | number): Long {
  // Fast path: a safe integer converts exactly without going through a decimal string.
  if (typeof v === 'number') {
    const t = Math.trunc(v);
    if (Number.isSafeInteger(t)) return Long.fromNumber(t, t >= 0);
  } else if (v <= SAFE && v >= -SAFE) return Long.fromNumber(Number(v), v >= 0n);
  const s = typeof v === 'bigint' ? v.toString() : String(Math.trunc(v));
  return Long.fromString(s, !s.startsWith('-'));
}
