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
