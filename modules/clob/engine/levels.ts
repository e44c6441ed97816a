/**
 * Sorted array of the active price levels of one side, best level LAST so the
 * hot path (match at the top, new levels near the top) touches the end of the
 * array. Keys are `sign * price` in ascending order: bids use sign +1
 * (highest price = best = last), asks use sign -1 (lowest price = best = last).
 * `ids[i]` is the level id (index into the engine's level pool) of `keys[i]`.
 * @internal
 */
export class LevelIndex {
  keys: Float64Array;
  ids: Int32Array;
  n = 0;

  constructor(
    readonly sign: 1 | -1,
    capacity: number,
  ) {
    this.keys = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
  }

  /** First position whose key is >= key (n if none). */
  lowerBound(key: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Position of key, or -1. */
  find(key: number): number {
    const n = this.n;
    if (n > 0 && this.keys[n - 1] === key) return n - 1;
    const pos = this.lowerBound(key);
    return pos < n && this.keys[pos] === key ? pos : -1;
  }

  insertAt(pos: number, key: number, id: number): void {
    const n = this.n;
    if (n === this.keys.length) {
      const k = new Float64Array(n * 2);
      k.set(this.keys);
      this.keys = k;
      const d = new Int32Array(n * 2);
      d.set(this.ids);
      this.ids = d;
    }
    if (pos < n) {
      this.keys.copyWithin(pos + 1, pos, n);
      this.ids.copyWithin(pos + 1, pos, n);
    }
    this.keys[pos] = key;
    this.ids[pos] = id;
    this.n = n + 1;
  }

  removeAt(pos: number): void {
    const n = this.n - 1;
    if (pos < n) {
      this.keys.copyWithin(pos, pos + 1, n + 1);
      this.ids.copyWithin(pos, pos + 1, n + 1);
    }
    this.n = n;
  }

  clone(): LevelIndex {
    const c = new LevelIndex(this.sign, Math.max(this.keys.length, 1));
    c.keys.set(this.keys);
    c.ids.set(this.ids);
    c.n = this.n;
    return c;
  }
}
