/**
 * Key/value interfaces of the state store.
 *
 * Keys are canonical ASCII strings "<module>/<table>/<rest>" (the store
 * persists and hashes their bytes). The first two segments name a table: the
 * unit of ordered iteration, so a module can list its markets without
 * walking every account. Values are opaque bytes (protobuf or a documented
 * scalar encoding chosen by the owning module).
 */
export type Value = Uint8Array;

export interface KVReader {
  get(key: string): Value | undefined;
  /** Entries of one table ("<module>/<table>/"), sorted by key, with pending writes applied. */
  scanTable(table: string): Array<[string, Value]>;
}

export interface KVStore extends KVReader {
  set(key: string, value: Value): void;
  delete(key: string): void;
}

/** "bank/bal/perp1xyz" → "bank/bal/". Throws on a key that has no table. */
export function tableOf(key: string): string {
  const a = key.indexOf('/');
  const b = a < 0 ? -1 : key.indexOf('/', a + 1);
  if (a <= 0 || b <= a + 1) throw new Error(`store key "${key}" must look like <module>/<table>/<rest>`);
  return key.slice(0, b + 1);
}

/** Byte-order comparison of ASCII keys (JS string order equals byte order for ASCII). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Longest suffix cachedKeys keeps (a bech32 address of a 32-byte hash is 63 characters with our prefix). */
const MAX_CACHED_SUFFIX = 100;

/** What cachedKeys returns: the builder, and how many keys it holds. */
export interface KeyBuilder {
  (suffix: string): string;
  /** Keys held now (at most the limit). */
  readonly cached: number;
}

/**
 * A key builder for `prefix + suffix` that hands out the same string object
 * for the same suffix. A key built afresh (a concatenation) is hashed again
 * by every map it is looked up in, and a read goes through several (gas
 * meter, tx branch, block branch, committed table); a cached key string
 * carries its hash. Only string identity changes: the keys are equal either
 * way. Bounded: the cache starts over when it holds `limit` keys, and
 * suffixes longer than an address (untrusted query input, say) are not kept.
 */
export function cachedKeys(prefix: string, limit = 1 << 17): KeyBuilder {
  const cache = new Map<string, string>();
  const build = (suffix: string): string => {
    if (suffix.length > MAX_CACHED_SUFFIX) return prefix + suffix;
    let key = cache.get(suffix);
    if (key === undefined) {
      if (cache.size >= limit) cache.clear();
      key = prefix + suffix;
      cache.set(suffix, key);
    }
    return key;
  };
  return Object.defineProperty(build, 'cached', { get: () => cache.size }) as KeyBuilder;
}
