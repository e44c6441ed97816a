/**
 * A binary min-heap of (key, id) pairs, ordered by key then id, with lazy
 * deletion: entries are never removed when what they point to goes away or
 * a tx is rolled back; whoever pops an entry checks it against the store (or
 * a version) and skips it if it no longer applies. That keeps the heap safe
 * under tx and block rollback without an undo log: what it yields is decided
 * by state that is itself exactly rolled back.
 */
export class LazyHeap {
  private keys: bigint[] = [];
  private ids: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** `id` must be a safe integer. */
  push(key: bigint, id: number): void {
    const keys = this.keys;
    const ids = this.ids;
    let i = keys.length;
    keys.push(key);
    ids.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = keys[p]!;
      if (pk < key || (pk === key && ids[p]! <= id)) break;
      keys[i] = pk;
      ids[i] = ids[p]!;
      i = p;
    }
    keys[i] = key;
    ids[i] = id;
  }

  peekKey(): bigint | undefined {
    return this.keys[0];
  }

  pop(): { key: bigint; id: number } | undefined {
    const keys = this.keys;
    const ids = this.ids;
    const n = keys.length;
    if (n === 0) return undefined;
    const out = { key: keys[0]!, id: ids[0]! };
    const lastK = keys.pop()!;
    const lastI = ids.pop()!;
    const m = n - 1;
    if (m > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= m) break;
        let c = l;
        const r = l + 1;
        if (r < m && (keys[r]! < keys[l]! || (keys[r] === keys[l] && ids[r]! < ids[l]!))) c = r;
        const ck = keys[c]!;
        if (lastK < ck || (lastK === ck && lastI <= ids[c]!)) break;
        keys[i] = ck;
        ids[i] = ids[c]!;
        i = c;
      }
      keys[i] = lastK;
      ids[i] = lastI;
    }
    return out;
  }

  clear(): void {
    this.keys = [];
    this.ids = [];
  }
}

/**
 * The same heap with safe-integer keys (numbers): several times faster than
 * bigint keys on the hot path of the liquidation index. Keys must be safe
 * integers; callers scale their bigints conservatively before pushing.
 */
export class NumberLazyHeap {
  private keys: number[] = [];
  private ids: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, id: number): void {
    const keys = this.keys;
    const ids = this.ids;
    let i = keys.length;
    keys.push(key);
    ids.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = keys[p]!;
      if (pk < key || (pk === key && ids[p]! <= id)) break;
      keys[i] = pk;
      ids[i] = ids[p]!;
      i = p;
    }
    keys[i] = key;
    ids[i] = id;
  }

  peekKey(): number | undefined {
    return this.keys[0];
  }

  /** Pop the minimum and return its id (undefined when empty). */
  popId(): number | undefined {
    const keys = this.keys;
    const ids = this.ids;
    const n = keys.length;
    if (n === 0) return undefined;
    const out = ids[0]!;
    const lastK = keys.pop()!;
    const lastI = ids.pop()!;
    const m = n - 1;
    if (m > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= m) break;
        let c = l;
        const r = l + 1;
        if (r < m && (keys[r]! < keys[l]! || (keys[r] === keys[l] && ids[r]! < ids[l]!))) c = r;
        const ck = keys[c]!;
        if (lastK < ck || (lastK === ck && lastI <= ids[c]!)) break;
        keys[i] = ck;
        ids[i] = ids[c]!;
        i = c;
      }
      keys[i] = lastK;
      ids[i] = lastI;
    }
    return out;
  }

  clear(): void {
    this.keys = [];
    this.ids = [];
  }
}
