import Long from 'long';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

/**
 * bigint/number → protobufjs Long for 64-bit fields (unsigned when non-negative, so uint64 up to 2^64 − 1 is
 * exact). A value outside [−2^63, 2^64 − 1] throws: Long.fromString would wrap it silently into another
 * number, and inputs are validated against their fields' ranges before anything is stored.
 */
export function toLong(v: bigint | number): Long {
  // Fast path: a safe integer converts exactly without going through a decimal string.
  if (typeof v === 'number') {
    const t = Math.trunc(v);
    if (Number.isSafeInteger(t)) return Long.fromNumber(t, t >= 0);
  } else if (v <= SAFE && v >= -SAFE) return Long.fromNumber(Number(v), v >= 0n);
  const b = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  if (b > U64_MAX || b < I64_MIN) throw new RangeError(`${b} does not fit in a 64-bit field`);
  const s = b.toString();
  return Long.fromString(s, !s.startsWith('-'));
}
