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

  /** Every entry, in no particular order (a linear pass over the array). */
  forEachEntry(cb: (key: bigint, id: number) => void): void {
    const keys = this.keys;
    const ids = this.ids;
    for (let i = 0; i < keys.length; i++) cb(keys[i]!, ids[i]!);
  }
}

/** Entries NumberLazyHeap.drainBelow() pops one by one before it switches to one pass over the whole heap. */
const DRAIN_POPS = 32;

/**
 * The same heap with safe-integer keys and number payloads, built for the
 * liquidation index's hot path: a 4-ary heap (half the depth of a binary
 * one) with keys, tie-break sequence numbers and payloads interleaved in one
 * Float64Array, so a sift touches few cache lines and nothing is boxed. Keys
 * must be safe integers; callers scale their bigints conservatively before
 * pushing. Ties on the key pop in insertion order, so pops are deterministic.
 */
export class NumberLazyHeap {
  /** [key₀, seq₀, val₀, key₁, seq₁, val₁, …] */
  private ks = new Float64Array(3 * 64);
  private n = 0;
  private nextSeq = 0;

  get size(): number {
    return this.n;
  }

  private less(ak: number, as: number, bk: number, bs: number): boolean {
    return ak < bk || (ak === bk && as < bs);
  }

  push(key: number, value: number): void {
    this.pushSeq(key, this.nextSeq++, value);
  }

  /** Push with an explicit tie-break sequence number (SortedRunHeap shares one sequence between its parts). */
  pushSeq(key: number, seq: number, value: number): void {
    if (3 * (this.n + 1) > this.ks.length) {
      const grown = new Float64Array(this.ks.length * 2);
      grown.set(this.ks);
      this.ks = grown;
    }
    const ks = this.ks;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pk = ks[3 * p]!;
      const ps = ks[3 * p + 1]!;
      if (!this.less(key, seq, pk, ps)) break;
      ks[3 * i] = pk;
      ks[3 * i + 1] = ps;
      ks[3 * i + 2] = ks[3 * p + 2]!;
      i = p;
    }
    ks[3 * i] = key;
    ks[3 * i + 1] = seq;
    ks[3 * i + 2] = value;
  }

  peekKey(): number | undefined {
    return this.n === 0 ? undefined : this.ks[0];
  }

  /** Tie-break sequence number of the minimum (undefined when empty). */
  peekSeq(): number | undefined {
    return this.n === 0 ? undefined : this.ks[1];
  }

  /** Pop the minimum and return its value (undefined when empty). */
  popValue(): number | undefined {
    const n = this.n;
    if (n === 0) return undefined;
    const ks = this.ks;
    const out = ks[2]!;
    const m = n - 1;
    this.n = m;
    if (m > 0) this.siftDown(0, ks[3 * m]!, ks[3 * m + 1]!, ks[3 * m + 2]!);
    return out;
  }

  /**
   * Pop every entry whose key is below `bound`, appending the values to
   * `sink` in no particular order. A few are popped one by one; when more
   * remain, the rest go in one pass over the array (kept entries are
   * compacted and re-heapified, O(n)), which beats n·log n pops with a cache
   * miss per level once a price move fires thousands of entries. The heap
   * order is a total order on (key, seq), so what later pops return does not
   * depend on which way was taken.
   */
  drainBelow(bound: number, sink: number[]): void {
    for (let i = 0; i < DRAIN_POPS; i++) {
      if (this.n === 0 || !(this.ks[0]! < bound)) return;
      sink.push(this.popValue()!);
    }
    if (this.n === 0 || !(this.ks[0]! < bound)) return;
    const ks = this.ks;
    let kept = 0;
    for (let i = 0; i < this.n; i++) {
      const k = ks[3 * i]!;
      if (k < bound) {
        sink.push(ks[3 * i + 2]!);
        continue;
      }
      if (kept !== i) {
        ks[3 * kept] = k;
        ks[3 * kept + 1] = ks[3 * i + 1]!;
        ks[3 * kept + 2] = ks[3 * i + 2]!;
      }
      kept++;
    }
    this.n = kept;
    // bottom-up heapify: sift down every parent, last first
    for (let i = (kept - 2) >> 2; i >= 0; i--) this.siftDown(i, ks[3 * i]!, ks[3 * i + 1]!, ks[3 * i + 2]!);
  }

  /** Place (k, s, v) at i or below it, moving smaller children up (heap size this.n). */
  private siftDown(i: number, k: number, s: number, v: number): void {
    const ks = this.ks;
    const m = this.n;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= m) break;
      let c = first;
      let ck = ks[3 * c]!;
      let cs = ks[3 * c + 1]!;
      const end = Math.min(first + 4, m);
      for (let j = first + 1; j < end; j++) {
        const jk = ks[3 * j]!;
        const js = ks[3 * j + 1]!;
        if (this.less(jk, js, ck, cs)) {
          c = j;
          ck = jk;
          cs = js;
        }
      }
      if (!this.less(ck, cs, k, s)) break;
      ks[3 * i] = ck;
      ks[3 * i + 1] = cs;
      ks[3 * i + 2] = ks[3 * c + 2]!;
      i = c;
    }
    ks[3 * i] = k;
    ks[3 * i + 1] = s;
    ks[3 * i + 2] = v;
  }

  clear(): void {
    this.ks = new Float64Array(3 * 64);
    this.n = 0;
  }
}

