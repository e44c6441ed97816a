/**
 * Integer amounts on the wire are canonical decimal strings (like cosmos
 * Coin.amount): digits only, no sign, no leading zeros, at most 2^128 − 1.
 * Anything else is a typed rejection, never a silent truncation.
 */
export const MAX_AMOUNT = (1n << 128n) - 1n;

export function parseAmount(s: unknown, what = 'amount'): { ok: true; value: bigint } | { ok: false; reason: string } {
  if (typeof s !== 'string' || s.length === 0) return { ok: false, reason: `${what} is empty` };
  if (s.length > 39 && s.length <= 1000 && /^[1-9][0-9]*$/.test(s)) return { ok: false, reason: `${what} has ${s.length} digits: larger than 2^128 − 1` };
  if (s.length > 39 || !/^(0|[1-9][0-9]*)$/.test(s)) return { ok: false, reason: `${what} "${s.slice(0, 50)}" is not a non-negative integer without leading zeros` };
  const v = BigInt(s);
  if (v > MAX_AMOUNT) return { ok: false, reason: `${what} ${s} is larger than 2^128 − 1` };
  return { ok: true, value: v };
}

/** Signed decimal bigint ("-12", "0", "42") used in state encodings. */
export function encodeInt(v: bigint): Uint8Array {
  return Buffer.from(v.toString(), 'latin1');
}

/**
 * Inverse of encodeInt. Every balance, position and fund read goes through
 * here, so values of up to 15 digits (below 2^53, exact as a double) are
 * parsed with a digit loop; anything longer or unusual takes BigInt's own
 * parser, which also defines the result (and the SyntaxError) for odd bytes.
 */
export function decodeInt(b: Uint8Array): bigint {
  const n = b.length;
  if (n > 0 && n <= 15) {
    let i = b[0] === 45 ? 1 : 0; // '-'
    if (i < n) {
      let v = 0;
      for (; i < n; i++) {
        const d = b[i]! - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === n) return BigInt(b[0] === 45 ? -v : v);
    }
  }
  return BigInt(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1'));
}

/** Long | number | string | bigint from protobufjs → bigint. */
export function toBigInt(v: { toString(): string } | number | bigint | string | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'object' && isLongLike(v)) {
    // from the two 32-bit halves: exact, and without Long's decimal toString
    const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
    return v.unsigned ? u : BigInt.asIntN(64, u);
  }
  return BigInt(v.toString());
}

function isLongLike(v: object): v is { high: number; low: number; unsigned: boolean } {
  const o = v as { high?: unknown; low?: unknown; unsigned?: unknown };
  return typeof o.high === 'number' && typeof o.low === 'number' && typeof o.unsigned === 'boolean';
}
