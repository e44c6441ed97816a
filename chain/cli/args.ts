import { InvalidArgumentError } from 'commander';

/**
 * Command-line value parsers: a bad value stops the command before it does
 * anything, with commander's message naming the flag
 * ("option '--api-port <port>' argument 'abc' is invalid. …").
 */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a whole number, got "${value}".`);
    if (n < min || n > max) throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected at least ${min}.` : `expected ${min}…${max}.`);
    return n;
  };
}

/** A TCP port (0 = any free port). */
export const portArg = intArg(0, 65535);

export function urlArg(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected a URL such as http://127.0.0.1:26657, got "${value}".`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError(`expected an http:// or https:// URL, got "${value}".`);
  return value;
}

/** A chain id as CometBFT accepts it: 1 to 50 printable ASCII characters, no spaces. */
export function chainIdArg(value: string): string {
  if (!/^[\x21-\x7e]{1,50}$/.test(value)) throw new InvalidArgumentError(`expected 1 to 50 printable ASCII characters without spaces, got "${value}".`);
  return value;
}
