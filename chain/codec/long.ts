import Long from 'long';

/** bigint/number → protobufjs Long for 64-bit fields (unsigned when non-negative, so uint64 up to 2^64 − 1 is exact). */
export function toLong(v: bigint | number): Long {
  const s = typeof v === 'bigint' ? v.toString() : String(Math.trunc(v));
  return Long.fromString(s, !s.startsWith('-'));
}