/**
 * NumberLazyHeap's order — (key, insertion sequence) — from a sorted run
 * plus a heap: entries pushed since the last seal() go to the heap; seal()
 * merges them into the run. Popping from the run is a cursor step over one
 * contiguous array, where a pop from a heap of a million entries walks ~10
 * levels of cache misses, so a large state whose entries were sealed after a
 * bulk load (the liquidation index at start-up and after compaction) pays
 * next to nothing per popped entry. The heap part seals itself when it
 * outgrows what is left of the run, so pushes stay O(log n) amortised.
 */
export class SortedRunHeap {
  /** [key₀, seq₀, val₀, key₁, seq₁, val₁, …] of the run, sorted; entries before `head` are consumed. */
  private run = new Float64Array(0);
  private runLen = 0;
  private head = 0;
  private heap = new NumberLazyHeap();
  private nextSeq = 0;

  get size(): number {
    return this.runLen - this.head + this.heap.size;
  }

  push(key: number, value: number): void {
    this.heap.pushSeq(key, this.nextSeq++, value);
    const h = this.heap.size;
    if (h > 4096 && h > this.runLen - this.head) this.seal();
  }

  /** True when the run's head comes before the heap's minimum. */
  private runFirst(): boolean {
    if (this.head >= this.runLen) return false;
    if (this.heap.size === 0) return true;
    const rk = this.run[3 * this.head]!;
    const hk = this.heap.peekKey()!;
    return rk < hk || (rk === hk && this.run[3 * this.head + 1]! < this.heap.peekSeq()!);
  }

  peekKey(): number | undefined {
    if (this.runFirst()) return this.run[3 * this.head]!;
    return this.heap.peekKey();
  }

  popValue(): number | undefined {
    if (!this.runFirst()) return this.heap.popValue();
    const v = this.run[3 * this.head + 2]!;
    if (++this.head === this.runLen) this.resetRun();
    return v;
  }

  /**
   * Pop every entry whose key is below `bound`, appending the values to
   * `sink` in no particular order (the caller sorts them by what it needs).
   * The run part is cut with a binary search and copied, so a big move costs
   * a copy rather than one pop per entry.
   */
  drainBelow(bound: number, sink: number[]): void {
    const run = this.run;
    // gallop from the head, then bisect: the cost grows with what is drained, and a quiet block reads only the
    // head (a bisection over the whole run would touch ~20 cold pages per queue)
    let lo = this.head;
    if (lo < this.runLen && run[3 * lo]! < bound) {
      let below = lo; // run[below] < bound
      let hi = this.runLen;
      for (let step = 1; ; step *= 2) {
        const next = below + step;
        if (next >= this.runLen) break;
        if (!(run[3 * next]! < bound)) {
          hi = next;
          break;
        }
        below = next;
      }
      lo = below + 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (run[3 * mid]! < bound) lo = mid + 1;
        else hi = mid;
      }
    }
    for (let i = this.head; i < lo; i++) sink.push(run[3 * i + 2]!);
    this.head = lo;
    if (this.head === this.runLen) this.resetRun();
    this.heap.drainBelow(bound, sink);
  }

  /** Merge the heap part into the run (O(run + heap·log heap)). */
  seal(): void {
    const hn = this.heap.size;
    if (hn === 0) return;
    const rn = this.runLen - this.head;
    const out = new Float64Array(3 * (rn + hn));
    const run = this.run;
    let i = this.head;
    let o = 0;
    const rEnd = this.runLen;
    while (this.heap.size > 0) {
      const hk = this.heap.peekKey()!;
      const hs = this.heap.peekSeq()!;
      while (i < rEnd && (run[3 * i]! < hk || (run[3 * i] === hk && run[3 * i + 1]! < hs))) {
        out[3 * o] = run[3 * i]!;
        out[3 * o + 1] = run[3 * i + 1]!;
        out[3 * o++ + 2] = run[3 * i++ + 2]!;
      }
      out[3 * o] = hk;
      out[3 * o + 1] = hs;
      out[3 * o++ + 2] = this.heap.popValue()!;
    }
    out.set(run.subarray(3 * i, 3 * rEnd), 3 * o);
    this.run = out;
    this.runLen = rn + hn;
    this.head = 0;
    this.heap.clear();
  }

  private resetRun(): void {
    this.run = new Float64Array(0);
    this.runLen = 0;
    this.head = 0;
  }

  clear(): void {
    this.resetRun();
    this.heap.clear();
  }
}
