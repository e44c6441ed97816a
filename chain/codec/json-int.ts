import { z } from 'zod';

/**
 * Integers in genesis JSON (a number or a decimal string), bounded to what their stored field holds.
 * Without a bound a value past 2^64 − 1 wrapped silently when stored (e.g. a market's tick size of 2^64
 * became 0, and every order on it then divided by zero); now the genesis is refused, naming the field.
 */
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const digits = z.union([z.string().regex(/^-?[0-9]{1,24}$/, 'must be an integer (decimal digits)'), z.number().int()]);
const isInt = (v: string | number) => (typeof v === 'number' ? Number.isInteger(v) : /^-?[0-9]{1,24}$/.test(v));
// (zod runs a refinement even after the regex failed: BigInt only on what is an integer)
const within = (lo: bigint, hi: bigint, what: string) => digits.refine((v) => !isInt(v) || (BigInt(v) >= lo && BigInt(v) <= hi), { message: `must be ${what}` });

/** Any 64-bit protobuf integer field: in [−2^63, 2^64 − 1] (the field's validator then checks its sign and range). */
export const int64Json = within(I64_MIN, U64_MAX, 'an integer that fits in 64 bits');
/** An unsigned 64-bit field: in [0, 2^64 − 1]. */
export const uint64Json = within(0n, U64_MAX, 'a non-negative integer below 2^64');
/** A field used as a JavaScript number: in [0, 2^53 − 1]. */
export const safeUintJson = within(0n, SAFE, 'a non-negative integer up to 9007199254740991');
