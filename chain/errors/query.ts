import { addressProblem } from '../codec/address.js';
import { registerError } from './index.js';

/** A query path's argument that cannot name anything (not a number, not an address, out of range). */
export const ErrInvalidQueryArgument = registerError('query', 4, 'invalid_query_argument', 'invalid query argument');

/** A query argument that must be a whole number in [0, max]; `what` names it in the error. */
export function queryInt(value: string | undefined, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || !/^[0-9]{1,16}$/.test(value)) throw ErrInvalidQueryArgument(`${what} must be a whole number, got "${(value ?? '').slice(0, 40)}"`);
  const n = Number(value);
  if (n > max) throw ErrInvalidQueryArgument(`${what} must be at most ${max}, got ${value}`);
  return n;
}

/** A query argument that must be a perp1… address. */
export function queryAddress(value: string | undefined, what = 'address'): string {
  const problem = addressProblem(value ?? '');
  if (problem !== undefined) throw ErrInvalidQueryArgument(`${what} "${(value ?? '').slice(0, 100)}": ${problem}`);
  return value!;
}
