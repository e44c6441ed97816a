/**
 * Exact decimal-string helpers for prices. No floating point anywhere: values are
 * handled as digit strings and bigint.
 *
 * A "decimal string" here is `[-]digits[.digits]` (no exponent, no thousands
 * separators, no leading '+'). CSV prices are kept exactly as written in the file.
 */

/** How to round when a decimal has more fractional digits than the target unit. */
export type Rounding = 'exact' | 'floor' | 'ceil' | 'trunc' | 'half-up' | 'half-even';

const DECIMAL_RE = /^-?\d+(?:\.\d+)?$/;

/** True if `s` is a plain decimal string (`123`, `0.5`, `-7.25`). */
export function isDecimalString(s: string): boolean {
  return DECIMAL_RE.test(s);
}

/** Number of fractional digits as written (`'1.50'` → 2, `'17'` → 0). */
export function fractionDigits(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

function assertDecimal(s: string, what = 'value'): void {
  if (typeof s !== 'string' || !DECIMAL_RE.test(s)) {
    throw new TypeError(`${what} ${JSON.stringify(s)} is not a plain decimal string`);
  }
}

function assertExponent(exponent: number): void {
  if (!Number.isSafeInteger(exponent) || exponent < -36 || exponent > 36) {
    throw new RangeError(`exponent must be an integer in [-36, 36], got ${exponent}`);
  }
}

/** floor(a / b) for bigint, b > 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/**
 * Convert a decimal string to an integer number of price units, using the chain's
 * convention (modules/perpetuals `price_exponent`): the integer p means p·10^exponent.
 *
 *   toPriceUnits('3621.81', -6) === 3_621_810_000n   (micro-USD; devnet ETH-USD)
 *   toPriceUnits('3621.81', -5) ===   362_181_000n   (devnet BTC-USD)
 *   toPriceUnits('3621.81', 2, 'half-even') === 36n (hundreds of USD)
 *
 * With `rounding = 'exact'` (the default) a value that does not fit the unit exactly
 * (e.g. `'1297.32780051'` at exponent −6) throws a RangeError; pass an explicit
 * rounding mode to accept it. Pure string/bigint arithmetic, no floats.
 */
export function toPriceUnits(value: string, exponent: number, rounding: Rounding = 'exact'): bigint {
  assertDecimal(value);
  assertExponent(exponent);
  const negative = value.startsWith('-');
  const body = negative ? value.slice(1) : value;
  const dot = body.indexOf('.');
  let intPart = dot < 0 ? body : body.slice(0, dot);
  let fracPart = dot < 0 ? '' : body.slice(dot + 1);
  if (exponent > 0) {
    // Shift the decimal point left: value / 10^exponent.
    const padded = intPart.padStart(exponent + 1, '0');
    fracPart = padded.slice(padded.length - exponent) + fracPart;
    intPart = padded.slice(0, padded.length - exponent);
  }
  const places = Math.max(0, -exponent); // fractional digits kept in the integer
  const kept = fracPart.slice(0, places).padEnd(places, '0');
  const dropped = fracPart.slice(places);
  let mag = BigInt(intPart + kept);
  if (/[1-9]/.test(dropped)) {
    // The magnitude lies strictly between mag and mag + 1.
    const first = dropped.charCodeAt(0) - 48;
    const restNonZero = /[1-9]/.test(dropped.slice(1));
    const aboveHalf = first > 5 || (first === 5 && restNonZero);
    const exactlyHalf = first === 5 && !restNonZero;
    let up: boolean;
    switch (rounding) {
      case 'exact':
        throw new RangeError(`${value} cannot be represented exactly in units of 10^${exponent} (pass a rounding mode)`);
      case 'trunc':
        up = false;
        break;
      case 'floor':
        up = negative;
        break;
      case 'ceil':
        up = !negative;
        break;
      case 'half-up': // half away from zero
        up = aboveHalf || exactlyHalf;
        break;
      case 'half-even':
        up = aboveHalf || (exactlyHalf && mag % 2n === 1n);
        break;
      default:
        throw new TypeError(`unknown rounding mode ${String(rounding)}`);
    }
    if (up) mag += 1n;
  }
  return negative ? -mag : mag;
}

/** Inverse of toPriceUnits: the canonical decimal string of units·10^exponent (no trailing zeros). */
export function fromPriceUnits(units: bigint, exponent: number): string {
  assertExponent(exponent);
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  let out: string;
  if (exponent >= 0) {
    out = digits === '0' ? '0' : digits + '0'.repeat(exponent);
  } else {
    const places = -exponent;
    digits = digits.padStart(places + 1, '0');
    const intPart = digits.slice(0, digits.length - places);
    const frac = digits.slice(digits.length - places).replace(/0+$/, '');
    out = frac ? `${intPart}.${frac}` : intPart;
  }
  return negative && out !== '0' ? `-${out}` : out;
}

/** Exact comparison of two decimal strings: -1, 0 or 1 (string arithmetic, no BigInt). */
export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  assertDecimal(a, 'a');
  assertDecimal(b, 'b');
  const na = a.startsWith('-') && /[1-9]/.test(a);
  const nb = b.startsWith('-') && /[1-9]/.test(b);
  if (na !== nb) return na ? -1 : 1;
  const r = compareMagnitude(a.replace(/^-/, ''), b.replace(/^-/, ''));
  return na ? (-r as -1 | 0 | 1) : r;
}

function compareMagnitude(a: string, b: string): -1 | 0 | 1 {
  const [ai = '', af = ''] = a.split('.');
  const [bi = '', bf = ''] = b.split('.');
  const x = ai.replace(/^0+/, '');
  const y = bi.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  if (x !== y) return x < y ? -1 : 1;
  const w = Math.max(af.length, bf.length);
  const p = af.padEnd(w, '0');
  const q = bf.padEnd(w, '0');
  return p === q ? 0 : p < q ? -1 : 1;
}

/** The smaller / larger of two decimal strings (exact). */
export function minDecimal(a: string, b: string): string {
  return compareDecimal(a, b) <= 0 ? a : b;
}
export function maxDecimal(a: string, b: string): string {
  return compareDecimal(a, b) >= 0 ? a : b;
}
