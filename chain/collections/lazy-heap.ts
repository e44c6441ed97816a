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
 * The same heap with safe-integer keys and object payloads, built for the
 * liquidation index's hot path: a 4-ary heap (half the depth of a binary
 * one) with keys and tie-break sequence numbers interleaved in one
 * Float64Array, so a sift touches few cache lines. Keys must be safe
 * integers; callers scale their bigints conservatively before pushing. Ties
 * on the key pop in insertion order, so pops are deterministic.
 */
export class NumberLazyHeap<T = number> {
  /** [key₀, seq₀, key₁, seq₁, …] */
  private ks = new Float64Array(64);
  private vals: T[] = [];
  private n = 0;
  private nextSeq = 0;

  get size(): number {
    return this.n;
  }

  private less(ak: number, as: number, bk: number, bs: number): boolean {
    return ak < bk || (ak === bk && as < bs);
  }

  push(key: number, value: T): void {
    this.pushSeq(key, this.nextSeq++, value);
  }

  /** Push with an explicit tie-break sequence number (SortedRunHeap shares one sequence between its parts). */
  pushSeq(key: number, seq: number, value: T): void {
    if (2 * (this.n + 1) > this.ks.length) {
      const grown = new Float64Array(this.ks.length * 2);
      grown.set(this.ks);
      this.ks = grown;
    }
    const ks = this.ks;
    const vals = this.vals;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pk = ks[2 * p]!;
      const ps = ks[2 * p + 1]!;
      if (!this.less(key, seq, pk, ps)) break;
      ks[2 * i] = pk;
      ks[2 * i + 1] = ps;
      vals[i] = vals[p]!;
      i = p;
    }
    ks[2 * i] = key;
    ks[2 * i + 1] = seq;
    vals[i] = value;
  }

  peekKey(): number | undefined {
    return this.n === 0 ? undefined : this.ks[0];
  }

  /** Tie-break sequence number of the minimum (undefined when empty). */
  peekSeq(): number | undefined {
    return this.n === 0 ? undefined : this.ks[1];
  }

  /** Pop the minimum and return its value (undefined when empty). */
  popValue(): T | undefined {
    const n = this.n;
    if (n === 0) return undefined;
    const ks = this.ks;
    const vals = this.vals;
    const out = vals[0]!;
    const m = n - 1;
    this.n = m;
    const lastK = ks[2 * m]!;
    const lastS = ks[2 * m + 1]!;
    const lastV = vals[m]!;
    vals.length = m;
    if (m > 0) {
      let i = 0;
      for (;;) {
        const first = 4 * i + 1;
        if (first >= m) break;
        let c = first;
        let ck = ks[2 * c]!;
        let cs = ks[2 * c + 1]!;
        const end = Math.min(first + 4, m);
        for (let j = first + 1; j < end; j++) {
          const jk = ks[2 * j]!;
          const js = ks[2 * j + 1]!;
          if (this.less(jk, js, ck, cs)) {
            c = j;
            ck = jk;
            cs = js;
          }
        }
        if (!this.less(ck, cs, lastK, lastS)) break;
        ks[2 * i] = ck;
        ks[2 * i + 1] = cs;
        vals[i] = vals[c]!;
        i = c;
      }
      ks[2 * i] = lastK;
      ks[2 * i + 1] = lastS;
      vals[i] = lastV;
    }
    return out;
  }

  clear(): void {
    this.ks = new Float64Array(64);
    this.vals = [];
    this.n = 0;
  }
}

/**
 * NumberLazyHeap's order — (key, insertion sequence) — from a sorted run
 * plus a heap: entries pushed since the last seal() go to the heap; seal()
 * merges them into the run. Popping from the run is a cursor step over
 * contiguous arrays, where a pop from a heap of a million entries walks ~10
 * levels of cache misses, so a large state whose entries were sealed after a
 * bulk load (the liquidation index at start-up and after compaction) pays
 * next to nothing per popped entry. The heap part seals itself when it
 * outgrows what is left of the run, so pushes stay O(log n) amortised.
 */
export class SortedRunHeap<T> {
  /** [key₀, seq₀, key₁, seq₁, …] of the run, sorted; entries before `head` are consumed. */
  private runKs = new Float64Array(0);
  private runVals: Array<T | undefined> = [];
  private head = 0;
  private heap = new NumberLazyHeap<T>();
  private nextSeq = 0;

  get size(): number {
    return this.runVals.length - this.head + this.heap.size;
  }

  push(key: number, value: T): void {
    this.heap.pushSeq(key, this.nextSeq++, value);
    const h = this.heap.size;
    if (h > 4096 && h > this.runVals.length - this.head) this.seal();
  }

  /** True when the run's head comes before the heap's minimum. */
  private runFirst(): boolean {
    if (this.head >= this.runVals.length) return false;
    if (this.heap.size === 0) return true;
    const rk = this.runKs[2 * this.head]!;
    const hk = this.heap.peekKey()!;
    return rk < hk || (rk === hk && this.runKs[2 * this.head + 1]! < this.heap.peekSeq()!);
  }

  peekKey(): number | undefined {
    if (this.runFirst()) return this.runKs[2 * this.head]!;
    return this.heap.peekKey();
  }

  popValue(): T | undefined {
    if (!this.runFirst()) return this.heap.popValue();
    const v = this.runVals[this.head]!;
    this.runVals[this.head++] = undefined; // let the value be collected
    if (this.head === this.runVals.length) this.resetRun();
    return v;
  }

  /** Merge the heap part into the run (O(run + heap·log heap)). */
  seal(): void {
    const hn = this.heap.size;
    if (hn === 0) return;
    const rn = this.runVals.length - this.head;
    const ks = new Float64Array(2 * (rn + hn));
    const vals: Array<T | undefined> = new Array(rn + hn);
    let i = this.head;
    let o = 0;
    const rEnd = this.runVals.length;
    while (this.heap.size > 0) {
      const hk = this.heap.peekKey()!;
      const hs = this.heap.peekSeq()!;
      while (i < rEnd && (this.runKs[2 * i]! < hk || (this.runKs[2 * i] === hk && this.runKs[2 * i + 1]! < hs))) {
        ks[2 * o] = this.runKs[2 * i]!;
        ks[2 * o + 1] = this.runKs[2 * i + 1]!;
        vals[o++] = this.runVals[i++];
      }
      ks[2 * o] = hk;
      ks[2 * o + 1] = hs;
      vals[o++] = this.heap.popValue();
    }
    for (; i < rEnd; i++, o++) {
      ks[2 * o] = this.runKs[2 * i]!;
      ks[2 * o + 1] = this.runKs[2 * i + 1]!;
      vals[o] = this.runVals[i];
    }
    this.runKs = ks;
    this.runVals = vals;
    this.head = 0;
    this.heap.clear();
  }

  private resetRun(): void {
    this.runKs = new Float64Array(0);
    this.runVals = [];
    this.head = 0;
  }

  clear(): void {
    this.resetRun();
    this.heap.clear();
  }
}
