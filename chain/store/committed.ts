import { compareKeys, tableOf, type KVReader, type Value } from './kv.js';

/**
 * The committed state in memory, partitioned by table so that scanning one
 * table (markets, feeders, …) does not touch the others (accounts).
 * Only Commit writes here; everything else reads through a Branch.
 */
export class CommittedState implements KVReader {
  private readonly tables = new Map<string, Map<string, Value>>();
  private count = 0;

  get(key: string): Value | undefined {
    return this.tables.get(tableOf(key))?.get(key);
  }

  scanTable(table: string): Array<[string, Value]> {
    const t = this.tables.get(table);
    if (!t) return [];
    return [...t.entries()].sort((a, b) => compareKeys(a[0], b[0]));
  }

  /** Apply a sorted change set (null = delete). */
  apply(changes: Iterable<readonly [string, Value | null, ...unknown[]]>): void {
    // a sorted change set visits each table in one run: look the table up once per run, not per key
    let name = '';
    let t: Map<string, Value> | undefined;
    for (const c of changes) {
      const k = c[0];
      const v = c[1];
      // (a key that starts with "<module>/<table>/" is in that table)
      if (name === '' || !k.startsWith(name)) {
        name = tableOf(k);
        t = this.tables.get(name);
      }
      if (v === null) {
        if (t?.delete(k)) this.count--;
        continue;
      }
      if (!t) { t = new Map(); this.tables.set(name, t); }
      // one probe of the table instead of has() + set()
      const before = t.size;
      t.set(k, v);
      this.count += t.size - before;
    }
  }

  /** The table of the last load() (entries arrive in key order, so a table is one run). */
  private loadTable: { name: string; map: Map<string, Value> } | undefined;

  /**
   * Add one entry of a bulk load in key order (startup): apply() without
   * building a change set. Values are kept as given.
   */
  load(key: string, value: Value): void {
    let t = this.loadTable;
    if (!t || !key.startsWith(t.name)) {
      const name = tableOf(key);
      let map = this.tables.get(name);
      if (!map) {
        map = new Map();
        this.tables.set(name, map);
      }
      t = this.loadTable = { name, map };
    }
    const before = t.map.size;
    t.map.set(key, value);
    this.count += t.map.size - before;
  }

  get size(): number {
    return this.count;
  }

  tableNames(): string[] {
    return [...this.tables.keys()].sort(compareKeys);
  }

  /** Every entry in key order (genesis export, tests). O(state). */
  *entries(): Generator<[string, Value]> {
    for (const name of this.tableNames()) yield* this.scanTable(name);
  }

  clear(): void {
    this.tables.clear();
    this.loadTable = undefined;
    this.count = 0;
  }
}
