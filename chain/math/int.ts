/**
 * Integer arithmetic with named rounding. JS bigint `/` truncates toward
 * zero; consensus code says which way every division rounds, so these are
 * the only divisions it uses.
 */

/** ⌊a / b⌋ (toward −∞). b ≠ 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new RangeError('division by zero');
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** ⌈a / b⌉ (toward +∞). b ≠ 0. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new RangeError('division by zero');
  const q = a / b;
  return (a % b !== 0n && (a < 0n) === (b < 0n)) ? q + 1n : q;
}

/** a / b toward zero. */
export function truncDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new RangeError('division by zero');
  return a / b;
}

/** Non-negative remainder of a floor division: a − b·⌊a/b⌋, in [0, |b|). */
export function floorMod(a: bigint, b: bigint): bigint {
  return a - b * floorDiv(a, b);
}

const POW10: bigint[] = [];
for (let i = 0, p = 1n; i <= 40; i++, p *= 10n) POW10.push(p);

export function pow10(n: number): bigint {
  if (!Number.isInteger(n) || n < 0 || n > 40) throw new RangeError(`pow10(${n}) out of range`);
  return POW10[n]!;
}

export function abs(a: bigint): bigint {
  return a < 0n ? -a : a;
}

export function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function clamp(v: bigint, lo: bigint, hi: bigint): bigint {
  return v < lo ? lo : v > hi ? hi : v;
}

export function sign(a: bigint): -1n | 0n | 1n {
  return a > 0n ? 1n : a < 0n ? -1n : 0n;
}

/** Median of a non-empty list; for an even count the lower middle (no division, no rounding). */
export function medianLow(values: readonly bigint[]): bigint {
  if (values.length === 0) throw new RangeError('median of nothing');
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return s[(s.length - 1) >> 1]!;
}

export const PPM = 1_000_000n;
